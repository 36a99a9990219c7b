// The dashboard's HTTP edge rules, unit-level: kubectl proxy's Host matching and the CSRF double submit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_ACCEPT_HOSTS, Sessions, hostAccepted, hostOf, parseAcceptHosts, sessionKeyFor } from '../../src/dashboard/security.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

test('Host header: the default accepts only loopback names, port or not (DNS rebinding)', () => {
  const accept = parseAcceptHosts(DEFAULT_ACCEPT_HOSTS);
  for (const h of ['localhost', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'LOCALHOST:1']) assert.equal(hostAccepted(req({ host: h }), accept), true, h);
  for (const h of ['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io:8080', '127.0.0.2', '', 'localhost:8080:1']) assert.equal(hostAccepted(req({ host: h }), accept), false, h);
  assert.equal(hostOf('[::1]:80'), '[::1]');
  assert.throws(() => parseAcceptHosts('^ok$,(['), /--accept-hosts: "\(\[" is not a regular expression/);
});

test('CSRF: only the token derived from a session this server signed passes, and only same-origin', () => {
  const sessions = new Sessions(8080);
  const headers: Record<string, string> = {};
  const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as unknown as ServerResponse;
  const id = sessions.startSession(res);
  assert.match(headers['set-cookie']!, /^kubepki-dashboard-session-8080=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
  const cookie = `kubepki-dashboard-session-8080=${id}`;
  const token = sessions.csrfToken(id);
  const host = 'localhost:8080';
  assert.equal(sessions.refuseStateChange(req({ host, cookie, 'x-csrf-token': token, origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' })), undefined);
  assert.match(sessions.refuseStateChange(req({ host, cookie }))!, /missing/);
  assert.match(sessions.refuseStateChange(req({ host, cookie, 'x-csrf-token': sessions.csrfToken('other') }))!, /does not match/);
  assert.match(sessions.refuseStateChange(req({ host, cookie, 'x-csrf-token': token, origin: 'http://evil.example' }))!, /cross-origin/);
  assert.match(sessions.refuseStateChange(req({ host, cookie, 'x-csrf-token': token, 'sec-fetch-site': 'same-site' }))!, /cross-site/);
  assert.match(new Sessions(8080).refuseStateChange(req({ host, cookie, 'x-csrf-token': token }))!, /missing/, 'another key never signed it');
  const forged = `${'A'.repeat(32)}.${'A'.repeat(43)}`;
  assert.match(sessions.refuseStateChange(req({ host, cookie: `kubepki-dashboard-session-8080=${forged}`, 'x-csrf-token': sessions.csrfToken(forged) }))!, /missing/);
  assert.equal(sessions.session(req({ cookie })), id, 'a signed session is recognised');
});

test('access token and sessions: derived from the kubeconfig secret they outlive a restart; otherwise they do not', () => {
  const a = new Sessions(8080, sessionKeyFor('client key pem', 8080));
  const b = new Sessions(8080, sessionKeyFor('client key pem', 8080));
  assert.equal(a.accessToken, b.accessToken, 'same secret and port: same access URL after a restart');
  assert.match(a.accessToken, /^[A-Za-z0-9_-]{43}$/);
  const res = { setHeader: () => undefined } as unknown as ServerResponse;
  const id = a.startSession(res);
  assert.equal(b.session(req({ cookie: `kubepki-dashboard-session-8080=${id}` })), id, 'the restarted server knows the session');
  assert.notEqual(new Sessions(8080, sessionKeyFor('another key', 8080)).accessToken, a.accessToken);
  assert.notEqual(new Sessions(8081, sessionKeyFor('client key pem', 8081)).accessToken, a.accessToken, 'the port is part of it');
  assert.notEqual(new Sessions(8080, sessionKeyFor(undefined, 8080)).accessToken, new Sessions(8080, sessionKeyFor(undefined, 8080)).accessToken, 'no secret: random');
  assert.equal(a.tokenValid(a.accessToken), true);
  assert.equal(a.tokenValid(a.accessToken.slice(0, -1) + 'x'), false);
  assert.equal(a.tokenValid(''), false);
  assert.equal(a.tokenValid(null), false);
});

test('reads of cluster data: a typed address or the page itself pass; another site\'s page does not', () => {
  const sessions = new Sessions(8080);
  const host = 'localhost:8080';
  assert.equal(sessions.refuseCrossSite(req({ host })), undefined, 'no browser headers (curl)');
  assert.equal(sessions.refuseCrossSite(req({ host, 'sec-fetch-site': 'none' })), undefined, 'typed address or bookmark');
  assert.equal(sessions.refuseCrossSite(req({ host, 'sec-fetch-site': 'same-origin', origin: 'http://localhost:8080' })), undefined);
  assert.match(sessions.refuseCrossSite(req({ host, 'sec-fetch-site': 'same-site' }))!, /cross-site/, 'another port of the same host');
  assert.match(sessions.refuseCrossSite(req({ host, 'sec-fetch-site': 'cross-site' }))!, /cross-site/);
  assert.match(sessions.refuseCrossSite(req({ host, origin: 'http://127.0.0.1:9999' }))!, /cross-origin/);
  assert.match(sessions.refuseStateChange(req({ host, 'sec-fetch-site': 'none' }))!, /cross-site/, 'a state change never comes from a typed address');
});
