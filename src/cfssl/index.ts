// cfssl compatibility: cfssl's csr.json and ca-config.json formats and its gencert/genkey/sign/certinfo
// operations, producing the same certificates and the same JSON as the cfssl CLI. Pure: text in, text out.
export { parseCsrJson, validateCsrJson, subjectOf, keySpecOf, csrFor, type CsrJson, type CsrName, type CsrCaSection } from './csr-json.js';
export {
  parseCaConfig,
  selectProfile,
  defaultSigningPolicy,
  defaultSigningProfile,
  initCaProfile,
  profileUsages,
  type SigningPolicy,
  type SigningProfile,
  type CaConstraint,
} from './ca-config.js';
export { cfsslSign, cfsslSignatureHash, cfsslSerialNumber, type CfsslSignOptions } from './signer.js';
export { loadCa, type CaFiles } from './ca.js';
export { initCa } from './initca.js';
export { gencert, splitHosts, type GencertOptions } from './gencert.js';
export { genkey } from './genkey.js';
export { sign, type SignOptions } from './sign.js';
export { certInfo, formatCertInfo, type CertInfo, type CertInfoName } from './certinfo.js';
export { formatCfsslResponse, type CfsslResponse } from './response.js';
export { goJsonStringify } from './go-json.js';
