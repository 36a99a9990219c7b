// The rotation state object (Secret kube-system/kubepki-ca-rotation): the plan's progress (state.json) and
// the rotation's material, which every control-plane replica reads from the shared storage. The new private
// keys in it are sealed, as kubeadm seals the control-plane keys it uploads (`upload-certs`, AES-GCM under a
// `--certificate-key`): here the sealing key is derived (HKDF-SHA256) from the OLD cluster CA's private key,
// which every control-plane node already holds and nobody else does — whoever can read Secrets in
// kube-system (or an etcd backup) gets nothing it could not mint already, and no key has to be handed from
// node to node out of band. The keys are dropped from the object once the rotation is complete.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../../util/errors.js';
import { keyMatchesPublicKey, parsePrivateKeyPem, parsePublicKeyPem } from '../../x509/keys.js';
import { parseCertificatesPem } from '../../x509/certificate.js';
import type { RotationMaterial } from './material.js';
import type { RotationState } from './plan.js';

export const STATE_NAMESPACE = 'kube-system';
export const STATE_NAME = 'kubepki-ca-rotation';
export const STATE_SECRET_TYPE = 'kubepki.io/ca-rotation';

export const MATERIAL_KEYS: (keyof RotationMaterial)[] = [
  'oldCA', 'oldFrontProxyCA', 'oldServiceAccountPub', 'newCA', 'newCAKey', 'crossSignedCA', 'newFrontProxyCA', 'newFrontProxyCAKey', 'newServiceAccountKey', 'newServiceAccountPub',
];
/** The private keys: sealed in the object, dropped from it once the rotation is complete (they live on disk). */
export const SECRET_KEYS: (keyof RotationMaterial)[] = ['newCAKey', 'newFrontProxyCAKey', 'newServiceAccountKey'];

const SALT_KEY = 'seal-salt';
const MAGIC = Buffer.from('kpkseal1');
const INFO = 'kubepki ca-rotation material v1';

const b64 = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');

function sealingKey(oldCAKey: KeyObject, salt: Buffer): Buffer {
  const ikm = oldCAKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', ikm, salt, INFO, 32));
}

/** The object's data for a new rotation: state, public material in clear, private keys sealed under the old CA key. */
export function encodeNewState(state: RotationState, material: RotationMaterial, oldCAKeyPem: string): Record<string, string> {
  const salt = randomBytes(16);
  const key = sealingKey(parsePrivateKeyPem(oldCAKeyPem, 'ca.key'), salt);
  const data: Record<string, string> = { 'state.json': b64(JSON.stringify(state)), [SALT_KEY]: b64(salt) };
  for (const k of MATERIAL_KEYS) {
    if (!SECRET_KEYS.includes(k)) {
      data[k] = b64(material[k]);
      continue;
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The field's name is authenticated: a sealed value cannot be moved to another field.
    cipher.setAAD(Buffer.from(k));
    const ct = Buffer.concat([cipher.update(material[k], 'utf8'), cipher.final()]);
    data[k] = b64(Buffer.concat([MAGIC, iv, cipher.getAuthTag(), ct]));
  }
  return data;
}

export function encodeStateJson(state: RotationState): string {
  return b64(JSON.stringify(state));
}

export interface DecodedState {
  state: RotationState;
  /** The public material; the private keys are '' until unsealed (unsealKeys). */
  material: RotationMaterial;
  /** Whether the object still holds the private keys. */
  hasKeys: boolean;
}

export function decodeState(data: Record<string, string>): DecodedState {
  const text = (k: string) => (data[k] === undefined ? '' : Buffer.from(data[k], 'base64').toString('utf8'));
  let state: RotationState;
  try {
    state = JSON.parse(text('state.json') || '{}') as RotationState;
  } catch (err) {
    throw new KubepkiError('InvalidArgument', `${STATE_NAMESPACE}/${STATE_NAME}: state.json is not JSON: ${(err as Error).message}`);
  }
  state.steps ??= {};
  const material = Object.fromEntries(MATERIAL_KEYS.map((k) => [k, SECRET_KEYS.includes(k) ? '' : text(k)])) as unknown as RotationMaterial;
  return { state, material, hasKeys: SECRET_KEYS.every((k) => data[k] !== undefined) };
}

/**
 * The private keys, unsealed with the old CA key (a PEM whose key must belong to material.oldCA). Each key must
 * belong to its public half in the object (new CA, new front-proxy CA, new service-account key), so that whoever
 * can write the Secret but holds no old CA key cannot swap in a CA of their own: the public material is in clear,
 * but a certificate that does not match the sealed key is refused.
 */
export function unsealKeys(data: Record<string, string>, material: RotationMaterial, oldCAKeyPem: string): Pick<RotationMaterial, 'newCAKey' | 'newFrontProxyCAKey' | 'newServiceAccountKey'> {
  const oldCA = material.oldCA;
  const oldKey = parsePrivateKeyPem(oldCAKeyPem, 'the old CA key');
  if (!keyMatchesPublicKey(oldKey, parseCertificatesPem(oldCA, 'oldCA')[0]!.publicKey)) {
    throw new KubepkiError('KeyMismatch', 'the old CA key given does not belong to the rotation\'s old CA: cannot unseal the new keys');
  }
  const salt = data[SALT_KEY] !== undefined ? Buffer.from(data[SALT_KEY], 'base64') : undefined;
  const key = salt ? sealingKey(oldKey, salt) : undefined;
  const out: Record<string, string> = {};
  for (const k of SECRET_KEYS) {
    if (data[k] === undefined) throw new KubepkiError('FileMissing', `${STATE_NAMESPACE}/${STATE_NAME} no longer holds ${k} (the rotation is complete)`);
    const raw = Buffer.from(data[k], 'base64');
    // A key in clear is refused, never taken: it could only come from someone writing the object without the
    // old CA key (kubepki has always sealed them).
    if (!raw.subarray(0, MAGIC.length).equals(MAGIC)) throw new KubepkiError('InvalidArgument', `${STATE_NAMESPACE}/${STATE_NAME}: ${k} is not sealed: refusing a private key in clear`);
    if (!key) throw new KubepkiError('InvalidArgument', `${STATE_NAMESPACE}/${STATE_NAME}: ${k} is sealed but the object has no ${SALT_KEY}`);
    const iv = raw.subarray(MAGIC.length, MAGIC.length + 12);
    const tag = raw.subarray(MAGIC.length + 12, MAGIC.length + 28);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(k));
    decipher.setAuthTag(tag);
    try {
      out[k] = Buffer.concat([decipher.update(raw.subarray(MAGIC.length + 28)), decipher.final()]).toString('utf8');
    } catch {
      throw new KubepkiError('InvalidArgument', `${STATE_NAMESPACE}/${STATE_NAME}: ${k} does not unseal (altered, or sealed under another CA key)`);
    }
  }
  const pairs: [string, string, KeyObject][] = [
    ['newCAKey', 'newCA', parseCertificatesPem(material.newCA, 'newCA')[0]!.publicKey],
    ['newFrontProxyCAKey', 'newFrontProxyCA', parseCertificatesPem(material.newFrontProxyCA, 'newFrontProxyCA')[0]!.publicKey],
    ['newServiceAccountKey', 'newServiceAccountPub', parsePublicKeyPem(material.newServiceAccountPub, 'newServiceAccountPub')],
  ];
  for (const [k, pub, publicKey] of pairs) {
    if (!keyMatchesPublicKey(parsePrivateKeyPem(out[k]!, k), publicKey)) {
      throw new KubepkiError('KeyMismatch', `${STATE_NAMESPACE}/${STATE_NAME}: the sealed ${k} does not belong to ${pub}: refusing the rotation's material`);
    }
  }
  return out as Pick<RotationMaterial, 'newCAKey' | 'newFrontProxyCAKey' | 'newServiceAccountKey'>;
}
