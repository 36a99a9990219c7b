// cfssl durations ("876000h", "43800h", "5m") are Go time.Duration strings, bounded as Go bounds them.
import { KubepkiError } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';

/** Go's time.Duration tops out at 2562047h47m16.854775807s; cfssl's ParseDuration refuses longer. */
const MAX_GO_DURATION_MS = 9_223_372_036_854.775;

/** Parses a cfssl duration in milliseconds; `where` names the field in the one-line error. */
export function parseCfsslDuration(text: string, where: string, options: { allowZero?: boolean } = {}): number {
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (err) {
    throw new KubepkiError('InvalidDuration', `${where}: invalid duration "${text}" (use Go syntax such as 876000h, 8760h or 30m)`, { cause: err });
  }
  if (Math.abs(ms) > MAX_GO_DURATION_MS) throw new KubepkiError('InvalidDuration', `${where}: duration "${text}" is out of range (at most 2562047h)`);
  if (ms < 0 || (ms === 0 && !options.allowZero)) throw new KubepkiError('InvalidDuration', `${where}: duration "${text}" must be positive`);
  return ms;
}
