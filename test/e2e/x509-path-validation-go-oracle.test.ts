// kubepki's path validation against Go's crypto/x509 itself: every named and seeded-random chain is verified
// by both, and the error text (word for word) or the chains built (in Go's order) must be the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePath } from '../../src/x509/path-validation/index.js';
import { buildGoOracle, type GoOracle, type OracleResult } from '../x509/path-validation/go-oracle.js';
import { namedScenarios, randomScenarios, type Scenario } from '../x509/path-validation/scenarios.js';

let oracle: GoOracle;
before(async () => {
  oracle = await buildGoOracle();
});
after(async () => {
  await oracle?.close();
});

function ours(s: Scenario): OracleResult {
  const r = validatePath(s.leaf, { roots: s.roots, intermediates: s.intermediates, now: s.at, dnsName: s.dnsName, purposes: s.purpose ? [s.purpose] : undefined });
  return r.ok ? { chains: r.chains.map((chain) => chain.map((c) => c.subject.commonName ?? '')) } : { error: r.error };
}

async function compare(scenarios: Scenario[]): Promise<{ agree: number; disagreements: string[]; kinds: Map<string, number> }> {
  const go = await oracle.verify(
    scenarios.map((s) => ({
      leaf: s.leaf.pem,
      roots: s.roots.map((c) => c.pem).join(''),
      intermediates: s.intermediates.map((c) => c.pem).join(''),
      at: s.at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      dnsName: s.dnsName ?? '',
      purpose: s.purpose ?? '',
    })),
  );
  const disagreements: string[] = [];
  const kinds = new Map<string, number>();
  scenarios.forEach((s, i) => {
    const want = go[i]!;
    const got = ours(s);
    const kind = want.error ? want.error.replace(/:.*$/s, '').replace(/ for .*/, '') + ': ' + want.error.split(':')[1]?.trim().split(' ').slice(0, 4).join(' ') : 'valid';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (JSON.stringify(got) !== JSON.stringify({ error: want.error, chains: want.chains })) {
      disagreements.push(`${s.name}: go=${JSON.stringify(want)} kubepki=${JSON.stringify(got)}`);
    }
  });
  return { agree: scenarios.length - disagreements.length, disagreements, kinds };
}

test('named chains: kubepki verifies exactly as Go does (error text word for word, chains in Go order)', async (t) => {
  const scenarios = await namedScenarios();
  const { agree, disagreements } = await compare(scenarios);
  t.diagnostic(`named: ${agree}/${scenarios.length} agree with Go`);
  assert.deepEqual(disagreements, []);
});

test('seeded random chains: kubepki verifies exactly as Go does', async (t) => {
  const scenarios = [...(await randomScenarios(250, 1)), ...(await randomScenarios(250, 20261205))];
  const { agree, disagreements, kinds } = await compare(scenarios);
  t.diagnostic(`random: ${agree}/${scenarios.length} agree with Go`);
  t.diagnostic(`outcomes: ${[...kinds].map(([k, v]) => `${k} ×${v}`).join('; ')}`);
  // The generator must reach the interesting outcomes, or agreement says little.
  assert.ok(kinds.get('valid')! > 30, 'enough valid chains');
  assert.ok([...kinds.keys()].filter((k) => k !== 'valid').length >= 6, `enough distinct failures: ${[...kinds.keys()].join(', ')}`);
  assert.deepEqual(disagreements, []);
});
