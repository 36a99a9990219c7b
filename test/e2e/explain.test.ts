// `kubectl explain` against `kubepki serve`: every field of every kind served has a description of its own
// in the OpenAPI v3 documents (walked exhaustively here, as served), and kubectl shows it, never <empty>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubectlWith, startServe } from '../api/helpers.js';

interface OpenApi {
  description?: string;
  properties?: Record<string, OpenApi>;
  items?: OpenApi;
  additionalProperties?: OpenApi;
  allOf?: { $ref: string }[];
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

test('kubectl explain: a description for every field of every kind served', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-explain-');
  const serve = await startServe(t, [], { dataDir: path.join(dir, 'data'), port: await freePort() });
  const kubectl = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const raw = async (p: string) => {
    const r = await kubectl(['get', '--raw', p]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const index = await raw('/openapi/v3');
  const kinds: { group: string; kind: string; fields: string[] }[] = [];

  await t.test('the OpenAPI v3 documents: every property of every schema has a description', async () => {
    const missing: string[] = [];
    let fields = 0;
    for (const p of Object.keys(index.paths)) {
      const doc = await raw(`/openapi/v3/${p}`);
      const schemas: Record<string, OpenApi> = doc.components.schemas;
      const walk = (s: OpenApi, at: string) => {
        for (const [k, v] of Object.entries(s.properties ?? {})) {
          fields++;
          if (!v.description?.trim()) missing.push(`${at}.${k}`);
          walk(v, `${at}.${k}`);
        }
        if (s.items) walk(s.items, `${at}[]`);
        if (s.additionalProperties) walk(s.additionalProperties, `${at}{}`);
      };
      for (const [name, s] of Object.entries(schemas)) {
        if (s.properties && !s.description?.trim()) missing.push(`${p} ${name} (the type)`);
        walk(s, `${p} ${name}`);
        const gvk = s['x-kubernetes-group-version-kind']?.[0];
        if (gvk && !name.endsWith('List') && gvk.kind !== 'Status') kinds.push({ group: gvk.group, kind: gvk.kind, fields: Object.keys(s.properties ?? {}) });
      }
    }
    assert.ok(fields > 300, `walked ${fields} fields`);
    assert.deepEqual(missing, []);
  });

  await t.test('kubectl explain shows them for every kind and its top-level fields, never <empty>', async () => {
    const resources = (await kubectl(['api-resources', '--no-headers', '-o', 'name'])).stdout.trim().split('\n');
    assert.ok(resources.includes('services'), resources.join(' '));
    for (const resource of resources) {
      const r = await kubectl(['explain', resource]);
      assert.equal(r.code, 0, `${resource}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /<empty>/, resource);
      assert.match(r.stdout, /DESCRIPTION:\n\s+\S/, resource);
    }
    for (const field of ['csr.spec', 'csr.status.conditions', 'csr.metadata.managedFields', 'svc.spec.ports', 'lease.spec', 'ns.status', 'clusterrole.aggregationRule', 'rolebinding.roleRef', 'sa.secrets', 'events.series']) {
      const r = await kubectl(['explain', field]);
      assert.equal(r.code, 0, `${field}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /<empty>/, `${field}:\n${r.stdout}`);
    }
  });
});
