// DynamicSource: a file change is picked up by the directory watch alone; content that does not parse is
// refused (one log line per bad content) and the last good value stays; an optional file may come and go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { rename, rm, writeFile } from 'node:fs/promises';
import { DynamicSource } from '../../src/server/dynamic-source.js';
import { tempDir } from '../helpers/tmp.js';
import {  } from '../agent/cluster.js';
import type { Logger } from '../../src/util/logger.js';
import { until } from '../helpers/poll.js';

function recordingLogger(lines: string[]): Logger {
  const log = (_o: unknown, msg?: string) => void lines.push(msg ?? String(_o));
  return { info: () => undefined, warn: log, error: log, debug: () => undefined } as unknown as Logger;
}

test('DynamicSource: watch picks up a renamed-in file; bad content refused, last good kept; optional file', async (t) => {
  const dir = await tempDir(t, 'kubepki-dynsrc-');
  const main = path.join(dir, 'value.txt');
  const extra = path.join(dir, 'extra.txt');
  await writeFile(main, 'one');
  const warnings: string[] = [];
  const source = await DynamicSource.open({
    name: 'test value',
    files: [main],
    optionalFiles: [extra],
    parse: ([m, e]) => {
      if (!/^[a-z]+$/.test(m!)) throw new Error(`not a word: ${m}`);
      return e ? `${m}+${e}` : m!;
    },
    checkIntervalMs: 0,
    logger: recordingLogger(warnings),
  });
  t.after(() => source.close());
  const seen: string[] = [];
  source.onChange((v) => seen.push(v));
  assert.equal(source.current(), 'one');

  await writeFile(`${main}.tmp`, 'two');
  await rename(`${main}.tmp`, main);
  await until(() => seen.includes('two') || undefined, 'the watch delivers the new value');
  assert.equal(source.current(), 'two');

  await writeFile(main, 'half-writ');
  assert.equal(await source.check(), 'refused');
  assert.equal(await source.check(), 'refused');
  assert.equal(source.current(), 'two');
  assert.deepEqual(warnings.filter((w) => /refusing the new test value; the last good one stays in force/.test(w)).length, 1, 'one line per bad content');

  await writeFile(main, 'three');
  await writeFile(extra, 'more');
  assert.equal(await source.check(), 'updated');
  assert.equal(source.current(), 'three+more');
  await rm(extra);
  assert.equal(await source.check(), 'updated');
  assert.equal(source.current(), 'three');
  await assert.rejects(DynamicSource.open({ name: 'broken', files: [path.join(dir, 'absent')], parse: () => 1 }), /broken: cannot read .*absent: ENOENT/);
});
