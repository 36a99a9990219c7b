// The two log formats: klog-like text lines for a person, pino's JSON for a machine, and the scrubbing of
// PEM blocks and bootstrap token secrets that both get last, whatever field they hide in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { formatKlogLine, logLineWriter, resolveLogFormat, scrubSecrets } from '../../src/util/log-format.js';

const PEM = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yBvdJO7fuc7gI0E8qkGqJ3Ff6poAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n';

/** What a pino logger with the writer hook prints for one call. */
function logged(format: 'text' | 'json', write: (log: pino.Logger) => void): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const log = pino({ name: 'kubepki-test', hooks: { streamWrite: logLineWriter(format) } }, sink);
  write(log);
  return out;
}

test('a text line is klog\'s: severity, MMDD, time to the µs, pid in 7, component, quoted message, then fields', () => {
  const time = new Date(2026, 11, 5, 21, 10, 0, 123).getTime();
  const line = formatKlogLine({ level: 30, time, pid: 12345, hostname: 'vm', name: 'kubepki-serve', msg: 'serving securely', storage: 'sqlite', port: 6443, ok: true, list: ['a', 'b'], nested: { x: 1 } });
  assert.equal(line, 'I1205 21:10:00.123000   12345 kubepki-serve] "serving securely" storage="sqlite" port=6443 ok=true list=["a","b"] nested={"x":1}');
  assert.match(formatKlogLine({ level: 40, time, pid: 1, msg: 'w' }), /^W1205 21:10:00\.123000       1 kubepki\] "w"$/);
  assert.match(formatKlogLine({ level: 50, time, pid: 1, msg: 'e' }), /^E1205/);
  assert.match(formatKlogLine({ level: 60, time, pid: 1, msg: 'f' }), /^F1205/);
  assert.match(formatKlogLine({ level: 20, time, pid: 1, msg: 'd' }), /^I1205/);
});

test('one event is one line in either format, however many lines the message or a value has', () => {
  for (const format of ['text', 'json'] as const) {
    const out = logged(format, (l) => l.warn({ detail: 'two\nlines' }, 'first\nsecond'));
    assert.equal(out.split('\n').length, 2, `${format}: one line and the final newline: ${out}`);
  }
  assert.match(logged('text', (l) => l.info({ err: 'x "quoted"' }, 'm')), / "m" err="x \\"quoted\\""\n$/);
  assert.deepEqual(JSON.parse(logged('json', (l) => l.info({ a: 1 }, 'm'))).a, 1);
});

test('PEM blocks and bootstrap token secrets are cut out of both formats, in the message or any field', () => {
  const token = 'abcdef.0123456789abcdef';
  for (const format of ['text', 'json'] as const) {
    const out = logged(format, (l) => l.info({ kubeconfig: { users: [{ user: { 'client-key-data': PEM } }] }, note: `bearer ${token}` }, `got ${PEM} and ${token}`));
    assert.doesNotMatch(out, /BEGIN|MHcCAQEE|0123456789abcdef/, `${format}: ${out}`);
    assert.match(out, /\[REDACTED EC PRIVATE KEY\]/);
    assert.match(out, /abcdef\.\[REDACTED\]/, 'the token id stays, as kubeadm shows it');
  }
  assert.equal(scrubSecrets('nothing to see node-1.example.com'), 'nothing to see node-1.example.com');
  assert.equal(scrubSecrets('cut -----BEGIN CERTIFICATE-----\\nMIIB'), 'cut [REDACTED CERTIFICATE]', 'a block cut short is still removed');
});

test('the default is text on a terminal and JSON otherwise; anything but text or json is refused', () => {
  assert.equal(resolveLogFormat(undefined, true), 'text');
  assert.equal(resolveLogFormat(undefined, false), 'json');
  assert.equal(resolveLogFormat(undefined, undefined), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('text', false), 'text');
  assert.throws(() => resolveLogFormat('logfmt', true), { code: 'InvalidArgument', message: /--log-format: "logfmt" is not text or json/ });
});
