// Shared by the cfssl tests: where the seed fixtures live, and the real cfssl tools used as judges.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../helpers/cli.js';

/** The repository root: the first parent of this (compiled) file holding package.json and test/fixtures. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test', 'fixtures')))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/** The JSON files of seed 002, as the page shows them: etcd/ and kubernetes/. */
export const SEED002 = (): string => path.join(repoRoot(), 'test', 'fixtures', 'cfssl', 'seed002');

export const CFSSL = '/usr/bin/cfssl';
export const CFSSLJSON = '/usr/bin/cfssljson';

/** `... | cfssljson -bare NAME` in `cwd`. */
export function cfssljsonBare(json: string, name: string, cwd: string): Promise<RunResult> {
  return run(CFSSLJSON, ['-bare', name], { input: json, cwd });
}

export async function openssl(args: string[], cwd?: string): Promise<RunResult> {
  return run('openssl', args, cwd ? { cwd } : {});
}

/** notBefore/notAfter of a PEM certificate, read by openssl. */
export async function certDates(file: string, cwd?: string): Promise<{ notBefore: Date; notAfter: Date }> {
  const r = await openssl(['x509', '-in', file, '-noout', '-dates'], cwd);
  if (r.code !== 0) throw new Error(`openssl x509 -dates ${file}: ${r.stderr}`);
  const nb = /notBefore=(.*)/.exec(r.stdout)![1]!;
  const na = /notAfter=(.*)/.exec(r.stdout)![1]!;
  return { notBefore: new Date(nb), notAfter: new Date(na) };
}

/** The SubjectPublicKeyInfo PEM of a certificate, CSR or private key, as openssl derives it. */
export async function publicKeyOf(file: string, kind: 'cert' | 'csr' | 'key', cwd?: string): Promise<string> {
  const args =
    kind === 'cert' ? ['x509', '-in', file, '-noout', '-pubkey'] : kind === 'csr' ? ['req', '-in', file, '-noout', '-pubkey'] : ['pkey', '-in', file, '-pubout'];
  const r = await openssl(args, cwd);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** openssl x509 -ext output for some extensions, e.g. "subjectAltName,keyUsage". */
export async function certExt(file: string, exts: string, cwd?: string): Promise<string> {
  const r = await openssl(['x509', '-in', file, '-noout', '-ext', exts], cwd);
  if (r.code !== 0) throw new Error(`openssl x509 -ext ${exts} ${file}: ${r.stderr}`);
  return r.stdout;
}

export async function certSubject(file: string, cwd?: string): Promise<string> {
  const r = await openssl(['x509', '-in', file, '-noout', '-subject', '-issuer'], cwd);
  if (r.code !== 0) throw new Error(`openssl x509 -subject ${file}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The DER structure of a certificate or CSR as openssl's asn1parse shows it, with what must differ between
 * two issuances masked: integers (serial, RSA modulus), bit strings (keys, signatures), times, and the key
 * identifier extensions' contents. What is left — every tag, string type, OID and extension value — must
 * be equal between kubepki and cfssl.
 */
export async function derStructure(file: string, cwd?: string): Promise<string[]> {
  const r = await openssl(['asn1parse', '-in', file], cwd);
  if (r.code !== 0) throw new Error(`openssl asn1parse ${file}: ${r.stderr}`);
  const out: string[] = [];
  let previousObject = '';
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*\d+:d=(\d+)\s+hl=\d+\s+l=\s*\d+\s+(?:prim|cons):\s*(.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!;
    const rest = m[2]!;
    const colon = rest.indexOf(':');
    const tag = (colon < 0 ? rest : rest.slice(0, colon)).trim().replace(/\s+/g, ' ');
    let value = colon < 0 ? '' : rest.slice(colon + 1).trim();
    if (tag === 'INTEGER' && value.length > 2) value = '<int>'; // the serial; the version stays
    if (tag === 'BIT STRING' || tag === 'UTCTIME' || tag === 'GENERALIZEDTIME') value = '<masked>';
    if (tag.startsWith('OCTET STRING') && /Key Identifier/.test(previousObject)) value = '<key id>';
    if (tag === 'OBJECT') previousObject = value;
    out.push(`${depth} ${tag} ${value}`);
  }
  return out;
}
