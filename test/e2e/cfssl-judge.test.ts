// The real cfssl as judge: the same csr.json / ca-config.json through `cfssl` and `kubepki cfssl` must give
// certificates and CSRs of the same DER structure (string types, extension order and values, algorithms),
// the same validity, the same JSON shape for cfssljson, and `certinfo` must print the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kubepki, run, type RunResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { CFSSL, SEED002, certDates, cfssljsonBare, derStructure } from '../cfssl/helpers.js';
import { formatCertInfo } from '../../src/cfssl/index.js';
import { parseCertificatesPem } from '../../src/x509/index.js';

const H = 3_600_000;

type Tool = 'kubepki' | 'cfssl';
const TOOLS: Tool[] = ['kubepki', 'cfssl'];

function cfsslRun(tool: Tool, args: string[], cwd: string, input?: string): Promise<RunResult> {
  const opts = { cwd, ...(input === undefined ? {} : { input }) };
  return tool === 'kubepki' ? kubepki(['cfssl', ...args], opts) : run(CFSSL, args, opts);
}

const EXTRA_CONFIG = {
  signing: {
    default: { expiry: '8760h' },
    profiles: {
      intermediate: { expiry: '43800h', usages: ['cert sign', 'crl sign'], ca_constraint: { is_ca: true, max_path_len: 0, max_path_len_zero: true } },
      email: { expiry: '720h', usages: ['signing', 'email protection', 'client auth'] },
    },
  },
};

const EXTRA_REQUESTS: Record<string, unknown> = {
  'ec-ca-csr.json': { CN: 'ec-ca', hosts: ['ca.example', '10.0.0.1'], key: { algo: 'ecdsa', size: 384 }, ca: { pathlen: 1, expiry: '87600h' } },
  'rsa3072-ca-csr.json': { CN: 'rsa-ca', key: { algo: 'rsa', size: 3072 }, names: [{ O: 'Example & Co' }] },
  'inter-csr.json': { CN: 'intermediate', hosts: ['inter.example', '10.0.0.2'], key: { algo: 'ecdsa', size: 256 } },
  'full-csr.json': {
    CN: 'full.example',
    hosts: ['full.example', 'ops@full.example', '::1', '192.168.1.1'],
    key: { algo: 'ecdsa', size: 256 },
    names: [{ C: 'US', ST: 'California', L: 'San Francisco', O: 'Example', OU: 'Ops' }],
  },
};

/** Both tools' working dirs, laid out alike: the seed files (templates filled) plus the extra cases. */
async function setup(t: Parameters<typeof tempDir>[0]): Promise<Record<Tool, string>> {
  const root = await tempDir(t);
  const dirs = { kubepki: path.join(root, 'kubepki'), cfssl: path.join(root, 'cfssl') };
  for (const dir of Object.values(dirs)) {
    await mkdir(path.join(dir, 'etcd'), { recursive: true });
    await cp(path.join(SEED002(), 'kubernetes'), dir, { recursive: true });
    await cp(path.join(SEED002(), 'etcd'), path.join(dir, 'etcd'), { recursive: true });
    const peer = await readFile(path.join(dir, 'etcd', 'peer-csr.json.sed'), 'utf8');
    await writeFile(path.join(dir, 'etcd', 'peer-csr.json'), peer.replace('<ETCD_NODE_IPS>', '"10.0.0.11","10.0.0.12"'));
    await writeFile(path.join(dir, 'extra-config.json'), JSON.stringify(EXTRA_CONFIG));
    for (const [f, body] of Object.entries(EXTRA_REQUESTS)) await writeFile(path.join(dir, f), JSON.stringify(body));
  }
  return dirs;
}

/** Runs one cfssl command line with both tools and writes NAME.* with the real cfssljson. */
async function both(dirs: Record<Tool, string>, sub: string, args: string[], name: string, options: { stdinFile?: string } = {}): Promise<Record<Tool, Record<string, string>>> {
  const out = {} as Record<Tool, Record<string, string>>;
  await Promise.all(
    TOOLS.map(async (tool) => {
      const cwd = path.join(dirs[tool], sub);
      const input = options.stdinFile ? await readFile(path.join(cwd, options.stdinFile), 'utf8') : undefined;
      const r = await cfsslRun(tool, args, cwd, input);
      assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stderr}`);
      const json = JSON.parse(r.stdout) as Record<string, string>;
      out[tool] = json;
      const j = await cfssljsonBare(r.stdout, name, cwd);
      assert.equal(j.code, 0, `cfssljson -bare ${name} (${tool}): ${j.stderr}`);
    }),
  );
  assert.deepEqual(Object.keys(out.kubepki), Object.keys(out.cfssl), `${args.join(' ')}: the JSON printed has cfssl's fields`);
  return out;
}

async function sameStructure(dirs: Record<Tool, string>, file: string): Promise<void> {
  const [a, b] = await Promise.all(TOOLS.map((tool) => derStructure(path.join(dirs[tool], file))));
  assert.deepEqual(a, b, `${file}: DER structure differs from cfssl's`);
}

async function sameValidity(dirs: Record<Tool, string>, file: string, hours: number): Promise<void> {
  const [a, b] = await Promise.all(TOOLS.map((tool) => certDates(path.join(dirs[tool], file))));
  const now = Date.now();
  for (const d of [a!, b!]) {
    assert.equal(d.notBefore.getUTCSeconds(), 0, `${file}: notBefore on a whole minute`);
    assert.ok(now - d.notBefore.getTime() >= 4 * 60_000 && now - d.notBefore.getTime() <= 7 * 60_000, `${file}: notBefore backdated ~5 minutes`);
    assert.equal(d.notAfter.getTime() - d.notBefore.getTime(), hours * H, `${file}: validity ${hours}h`);
  }
  assert.ok(Math.abs(a!.notBefore.getTime() - b!.notBefore.getTime()) <= 60_000);
}

/** In-process certinfo (the CLI path is covered below) against the real `cfssl certinfo`, on both tools' certificates. */
async function sameCertinfo(dirs: Record<Tool, string>, file: string): Promise<void> {
  for (const made of TOOLS) {
    const cwd = dirs[made];
    const mine = formatCertInfo(parseCertificatesPem(await readFile(path.join(cwd, file), 'utf8'), file)[0]!);
    const theirs = await run(CFSSL, ['certinfo', '-cert', file], { cwd });
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(mine, theirs.stdout, `certinfo of ${made}'s ${file}`);
  }
}

/** Certificate and CSR structure, validity and certinfo of NAME.pem/NAME.csr, for several names at once. */
async function checkAll(dirs: Record<Tool, string>, items: [string, number][]): Promise<void> {
  await Promise.all(
    items.map(async ([f, hours]) => {
      await sameStructure(dirs, `${f}.pem`);
      await sameStructure(dirs, `${f}.csr`);
      await sameValidity(dirs, `${f}.pem`, hours);
      await sameCertinfo(dirs, `${f}.pem`);
    }),
  );
}

test('kubepki cfssl and the real cfssl issue structurally identical certificates, CSRs and certinfo for the seed and beyond', async (t) => {
  const dirs = await setup(t);

  // Self-signed CAs: seed 002's etcd CA (no "ca": 5 years) and kubernetes CA ("ca.expiry" 876000h), an
  // ECDSA P-384 CA with pathlen and IP/DNS hosts, an RSA-3072 CA (SHA-384) with a UTF8String O.
  await Promise.all([
    both(dirs, 'etcd', ['gencert', '-initca', 'ca-csr.json'], 'ca'),
    both(dirs, '.', ['gencert', '-initca', 'ca-csr.json'], 'ca'),
    both(dirs, '.', ['gencert', '-initca', 'ec-ca-csr.json'], 'ec-ca'),
    both(dirs, '.', ['gencert', '-initca', 'rsa3072-ca-csr.json'], 'rsa3072-ca'),
  ]);
  await checkAll(dirs, [['etcd/ca', 43800], ['ca', 876000], ['ec-ca', 87600], ['rsa3072-ca', 43800]]);

  // Leaves from the seed's profiles, an intermediate CA through ca_constraint, and cfssl's built-in
  // default policy (no -config) with every kind of host and a full subject.
  await Promise.all([
    both(dirs, 'etcd', ['gencert', '-ca=ca.pem', '-ca-key=ca-key.pem', '-config=ca-config.json', '-profile=server', 'peer-csr.json'], 'peer'),
    both(dirs, 'etcd', ['gencert', '-ca=ca.pem', '-ca-key=ca-key.pem', '-config=ca-config.json', '-profile=client', 'healthcheck-client-csr.json'], 'healthcheck-client'),
    both(dirs, '.', ['gencert', '-ca=ca.pem', '-ca-key=ca-key.pem', '-config=ca-config.json', '-profile=client', 'apiserver-kubelet-client-csr.json'], 'apiserver-kubelet-client'),
    both(dirs, '.', ['gencert', '-ca=ca.pem', '-ca-key=ca-key.pem', '-config=ca-config.json', '-profile=server', 'kubelet-csr.json.json'], 'kubelet'),
    both(dirs, '.', ['gencert', '-ca', 'ec-ca.pem', '-ca-key', 'ec-ca-key.pem', '-config', 'extra-config.json', '-profile', 'intermediate', 'inter-csr.json'], 'inter'),
    both(dirs, '.', ['gencert', '-ca=rsa3072-ca.pem', '-ca-key=rsa3072-ca-key.pem', 'full-csr.json'], 'full'),
    both(dirs, '.', ['gencert', '-ca=ec-ca.pem', '-ca-key=ec-ca-key.pem', '-config=extra-config.json', '-profile=email', '-hostname=mail.example,10.1.2.3', 'full-csr.json'], 'email'),
  ]);
  await checkAll(dirs, [['etcd/peer', 876000], ['etcd/healthcheck-client', 876000], ['apiserver-kubelet-client', 876000], ['kubelet', 876000], ['inter', 43800], ['full', 8760], ['email', 720]]);
});

test('genkey, genkey -initca and sign print what cfssl prints, and sign returns the request as given', async (t) => {
  const dirs = await setup(t);
  await both(dirs, '.', ['genkey', 'full-csr.json'], 'gk');
  await sameStructure(dirs, 'gk.csr');
  await both(dirs, '.', ['genkey', '-initca', 'ca-csr.json'], 'gkca');
  await sameStructure(dirs, 'gkca.pem');
  await sameStructure(dirs, 'gkca.csr');
  await sameValidity(dirs, 'gkca.pem', 876000);

  // Both tools sign the same request (cfssl's genkey output), read from a file and from stdin.
  await cp(path.join(dirs.cfssl, 'gk.csr'), path.join(dirs.kubepki, 'gk.csr'));
  const fromFile = await both(dirs, '.', ['sign', '-ca=gkca.pem', '-ca-key=gkca-key.pem', '-config=ca-config.json', '-profile=client', 'gk.csr'], 'signed');
  const csrText = await readFile(path.join(dirs.cfssl, 'gk.csr'), 'utf8');
  assert.equal(fromFile.kubepki.csr, csrText);
  assert.equal(fromFile.cfssl.csr, csrText);
  await sameStructure(dirs, 'signed.pem');
  await sameValidity(dirs, 'signed.pem', 876000);
  await both(dirs, '.', ['sign', '-ca', 'gkca.pem', '-ca-key', 'gkca-key.pem', '-hostname=h.example', '-'], 'signed-stdin', { stdinFile: 'gk.csr' });
  await sameStructure(dirs, 'signed-stdin.pem');
  await sameValidity(dirs, 'signed-stdin.pem', 8760);
});

test('certinfo reads what cfssl writes, multi-valued names included, and prints the same bytes', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'ca.json'), JSON.stringify({ CN: 'judge-ca', key: { algo: 'ecdsa', size: 256 } }));
  await writeFile(
    path.join(dir, 'multi.json'),
    JSON.stringify({ CN: 'multi', hosts: ['m.example', '10.0.0.9'], key: { algo: 'ecdsa', size: 256 }, names: [{ C: 'US', O: 'o1', OU: 'u1' }, { C: 'DE', O: 'o2' }] }),
  );
  const ca = await run(CFSSL, ['gencert', '-initca', 'ca.json'], { cwd: dir });
  assert.equal((await cfssljsonBare(ca.stdout, 'ca', dir)).code, 0);
  const leaf = await run(CFSSL, ['gencert', '-ca=ca.pem', '-ca-key=ca-key.pem', 'multi.json'], { cwd: dir });
  assert.equal((await cfssljsonBare(leaf.stdout, 'multi', dir)).code, 0);
  for (const f of ['ca.pem', 'multi.pem']) {
    const [mine, theirs] = await Promise.all([kubepki(['cfssl', 'certinfo', `-cert=${f}`], { cwd: dir }), run(CFSSL, ['certinfo', '-cert', f], { cwd: dir })]);
    assert.equal(mine.stdout, theirs.stdout, f);
    assert.match(mine.stdout, f === 'multi.pem' ? /"country": "DE,US"/ : /"authority_key_id": ""/);
  }
  const viaStdin = await kubepki(['cfssl', 'certinfo', '-cert', '-'], { cwd: dir, input: await readFile(path.join(dir, 'multi.pem')) });
  assert.equal(viaStdin.stdout, (await run(CFSSL, ['certinfo', '-cert', 'multi.pem'], { cwd: dir })).stdout);
});
