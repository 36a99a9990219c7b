// Public-key pins as kubeadm writes and checks them (cmd/kubeadm/app/util/pubkeypin, RFC 7469's idea):
// "sha256:" + lower-case hex of SHA-256 over the certificate's DER SubjectPublicKeyInfo. This is what
// `--discovery-token-ca-cert-hash` carries and `openssl x509 -pubkey | openssl pkey -pubin -outform der |
// openssl dgst -sha256` prints.
import { createHash } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { spkiOf, type Certificate } from './certificate.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The pin of a certificate's public key. The certificate parser only accepts keys that Node imports from
 * the certificate's own SPKI bytes, and Node writes a key's SPKI back in the one DER form, so this is the
 * hash of RawSubjectPublicKeyInfo as Go computes it.
 */
export function publicKeyPin(cert: Pick<Certificate, 'publicKey'>): string {
  return `sha256:${createHash('sha256').update(spkiOf(cert.publicKey)).digest('hex')}`;
}

/**
 * kubeadm's pubkeypin.Set.Allow: each value is "format:hex"; the only format is sha256 (any case), the value
 * 64 hex digits (any case), kept lower-case. A malformed value is an error naming it.
 */
export function parsePublicKeyPins(values: readonly string[]): Set<string> {
  const pins = new Set<string>();
  for (const value of values) {
    const parts = value.split(':');
    if (parts.length !== 2) throw new KubepkiError('InvalidArgument', `invalid hash "${value}", expected "format:hex-value"; known format(s) are: sha256`);
    const [format, hex] = parts as [string, string];
    if (format.toLowerCase() !== 'sha256') throw new KubepkiError('InvalidArgument', `unknown hash format "${format}" in "${value}"; known format(s) are: sha256`);
    if (!SHA256_HEX.test(hex.toLowerCase())) throw new KubepkiError('InvalidArgument', `invalid hash "${value}": expected a 32-byte SHA-256 hash in hex`);
    pins.add(hex.toLowerCase());
  }
  return pins;
}

/** kubeadm's Set.CheckAny: null when one of the certificates' keys is pinned, otherwise why not. */
export function checkAnyPinned(pins: ReadonlySet<string>, certificates: readonly Certificate[]): string | null {
  const seen: string[] = [];
  for (const cert of certificates) {
    const pin = publicKeyPin(cert);
    if (pins.has(pin.slice('sha256:'.length))) return null;
    seen.push(pin);
  }
  return `none of the public keys "${seen.join(':')}" are pinned`;
}
