import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CertificateStore, checkPair, nodeStoreFs, pairTimestamp, parsePair, type StoreFs } from '../../src/agent/cert-store.js';
import { FakeClock } from '../../src/util/clock.js';
import { KubepkiError } from '../../src/util/errors.js';
import { generateKeyPair, privateKeyToPem } from '../../src/x509/index.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { DAY, HOUR, issueLeaf, makeCa } from '../helpers/pki.js';

async function clientPair(ca: Awaited<ReturnType<typeof makeCa>>, options: Parameters<typeof issueLeaf>[1] = {}) {
  const leaf = await issueLeaf(ca, options);
  return { certPem: leaf.certificate.pem, keyPem: leaf.keyPem!, certificate: leaf.certificate };
}

/**
 * Makes a directory unwritable for real. Root ignores permission bits, so as root the directory is made
 * immutable (chattr +i, which binds root too); otherwise chmod 0555. Returns the undo.
 */
async function makeReadOnly(dir: string): Promise<() => Promise<void>> {
  if (process.getuid?.() === 0) {
    const r = await run('chattr', ['+i', dir]);
    assert.equal(r.code, 0, `chattr +i failed: ${r.stderr}`);
    return async () => {
      await run('chattr', ['-i', dir]);
    };
  }
  await chmod(dir, 0o555);
  return () => chmod(dir, 0o755);
}

const listDir = async (dir: string) => (await readdir(dir)).sort();

test('update writes kubelet-client-<timestamp>.pem (certificate then key, 0600) and points the current symlink at it', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(new Date('2026-03-04T05:06:07Z'));
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock });
  const ca = await makeCa();
  const p = await clientPair(ca);
  const pair = await store.update(p.certPem, p.keyPem);
  const file = path.join(dir, `kubelet-client-${pairTimestamp(clock.now())}.pem`);
  assert.equal(pair.path, file);
  assert.match(path.basename(file), /^kubelet-client-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.pem$/);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const link = path.join(dir, 'kubelet-client-current.pem');
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.equal(await readlink(link), file, 'absolute target, as the kubelet writes it');
  const text = await readFile(link, 'utf8');
  assert.ok(text.indexOf('BEGIN CERTIFICATE') < text.indexOf('BEGIN EC PRIVATE KEY'), 'certificate first, then key');
  // openssl reads both halves from the one file and they match.
  const certPub = await run('openssl', ['x509', '-in', link, '-noout', '-pubkey']);
  const keyPub = await run('openssl', ['pkey', '-in', link, '-pubout']);
  assert.equal(certPub.code, 0, certPub.stderr);
  assert.equal(keyPub.code, 0, keyPub.stderr);
  assert.equal(certPub.stdout, keyPub.stdout);
  const subject = await run('openssl', ['x509', '-in', link, '-noout', '-subject']);
  assert.match(subject.stdout, /O ?= ?system:nodes, CN ?= ?system:node:node-1/);
  const loaded = await store.current();
  assert.equal(loaded?.certificate.serialNumber, p.certificate.serialNumber);
  assert.equal(loaded?.path, file);
  assert.deepEqual(await listDir(dir), [path.basename(file), 'kubelet-client-current.pem'].sort(), 'no temp files left');
});

test('kubelet-server pairs live beside client pairs without touching them', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(new Date('2026-03-04T05:06:07Z'));
  const client = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock });
  const server = new CertificateStore({ certDir: dir, pairName: 'kubelet-server', clock });
  const ca = await makeCa();
  const c = await clientPair(ca);
  await client.update(c.certPem, c.keyPem);
  const s = await clientPair(ca, { usages: ['digital signature', 'server auth'], hosts: ['node-1', '10.0.0.5'] });
  await server.update(s.certPem, s.keyPem);
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    const n = await clientPair(ca, { usages: ['digital signature', 'server auth'] });
    await server.update(n.certPem, n.keyPem);
  }
  const names = await listDir(dir);
  assert.equal(names.filter((n) => n.startsWith('kubelet-client-') && n !== 'kubelet-client-current.pem').length, 1, 'the client pair is not pruned by server updates');
  assert.ok(names.includes('kubelet-server-current.pem'));
  assert.equal((await server.current())?.certificate.sans.dnsNames.length, 0);
});

test('a rotation switches the symlink; the previous pair is kept and older ones (with their keys) are removed', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(new Date('2026-03-04T05:06:07Z'));
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock });
  const ca = await makeCa();
  const files: string[] = [];
  for (let i = 0; i < 4; i++) {
    const p = await clientPair(ca);
    files.push((await store.update(p.certPem, p.keyPem)).path);
    clock.advance(61_000);
  }
  const names = await listDir(dir);
  assert.deepEqual(names, [path.basename(files[2]!), path.basename(files[3]!), 'kubelet-client-current.pem'].sort());
  assert.equal(await readlink(path.join(dir, 'kubelet-client-current.pem')), files[3]);
});

test('two updates within one second replace the same file atomically and the link stays valid', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(new Date('2026-03-04T05:06:07Z'));
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock });
  const ca = await makeCa();
  const a = await clientPair(ca);
  const b = await clientPair(ca);
  await store.update(a.certPem, a.keyPem);
  await store.update(b.certPem, b.keyPem);
  assert.equal((await store.current())?.certificate.serialNumber, b.certificate.serialNumber);
  assert.equal((await listDir(dir)).length, 2);
});

test('readers never see a missing or partial current pair while it is rotated repeatedly', async (t) => {
  const dir = await tempDir(t);
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock: new FakeClock() });
  const ca = await makeCa();
  const pairs = await Promise.all(Array.from({ length: 12 }, () => clientPair(ca)));
  await store.update(pairs[0]!.certPem, pairs[0]!.keyPem);
  const link = store.currentPath();
  let stop = false;
  let reads = 0;
  const reader = (async () => {
    while (!stop) {
      const text = await readFile(link, 'utf8'); // throws ENOENT if the link were ever missing
      parsePair(text, link); // throws if partial
      reads++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  const clock = (store as unknown as { clock: FakeClock }).clock;
  for (const p of pairs.slice(1)) {
    clock.advance(1000);
    await store.update(p.certPem, p.keyPem);
  }
  stop = true;
  await reader;
  assert.ok(reads > 0);
  assert.equal((await store.current())?.certificate.serialNumber, pairs.at(-1)!.certificate.serialNumber);
});

test('a key that does not belong to the certificate is refused and nothing is written', async (t) => {
  const dir = await tempDir(t);
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client' });
  const ca = await makeCa();
  const p = await clientPair(ca);
  const other = privateKeyToPem((await generateKeyPair('ECDSA-P256')).privateKey);
  await assert.rejects(store.update(p.certPem, other), { code: 'KeyMismatch' });
  await assert.rejects(store.update('not a pem', p.keyPem), { code: 'InvalidPEM' });
  assert.deepEqual(await listDir(dir), []);
});

test('a full disk while writing the new pair leaves the old pair current and no temp file', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(new Date('2026-03-04T05:06:07Z'));
  let full = false;
  // The disk fills up while the new pair is written (writeFileAtomic has already removed its temp file).
  const fs: StoreFs = {
    ...nodeStoreFs,
    writeFile: async (file, data, mode) => {
      if (full) throw new KubepkiError('FileWrite', `cannot write ${file}: ENOSPC: no space left on device, write`);
      return nodeStoreFs.writeFile(file, data, mode);
    },
  };
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock, fs });
  const ca = await makeCa();
  const a = await clientPair(ca);
  await store.update(a.certPem, a.keyPem);
  const before = await listDir(dir);
  full = true;
  clock.advance(5000);
  const b = await clientPair(ca);
  await assert.rejects(store.update(b.certPem, b.keyPem), /ENOSPC/);
  assert.deepEqual(await listDir(dir), before);
  assert.equal((await store.current())?.certificate.serialNumber, a.certificate.serialNumber);
});

test('a failure while switching the symlink leaves the old pair current, no temp link and no orphan pair', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(new Date('2026-03-04T05:06:07Z'));
  let failRename = false;
  const fs: StoreFs = {
    ...nodeStoreFs,
    rename: async (from, to) => {
      if (failRename) throw Object.assign(new Error(`EIO: i/o error, rename '${from}' -> '${to}'`), { code: 'EIO' });
      return nodeStoreFs.rename(from, to);
    },
  };
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock, fs });
  const ca = await makeCa();
  const a = await clientPair(ca);
  await store.update(a.certPem, a.keyPem);
  const before = await listDir(dir);
  failRename = true;
  clock.advance(5000);
  const b = await clientPair(ca);
  await assert.rejects(store.update(b.certPem, b.keyPem), { code: 'FileWrite', message: /EIO/ });
  assert.deepEqual(await listDir(dir), before);
  assert.equal((await store.current())?.certificate.serialNumber, a.certificate.serialNumber);
});

test('a read-only cert dir makes the update fail cleanly and the old pair stays current', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(new Date('2026-03-04T05:06:07Z'));
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client', clock });
  const ca = await makeCa();
  const a = await clientPair(ca);
  await store.update(a.certPem, a.keyPem);
  const before = await listDir(dir);
  const undo = await makeReadOnly(dir);
  try {
    clock.advance(5000);
    const b = await clientPair(ca);
    await assert.rejects(store.update(b.certPem, b.keyPem), { code: 'FileWrite' });
    assert.deepEqual(await listDir(dir), before);
    assert.equal((await store.current())?.certificate.serialNumber, a.certificate.serialNumber);
  } finally {
    await undo();
  }
});

test('a dangling current symlink reads as no pair; a regular file in its place is never overwritten', async (t) => {
  const dir = await tempDir(t);
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client' });
  await symlink(path.join(dir, 'kubelet-client-2020-01-01-00-00-00.pem'), store.currentPath());
  assert.equal(await store.current(), null);
  const dir2 = await tempDir(t);
  const store2 = new CertificateStore({ certDir: dir2, pairName: 'kubelet-client' });
  const ca = await makeCa();
  const p = await clientPair(ca);
  await writeFile(store2.currentPath(), p.certPem + p.keyPem, { mode: 0o600 });
  const q = await clientPair(ca);
  await assert.rejects(store2.update(q.certPem, q.keyPem), { code: 'FileInvalid', message: /expected .* to be a symlink/ });
  assert.deepEqual(await listDir(dir2), ['kubelet-client-current.pem']);
  assert.equal((await store2.current())?.certificate.serialNumber, p.certificate.serialNumber);
});

test('a current pair that does not parse is an error naming the file', async (t) => {
  const dir = await tempDir(t);
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client' });
  const target = path.join(dir, 'kubelet-client-2020-01-01-00-00-00.pem');
  await writeFile(target, '-----BEGIN CERTIFICATE-----\nAAAA\n', { mode: 0o600 });
  await symlink(target, store.currentPath());
  await assert.rejects(store.current(), { code: 'FileInvalid', message: new RegExp(target.replace(/[.]/g, '\\.')) });
});

test('recover removes temp links and temp pair files left by a crash, and nothing else', async (t) => {
  const dir = await tempDir(t);
  const store = new CertificateStore({ certDir: dir, pairName: 'kubelet-client' });
  const ca = await makeCa();
  const p = await clientPair(ca);
  const pair = await store.update(p.certPem, p.keyPem);
  await symlink(pair.path, path.join(dir, '.kubelet-client-current.pem.0a0b0c.tmp'));
  await writeFile(path.join(dir, '.kubelet-client-2026-01-01-00-00-00.pem.0a0b0c.tmp'), 'half', { mode: 0o600 });
  await writeFile(path.join(dir, '.kubelet-server-current.pem.0a0b0c.tmp'), 'other pair');
  await store.recover();
  assert.deepEqual(await listDir(dir), ['.kubelet-server-current.pem.0a0b0c.tmp', path.basename(pair.path), 'kubelet-client-current.pem'].sort());
});

test('checkPair accepts a good client pair and names each way a pair is unusable', async () => {
  const ca = await makeCa();
  const otherCa = await makeCa({ cn: 'other' });
  const now = new Date();
  const make = async (opts: Parameters<typeof issueLeaf>[1], issuer = ca) => {
    const l = await issueLeaf(issuer, opts);
    return { certificate: l.certificate, chain: [l.certificate], privateKey: l.privateKey! };
  };
  const roots = [ca.certificate];
  assert.deepEqual(checkPair(await make({}), { roots, now, usage: 'client auth' }), { ok: true });
  // Seed 002: a server-auth-only certificate used as the kubelet's client certificate.
  const serverOnly = checkPair(await make({ usages: ['digital signature', 'server auth'] }), { roots, now, usage: 'client auth' });
  assert.equal(serverOnly.ok, false);
  assert.equal(!serverOnly.ok && serverOnly.reason, 'IncompatibleUsage');
  assert.match(!serverOnly.ok ? serverOnly.message : '', /incompatible key usage/);
  const expired = checkPair(await make({ notBefore: new Date(now.getTime() - 2 * DAY), notAfter: new Date(now.getTime() - HOUR) }), { roots, now, usage: 'client auth' });
  assert.equal(!expired.ok && expired.reason, 'Expired');
  const foreign = checkPair(await make({}, otherCa), { roots, now, usage: 'client auth' });
  assert.equal(!foreign.ok && foreign.reason, 'UnknownAuthority');
  const good = await make({});
  const mismatched = checkPair({ ...good, privateKey: (await generateKeyPair('ECDSA-P256')).privateKey }, { roots, now, usage: 'client auth' });
  assert.equal(!mismatched.ok && mismatched.reason, 'KeyMismatch');
  // A node clock a few minutes behind the signer still uses a fresh certificate; far in the future it does not.
  const soon = await make({ notBefore: new Date(now.getTime() + 3 * 60_000), notAfter: new Date(now.getTime() + DAY) });
  assert.deepEqual(checkPair(soon, { roots, now, usage: 'client auth' }), { ok: true });
  const later = await make({ notBefore: new Date(now.getTime() + HOUR), notAfter: new Date(now.getTime() + DAY) });
  assert.equal((checkPair(later, { roots, now, usage: 'client auth' }) as { reason?: string }).reason, 'NotYetValid');
  // The serving certificate is judged for server auth.
  const serving = await make({ usages: ['digital signature', 'server auth'], hosts: ['node-1'] });
  assert.deepEqual(checkPair(serving, { roots, now, usage: 'server auth' }), { ok: true });
});
