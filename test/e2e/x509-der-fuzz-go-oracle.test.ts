// The fuzz's mutants (test/x509/hostile-der-mutations.ts) judged by Go's own crypto/x509 (test/fixtures/goparse,
// the machine's Go): a request kube-apiserver's Go refuses must be refused here (kubepki would otherwise store
// and sign what kube answers 422 to), and one Go accepts must be accepted. Certificates likewise, apart from
// the rules where Go 1.23 (what Kubernetes 1.32 is built with) is stricter than the machine's Go 1.19.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { createCertificateRequest, parseVerifiedCertificateRequest } from '../../src/x509/csr.js';
import { parseCertificateFields } from '../../src/x509/certificate-parser.js';
import { issueCertificate } from '../../src/x509/certificate.js';
import { generateKeyPair } from '../../src/x509/keys.js';
import { locateElements, mutate } from '../x509/hostile-der-mutations.js';
import { seededRandom } from '../helpers/seeded-random.js';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../../../test/fixtures/goparse', import.meta.url));
const ITERATIONS = Number(process.env.KUBEPKI_FUZZ_ITERATIONS ?? 1500);
const SEED = Number(process.env.KUBEPKI_FUZZ_SEED ?? 20261206);

let dir: string;
let bin: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-goparse-'));
  const env = { ...process.env, GOCACHE: path.join(dir, 'cache'), GOPATH: path.join(dir, 'gopath'), GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'on', CGO_ENABLED: '0' };
  bin = path.join(dir, 'goparse');
  await run('go', ['build', '-o', bin, '.'], { cwd: SOURCE, env });
});
after(() => rm(dir, { recursive: true, force: true }));

async function goParse(cases: Array<{ kind: 'certificate' | 'request'; der: Uint8Array }>): Promise<string[]> {
  const child = execFile(bin, [], { maxBuffer: 256 * 1024 * 1024 });
  const out = new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`goparse exited ${code}`))));
  });
  child.stdin!.end(JSON.stringify(cases.map((c) => ({ kind: c.kind, der: Buffer.from(c.der).toString('base64') }))));
  return JSON.parse(await out) as string[];
}

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 600)).toString('hex');

/** True when an OID element of the DER has an arc starting with 0x80 (non-minimal). */
function hasNonMinimalOidArc(bytes: Uint8Array): boolean {
  return locateElements(bytes).some((e) => {
    if (e.tag !== 0x06) return false;
    let arcStart = true;
    for (const b of bytes.subarray(e.contentStart, e.end)) {
      if (arcStart && b === 0x80) return true;
      arcStart = (b & 0x80) === 0;
    }
    return false;
  });
}

const KNOWN_KEY_ALGORITHMS = ['2a864886f70d010101', '2a8648ce3d0201', '2b6570', '2b656e', '2a8648ce380401'];

/**
 * Where the machine's Go 1.19 accepts a certificate and kubepki refuses it, the reason when it is a known and
 * accepted difference: Go 1.23 (Kubernetes 1.32) refuses a negative serial and a non-minimal OID arc as kubepki
 * does; a key algorithm neither Go nor OpenSSL knows leaves Go's PublicKey nil, which kubepki's Certificate
 * cannot hold (such a certificate can sign nothing in Go either).
 */
function knownDifference(bytes: Uint8Array, ours: string): string | undefined {
  if (/negative serial number/.test(ours)) return 'Go 1.23 refuses a negative serial';
  if (hasNonMinimalOidArc(bytes)) return 'Go 1.23 refuses a non-minimal OID arc';
  if (/unsupported public key/.test(ours)) {
    const spkiAlg = locateElements(bytes).find((e, i, all) => e.tag === 0x06 && all[i - 1]?.tag === 0x30 && all[i - 2]?.tag === 0x30 && all[i - 2]!.start > 40);
    const oid = spkiAlg ? Buffer.from(bytes.subarray(spkiAlg.contentStart, spkiAlg.end)).toString('hex') : '';
    if (!KNOWN_KEY_ALGORITHMS.includes(oid)) return 'a key algorithm Go does not know either';
  }
  return undefined;
}

test(`${ITERATIONS} mutants of requests: kubepki refuses exactly those Go's ParseCertificateRequest + CheckSignature refuses`, async () => {
  const ec = await generateKeyPair('ECDSA-P256');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const sans = { dnsNames: ['n1.example'], ipAddresses: ['10.0.0.1', '2001:db8::1'], emailAddresses: ['a@example.com'], uris: ['spiffe://cluster.local/x'] };
  const bases = [
    (await createCertificateRequest({ subject: { commonName: 'system:node:n1', organization: ['system:nodes'] }, sans, keyPair: ec })).der,
    (await createCertificateRequest({ subject: { commonName: 'rsa', country: ['DE'] }, keyPair: rsa, requestCA: { maxPathLen: 0 } })).der,
  ];
  const rand = seededRandom(SEED + 10);
  const mutants = Array.from({ length: ITERATIONS }, (_, i) => mutate(bases[i % 2]!, rand));
  const go = await goParse(mutants.map((m) => ({ kind: 'request', der: m.bytes })));
  const disagreements: string[] = [];
  for (const [i, m] of mutants.entries()) {
    let ours = '';
    try {
      await parseVerifiedCertificateRequest(m.bytes);
    } catch (err) {
      ours = (err as Error).message;
    }
    if ((ours === '') === (go[i] === '')) continue;
    disagreements.push(`#${i} ${m.applied.join('+')}: go=${JSON.stringify(go[i])} kubepki=${JSON.stringify(ours)} der=${hex(m.bytes)}`);
  }
  assert.deepEqual(disagreements, []);
});

test(`${ITERATIONS} mutants of certificates: kubepki's parse agrees with Go's ParseCertificate`, async () => {
  const caKeys = await generateKeyPair('ECDSA-P256');
  const now = new Date('2026-12-06T00:00:00Z');
  const ca = await issueCertificate({
    template: { subject: { commonName: 'fuzz-ca' }, notBefore: now, notAfter: new Date('2036-12-06T00:00:00Z'), isCA: true, maxPathLen: 0, keyUsage: 0b1100101, extKeyUsages: [] },
    publicKey: caKeys.publicKey,
    issuer: { selfSigned: caKeys },
  });
  const leafKeys = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const leaf = await issueCertificate({
    template: { subject: { commonName: 'n1', organization: ['system:nodes'] }, sans: { dnsNames: ['n1.example'], ipAddresses: ['10.0.0.1'], emailAddresses: [], uris: ['spiffe://x/y'] }, notBefore: now, notAfter: new Date('2056-01-01T00:00:00Z'), keyUsage: 0b101, extKeyUsages: ['1.3.6.1.5.5.7.3.1'] },
    publicKey: leafKeys.publicKey,
    issuer: { certificate: ca, privateKey: caKeys.privateKey },
    allowOutlivingIssuer: true,
  });
  const rand = seededRandom(SEED + 11);
  const mutants = Array.from({ length: ITERATIONS }, (_, i) => mutate([ca.der, leaf.der][i % 2]!, rand));
  const go = await goParse(mutants.map((m) => ({ kind: 'certificate', der: m.bytes })));
  const disagreements: string[] = [];
  for (const [i, m] of mutants.entries()) {
    let ours = '';
    try {
      parseCertificateFields(m.bytes);
    } catch (err) {
      ours = (err as Error).message;
    }
    if ((ours === '') === (go[i] === '')) continue;
    if (go[i] === '' && knownDifference(m.bytes, ours)) continue;
    disagreements.push(`#${i} ${m.applied.join('+')}: go=${JSON.stringify(go[i])} kubepki=${JSON.stringify(ours)} der=${hex(m.bytes)}`);
  }
  assert.deepEqual(disagreements, []);
});
