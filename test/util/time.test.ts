// Times from request bodies as kube-apiserver decodes them (metav1.Time / MicroTime over Go's time.Parse):
// what is refused, with Go's message, and the form what is taken is stored in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMicroTime, parseTime } from '../../src/util/time.js';
import { decodeWithSchema, microTime, obj, time } from '../../src/api/schema.js';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('expected a refusal');
};

test('metav1.Time takes any RFC 3339 time Go takes and keeps it in UTC to the second', () => {
  assert.equal(parseTime('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05Z');
  // JavaScript's Date#toISOString: milliseconds, dropped as Go's marshalling drops them.
  assert.equal(parseTime('2026-01-02T03:04:05.678Z'), '2026-01-02T03:04:05Z');
  assert.equal(parseTime('2026-01-02T05:04:05,123456789123+02:00'), '2026-01-02T03:04:05Z');
  assert.equal(parseTime('2026-01-01T00:30:00+01:00'), '2025-12-31T23:30:00Z');
  assert.equal(parseTime('2024-02-29T23:59:59-00:30'), '2024-03-01T00:29:59Z');
  // Go's parser is lenient about a one-digit hour.
  assert.equal(parseTime('2026-01-02T3:04:05Z'), '2026-01-02T03:04:05Z');
  // The zero time.Time marshals as null: absent.
  assert.equal(parseTime('0001-01-01T00:00:00Z'), undefined);
  assert.equal(parseTime('0099-01-02T03:04:05Z'), '0099-01-02T03:04:05Z');
});

test('metav1.MicroTime needs exactly six fractional digits and keeps them, in UTC', () => {
  assert.equal(parseMicroTime('2026-01-02T03:04:05.678000Z'), '2026-01-02T03:04:05.678000Z');
  assert.equal(parseMicroTime('2026-01-02T05:04:05.000001+02:00'), '2026-01-02T03:04:05.000001Z');
  // The message kube-apiserver gives a JavaScript client that sent a Date.
  assert.equal(
    refusal(() => parseMicroTime('2026-01-02T03:04:05.678Z')),
    'parsing time "2026-01-02T03:04:05.678Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".678Z" as ".000000"',
  );
  assert.equal(refusal(() => parseMicroTime('2026-01-02T03:04:05Z')), 'parsing time "2026-01-02T03:04:05Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"');
  assert.equal(
    refusal(() => parseMicroTime('2026-01-02T03:04:05.6780001Z')),
    'parsing time "2026-01-02T03:04:05.6780001Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "1Z" as "Z07:00"',
  );
});

test('times Go refuses are refused with Go\'s message', () => {
  const cases: [string, string][] = [
    ['yesterday', 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    ['', 'parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"'],
    ['2026-01-02 03:04:05Z', 'parsing time "2026-01-02 03:04:05Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 03:04:05Z" as "T"'],
    ['2026-01-02t03:04:05Z', 'parsing time "2026-01-02t03:04:05Z" as "2006-01-02T15:04:05Z07:00": cannot parse "t03:04:05Z" as "T"'],
    ['2026-1-02T03:04:05Z', 'parsing time "2026-1-02T03:04:05Z" as "2006-01-02T15:04:05Z07:00": cannot parse "1-02T03:04:05Z" as "01"'],
    ['2026-01-02T03:04:05', 'parsing time "2026-01-02T03:04:05" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"'],
    ['2026-01-02T03:04:05z', 'parsing time "2026-01-02T03:04:05z" as "2006-01-02T15:04:05Z07:00": cannot parse "z" as "Z07:00"'],
    ['2026-01-02T03:04:05+0200', 'parsing time "2026-01-02T03:04:05+0200" as "2006-01-02T15:04:05Z07:00": cannot parse "+0200" as "Z07:00"'],
    ['2026-13-02T03:04:05Z', 'parsing time "2026-13-02T03:04:05Z": month out of range'],
    ['2026-00-02T03:04:05Z', 'parsing time "2026-00-02T03:04:05Z": month out of range'],
    ['2026-02-29T03:04:05Z', 'parsing time "2026-02-29T03:04:05Z": day out of range'],
    ['2026-01-02T24:04:05Z', 'parsing time "2026-01-02T24:04:05Z": hour out of range'],
    ['2026-01-02T03:60:05Z', 'parsing time "2026-01-02T03:60:05Z": minute out of range'],
    ['2026-01-02T03:04:60Z', 'parsing time "2026-01-02T03:04:60Z": second out of range'],
    ['2026-01-02T03:04:05+25:00', 'parsing time "2026-01-02T03:04:05+25:00": time zone offset hour out of range'],
    ['2026-01-02T03:04:05Z ', 'parsing time "2026-01-02T03:04:05Z ": extra text: " "'],
  ];
  for (const [input, message] of cases) assert.equal(refusal(() => parseTime(input)), message, input);
});

test('decoding a body normalises Time and MicroTime fields and refuses bad ones as a DecodeError', () => {
  const schema = obj({ at: time(), renew: microTime(), list: { type: 'array', items: time() } });
  const { value } = decodeWithSchema({ at: '2026-01-02T03:04:05.678Z', renew: '2026-01-02T03:04:05.678901Z', list: ['2026-01-02T03:04:05.999+00:00'] }, schema);
  assert.deepEqual(value, { at: '2026-01-02T03:04:05Z', renew: '2026-01-02T03:04:05.678901Z', list: ['2026-01-02T03:04:05Z'] });
  assert.throws(() => decodeWithSchema({ renew: '2026-01-02T03:04:05.678Z' }, schema), { name: 'DecodeError', message: /cannot parse "\.678Z" as "\.000000"/ });
});
