// The certificate parser reads the contents of CRL distribution points, certificate policies and name
// constraints as Go 1.23's x509.ParseCertificate does: each hand-built case (certificate-extension-cases.ts)
// is refused with Go's error, word for word, or parsed when Go parses it (including the bytes Go never reads).
// The Go-oracle test (test/e2e/x509-certificate-parser-go-oracle.test.ts) checks the same cases against Go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCertificateDer, parseCertificateFields } from '../../src/x509/certificate-parser.js';
import { EXTENSION_CASES, type ExtensionCase } from './certificate-extension-cases.js';

const PREFIX = 'certificate: not a valid X.509 certificate: ';

/** The parser's error without its prefix, or undefined when the certificate parses. */
function parseError(der: Uint8Array): string | undefined {
  try {
    parseCertificateDer(der);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    assert.ok(message.startsWith(PREFIX), message);
    return message.slice(PREFIX.length);
  }
}

for (const group of ['CRL distribution points', 'certificate policies', 'name constraints'] as const) {
  test(`${group}: refused with Go 1.23's error where Go refuses them, parsed where Go parses them`, () => {
    const cases = EXTENSION_CASES.filter((c: ExtensionCase) => c.group === group);
    const disagreements = cases
      .map((c) => ({ c, got: parseError(c.der) }))
      .filter(({ c, got }) => got !== c.error)
      .map(({ c, got }) => `${c.name}: Go 1.23 ${JSON.stringify(c.error ?? 'parses')}, kubepki ${JSON.stringify(got ?? 'parses')}`);
    assert.deepEqual(disagreements, []);
    assert.ok(cases.filter((c) => c.error !== undefined).length >= 4, 'refusals are tested');
    assert.ok(cases.some((c) => c.error === undefined), 'accepted forms are tested');
  });
}

test('accepted name constraints are kept as written (leading dots, quoted mailboxes, empty values)', () => {
  const accepted = EXTENSION_CASES.find((c) => c.name === 'name constraints: every accepted form of DNS, email and URI constraints')!;
  const nc = parseCertificateFields(accepted.der).nameConstraints!;
  assert.deepEqual(nc.permitted.dns, ['example.com', '.example.com', '', '.']);
  assert.deepEqual(nc.permitted.emails, ['user@example.com', '"a b"@example.com', 'a\\@b@example.com', 'example.com', '.example.com', '.', 'user@']);
  assert.deepEqual(nc.excluded.uris, ['example.com', '.example.com', '[::1]', '1.2.3.04', '']);
  // A refused constraint value fails the whole certificate, whichever subtree holds it.
  const excludedBad = EXTENSION_CASES.find((c) => c.name === 'name constraints: a bad DNS constraint among the excluded ones')!;
  assert.throws(() => parseCertificateFields(excludedBad.der), /failed to parse dnsName constraint "example\.com\."/);
});
