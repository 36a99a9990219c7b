// The one PEM reader/writer (RFC 7468). Strict about what it accepts: a truncated or corrupted block is an
// error naming what was being read, never a silently shorter list.
import { KubepkiError } from '../util/errors.js';

export interface PemBlock {
  type: string;
  der: Uint8Array;
  headers?: Record<string, string>;
}

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Every PEM block in the text, in order. `what` names the input in errors (a file path, a field). */
export function decodePem(text: string, what = 'input'): PemBlock[] {
  const blocks: PemBlock[] = [];
  let m: RegExpExecArray | null;
  BLOCK_RE.lastIndex = 0;
  while ((m = BLOCK_RE.exec(text))) {
    const [, begin, body, end] = m;
    if (begin !== end) throw new KubepkiError('InvalidPEM', `${what}: PEM block BEGIN ${begin} ends with END ${end}`);
    const lines = body!.split(/\r?\n/);
    const headers: Record<string, string> = {};
    let i = 0;
    // RFC 1421 encapsulated headers (e.g. Proc-Type on encrypted keys) precede a blank line.
    if (lines[0]?.includes(':')) {
      for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
        const idx = lines[i]!.indexOf(':');
        headers[lines[i]!.slice(0, idx).trim()] = lines[i]!.slice(idx + 1).trim();
      }
    }
    const b64 = lines.slice(i).join('').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new KubepkiError('InvalidPEM', `${what}: PEM block ${begin} has invalid base64 content`);
    }
    const der = new Uint8Array(Buffer.from(b64, 'base64'));
    if (der.length === 0) throw new KubepkiError('InvalidPEM', `${what}: PEM block ${begin} is empty`);
    blocks.push(Object.keys(headers).length ? { type: begin!, der, headers } : { type: begin!, der });
  }
  if (blocks.length === 0) {
    const hint = text.includes('-----BEGIN') ? ' (a block is truncated: no matching END line)' : '';
    throw new KubepkiError('InvalidPEM', `${what}: no PEM data found${hint}`);
  }
  if (/-----BEGIN [A-Z0-9 ]+-----/.test(text.slice(lastBlockEnd(text)))) {
    throw new KubepkiError('InvalidPEM', `${what}: a PEM block is truncated (BEGIN without END)`);
  }
  return blocks;
}

function lastBlockEnd(text: string): number {
  const idx = text.lastIndexOf('-----END ');
  if (idx < 0) return 0;
  const close = text.indexOf('-----', idx + 9);
  return close < 0 ? text.length : close + 5;
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
