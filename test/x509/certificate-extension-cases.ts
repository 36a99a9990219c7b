// Certificates whose CRL distribution points, certificate policies or name constraints break (or only just
// keep) the rules Go 1.23's x509.ParseCertificate applies to them (crypto/x509/parser.go: processExtensions
// case 31, parseCertificatePoliciesExtension, parseNameConstraintsExtension), each with Go 1.23's answer.
// The parser's unit test holds kubepki to these answers; the Go-oracle test holds them to the machine's Go
// (1.19), except where 1.19 answers otherwise, which `go119` states (and that test checks).
import * as der from '../../src/x509/der.js';
import { withExtension } from './hand-built-certificate.js';

export interface ExtensionCase {
  group: 'CRL distribution points' | 'certificate policies' | 'name constraints';
  name: string;
  der: Uint8Array;
  /** Go 1.23's error; undefined when Go 1.23 parses the certificate. */
  error?: string;
  /** Go 1.19's answer where it is not Go 1.23's: its error, or null when it parses. */
  go119?: string | null;
}

const bytes = (...b: number[]) => Buffer.from(b);
const text = (s: string) => Buffer.from(s, 'latin1');

// CRL distribution points: DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName
// OPTIONAL, reasons [1] OPTIONAL, cRLIssuer [2] OPTIONAL }; DistributionPointName ::= CHOICE { fullName [0]
// GeneralNames, nameRelativeToCRLIssuer [1] RelativeDistinguishedName }.
const CRL_DP = '2.5.29.31';
const uri = (s: string) => der.implicitPrimitive(6, text(s));
/** A DistributionPoint whose distributionPoint is a fullName of `names` (complete elements or raw bytes). */
const fullNamePoint = (...names: Uint8Array[]) => der.sequence(der.tlv(0xa0, der.tlv(0xa0, ...names)));
const crl = (value: Uint8Array) => withExtension(CRL_DP, value);
const BAD_POINT = 'x509: invalid CRL distribution point';

const CRL_CASES: Omit<ExtensionCase, 'group'>[] = [
  { name: 'one point with a URI', der: crl(der.sequence(fullNamePoint(uri('http://crl.example/ca.crl')))) },
  { name: 'an empty list', der: crl(der.sequence()) },
  { name: 'a point with only a cRLIssuer', der: crl(der.sequence(der.sequence(der.tlv(0xa2, der.implicitPrimitive(2, text('ca.example')))))) },
  // Go stops at the first name that is not a URI, and never reads what follows it, reasons or cRLIssuer.
  {
    name: 'a URI after a DNS name, and malformed bytes Go never reads',
    der: crl(der.sequence(der.sequence(der.tlv(0xa0, der.tlv(0xa0, der.implicitPrimitive(2, text('x')), uri('http://c'), bytes(0xff, 0xff)), bytes(0x05)), bytes(0x81, 0x09)))),
  },
  { name: 'bytes after the list', der: crl(Buffer.concat([der.sequence(fullNamePoint(uri('http://c'))), bytes(0x00, 0xff)])) },
  { name: 'a value that is not a SEQUENCE', der: crl(der.integer(1)), error: 'x509: invalid CRL distribution points' },
  { name: 'a point that is not a SEQUENCE', der: crl(der.sequence(fullNamePoint(uri('http://c')), uri('http://d'))), error: BAD_POINT },
  { name: 'a nameRelativeToCRLIssuer', der: crl(der.sequence(der.sequence(der.tlv(0xa0, der.tlv(0xa1, der.sequence(der.oid('2.5.4.3'), der.printableString('crl'))))))), error: BAD_POINT },
  { name: 'an empty distributionPoint', der: crl(der.sequence(der.sequence(der.tlv(0xa0)))), error: BAD_POINT },
  { name: 'a distributionPoint with a long-form length that fits the short form', der: crl(der.sequence(der.sequence(bytes(0xa0, 0x81, 0x02, 0xa0, 0x00)))), error: BAD_POINT },
  { name: 'a URI whose length overruns its fullName', der: crl(der.sequence(fullNamePoint(uri('http://c'), bytes(0x86, 0x05, 0x61, 0x62)))), error: BAD_POINT },
];

// Certificate policies: PolicyInformation ::= SEQUENCE { policyIdentifier OBJECT IDENTIFIER, policyQualifiers
// SEQUENCE OF PolicyQualifierInfo OPTIONAL }.
const POLICIES = '2.5.29.32';
const policies = (value: Uint8Array) => withExtension(POLICIES, value);
const oidOf = (content: number[]) => der.tlv(0x06, Buffer.from(content));
const BAD_POLICIES = 'x509: invalid certificate policies';
const CPS = der.sequence(der.sequence(der.oid('1.3.6.1.5.5.7.2.1'), der.ia5String('http://cps.example')));

const POLICY_CASES: Omit<ExtensionCase, 'group'>[] = [
  { name: 'two policies, one with a CPS qualifier', der: policies(der.sequence(der.sequence(der.oid('2.23.140.1.2.1')), der.sequence(der.oid('1.3.6.1.4.1.44947.1.1.1'), CPS))) },
  { name: 'an empty list', der: policies(der.sequence()) },
  // Go 1.24 refuses a policy given twice (with its policy validation); Go 1.23 does not look.
  { name: 'the same policy twice', der: policies(der.sequence(der.sequence(der.oid('2.5.29.32.0')), der.sequence(der.oid('2.5.29.32.0')))) },
  { name: 'bytes after a policy OID and after the list', der: policies(Buffer.concat([der.sequence(der.sequence(der.oid('2.5.29.32.0'), bytes(0xff))), bytes(0x00)])) },
  // Go 1.23's newOIDFromDER takes arcs of any size; Go 1.19 read policy OIDs into ints of at most 31 bits.
  { name: 'a policy OID with an arc of 2^32', der: policies(der.sequence(der.sequence(der.oid('1.2.4294967296')))), go119: BAD_POLICIES },
  { name: 'a value that is not a SEQUENCE', der: policies(der.oid('2.5.29.32.0')), error: BAD_POLICIES },
  { name: 'a policy that is a bare OID', der: policies(der.sequence(der.oid('2.5.29.32.0'))), error: BAD_POLICIES },
  { name: 'a policy without an OID', der: policies(der.sequence(der.sequence())), error: BAD_POLICIES },
  { name: 'a policy that starts with its qualifiers', der: policies(der.sequence(der.sequence(CPS, der.oid('2.5.29.32.0')))), error: BAD_POLICIES },
  { name: 'an empty policy OID', der: policies(der.sequence(der.sequence(oidOf([])))), error: BAD_POLICIES },
  // Go 1.19's cryptobyte did not yet refuse a non-minimal arc; Go 1.23's newOIDFromDER does.
  { name: 'a policy OID arc with a leading 0x80 octet', der: policies(der.sequence(der.sequence(oidOf([0x2a, 0x80, 0x01])))), error: BAD_POLICIES, go119: null },
  { name: 'a policy OID whose first arc has a leading 0x80 octet', der: policies(der.sequence(der.sequence(oidOf([0x80, 0x2a])))), error: BAD_POLICIES, go119: null },
  { name: 'a policy OID whose last arc is cut short', der: policies(der.sequence(der.sequence(oidOf([0x2a, 0x86])))), error: BAD_POLICIES },
];

// Name constraints: NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
// excludedSubtrees [1] GeneralSubtrees OPTIONAL }; GeneralSubtree ::= SEQUENCE { base GeneralName, ... }.
const NAME_CONSTRAINTS = '2.5.29.30';
const dns = (s: string) => der.implicitPrimitive(2, text(s));
const email = (s: string) => der.implicitPrimitive(1, text(s));
const uriC = (s: string) => der.implicitPrimitive(6, text(s));
const nameConstraints = (permitted: Buffer[], excluded: Buffer[] = []) =>
  withExtension(
    NAME_CONSTRAINTS,
    der.sequence(
      ...(permitted.length ? [der.tlv(0xa0, ...permitted.map((n) => der.sequence(n)))] : []),
      ...(excluded.length ? [der.tlv(0xa1, ...excluded.map((n) => der.sequence(n)))] : []),
    ),
    true,
  );
const badDns = (s: string) => `x509: failed to parse dnsName constraint "${s}"`;
const badEmail = (s: string) => `x509: failed to parse rfc822Name constraint "${s}"`;
const badUri = (s: string) => `x509: failed to parse URI constraint "${s}"`;

const NAME_CONSTRAINT_CASES: Omit<ExtensionCase, 'group'>[] = [
  {
    // "" and "." (after the leading dot, nothing) are valid domains; so is the domain "" after "user@".
    name: 'every accepted form of DNS, email and URI constraints',
    der: nameConstraints(
      [dns('example.com'), dns('.example.com'), dns(''), dns('.'), email('user@example.com'), email('"a b"@example.com'), email('a\\@b@example.com'), email('example.com'), email('.example.com'), email('.'), email('user@')],
      [uriC('example.com'), uriC('.example.com'), uriC('[::1]'), uriC('1.2.3.04'), uriC('')],
    ),
  },
  { name: 'a DNS constraint with a trailing dot', der: nameConstraints([dns('example.com.')]), error: badDns('example.com.') },
  { name: 'a DNS constraint with an empty label', der: nameConstraints([dns('a..example.com')]), error: badDns('a..example.com') },
  // Go 1.19's domainToReverseLabels dropped a leading empty label: it takes "..example.com" (".example.com").
  { name: 'a DNS constraint with two leading dots', der: nameConstraints([dns('..example.com')]), error: badDns('..example.com'), go119: null },
  { name: 'a DNS constraint with a space', der: nameConstraints([dns('ex ample.com')]), error: badDns('ex ample.com') },
  { name: 'a DNS constraint with a control character (quoted as Go does)', der: nameConstraints([dns('a\x01b')]), error: badDns('a\\x01b') },
  { name: 'a bad DNS constraint among the excluded ones', der: nameConstraints([dns('example.com')], [dns('example.com.')]), error: badDns('example.com.') },
  { name: 'a mailbox constraint without a local part', der: nameConstraints([email('@example.com')]), error: badEmail('@example.com') },
  { name: 'a mailbox constraint with two dots in the local part', der: nameConstraints([email('a..b@example.com')]), error: badEmail('a..b@example.com') },
  { name: 'a mailbox constraint with an unterminated quoted local part', der: nameConstraints([email('"ab@example.com')]), error: badEmail('\\"ab@example.com') },
  { name: 'a mailbox constraint whose domain has a trailing dot', der: nameConstraints([email('user@example.com.')]), error: badEmail('user@example.com.') },
  { name: 'a mailbox constraint whose domain starts with a dot', der: nameConstraints([email('user@.example.com')]), error: badEmail('user@.example.com'), go119: null },
  { name: 'an email domain constraint with an empty label', der: nameConstraints([email('example..com')]), error: badEmail('example..com') },
  { name: 'a URI constraint that is an IPv4 address', der: nameConstraints([uriC('10.0.0.1')]), error: `${badUri('10.0.0.1')}: cannot be IP address` },
  { name: 'a URI constraint that is an IPv6 address', der: nameConstraints([uriC('2001:db8::1')]), error: `${badUri('2001:db8::1')}: cannot be IP address` },
  { name: 'a URI constraint with a trailing dot', der: nameConstraints([uriC('example.com.')]), error: badUri('example.com.') },
  { name: 'a URI constraint with two leading dots', der: nameConstraints([uriC('..example.com')]), error: badUri('..example.com'), go119: null },
  // Go's isIA5String error, quoted by %q from the raw bytes: invalid UTF-8 as \xNN, a C1 control as \uNNNN.
  { name: 'a DNS constraint with an 8-bit octet', der: nameConstraints([der.implicitPrimitive(2, bytes(0x61, 0xe9))]), error: 'x509: invalid constraint value: x509: "a\\xe9" cannot be encoded as an IA5String' },
  { name: 'an email constraint in UTF-8', der: nameConstraints([der.implicitPrimitive(1, Buffer.from('é\u0085@example.com', 'utf8'))]), error: 'x509: invalid constraint value: x509: "é\\u0085@example.com" cannot be encoded as an IA5String' },
  { name: 'a URI constraint with an overlong UTF-8 form', der: nameConstraints([der.implicitPrimitive(6, bytes(0xc0, 0xaf))]), error: 'x509: invalid constraint value: x509: "\\xc0\\xaf" cannot be encoded as an IA5String' },
  // cryptobyte's ReadAnyASN1 refuses the high-tag-number form (the name is not merely of an unhandled kind).
  { name: 'a constraint whose name has a high tag number', der: nameConstraints([bytes(0x9f, 0x21, 0x01, 0x41)]), error: 'x509: invalid NameConstraints extension' },
  { name: 'a subtree without a name', der: withExtension(NAME_CONSTRAINTS, der.sequence(der.tlv(0xa0, der.sequence())), true), error: 'x509: invalid NameConstraints extension' },
  // Go reads the permitted subtrees first: their error wins over the excluded ones'.
  { name: 'bad permitted and excluded constraints', der: nameConstraints([email('example..com')], [uriC('10.0.0.1')]), error: badEmail('example..com') },
];

export const EXTENSION_CASES: ExtensionCase[] = [
  ...CRL_CASES.map((c) => ({ ...c, group: 'CRL distribution points' as const, name: `CRL distribution points: ${c.name}` })),
  ...POLICY_CASES.map((c) => ({ ...c, group: 'certificate policies' as const, name: `certificate policies: ${c.name}` })),
  ...NAME_CONSTRAINT_CASES.map((c) => ({ ...c, group: 'name constraints' as const, name: `name constraints: ${c.name}` })),
];
