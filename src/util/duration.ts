// Go's time.Duration syntax ("8760h", "40s", "1h30m", "876000h"), as every Kubernetes flag and cfssl use.
import { KubepkiError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration into milliseconds. Throws InvalidDuration naming the input. */
export function parseGoDuration(input: string): number {
  const s = input.trim();
  const bad = () =>
    new KubepkiError('InvalidDuration', `invalid duration "${input}": use Go syntax such as 8760h, 30m or 40s`);
  if (s === '0') return 0;
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '') throw bad();
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) throw bad();
    total += parseFloat(m[1]!) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

