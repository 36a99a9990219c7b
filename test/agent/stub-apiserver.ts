// A deliberately small stand-in for the certificates.k8s.io/v1 CSR endpoints, for unit-testing the agent's
// CSR client paths that a healthy server rarely takes (watch refused, connection dropped mid-watch, 409 on
// re-create). Real TLS, bearer-token and client-certificate authentication; JSON-lines watch with
// fieldSelector and timeoutSeconds. The e2e tests run the agent against the real `kubepki serve`.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { randomUUID } from 'node:crypto';
import { generateKeyPair, issueCertificate, parseCertificateRequestPem, parseHosts, parseUsages, privateKeyToPem } from '../../src/x509/index.js';
import type { TestCa } from './pki.js';

type Csr = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid: string; resourceVersion: string; creationTimestamp: string };
  spec: Record<string, unknown> & { username?: string };
  status: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; certificate?: string };
};

const BASE = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export class StubApiServer {
  port = 0;
  readonly csrs = new Map<string, Csr>();
  readonly counts = { create: 0, get: 0, list: 0, watch: 0 };
  /** Users seen, by how they authenticated. */
  readonly users: string[] = [];
  refuseWatch = false;
  /** When set, every new CSR is approved and signed by the CA with this lifetime (ms), like approver + signer. */
  autoSignLifetimeMs: number | null = null;
  /** Deny this many new CSRs before auto-signing again. */
  denyNext = 0;
  /** ConfigMaps served read-only at /api/v1/namespaces/<ns>/configmaps/<name>, keyed "<ns>/<name>". */
  readonly configMaps = new Map<string, Record<string, string>>();
  private rv = 1;
  private server!: https.Server;
  private sockets = new Set<Socket>();
  private watchers = new Set<{ name: string; res: ServerResponse }>();
  /** Every change, so a watch from a resourceVersion replays what it missed, as a real server does. */
  private history: { rv: number; name: string; line: string }[] = [];
  private tls!: { key: string; cert: string; ca: string };

  constructor(
    private readonly ca: TestCa,
    private readonly token: string,
  ) {}

  async start(port = 0): Promise<void> {
    if (!this.tls) {
      const kp = await generateKeyPair('ECDSA-P256');
      const now = new Date();
      const cert = await issueCertificate({
        template: {
          subject: { commonName: 'kube-apiserver' },
          sans: parseHosts(['127.0.0.1', 'localhost']),
          notBefore: new Date(now.getTime() - 3_600_000),
          notAfter: new Date(now.getTime() + 86_400_000),
          ...parseUsages(['digital signature', 'server auth']),
        },
        publicKey: kp.publicKey,
        issuer: this.ca,
      });
      this.tls = { key: privateKeyToPem(kp.privateKey), cert: cert.pem, ca: this.ca.certificate.pem };
    }
    this.server = https.createServer({ ...this.tls, requestCert: true, rejectUnauthorized: false }, (req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Like a killed process: every connection dropped, nothing listening. */
  async kill(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  approve(name: string, certificatePem: string): void {
    this.update(name, (c) => {
      c.status.conditions = [...(c.status.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved' }];
      c.status.certificate = Buffer.from(certificatePem).toString('base64');
    });
  }

  condition(name: string, type: 'Denied' | 'Failed', reason: string, message: string): void {
    this.update(name, (c) => {
      c.status.conditions = [...(c.status.conditions ?? []), { type, status: 'True', reason, message }];
    });
  }

  delete(name: string): void {
    const c = this.csrs.get(name);
    if (!c) return;
    this.csrs.delete(name);
    this.emit('DELETED', { ...c, metadata: { ...c.metadata, resourceVersion: String(++this.rv) } });
  }

  private async decide(name: string): Promise<void> {
    if (!this.csrs.has(name)) return;
    if (this.denyNext > 0) {
      this.denyNext--;
      return this.condition(name, 'Denied', 'TestDenial', 'denied by the stub');
    }
    const c = this.csrs.get(name)!;
    const req = await parseCertificateRequestPem(Buffer.from(String(c.spec['request']), 'base64').toString());
    const now = new Date();
    const cert = await issueCertificate({
      template: {
        subject: req.subject,
        sans: req.sans,
        notBefore: now,
        notAfter: new Date(now.getTime() + this.autoSignLifetimeMs!),
        ...parseUsages(c.spec['usages'] as string[]),
      },
      publicKey: req.publicKey,
      issuer: this.ca,
    });
    this.approve(name, cert.pem);
  }

  private update(name: string, fn: (c: Csr) => void): void {
    const c = this.csrs.get(name)!;
    fn(c);
    c.metadata.resourceVersion = String(++this.rv);
    this.emit('MODIFIED', c);
  }

  private emit(type: string, c: Csr): void {
    const line = JSON.stringify({ type, object: c }) + '\n';
    this.history.push({ rv: Number(c.metadata.resourceVersion), name: c.metadata.name, line });
    for (const w of this.watchers) if (w.name === c.metadata.name) w.res.write(line);
  }

  private authenticate(req: IncomingMessage): string | null {
    const auth = req.headers.authorization;
    if (auth) return auth === `Bearer ${this.token}` ? 'system:bootstrap:token' : null;
    const sock = req.socket as TLSSocket;
    const peer = sock.getPeerCertificate();
    if (sock.authorized && peer?.subject) return String(peer.subject.CN);
    return null;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const user = this.authenticate(req);
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string): void => {
      send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
    };
    if (!user) return status(401, 'Unauthorized', 'Unauthorized');
    this.users.push(user);
    const url = new URL(req.url ?? '/', 'https://x');
    if (req.method === 'POST' && url.pathname === BASE) {
      this.counts.create++;
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const obj = JSON.parse(body) as { metadata: { name?: string; generateName?: string }; spec: Record<string, unknown> };
        const name = obj.metadata.name ?? `${obj.metadata.generateName}${randomUUID().slice(0, 5)}`;
        if (this.csrs.has(name)) return status(409, 'AlreadyExists', `certificatesigningrequests.certificates.k8s.io "${name}" already exists`);
        const csr: Csr = {
          apiVersion: 'certificates.k8s.io/v1',
          kind: 'CertificateSigningRequest',
          metadata: { name, uid: randomUUID(), resourceVersion: String(++this.rv), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
          spec: { ...obj.spec, username: user },
          status: {},
        };
        this.csrs.set(name, csr);
        this.emit('ADDED', csr);
        send(201, csr);
        if (this.autoSignLifetimeMs !== null) setTimeout(() => void this.decide(name), 10);
      });
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith(`${BASE}/`)) {
      this.counts.get++;
      const c = this.csrs.get(url.pathname.slice(BASE.length + 1));
      return c ? send(200, c) : status(404, 'NotFound', 'not found');
    }
    if (req.method === 'GET' && url.pathname === BASE) {
      const selector = url.searchParams.get('fieldSelector') ?? '';
      const name = /^metadata\.name=(.+)$/.exec(selector)?.[1];
      if (url.searchParams.get('watch') === 'true') {
        this.counts.watch++;
        if (this.refuseWatch) return status(405, 'MethodNotAllowed', 'watch is not supported');
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        const w = { name: name ?? '', res };
        const from = Number(url.searchParams.get('resourceVersion') ?? this.rv);
        for (const h of this.history) if (h.rv > from && h.name === w.name) res.write(h.line);
        this.watchers.add(w);
        const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
        const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
        res.on('close', () => {
          clearTimeout(timer);
          this.watchers.delete(w);
        });
        return;
      }
      this.counts.list++;
      const items = [...this.csrs.values()].filter((c) => !name || c.metadata.name === name);
      return send(200, { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequestList', metadata: { resourceVersion: String(this.rv) }, items });
    }
    const cm = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && cm) {
      const data = this.configMaps.get(`${cm[1]}/${cm[2]}`);
      if (!data) return status(404, 'NotFound', `configmaps "${cm[2]}" not found`);
      return send(200, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cm[2], namespace: cm[1], resourceVersion: '1' }, data });
    }
    status(404, 'NotFound', 'the server could not find the requested resource');
  }
}
