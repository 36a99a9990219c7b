// How a log line reads: JSON lines (pino's, for machines) or klog's text header for people —
//   I1205 21:10:00.123456   12345 kubepki-serve] "serving securely" storage="sqlite" port=6443
// (severity letter, MMDD, local time to the microsecond, pid right-aligned in 7, the component where klog puts
// file:line, then the quoted message and key=value fields after it, as klog's structured logging writes
// them). Both go through scrubSecrets last: a PEM block or a bootstrap token secret that slipped into a
// message is cut out, whatever the field (pino's redact paths only know field names).

import { KubepkiError } from './errors.js';

export type LogFormat = 'text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** --log-format, or text when stderr is a terminal and JSON otherwise (a pipe, a file, a log collector). */
export function resolveLogFormat(flag: string | undefined, stderrIsTTY: boolean | undefined): LogFormat {
  if (flag === undefined) return stderrIsTTY ? 'text' : 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(flag)) throw new KubepkiError('InvalidArgument', `--log-format: "${flag}" is not text or json`);
  return flag as LogFormat;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END \1-----|$)/g;
// A bootstrap token <id>.<secret>: the id may be shown (kubeadm logs it), never the secret.
const BOOTSTRAP_TOKEN = /\b([a-z0-9]{6})\.[a-z0-9]{16}\b/g;

/** Cuts PEM blocks and bootstrap token secrets out of a serialized line (JSON or text). */
export function scrubSecrets(line: string): string {
  if (!line.includes('-----BEGIN ') && !/[a-z0-9]{6}\.[a-z0-9]{16}/.test(line)) return line;
  return line.replace(PEM_BLOCK, '[REDACTED $1]').replace(BOOTSTRAP_TOKEN, '$1.[REDACTED]');
}

const SEVERITY: [number, string][] = [
  [60, 'F'],
  [50, 'E'],
  [40, 'W'],
];

/** pino's record fields that the klog header carries; the rest are the key=value fields. */
const HEADER_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Go's %q for a string, as klog quotes messages and string values. */
function quote(s: string): string {
  return JSON.stringify(s);
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v) ?? 'null';
}

/** One pino record (already redacted) as a klog text line, without the newline. */
export function formatKlogLine(record: Record<string, unknown>): string {
  const level = typeof record['level'] === 'number' ? record['level'] : 30;
  const severity = SEVERITY.find(([min]) => level >= min)?.[1] ?? 'I';
  const t = new Date(typeof record['time'] === 'number' ? record['time'] : Date.now());
  // pino keeps milliseconds; klog prints microseconds.
  const stamp = `${pad(t.getMonth() + 1)}${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}000`;
  const pid = String(record['pid'] ?? process.pid).padStart(7, ' ');
  const component = typeof record['name'] === 'string' ? record['name'] : 'kubepki';
  const fields = Object.entries(record)
    .filter(([k]) => !HEADER_FIELDS.has(k))
    .map(([k, v]) => `${k}=${formatValue(v)}`);
  return [`${severity}${stamp} ${pid} ${component}] ${quote(String(record['msg'] ?? ''))}`, ...fields].join(' ');
}

/**
 * pino's streamWrite hook: `s` is one serialized JSON record with its newline. JSON stays JSON; text is
 * re-rendered from the record. Either way secrets are scrubbed last.
 */
export function logLineWriter(format: LogFormat): (s: string) => string {
  if (format === 'json') return scrubSecrets;
  return (s) => {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(s) as Record<string, unknown>;
    } catch {
      return scrubSecrets(s);
    }
    return `${scrubSecrets(formatKlogLine(record))}\n`;
  };
}
