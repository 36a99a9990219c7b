// The one PEM reader/writer (RFC 7468). Strict about what it accepts: a truncated or corrupted block is an
// error naming what was being read, never a silently shorter list.
import { KubepkiError } from '../util/errors.js';

export interface PemBlock {
  type: string;
  der: Uint8Array;
  headers?: Record<string, string>;
}

const BEGIN_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n/g;
const END_RE = /-----END ([A-Z0-9 ]+)-----/y;

/**
 * Every PEM block in the text, in order. `what` names the input in errors (a file path, a field). One pass:
 * each BEGIN looks for the first END after it and the search goes on after that END, so a text of many BEGIN
 * lines and no END costs one scan, not one scan per BEGIN (a 0.5 MB spec.request of BEGIN lines held the
 * event loop for seconds when a lazy regex looked for each BEGIN's END to the end of the text).
 */
export function decodePem(text: string, what = 'input'): PemBlock[] {
  const blocks: PemBlock[] = [];
  BEGIN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BEGIN_RE.exec(text))) {
    const begin = m[1]!;
    const bodyStart = BEGIN_RE.lastIndex;
    const endAt = text.indexOf('-----END ', bodyStart);
    if (endAt < 0) {
      const hint = blocks.length === 0 ? ' (a block is truncated: no matching END line)' : '';
      if (blocks.length === 0) throw new KubepkiError('InvalidPEM', `${what}: no PEM data found${hint}`);
      throw new KubepkiError('InvalidPEM', `${what}: a PEM block is truncated (BEGIN without END)`);
    }
    END_RE.lastIndex = endAt;
    const end = END_RE.exec(text)?.[1];
    if (end === undefined) throw new KubepkiError('InvalidPEM', `${what}: PEM block ${begin} has a malformed END line`);
    if (begin !== end) throw new KubepkiError('InvalidPEM', `${what}: PEM block BEGIN ${begin} ends with END ${end}`);
    blocks.push(decodeBody(text.slice(bodyStart, endAt), begin, what));
    BEGIN_RE.lastIndex = END_RE.lastIndex;
  }
  if (blocks.length === 0) {
    const hint = text.includes('-----BEGIN') ? ' (a block is truncated: no matching END line)' : '';
    throw new KubepkiError('InvalidPEM', `${what}: no PEM data found${hint}`);
  }
  return blocks;
}

/** One block's body: RFC 1421 headers (Proc-Type on encrypted keys) before a blank line, then base64. */
function decodeBody(body: string, type: string, what: string): PemBlock {
  const lines = body.split(/\r?\n/);
  const headers: Record<string, string> = {};
  let i = 0;
  if (lines[0]?.includes(':')) {
    for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
      const idx = lines[i]!.indexOf(':');
      headers[lines[i]!.slice(0, idx).trim()] = lines[i]!.slice(idx + 1).trim();
    }
  }
  const b64 = lines.slice(i).join('').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new KubepkiError('InvalidPEM', `${what}: PEM block ${type} has invalid base64 content`);
  }
  const der = new Uint8Array(Buffer.from(b64, 'base64'));
  if (der.length === 0) throw new KubepkiError('InvalidPEM', `${what}: PEM block ${type} is empty`);
  return Object.keys(headers).length ? { type, der, headers } : { type, der };
}

/** Exactly the blocks of one type; errors if there are none. */
export function decodePemOfType(text: string, type: string, what = 'input'): Uint8Array[] {
  const found = decodePem(text, what).filter((b) => b.type === type);
  if (found.length === 0) throw new KubepkiError('InvalidPEM', `${what}: no PEM block of type ${type}`);
  return found.map((b) => b.der);
}

export function encodePem(type: string, der: Uint8Array | ArrayBuffer): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}
