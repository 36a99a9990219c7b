// One HTTPS request of a benchmark client: the status and the whole body as text.
import https from 'node:https';

export interface HttpsTarget {
  agent: https.Agent;
  /** https://host:port, no trailing slash. */
  base: string;
}

export function httpsRequest(c: HttpsTarget, method: string, p: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const req = https.request(c.base + p, { method, agent: c.agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
