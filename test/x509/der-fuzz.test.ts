// Seeded mutation fuzz of the one DER reader (der-reader.ts and the parsers on it) and of the key and PEM
// readers: thousands of hostile variants of real certificates, requests, keys and PEM texts (bit flips,
// truncations, hostile lengths, deep nesting, huge OIDs, bad strings, non-minimal INTEGERs, odd times, high
// tags, duplicated and dropped elements, unknown critical extensions). The invariant: every input either
// parses to something that re-encodes to the same bytes, or is refused with a KubepkiError; never a TypeError
// or RangeError, never a hang. The run is the same on every machine (seeded); a failure prints the seed, the
// mutations and the input, to be kept below as a regression vector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as der from '../../src/x509/der.js';
import { KubepkiError } from '../../src/util/errors.js';
import { DerReader, decodeTime, TAG } from '../../src/x509/der-reader.js';
import { checkCertificatesDer, parseCertificateFields, parseCertificatesPem } from '../../src/x509/certificate-parser.js';
import { certificateRequestDerFromPem, parseCertificateRequest } from '../../src/x509/certificate-request.js';
import { parseVerifiedCertificateRequest, createCertificateRequest } from '../../src/x509/csr.js';
import { describeCertificate, describeCertificateRequest, formatCertificateRequestText, formatCertificateText } from '../../src/x509/describe.js';
import { decodePem, encodePem } from '../../src/x509/pem.js';
import { issueCertificate, type Certificate } from '../../src/x509/certificate.js';
import { generateKeyPair, parsePrivateKeyPem, type KeyPair } from '../../src/x509/keys.js';
import { validatePath } from '../../src/x509/path-validation/index.js';
import { locateElements, mutate, ODD_TIMES } from './hostile-der-mutations.js';
import { seededRandom } from '../helpers/seeded-random.js';

const ITERATIONS = Number(process.env.KUBEPKI_FUZZ_ITERATIONS ?? 1500);
const SEED = Number(process.env.KUBEPKI_FUZZ_SEED ?? 20261206);
/** Far above what a parse of a few KB costs: a parse this slow is a hang in the making. */
const SLOW_MS = 1000;

/** Everything a test of the invariant needs: a name and one parse that returns a value or throws. */
type Parse = (bytes: Uint8Array) => unknown;

const hex = (b: Uint8Array, max = 400) => Buffer.from(b.subarray(0, max)).toString('hex') + (b.length > max ? `…(${b.length} bytes)` : '');

/** The invariant for one input: a result (then `check` it), or a KubepkiError; anything else fails with the vector. */
async function expectParsedOrRefused(what: string, bytes: Uint8Array, parse: Parse, check?: (result: never) => void): Promise<'parsed' | 'refused'> {
  const started = performance.now();
  let result: unknown;
  try {
    result = await parse(bytes);
  } catch (err) {
    if (err instanceof KubepkiError) return 'refused';
    assert.fail(`${what}: threw ${(err as Error)?.name} (${(err as Error)?.message}), not a KubepkiError, on ${hex(bytes)}\n${(err as Error)?.stack}`);
  } finally {
    const ms = performance.now() - started;
    assert.ok(ms < SLOW_MS, `${what}: took ${ms.toFixed(0)} ms on ${hex(bytes)}`);
  }
  check?.(result as never);
  return 'parsed';
}

/** DER re-encoded from its own TLV walk: equal to the input only if every length and tag is the minimal one. */
function reencode(bytes: Uint8Array, depth = 0): Uint8Array {
  const r = new DerReader(bytes);
  const parts: Uint8Array[] = [];
  while (!r.empty) {
    const el = r.readAny();
    let content = el.content;
    if (el.tag >= 0 && el.tag & 0x20 && depth < 64) {
      // A constructed element whose content the product never reads (an ignored attribute) may hold anything.
      try {
        content = reencode(el.content, depth + 1);
      } catch {
        content = el.content;
      }
    }
    parts.push(el.tag >= 0 ? der.tlv(el.tag, content) : el.der);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** What Go's Time.Format would write back for `date` in the element's own form, or undefined for a form we do not rebuild. */
function timeInSameForm(el: { tag: number; content: Uint8Array }, date: Date): string | undefined {
  const text = Buffer.from(el.content).toString('latin1');
  if (!text.endsWith('Z') || text.includes('.')) return undefined;
  const iso = date.toISOString(); // ±YYYYYY only past 9999, which neither form can write
  const compact = iso.slice(0, 19).replace(/[-:T]/g, '');
  if (el.tag === TAG.UTC_TIME) return (text.length === 13 ? compact.slice(2, 14) : compact.slice(2, 12)) + 'Z';
  return compact.slice(0, 14) + 'Z';
}

/** The validity's times read back: each must be the instant its text denotes, written back the same way. */
function checkTimes(bytes: Uint8Array, cert: Certificate): void {
  const times = locateElements(bytes).filter((e) => e.tag === TAG.UTC_TIME || e.tag === TAG.GENERALIZED_TIME);
  const [nb, na] = times;
  for (const [el, date] of [
    [nb, cert.notBefore],
    [na, cert.notAfter],
  ] as const) {
    if (!el) continue;
    const element = { tag: el.tag, content: bytes.subarray(el.contentStart, el.end) };
    const back = timeInSameForm(element, date);
    if (back !== undefined) assert.equal(back, Buffer.from(element.content).toString('latin1'), `time ${Buffer.from(element.content).toString('latin1')} read as ${date.toISOString()}`);
  }
}

function checkCertificate(bytes: Uint8Array) {
  return (fields: ReturnType<typeof parseCertificateFields>) => {
    const cert = fields.certificate;
    assert.deepEqual(Buffer.from(cert.der), Buffer.from(bytes));
    assert.deepEqual(Buffer.from(reencode(bytes)), Buffer.from(bytes), `accepted a certificate that is not DER: ${hex(bytes)}`);
    // The serial as read, written back, is the serial that was there.
    const tbs = DerReader.of(DerReader.of(new DerReader(bytes).readAny()).readAny());
    let serialEl = tbs.readAny();
    if (serialEl.tag !== TAG.INTEGER) serialEl = tbs.readAny(); // after an explicit [0] version
    assert.deepEqual(Buffer.from(der.integerFromHex(cert.serialNumber)), Buffer.from(serialEl.der), 'serial re-encodes');
    checkTimes(bytes, cert);
    describeCertificate(cert);
    formatCertificateText(cert);
  };
}

interface Seeds {
  ca: Certificate;
  leaf: Certificate;
  rsaLeaf: Certificate;
  csrDer: Uint8Array;
  rsaCsrDer: Uint8Array;
  keysDer: Array<{ type: string; der: Uint8Array }>;
}

let seedsPromise: Promise<Seeds> | undefined;
function seeds(): Promise<Seeds> {
  return (seedsPromise ??= (async () => {
    const now = new Date('2026-12-06T00:00:00Z');
    const caKeys = await generateKeyPair('ECDSA-P256');
    const ca = await issueCertificate({
      template: { subject: { commonName: 'fuzz-ca', organization: ['kubepki'] }, notBefore: now, notAfter: new Date('2036-12-06T00:00:00Z'), isCA: true, maxPathLen: 1, keyUsage: 0b1100101, extKeyUsages: [] },
      publicKey: caKeys.publicKey,
      issuer: { selfSigned: caKeys },
    });
    const leafKeys = await generateKeyPair('ECDSA-P256');
    const sans = { dnsNames: ['n1.example', '*.svc.cluster.local'], ipAddresses: ['10.0.0.1', '2001:db8::1'], emailAddresses: ['a@example.com'], uris: ['spiffe://cluster.local/ns/x/sa/y'] };
    const leaf = await issueCertificate({
      template: { subject: { commonName: 'system:node:n1', organization: ['system:nodes'], country: ['DE'] }, sans, notBefore: now, notAfter: new Date('2056-01-01T00:00:00Z'), keyUsage: 0b101, extKeyUsages: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] },
      publicKey: leafKeys.publicKey,
      issuer: { certificate: ca, privateKey: caKeys.privateKey },
      allowOutlivingIssuer: true,
    });
    const rsaKeys: KeyPair = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaLeaf = await issueCertificate({
      template: { subject: { commonName: 'rsa' }, notBefore: new Date('1960-01-01T00:00:00Z'), notAfter: new Date('2049-12-31T23:59:59Z'), keyUsage: 0b101, extKeyUsages: [] },
      publicKey: rsaKeys.publicKey,
      issuer: { certificate: ca, privateKey: caKeys.privateKey },
      allowOutlivingIssuer: true,
    });
    const csr = await createCertificateRequest({ subject: { commonName: 'system:node:n1', organization: ['system:nodes'] }, sans, keyPair: leafKeys });
    const rsaCsr = await createCertificateRequest({ subject: { commonName: 'rsa' }, keyPair: rsaKeys, requestCA: { maxPathLen: 0 } });
    const pkcs8 = (k: KeyPair) => new Uint8Array(k.privateKey.export({ type: 'pkcs8', format: 'der' }));
    const keysDer = [
      { type: 'RSA PRIVATE KEY', der: new Uint8Array(rsaKeys.privateKey.export({ type: 'pkcs1', format: 'der' })) },
      { type: 'EC PRIVATE KEY', der: new Uint8Array(leafKeys.privateKey.export({ type: 'sec1', format: 'der' })) },
      { type: 'PRIVATE KEY', der: pkcs8(leafKeys) },
      { type: 'PRIVATE KEY', der: pkcs8(rsaKeys) },
    ];
    return { ca, leaf, rsaLeaf, csrDer: csr.der, rsaCsrDer: rsaCsr.der, keysDer };
  })());
}

test('seed inputs parse and satisfy the round-trip checks (the checks themselves hold on good input)', async () => {
  const s = await seeds();
  for (const c of [s.ca, s.leaf, s.rsaLeaf]) assert.equal(await expectParsedOrRefused('certificate', c.der, (b) => parseCertificateFields(b), checkCertificate(c.der)), 'parsed');
  for (const d of [s.csrDer, s.rsaCsrDer]) assert.equal(await expectParsedOrRefused('request', d, (b) => parseVerifiedCertificateRequest(b)), 'parsed');
  for (const k of s.keysDer) assert.equal(await expectParsedOrRefused('key', k.der, (b) => parsePrivateKeyPem(encodePem(k.type, b))), 'parsed');
});

test(`${ITERATIONS} mutants of certificates: parsed and re-encoded exactly, or refused with a KubepkiError`, async () => {
  const s = await seeds();
  const rand = seededRandom(SEED);
  const counts = { parsed: 0, refused: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const base = [s.ca, s.leaf, s.rsaLeaf][i % 3]!;
    const { bytes, applied } = mutate(base.der, rand);
    const what = `certificate mutant #${i} (seed ${SEED}, ${applied.join('+')})`;
    counts[await expectParsedOrRefused(what, bytes, (b) => parseCertificateFields(b), checkCertificate(bytes))]++;
    await expectParsedOrRefused(`${what} checkCertificatesDer`, bytes, (b) => checkCertificatesDer(b));
    await expectParsedOrRefused(`${what} as PEM bundle`, bytes, (b) => parseCertificatesPem(encodePem('CERTIFICATE', s.ca.der) + encodePem('CERTIFICATE', b)));
    if (i % 10 === 0) {
      await expectParsedOrRefused(`${what} verified`, bytes, (b) => {
        const leaf = parseCertificateFields(b).certificate;
        return validatePath(leaf, { roots: [s.ca], now: new Date('2027-01-01T00:00:00Z'), dnsName: 'n1.example' });
      });
    }
  }
  // Both outcomes occur: mutants that keep the structure intact (a flipped signature bit) parse.
  assert.ok(counts.parsed > 0 && counts.refused > ITERATIONS / 2, JSON.stringify(counts));
});

test(`${ITERATIONS} mutants of certificate requests: parsed and re-encoded exactly, or refused with a KubepkiError`, async () => {
  const s = await seeds();
  const rand = seededRandom(SEED + 1);
  const counts = { parsed: 0, refused: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const base = i % 2 ? s.csrDer : s.rsaCsrDer;
    const { bytes, applied } = mutate(base, rand);
    const what = `request mutant #${i} (seed ${SEED + 1}, ${applied.join('+')})`;
    const outcome = await expectParsedOrRefused(what, bytes, (b) => parseCertificateRequest(b), (req: ReturnType<typeof parseCertificateRequest>) => {
      assert.deepEqual(Buffer.from(req.der), Buffer.from(bytes));
      assert.deepEqual(Buffer.from(reencode(bytes)), Buffer.from(bytes), `accepted a request that is not DER: ${hex(bytes)}`);
    });
    counts[outcome]++;
    if (outcome === 'parsed') {
      await expectParsedOrRefused(`${what} key`, bytes, (b) => parseCertificateRequest(b).publicKey);
      await expectParsedOrRefused(`${what} described`, bytes, (b) => describeCertificateRequest(parseCertificateRequest(b)));
      await expectParsedOrRefused(`${what} text`, bytes, (b) => formatCertificateRequestText(parseCertificateRequest(b)));
      await expectParsedOrRefused(`${what} verified`, bytes, (b) => parseVerifiedCertificateRequest(b));
    }
    await expectParsedOrRefused(`${what} from PEM`, bytes, (b) => parseCertificateRequest(certificateRequestDerFromPem(encodePem('CERTIFICATE REQUEST', b))));
  }
  assert.ok(counts.parsed > 0 && counts.refused > ITERATIONS / 2, JSON.stringify(counts));
});

test(`${ITERATIONS} mutants of PKCS#1, SEC1 and PKCS#8 private keys: a key or a KubepkiError`, async () => {
  const s = await seeds();
  const rand = seededRandom(SEED + 2);
  for (let i = 0; i < ITERATIONS; i++) {
    const key = s.keysDer[i % s.keysDer.length]!;
    const { bytes, applied } = mutate(key.der, rand);
    await expectParsedOrRefused(`${key.type} mutant #${i} (seed ${SEED + 2}, ${applied.join('+')})`, bytes, (b) => parsePrivateKeyPem(encodePem(key.type, b)));
  }
});

test(`${ITERATIONS} mutants of PEM text: blocks or a KubepkiError`, async () => {
  const s = await seeds();
  const rand = seededRandom(SEED + 3);
  const text = encodePem('CERTIFICATE', s.leaf.der) + encodePem('CERTIFICATE', s.ca.der);
  const edits: Array<(t: string) => string> = [
    (t) => t.slice(0, Math.floor(rand() * t.length)),
    (t) => t.replace(/-----END CERTIFICATE-----/, '-----END CERTIFICATX-----'),
    (t) => t.replace(/\n/g, '\r\n'),
    (t) => t.replace(/\n/g, '\r'),
    (t) => t.replace('MII', 'M\u00e9I'),
    (t) => t.replace(/[A-Za-z0-9]/, '*'),
    (t) => t.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: x\n\n'),
    (t) => t.replace('-----\n', '-----\n:\n'),
    (t) => `${t}-----BEGIN CERTIFICATE-----\n`,
    (t) => `-----BEGIN ${'A'.repeat(100000)}-----\n` + t,
    (t) => t.replace(/=/g, '') + '===',
    (t) => `\ufeff${t}`,
    (t) => t.split('\n').join(' \t\n'),
    () => '-----BEGIN CERTIFICATE-----\n'.repeat(5000),
    (t) => t.replace(/\n(?!-)/, '\n\u0000'),
    (t) => t.replace(/-----BEGIN CERTIFICATE-----\n[^-]*/, '-----BEGIN CERTIFICATE-----\n' + Buffer.from(mutate(s.leaf.der, rand).bytes).toString('base64') + '\n'),
  ];
  for (let i = 0; i < ITERATIONS; i++) {
    let t = text;
    for (let n = 1 + Math.floor(rand() * 2); n > 0; n--) t = edits[Math.floor(rand() * edits.length)]!(t);
    const bytes = Buffer.from(t, 'utf8');
    await expectParsedOrRefused(`PEM edit #${i} (seed ${SEED + 3})`, bytes, () => decodePem(t));
    await expectParsedOrRefused(`PEM edit #${i} (seed ${SEED + 3}) certificates`, bytes, () => parseCertificatesPem(t));
    await expectParsedOrRefused(`PEM edit #${i} (seed ${SEED + 3}) key`, bytes, () => parsePrivateKeyPem(t));
  }
});

test('every odd time form is read as the instant its text denotes, or refused (UTCTime without seconds, fractions, 1950/2049, years 0-99)', () => {
  for (const [tag, text] of ODD_TIMES) {
    const el = { tag, der: new Uint8Array(0), content: new Uint8Array(Buffer.from(text, 'latin1')) };
    let date: Date;
    try {
      date = decodeTime(el);
    } catch (err) {
      assert.ok(err instanceof KubepkiError, `${text}: ${(err as Error).message}`);
      continue;
    }
    const back = timeInSameForm(el, date);
    if (back !== undefined) assert.equal(back, text, `${text} read as ${date.toISOString()}`);
  }
});

// Regression vectors the fuzz found, kept small and named.

test('a PEM text of 2 MB of BEGIN lines with no END is refused in one pass (each BEGIN searched to the end was quadratic: ~1 min)', () => {
  const text = '-----BEGIN CERTIFICATE-----\n'.repeat(75_000);
  const started = performance.now();
  assert.throws(() => decodePem(text, 'spec.request'), (err: unknown) => err instanceof KubepkiError && /no PEM data found/.test(err.message));
  assert.ok(performance.now() - started < SLOW_MS, `took ${(performance.now() - started).toFixed(0)} ms`);
});

test('a GeneralizedTime in the years 0-99 is that year, not 1900-1999 (a certificate valid from 0050 re-encodes as 0050)', () => {
  const el = (text: string) => ({ tag: TAG.GENERALIZED_TIME, der: new Uint8Array(0), content: new Uint8Array(Buffer.from(text, 'latin1')) });
  assert.equal(decodeTime(el('00500101000000Z')).toISOString(), '0050-01-01T00:00:00.000Z');
  assert.equal(decodeTime(el('00000229120000Z')).toISOString(), '0000-02-29T12:00:00.000Z'); // year 0 is a leap year
  assert.throws(() => decodeTime(el('01000229120000Z')), KubepkiError); // 100 is not
});
