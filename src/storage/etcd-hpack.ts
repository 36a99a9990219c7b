// HPACK (RFC 7541), the part an HTTP/2 client of etcd needs: decoding the header blocks etcd's Go server sends
// (indexed fields, literals with or without indexing, Huffman-coded strings, dynamic table size updates), and
// encoding the few request headers a gRPC call sends, as literals that never touch the dynamic table (so the
// block of a method is the same bytes for every call and is built once).

/** RFC 7541 Appendix A: index 1..61. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

// RFC 7541 Appendix B is a canonical Huffman code: the code lengths of symbols 0..255 (one letter each,
// 'A' = 5 bits) determine every code; EOS (256) is 30 bits.
const CODE_LENGTHS =
  'ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWV';
const EOS = 256;

/** Per code length: the first code of that length, how many codes have it, where its symbols start in SYMBOLS. */
const FIRST = new Array<number>(31).fill(0);
const COUNT = new Array<number>(31).fill(0);
const OFFSET = new Array<number>(31).fill(0);
const SYMBOLS: number[] = [];
{
  const length = (sym: number) => (sym === EOS ? 30 : CODE_LENGTHS.charCodeAt(sym) - 65 + 5);
  const bySize = Array.from({ length: 257 }, (_, i) => i).sort((a, b) => length(a) - length(b) || a - b);
  let code = 0;
  let prev = 0;
  for (const sym of bySize) {
    const len = length(sym);
    if (SYMBOLS.length > 0) code = (code + 1) * 2 ** (len - prev);
    if (COUNT[len] === 0) {
      FIRST[len] = code;
      OFFSET[len] = SYMBOLS.length;
    }
    COUNT[len]! += 1;
    SYMBOLS.push(sym);
    prev = len;
  }
}

export class HpackError extends Error {
  constructor(message: string) {
    super(`HPACK: ${message}`);
    this.name = 'HpackError';
  }
}

function huffmanDecode(buf: Buffer, start: number, end: number): string {
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      if (len < 5) continue;
      if (len > 30) throw new HpackError('invalid Huffman code');
      const index = code - FIRST[len]!;
      if (COUNT[len]! > 0 && index >= 0 && index < COUNT[len]!) {
        const sym = SYMBOLS[OFFSET[len]! + index]!;
        if (sym === EOS) throw new HpackError('EOS in a Huffman-coded string');
        out.push(sym);
        code = 0;
        len = 0;
      }
    }
  }
  // The padding is the most significant bits of EOS (all ones), shorter than a byte.
  if (len > 7 || code !== 2 ** len - 1) throw new HpackError('invalid Huffman padding');
  return String.fromCharCode(...out);
}

/** The decoding side of one HTTP/2 connection (its dynamic table lives as long as the connection). */
export class HpackDecoder {
  /** Newest first. */
  private table: [string, string][] = [];
  private size = 0;
  private maxSize: number;

  /** `limit`: the SETTINGS_HEADER_TABLE_SIZE this side announced (4096 unless changed). */
  constructor(private readonly limit = 4096) {
    this.maxSize = limit;
  }

  /** Decodes one complete header block into lower-case name → value (a repeated name keeps the last). */
  decode(block: Buffer): Record<string, string> {
    const headers: Record<string, string> = {};
    let pos = 0;
    const int = (prefixBits: number): number => {
      const max = 2 ** prefixBits - 1;
      let n = block[pos++]! & max;
      if (n < max) return n;
      let scale = 1;
      for (;;) {
        if (pos >= block.length) throw new HpackError('truncated integer');
        const b = block[pos++]!;
        n += (b & 0x7f) * scale;
        if (b < 0x80) return n;
        scale *= 128;
        if (scale > 2 ** 28) throw new HpackError('integer too large');
      }
    };
    const str = (): string => {
      if (pos >= block.length) throw new HpackError('truncated string');
      const huffman = (block[pos]! & 0x80) !== 0;
      const len = int(7);
      const end = pos + len;
      if (end > block.length) throw new HpackError('string past the end of the block');
      const s = huffman ? huffmanDecode(block, pos, end) : block.toString('latin1', pos, end);
      pos = end;
      return s;
    };
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) {
        const [name, value] = this.entry(int(7));
        headers[name] = value;
      } else if (b & 0x40) {
        const index = int(6);
        const name = index === 0 ? str() : this.entry(index)[0];
        const value = str();
        headers[name] = value;
        this.insert(name, value);
      } else if (b & 0x20) {
        const size = int(5);
        if (size > this.limit) throw new HpackError(`table size ${size} above the announced ${this.limit}`);
        this.maxSize = size;
        this.evict(0);
      } else {
        // Literal without indexing (0000) or never indexed (0001): a 4-bit name index.
        const index = int(4);
        const name = index === 0 ? str() : this.entry(index)[0];
        headers[name] = str();
      }
    }
    return headers;
  }

  private entry(index: number): readonly [string, string] {
    if (index >= 1 && index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const e = this.table[index - STATIC_TABLE.length - 1];
    if (!e) throw new HpackError(`no table entry ${index}`);
    return e;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    // An entry larger than the table empties it and is not added (RFC 7541 4.4).
    if (size > this.maxSize) return;
    this.table.unshift([name, value]);
    this.size += size;
  }

  /** Drops the oldest entries until `room` more octets fit. */
  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.table.length > 0) {
      const [n, v] = this.table.pop()!;
      this.size -= n.length + v.length + 32;
    }
  }
}

function literal(out: number[], nameIndex: number, value: string): void {
  // Literal without indexing, indexed name (4-bit prefix), raw (not Huffman) value.
  if (nameIndex < 15) out.push(nameIndex);
  else out.push(15, nameIndex - 15);
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length < 127) out.push(bytes.length);
  else {
    out.push(127);
    for (let n = bytes.length - 127; ; n = Math.floor(n / 128)) {
      if (n < 128) {
        out.push(n);
        break;
      }
      out.push((n % 128) | 0x80);
    }
  }
  out.push(...bytes);
}

/** The header block of a gRPC call: POST `path` to `authority` over `scheme`, content-type and te. */
export function grpcRequestBlock(scheme: 'http' | 'https', authority: string, path: string): Buffer {
  const out: number[] = [0x83, scheme === 'http' ? 0x86 : 0x87]; // :method POST, :scheme (static 3, 6/7)
  literal(out, 4, path); // :path
  literal(out, 1, authority); // :authority
  literal(out, 31, 'application/grpc'); // content-type
  out.push(0x00, 2, ...Buffer.from('te'), 8, ...Buffer.from('trailers'));
  return Buffer.from(out);
}
