// A 201 must survive a power loss: SQLite commits with synchronous=FULL (the WAL is fsynced before a write's
// promise resolves, as etcd fsyncs before it answers), and the one-transaction-per-event-loop-turn batching
// keeps the cost to one fsync per batch. Judged by the real strace: fsync/fdatasync calls between two
// markers (kill(pid, 0)) around the writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const SQLITE_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/storage/sqlite.js');

const SCRIPT = `
import { SqliteStorage } from ${JSON.stringify(SQLITE_JS)};
const [file, mode, n] = process.argv.slice(2);
const s = new SqliteStorage({ path: file, compaction: { intervalMs: 0 } });
await s.create('/warm-up', 'v');
process.kill(process.pid, 0);
if (mode === 'one-turn') await Promise.all(Array.from({ length: Number(n) }, (_, i) => s.create('/k/' + i, 'v')));
else for (let i = 0; i < Number(n); i++) await s.create('/k/' + i, 'v');
process.kill(process.pid, 0);
await s.close();
`;

/** fsync + fdatasync calls made while `n` creates ran, in one event-loop turn or one per turn. */
async function syncsDuring(dir: string, mode: 'one-turn' | 'one-per-turn', n: number): Promise<number> {
  const script = path.join(dir, 'writes.mjs');
  await writeFile(script, SCRIPT);
  const trace = path.join(dir, `${mode}.trace`);
  const db = path.join(dir, `${mode}.db`);
  const r = await run('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync,kill', '-o', trace, process.execPath, script, db, mode, String(n)]);
  assert.equal(r.code, 0, r.stderr);
  const lines = (await readFile(trace, 'utf8')).split('\n');
  const markers = lines.flatMap((l, i) => (/\bkill\(\d+, 0\)/.test(l) ? [i] : []));
  assert.equal(markers.length, 2, `two markers in the trace:\n${lines.join('\n')}`);
  return lines.slice(markers[0]! + 1, markers[1]!).filter((l) => /\b(fsync|fdatasync)\(/.test(l)).length;
}

test('each committed batch is fsynced once before its writes resolve: one fsync for a turn of 50 writes, 50 for 50 turns', async (t) => {
  const dir = await tempDir(t, 'kubepki-sqlite-durability-');
  assert.equal(await syncsDuring(dir, 'one-turn', 50), 1);
  assert.equal(await syncsDuring(dir, 'one-per-turn', 50), 50);
  assert.equal((await stat(path.join(dir, 'one-turn.db'))).mode & 0o777, 0o600);
});
