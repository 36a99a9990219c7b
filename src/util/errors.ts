// The root of kubepki's typed errors (jose's style): every error has a stable `code` from a closed union
// and an optional `cause`. The CLI turns them into one line + exit code; the API edge into a Status.

export type KubepkiErrorCode =
  | 'InvalidArgument'
  | 'InvalidPEM'
  | 'InvalidCertificate'
  | 'InvalidCSR'
  | 'InvalidDER'
  | 'InvalidKey'
  | 'KeyMismatch'
  | 'SignatureInvalid'
  | 'CAKeyMissing'
  | 'FileMissing'
  | 'FileInvalid'
  | 'FileWrite'
  | 'InvalidConfig'
  | 'InvalidDuration'
  | 'Unsupported'
  // node agent: a CSR's terminal outcome, or the API server not answering as needed
  | 'CSRDenied'
  | 'CSRFailed'
  | 'APIError'
  // a node-side command (custom CA trust update or reload hook) that failed
  | 'CommandFailed'
  // kubepki ca rotate: a step that waited too long for its effect; a state that forbids the step
  | 'Timeout'
  | 'Conflict';

export class KubepkiError extends Error {
  readonly code: KubepkiErrorCode;
  constructor(code: KubepkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KubepkiError';
    this.code = code;
  }
}

export const isKubepkiError = (e: unknown): e is KubepkiError => e instanceof KubepkiError;
