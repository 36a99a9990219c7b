// Parameters out of range, sent with the real curl: each gets kube-apiserver's status code, reason and
// words, never a 5xx for the client's mistake, and nothing is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../api/helpers.js';

const CM = '/api/v1/namespaces/default/configmaps';

/** curl with the admin's client certificate: status code and parsed body. */
async function curl(s: TestServer, method: string, p: string, extra: string[] = []): Promise<{ code: number; json: any; headers: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await run('curl', ['-sS', '-i', '--cacert', s.pki.caFile, '--cert', s.pki.admin.certFile, '--key', s.pki.admin.keyFile, '-X', method, ...extra, `${s.url}${p}`], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const [head, ...rest] = r.stdout.split('\r\n\r\n');
  const code = Number(/^HTTP\/\S+ (\d+)/.exec(head!)![1]);
  const body = rest.join('\r\n\r\n');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { code, json, headers: head! };
}

test('parameters out of range', async (t) => {
  const s = await startTestServer(t, { watch: { tooLargeResourceVersionWaitMs: 300 } });
  await s.request('POST', CM, { body: { metadata: { name: 'one' } } });

  await t.test('limit beyond 64 bits is 400 BadRequest with strconv\'s words; the int64 maximum lists everything', async () => {
    const r = await curl(s, 'GET', `${CM}?limit=99999999999999999999`);
    assert.equal(r.code, 400);
    assert.equal(r.json.reason, 'BadRequest');
    assert.equal(r.json.message, 'strconv.ParseInt: parsing "99999999999999999999": value out of range');
    const max = await curl(s, 'GET', `${CM}?limit=9223372036854775807`);
    assert.equal(max.code, 200);
    assert.deepEqual(max.json.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['one']);
    assert.equal((await curl(s, 'GET', `${CM}?limit=ten`)).json.message, 'strconv.ParseInt: parsing "ten": invalid syntax');
  });

  await t.test('timeoutSeconds and gracePeriodSeconds that do not parse are 400', async () => {
    const w = await curl(s, 'GET', `${CM}?watch=1&timeoutSeconds=1e3`);
    assert.equal(w.code, 400);
    assert.equal(w.json.message, 'strconv.ParseInt: parsing "1e3": invalid syntax');
    const d = await curl(s, 'DELETE', `${CM}/one?gracePeriodSeconds=99999999999999999999`);
    assert.equal(d.code, 400);
    assert.equal((await s.request('GET', `${CM}/one`)).status, 200, 'nothing was deleted');
  });

  await t.test('a get or list at a resourceVersion newer than the store waits, then 504 Timeout "Too large resource version"', async () => {
    const current = Number((await s.request('GET', CM)).json.metadata.resourceVersion);
    for (const p of [`${CM}?resourceVersion=${current + 1000}`, `${CM}/one?resourceVersion=${current + 1000}`, `${CM}?resourceVersion=${current + 1000}&resourceVersionMatch=NotOlderThan`]) {
      const started = Date.now();
      const r = await curl(s, 'GET', p);
      assert.equal(r.code, 504, p);
      assert.ok(Date.now() - started >= 280, 'it waited for the store to catch up first');
      assert.equal(r.json.reason, 'Timeout');
      assert.equal(r.json.message, `Timeout: Too large resource version: ${current + 1000}, current: ${current}`);
      assert.deepEqual(r.json.details.causes, [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }]);
      assert.equal(r.json.details.retryAfterSeconds, 1);
      assert.match(r.headers, /\r\nretry-after: 1\r\n/i);
    }
  });

  await t.test('a resourceVersion the store reaches while the read waits is served', async () => {
    const current = Number((await s.request('GET', CM)).json.metadata.resourceVersion);
    const slow = new Promise<{ code: number; json: any }>((resolve) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      void curl(s, 'GET', `${CM}?resourceVersion=${current + 1}`).then(resolve);
    });
    await s.request('POST', CM, { body: { metadata: { name: 'two' } } });
    const r = await slow;
    assert.equal(r.code, 200);
    assert.ok(Number(r.json.metadata.resourceVersion) >= current + 1);
  });

  await t.test('resourceVersionMatch rules are kube\'s ValidateListOptions: 422 Invalid ListOptions', async () => {
    const cases: [string, string][] = [
      [`${CM}?resourceVersionMatch=NotOlderThan`, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'],
      [`${CM}?resourceVersion=1&resourceVersionMatch=Newest`, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'],
      [`${CM}?resourceVersion=0&resourceVersionMatch=Exact`, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'],
      [`${CM}?sendInitialEvents=true`, 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'],
      [`${CM}?watch=true&resourceVersionMatch=NotOlderThan`, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'],
      [`${CM}?watch=true&sendInitialEvents=true`, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'],
    ];
    for (const [p, message] of cases) {
      const r = await curl(s, 'GET', p);
      assert.equal(r.code, 422, p);
      assert.equal(r.json.reason, 'Invalid');
      assert.equal(r.json.message, message);
    }
  });

  await t.test('a bad fieldSelector is 400 with kube\'s words', async () => {
    const r = await curl(s, 'GET', `${CM}?fieldSelector=metadata.name`);
    assert.equal(r.code, 400);
    assert.equal(r.json.message, "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  });

  await t.test('Content-Type text/plain, */* or a form body on a write is 415 UnsupportedMediaType; nothing is stored', async () => {
    const before = await s.storage.currentRevision();
    for (const type of ['text/plain', '*/*', 'application/x-www-form-urlencoded']) {
      const r = await curl(s, 'POST', CM, ['-H', `Content-Type: ${type}`, '--data-binary', '{"metadata":{"name":"plain"}}']);
      assert.equal(r.code, 415, type);
      assert.equal(r.json.reason, 'UnsupportedMediaType');
      assert.equal(r.json.message, 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
      const put = await curl(s, 'PUT', `${CM}/one`, ['-H', `Content-Type: ${type}`, '--data-binary', '{"metadata":{"name":"one"},"data":{"a":"b"}}']);
      assert.equal(put.code, 415, type);
    }
    assert.equal(await s.storage.currentRevision(), before);
    const json = await curl(s, 'POST', CM, ['-H', 'Content-Type: application/json', '--data-binary', '{"metadata":{"name":"plain"}}']);
    assert.equal(json.code, 201);
  });
});
