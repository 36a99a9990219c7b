// HPACK decoding of the header blocks etcd's HTTP/2 server sends, checked against RFC 7541's own examples
// (Appendix C: Huffman-coded requests sharing a dynamic table, responses evicting from a 256-byte table), and
// the request block of a gRPC call read back by the decoder.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcRequestBlock, HpackDecoder, HpackError } from '../../src/storage/etcd-hpack.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const hpackError = (pattern: RegExp) => (err: unknown) => err instanceof HpackError && pattern.test(err.message);

describe('HpackDecoder', () => {
  it('decodes RFC 7541 C.4: three requests with Huffman coding, the later ones indexing the earlier', () => {
    const d = new HpackDecoder();
    assert.deepEqual(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')), { ':method': 'GET', ':scheme': 'http', ':path': '/', ':authority': 'www.example.com' });
    assert.deepEqual(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf')), { ':method': 'GET', ':scheme': 'http', ':path': '/', ':authority': 'www.example.com', 'cache-control': 'no-cache' });
    assert.deepEqual(d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')), {
      ':method': 'GET',
      ':scheme': 'https',
      ':path': '/index.html',
      ':authority': 'www.example.com',
      'custom-key': 'custom-value',
    });
  });

  it('decodes RFC 7541 C.6: responses in a 256-byte table, evicting the oldest entries', () => {
    const d = new HpackDecoder(256);
    const first = { ':status': '302', 'cache-control': 'private', date: 'Mon, 21 Oct 2013 20:13:21 GMT', location: 'https://www.example.com' };
    assert.deepEqual(d.decode(hex('4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3')), first);
    // ":status: 307" evicts ":status: 302"; the other three are referenced by index.
    assert.deepEqual(d.decode(hex('4883 640e ff c1 c0 bf')), { ...first, ':status': '307' });
    assert.deepEqual(
      d.decode(
        hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b
             3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`),
      ),
      {
        ':status': '200',
        'cache-control': 'private',
        date: 'Mon, 21 Oct 2013 20:13:22 GMT',
        location: 'https://www.example.com',
        'content-encoding': 'gzip',
        'set-cookie': 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      },
    );
    // Only the last three entries fit: index 62 is the newest, 65 is gone.
    assert.deepEqual(d.decode(hex('be bf c0')), { 'set-cookie': 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1', 'content-encoding': 'gzip', date: 'Mon, 21 Oct 2013 20:13:22 GMT' });
    assert.throws(() => d.decode(hex('c1')), hpackError(/no table entry 65/));
  });

  it('applies a dynamic table size update: a size of 0 empties the table', () => {
    const d = new HpackDecoder();
    d.decode(hex('4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')); // custom-key: custom-value, indexed
    assert.deepEqual(d.decode(hex('be')), { 'custom-key': 'custom-value' });
    assert.throws(() => d.decode(hex('20 be')), hpackError(/no table entry 62/));
  });

  it('refuses bad blocks with an HpackError: Huffman padding that is not EOS, a size above the announced one, cut strings', () => {
    const d = new HpackDecoder();
    // "www.example.com" Huffman-coded with the last bit of its padding zeroed.
    assert.throws(() => d.decode(hex('418c f1e3 c2e5 f23a 6ba0 ab90 f4fe')), hpackError(/padding/));
    assert.throws(() => d.decode(hex('3fe2 1f')), hpackError(/table size 4097 above the announced 4096/));
    assert.throws(() => d.decode(hex('4005 6162')), hpackError(/past the end|truncated/));
    assert.throws(() => d.decode(hex('80')), hpackError(/no table entry 0/));
  });
});

describe('grpcRequestBlock', () => {
  it('reads back as the headers of a gRPC POST, over http and https', () => {
    for (const scheme of ['http', 'https'] as const) {
      const path = `/etcdserverpb.KV/${'Range'.repeat(30)}`; // a value longer than 127 bytes: a multi-byte length
      assert.deepEqual(new HpackDecoder().decode(grpcRequestBlock(scheme, '127.0.0.1:2379', path)), {
        ':method': 'POST',
        ':scheme': scheme,
        ':path': path,
        ':authority': '127.0.0.1:2379',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
    }
  });
});
