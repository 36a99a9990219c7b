// kubeadm's CA public-key pins (--discovery-token-ca-cert-hash), judged by the real openssl: the pin is
// SHA-256 over the certificate's DER SubjectPublicKeyInfo, as kubeadm's docs compute it with openssl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkAnyPinned, parsePublicKeyPins, publicKeyPin } from '../../src/x509/pubkey-pin.js';
import { parseCertificatePem } from '../../src/x509/index.js';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';

async function opensslPin(certFile: string, dir: string): Promise<string> {
  await openssl(['x509', '-pubkey', '-noout', '-in', certFile, '-out', `${certFile}.pub.pem`], dir);
  await openssl(['pkey', '-pubin', '-in', `${certFile}.pub.pem`, '-outform', 'der', '-out', `${certFile}.pub.der`], dir);
  const hex = await openssl(['dgst', '-sha256', '-hex', `${certFile}.pub.der`], dir);
  return `sha256:${hex.trim().split(' ').at(-1)}`;
}

test('the pin of RSA and EC CA certificates is what openssl computes from the SubjectPublicKeyInfo', async (t) => {
  const dir = await tempDir(t);
  for (const [name, alg] of [['rsa', ['-newkey', 'rsa:2048']], ['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']]] as const) {
    const certFile = path.join(dir, `${name}.crt`);
    await openssl(['req', '-x509', ...alg, '-nodes', '-keyout', path.join(dir, `${name}.key`), '-subj', `/CN=${name}-ca`, '-days', '1', '-out', certFile], dir);
    const cert = parseCertificatePem(await readFile(certFile, 'utf8'));
    assert.equal(publicKeyPin(cert), await opensslPin(certFile, dir), name);
  }
});

test('pins are parsed as kubeadm parses them: sha256 in any case, 64 hex digits, anything else named in the error', () => {
  const hex = 'AB'.repeat(32);
  assert.deepEqual([...parsePublicKeyPins([`SHA256:${hex}`])], ['ab'.repeat(32)]);
  assert.throws(() => parsePublicKeyPins([hex]), { code: 'InvalidArgument', message: /expected "format:hex-value"/ });
  assert.throws(() => parsePublicKeyPins([`sha1:${hex}`]), { message: /unknown hash format "sha1"/ });
  assert.throws(() => parsePublicKeyPins([`sha256:${hex.slice(2)}`]), { message: /32-byte SHA-256/ });
  assert.throws(() => parsePublicKeyPins([`sha256:${'zz'.repeat(32)}`]), { message: /32-byte SHA-256/ });
  assert.throws(() => parsePublicKeyPins([`sha256:${hex}:x`]), { message: /format:hex-value/ });
});

test('checkAnyPinned accepts a bundle when one of its keys is pinned, and names every key when none is', async (t) => {
  const dir = await tempDir(t);
  const certs = [];
  for (const name of ['a', 'b']) {
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-days', '1', '-out', `${name}.crt`], dir);
    certs.push(parseCertificatePem(await readFile(path.join(dir, `${name}.crt`), 'utf8')));
  }
  const pinB = parsePublicKeyPins([publicKeyPin(certs[1]!)]);
  assert.equal(checkAnyPinned(pinB, certs), null);
  const problem = checkAnyPinned(parsePublicKeyPins([`sha256:${'0'.repeat(64)}`]), certs);
  assert.equal(problem, `none of the public keys "${publicKeyPin(certs[0]!)}:${publicKeyPin(certs[1]!)}" are pinned`);
});
