// Typed storage errors; the API layer maps them to Kubernetes Status objects (409, 404, 410).

export type StorageErrorCode = 'KeyExists' | 'NotFound' | 'Conflict' | 'Compacted' | 'Unavailable';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key: string | undefined;
  constructor(code: StorageErrorCode, message: string, options?: { key?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.code = code;
    this.key = options?.key;
  }
}

export const keyExists = (key: string) => new StorageError('KeyExists', `key ${key} already exists`, { key });
export const notFound = (key: string) => new StorageError('NotFound', `key ${key} not found`, { key });
export const conflict = (key: string) =>
  new StorageError('Conflict', `key ${key} was modified: the revision does not match`, { key });
export const compacted = (revision: number, compactedAt: number) =>
  new StorageError('Compacted', `revision ${revision} has been compacted (oldest available: ${compactedAt})`);
