// cfssl's csr.json: {"CN", "hosts", "key": {"algo", "size"}, "names": [{"C","ST","L","O","OU"}], "ca":
// {"expiry", "pathlen", "pathlenzero", "backdate"}, "serialnumber"}. Read as cfssl's Go structs read it.
import { KubepkiError } from '../util/errors.js';
import { createCertificateRequest, parseHosts, type CertificateRequest, type DistinguishedName, type KeyPair, type KeySpec } from '../x509/index.js';
import { GoDecoder, goField, parseJsonText, type JsonObject } from './go-json.js';
import { parseCfsslDuration } from './duration.js';
import { cfsslSignatureHash } from './signer.js';

export interface CsrName {
  C: string;
  ST: string;
  L: string;
  O: string;
  OU: string;
  SerialNumber: string;
}

/** The "ca" section: only meaningful to -initca. */
export interface CsrCaSection {
  pathlen: number;
  pathlenzero: boolean;
  /** Milliseconds; undefined = cfssl's CA default (5 years). */
  expiryMs: number | undefined;
  backdateMs: number | undefined;
}

export interface CsrJson {
  source: string;
  CN: string;
  names: CsrName[];
  /** undefined when the key is absent or null (cfssl then keeps the CSR's own names). */
  hosts: string[] | undefined;
  key: { algo: string; size: number } | undefined;
  ca: CsrCaSection | undefined;
  serialNumber: string;
}

/** Parses csr.json text. `source` (the path the user gave) names the file in errors. */
export function parseCsrJson(text: string, source: string): CsrJson {
  const d = new GoDecoder(source, 'InvalidArgument');
  const parsed = parseJsonText(text, source, 'InvalidArgument');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KubepkiError('InvalidArgument', `${source}: expected a JSON object (a cfssl CSR request)`);
  }
  const root = parsed as JsonObject;
  const names = (d.array(goField(root, 'names'), 'names') ?? []).map((n, i) => {
    const o = d.object(n, `names[${i}]`) ?? {};
    const f = (k: string) => d.string(goField(o, k), `names[${i}].${k}`);
    return { C: f('C'), ST: f('ST'), L: f('L'), O: f('O'), OU: f('OU'), SerialNumber: f('SerialNumber') };
  });
  const keyObj = d.object(goField(root, 'key'), 'key');
  const key = keyObj ? { algo: d.string(goField(keyObj, 'algo'), 'key.algo'), size: d.int(goField(keyObj, 'size'), 'key.size') } : undefined;
  const caObj = d.object(goField(root, 'ca'), 'ca');
  let ca: CsrCaSection | undefined;
  if (caObj) {
    const expiry = d.string(goField(caObj, 'expiry'), 'ca.expiry');
    const backdate = d.string(goField(caObj, 'backdate'), 'ca.backdate');
    ca = {
      pathlen: d.int(goField(caObj, 'pathlen'), 'ca.pathlen'),
      pathlenzero: d.bool(goField(caObj, 'pathlenzero'), 'ca.pathlenzero'),
      expiryMs: expiry === '' ? undefined : parseCfsslDuration(expiry, `${source}: "ca.expiry"`),
      backdateMs: backdate === '' ? undefined : parseCfsslDuration(backdate, `${source}: "ca.backdate"`, { allowZero: true }),
    };
  }
  return {
    source,
    CN: d.string(goField(root, 'CN'), 'CN'),
    names,
    hosts: d.strings(goField(root, 'hosts'), 'hosts'),
    key,
    ca,
    serialNumber: d.string(goField(root, 'serialnumber'), 'serialnumber'),
  };
}

/** cfssl's genkey validator: a request must name its subject (a CN, or names with something in them). */
export function validateCsrJson(req: CsrJson): void {
  if (req.CN !== '') return;
  const blank = (s: string) => s.trim() === '';
  if (req.names.length === 0 || req.names.some((n) => blank(n.C) && blank(n.ST) && blank(n.L) && blank(n.O) && blank(n.OU))) {
    throw new KubepkiError('InvalidArgument', `${req.source}: missing subject information (give "CN" or "names")`);
  }
}

/** The subject cfssl builds: every non-empty C/ST/L/O/OU of every "names" entry, in order. */
export function subjectOf(req: CsrJson): DistinguishedName {
  const pick = (k: 'C' | 'ST' | 'L' | 'O' | 'OU') => req.names.map((n) => n[k]).filter((v) => v !== '');
  const dn: DistinguishedName = {};
  if (req.CN !== '') dn.commonName = req.CN;
  const set = <K extends 'country' | 'province' | 'locality' | 'organization' | 'organizationalUnit'>(k: K, v: string[]) => {
    if (v.length) dn[k] = v;
  };
  set('country', pick('C'));
  set('province', pick('ST'));
  set('locality', pick('L'));
  set('organization', pick('O'));
  set('organizationalUnit', pick('OU'));
  if (req.serialNumber !== '') dn.serialNumber = req.serialNumber;
  return dn;
}

/**
 * The key cfssl generates: no "key" or no "algo" = ECDSA P-256; RSA 2048..8192 bits; ECDSA 256/384/521
 * (size 0 = 256).
 */
export function keySpecOf(req: CsrJson): KeySpec {
  const algo = (req.key?.algo ?? '').toLowerCase() || 'ecdsa';
  const size = req.key?.size ?? 0;
  const where = `${req.source}: "key"`;
  if (algo === 'rsa') {
    if (size < 2048) throw new KubepkiError('InvalidArgument', `${where}: RSA key size ${size} is too weak (use 2048 to 8192 bits)`);
    if (size > 8192) throw new KubepkiError('InvalidArgument', `${where}: RSA key size ${size} is too large (use 2048 to 8192 bits)`);
    return { type: 'RSA', bits: size };
  }
  if (algo === 'ecdsa') {
    if (size === 0 || size === 256) return { type: 'ECDSA', curve: 'P-256' };
    if (size === 384) return { type: 'ECDSA', curve: 'P-384' };
    if (size === 521) return { type: 'ECDSA', curve: 'P-521' };
    throw new KubepkiError('InvalidArgument', `${where}: invalid ECDSA curve size ${size} (use 256, 384 or 521)`);
  }
  throw new KubepkiError('InvalidArgument', `${where}: invalid algorithm "${req.key?.algo}" (use "rsa" or "ecdsa")`);
}

/** The pathlen a CSR's "ca" section asks for: cfssl writes none (-1) for 0 unless "pathlenzero". */
function pathLenRequest(ca: CsrCaSection): { maxPathLen?: number } {
  if (ca.pathlen > 0) return { maxPathLen: ca.pathlen };
  if (ca.pathlen === 0 && ca.pathlenzero) return { maxPathLen: 0 };
  return {};
}

/** The CSR cfssl derives from csr.json for a key: subject, hosts as SANs, and the "ca" section as CA:TRUE. */
export async function csrFor(req: CsrJson, keyPair: KeyPair, hosts: string[] | undefined): Promise<CertificateRequest> {
  return createCertificateRequest({
    subject: subjectOf(req),
    sans: parseHosts(hosts ?? []),
    keyPair,
    signatureHash: cfsslSignatureHash(keyPair.privateKey),
    ...(req.ca ? { requestCA: pathLenRequest(req.ca) } : {}),
  });
}

