// The static token file (--token-auth-file), in kube's CSV format `token,user,uid,"group1,group2"` (seed
// 004): at least three columns, the optional fourth a comma-separated group list. The file is read once at
// start; a malformed line refuses the whole file with its line number. Tokens are held as SHA-256 digests
// and compared with timingSafeEqual against every entry, so a lookup leaks neither a token nor how close a
// guess came.
import { createHash, timingSafeEqual } from 'node:crypto';
import { KubepkiError } from '../../util/errors.js';
import { audienceAgnostic, type TokenAuthenticator } from './bearer-token.js';
import type { UserInfo } from '../../apis/authorization.js';
import { readBoundedFile } from '../../util/bounded-file.js';

interface TokenEntry {
  digest: Buffer;
  user: UserInfo;
}

/**
 * Go's encoding/csv reading of one line (FieldsPerRecord = -1): comma-separated fields, a field that
 * starts with a quote is quoted ("" escapes a quote), a quote inside an unquoted field is an error.
 */
export function parseCsvLine(line: string): { fields: string[] } | { error: string; column: number } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= line.length) return { error: 'extraneous or missing " in quoted-field', column: j + 1 };
        if (line[j] === '"') {
          if (line[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          j++;
          break;
        }
        value += line[j];
        j++;
      }
      if (j < line.length && line[j] !== ',') return { error: 'extraneous or missing " in quoted-field', column: j + 1 };
      fields.push(value);
      if (j >= line.length) return { fields };
      i = j + 1;
    } else {
      const end = line.indexOf(',', i);
      const value = end < 0 ? line.slice(i) : line.slice(i, end);
      const quote = value.indexOf('"');
      if (quote >= 0) return { error: 'bare " in non-quoted-field', column: i + quote + 1 };
      fields.push(value);
      if (end < 0) return { fields };
      i = end + 1;
    }
  }
}

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Parses the file's text; `source` names it in errors. Throws InvalidConfig naming the line. */
export function parseTokenFile(text: string, source: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    if (line.trim() === '') continue; // Go's csv reader skips empty lines
    const where = `token file '${source}' line ${n + 1}`;
    const parsed = parseCsvLine(line);
    if ('error' in parsed) throw new KubepkiError('InvalidConfig', `${where}: parse error on column ${parsed.column}: ${parsed.error}`);
    const rec = parsed.fields;
    if (rec.length < 3) {
      throw new KubepkiError('InvalidConfig', `${where}: must have at least 3 columns (token, user name, user uid), found ${rec.length}`);
    }
    const [token, username, uid] = rec as [string, string, string];
    // kube only warns about these; a file that authenticates nobody or someone nameless is a mistake.
    if (token === '') throw new KubepkiError('InvalidConfig', `${where}: the token (column 1) is empty`);
    if (username === '') throw new KubepkiError('InvalidConfig', `${where}: the user name (column 2) is empty`);
    const digestHex = digestOf(token).toString('hex');
    const prev = seen.get(digestHex);
    if (prev !== undefined) throw new KubepkiError('InvalidConfig', `${where}: duplicate token (first seen on line ${prev})`);
    seen.set(digestHex, n + 1);
    const user: UserInfo = { username, uid, groups: [] };
    if (rec.length >= 4) user.groups = rec[3]!.split(',').filter((g) => g !== '');
    entries.push({ digest: digestOf(token), user });
  }
  return entries;
}

export interface TokenFileAuthenticator extends TokenAuthenticator {
  readonly size: number;
}

export function tokenFileAuthenticator(entries: TokenEntry[], apiAudiences: string[]): TokenFileAuthenticator {
  return {
    name: 'tokenfile',
    size: entries.length,
    async authenticateToken(token, audiences) {
      return audienceAgnostic(apiAudiences, audiences, async () => {
        const d = digestOf(token);
        let found: UserInfo | undefined;
        // Compare against every entry without stopping early: the time taken does not depend on the token.
        for (const e of entries) if (timingSafeEqual(d, e.digest) && !found) found = e.user;
        return found ? { user: { ...found, groups: [...found.groups] } } : null;
      });
    },
  };
}

/** One token standing for one user (the API server's loopback token), compared as the token file's are. */
export function singleTokenAuthenticator(token: string, user: UserInfo): TokenFileAuthenticator {
  return tokenFileAuthenticator([{ digest: digestOf(token), user }], []);
}

/** Reads and parses --token-auth-file. Unreadable or malformed → InvalidConfig with the reason. */
export async function loadTokenFile(path: string, apiAudiences: string[]): Promise<TokenFileAuthenticator> {
  let text: string;
  try {
    text = await readBoundedFile(path);
  } catch (err) {
    throw new KubepkiError('InvalidConfig', `--token-auth-file: cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return tokenFileAuthenticator(parseTokenFile(text, path), apiAudiences);
}
