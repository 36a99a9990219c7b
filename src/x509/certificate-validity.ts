// The validity period of a DER certificate, read with the one DER reader (der-reader.ts) without parsing the
// rest: the CSR cleaner reads every issued certificate's notAfter, and a full parse would cost it a
// millisecond per object.
import { DerReader, decodeTime, readDer, TAG } from './der-reader.js';

/** notBefore and notAfter of a certificate; throws a DerError for DER that is not a certificate. */
export function readCertificateValidity(der: Uint8Array): { notBefore: Date; notAfter: Date } {
  const cert = DerReader.of(readDer(der, TAG.SEQUENCE, 'certificate'));
  const tbs = DerReader.of(cert.read(TAG.SEQUENCE, 'tbsCertificate'));
  tbs.readOptional(0xa0); // [0] EXPLICIT version, absent for v1
  tbs.read(TAG.INTEGER, 'serialNumber');
  tbs.read(TAG.SEQUENCE, 'signature');
  tbs.read(TAG.SEQUENCE, 'issuer');
  const validity = DerReader.of(tbs.read(TAG.SEQUENCE, 'validity'));
  return { notBefore: decodeTime(validity.readAny(), { cryptobyte: true }), notAfter: decodeTime(validity.readAny(), { cryptobyte: true }) };
}
