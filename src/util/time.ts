// The one RFC 3339 formatter for API timestamps and certificate times, as Go marshals them, and the one parser of
// API times from request bodies, as Go parses them (below x509, so every layer uses it).

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export const formatTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** metav1.MicroTime: RFC 3339 in UTC with microseconds (Lease acquire/renew times). */
export const formatMicroTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

// ---- Parsing, as metav1.Time / metav1.MicroTime UnmarshalJSON do (time.Parse with RFC3339 / RFC3339Micro) ----
// kube-apiserver decodes every body into typed structs, so a time that Go's parser refuses is a 400 with Go's
// message, and one it takes is stored as Go marshals it back: UTC, whole seconds for Time, six digits for
// MicroTime. Clients that write JavaScript Dates (three fractional digits) meet exactly that.

const RFC3339 = '2006-01-02T15:04:05Z07:00';
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

/** A time Go's parser refuses; the message is Go's `time.ParseError`. */
export class TimeParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeParseError';
  }
}

const isDigit = (s: string, i: number) => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

/** Go's getnum: one or two digits (exactly two when `fixed`). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : [Number(s[0]), s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

/** Go's atoi: an optional sign and digits only. */
function atoi(s: string): number | undefined {
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (!m) return undefined;
  return m[1] === '-' ? -Number(m[2]) : Number(m[2]);
}

/** Go's parseNanoseconds over value[0:nbytes] (a separator then digits); at most nine digits count. */
function nanoseconds(value: string, nbytes: number): number | 'range' | undefined {
  if (value[0] !== '.' && value[0] !== ',') return undefined;
  const n = atoi(value.slice(1, Math.min(nbytes, 10)));
  if (n === undefined) return undefined;
  if (n < 0) return 'range';
  return n * 10 ** (10 - Math.min(nbytes, 10));
}

const isLeap = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (month: number, year: number) => (month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!);

function parseGo(value: string, micro: boolean): { seconds: Date; nanos: number } {
  const layout = micro ? RFC3339_MICRO : RFC3339;
  const q = JSON.stringify;
  const cannot = (rest: string, elem: string) => new TimeParseError(`parsing time ${q(value)} as ${q(layout)}: cannot parse ${q(rest)} as ${q(elem)}`);
  const outOfRange = (what: string) => new TimeParseError(`parsing time ${q(value)}: ${what} out of range`);
  let v = value;
  const literal = (c: string) => {
    if (v[0] !== c) throw cannot(v, c);
    v = v.slice(1);
  };
  const two = (elem: string, fixed: boolean, max: number, what: string): number => {
    const r = getnum(v, fixed);
    if (!r) throw cannot(v, elem);
    if (r[0] > max) throw outOfRange(what);
    v = r[1];
    return r[0];
  };
  const year = v.length >= 4 && isDigit(v, 0) ? atoi(v.slice(0, 4)) : undefined;
  if (year === undefined) throw cannot(v, '2006');
  v = v.slice(4);
  literal('-');
  const month = two('01', true, 12, 'month');
  if (month === 0) throw outOfRange('month');
  literal('-');
  const day = two('02', true, 99, 'day');
  literal('T');
  const hour = two('15', false, 23, 'hour');
  literal(':');
  const minute = two('04', true, 59, 'minute');
  literal(':');
  const second = two('05', true, 59, 'second');
  let nanos = 0;
  if (micro) {
    const ns = v.length < 7 ? undefined : nanoseconds(v, 7);
    if (ns === 'range') throw outOfRange('fractional second');
    if (ns === undefined) throw cannot(v, '.000000');
    nanos = ns;
    v = v.slice(7);
  } else if (v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigit(v, 1)) {
    // Go takes a fraction after the seconds even where the layout has none.
    let n = 2;
    while (isDigit(v, n)) n++;
    nanos = nanoseconds(v, n) as number;
    v = v.slice(n);
  }
  let offsetMinutes = 0;
  if (v[0] === 'Z') v = v.slice(1);
  else {
    const hh = v.length >= 6 && v[3] === ':' ? getnum(v.slice(1, 3), true)?.[0] : undefined;
    const mm = hh === undefined ? undefined : getnum(v.slice(4, 6), true)?.[0];
    // Go tests > rather than >= (some write offsets of 24 hours or 60 minutes), and a range error wins.
    if (mm !== undefined && mm > 60) throw outOfRange('time zone offset minute');
    if (hh !== undefined && hh > 24) throw outOfRange('time zone offset hour');
    if (hh === undefined || mm === undefined || (v[0] !== '+' && v[0] !== '-')) throw cannot(v, 'Z07:00');
    offsetMinutes = (v[0] === '-' ? -1 : 1) * (hh * 60 + mm);
    v = v.slice(6);
  }
  if (v.length > 0) throw new TimeParseError(`parsing time ${q(value)}: extra text: ${q(v)}`);
  if (day < 1 || day > daysIn(month, year)) throw outOfRange('day');
  const seconds = new Date(0);
  seconds.setUTCFullYear(year, month - 1, day);
  seconds.setUTCHours(hour, minute - offsetMinutes, second, 0);
  return { seconds, nanos };
}

/** The zero time.Time, which metav1.Time marshals as null (absent). */
const ZERO_INSTANT = -62135596800000;

/** metav1.Time from JSON: Go's RFC 3339 parse, then as Go marshals it (UTC, whole seconds); undefined for the zero time. */
export function parseTime(value: string): string | undefined {
  const { seconds, nanos } = parseGo(value, false);
  if (seconds.getTime() === ZERO_INSTANT && nanos === 0) return undefined;
  return formatTime(seconds);
}

/** metav1.MicroTime from JSON: exactly six fractional digits (RFC3339Micro), back as UTC with six digits. */
export function parseMicroTime(value: string): string | undefined {
  const { seconds, nanos } = parseGo(value, true);
  if (seconds.getTime() === ZERO_INSTANT && nanos === 0) return undefined;
  return `${formatTime(seconds).slice(0, -1)}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}
