// The dashboard's wire model: what the dashboard server streams to the page (Server-Sent Events, one whole
// snapshot per change). Only certificate facts and CSR metadata travel; never a key, a token or any Secret
// value other than a certificate. Shared, type-only, by the server (src/dashboard) and the page (page/).

/** Where a certificate was found, e.g. "Secret default/web (tls.crt)". */
export interface CertUse {
  kind: 'file' | 'kubeconfig' | 'csr' | 'secret' | 'configmap';
  where: string;
}

export interface CertView {
  /** SHA-256 fingerprint (colon hex); the certificate's identity on the page. */
  id: string;
  subject: string;
  commonName: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  isCA: boolean;
  selfSigned: boolean;
  keyUsage: string[];
  extKeyUsage: string[];
  sans: string[];
  publicKey: string;
  /** Id of the CA entity whose key signed it ('' when no known CA verifies it). */
  issuerCa: string;
  /** For CA certificates: the CA entity (subject + key) it certifies. */
  caEntity?: string;
  /** Node certificates (kubelet client/serving): the node's name and which. */
  node?: { name: string; role: 'client' | 'serving' };
  uses: CertUse[];
}

/** Something that should hold a certificate but does not parse (a broken Secret, a truncated file, a bad block of a bundle). */
export interface UnreadableView {
  /** "unreadable:" + a hash of the bytes: its identity on the page. */
  id: string;
  /** The parser's reason. */
  error: string;
  uses: CertUse[];
}

/** A CA: one subject and key, possibly certified by more than one certificate (self-signed, cross-signed). */
export interface CaView {
  id: string;
  subject: string;
  /** Ids (fingerprints) of the certificates that certify this CA's key. */
  certs: string[];
  /** CA entities whose keys signed one of those certificates, other than itself. */
  signedBy: string[];
  crossSigned: boolean;
  /** The CA the dashboard's kubeconfig trusts for the API server (newest when several). */
  current: boolean;
  /** 'current', 'old' (another CA of the same name is current), 'unknown'. */
  rotation: 'current' | 'old' | 'other';
}

export type CsrState = 'Pending' | 'Approved' | 'Issued' | 'Denied' | 'Failed';

export interface CsrView {
  name: string;
  signerName: string;
  requestor: string;
  groups: string[];
  usages: string[];
  created: string;
  subject: string;
  state: CsrState;
  /** Reason and message of the deciding condition. */
  reason: string;
  message: string;
  expirationSeconds?: number;
  /** Fingerprint of the issued certificate. */
  certificate?: string;
  /** Why status.certificate holds no readable certificate, when it is set but does not parse. */
  certificateError?: string;
  /** The requesting user's uid and extra (spec.uid, spec.extra), as the API recorded them. */
  uid?: string;
  extra?: Record<string, string[]>;
  /** The subject alternative names the request asks for ("DNS:…", "IP:…", "email:…", "URI:…"). */
  sans?: string[];
}

export interface NodeView {
  name: string;
  client?: string;
  serving?: string;
  /** notBefore of the newest node certificate. */
  lastRotation?: string;
  /** True when every current node certificate is signed by the current CA. */
  onCurrentCa: boolean | 'unknown';
  /** Custom CA trust (ClusterTrustBundle / trust distribution): not readable from this API yet. */
  customTrust: string;
}

export interface RotationStep {
  name: string;
  time?: string;
  done: boolean;
}

export interface RotationView {
  /** 'none' when no rotation state is stored in the cluster (or none can be read). */
  phase: string;
  source: string;
  steps: RotationStep[];
  /** Nodes and certificates still signed by an old CA. */
  onOldCa: string[];
}

export interface DashboardSnapshot {
  generated: string;
  identity: string;
  server: string;
  certs: CertView[];
  /** Certificate sources that do not parse. */
  unreadable: UnreadableView[];
  cas: CaView[];
  csrs: CsrView[];
  nodes: NodeView[];
  rotation: RotationView;
  /** Per source ("certificatesigningrequests", "secrets", ...): the API's refusal or failure, if any. */
  errors: Record<string, { code: number; reason: string; message: string }>;
}
