// Which CA issued the client certificates that authenticate, per user: what a CA rotation's *complete*
// phase must know before it removes the old CA ("who is still on the old CA?"). Recorded by wrapping the
// x509 authenticator (only a certificate that verified counts) and published on /metrics as
// kubepki_client_certificate_last_seen_seconds{issuer_key_id, user}: the last time each user authenticated
// with a certificate of that issuer. Issuers are named by key id (the leaf's authorityKeyIdentifier), which
// stays the same for a cross-signed CA.
import { Gauge, type Registry } from 'prom-client';
import type { Authenticator } from '../auth/types.js';
import { systemClock, type Clock } from '../util/clock.js';

export const CLIENT_CA_USAGE_METRIC = 'kubepki_client_certificate_last_seen_seconds';

export class ClientCAUsage {
  /** issuer key id → user → last seen (ms). */
  private readonly seen = new Map<string, Map<string, number>>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** The x509 authenticator, counting each request it authenticates by the issuer of the leaf. */
  wrap(x509: Authenticator): Authenticator {
    return {
      ...x509,
      authenticate: async (req) => {
        const r = await x509.authenticate(req);
        // The leaf as the authenticator verified it (cached with its chain): not parsed again per connection.
        if (r?.certificate) this.record(r.certificate.authorityKeyId ?? '', r.user.username);
        return r;
      },
    };
  }

  private record(issuer: string, user: string): void {
    let users = this.seen.get(issuer);
    if (!users) this.seen.set(issuer, (users = new Map()));
    users.set(user, this.clock.now().getTime());
  }

  register(registry: Registry): void {
    const seen = this.seen;
    new Gauge({
      name: CLIENT_CA_USAGE_METRIC,
      help: 'Unix time at which each user last authenticated with a client certificate of this issuer (authorityKeyIdentifier, hex).',
      labelNames: ['issuer_key_id', 'user'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [issuer, users] of seen) for (const [user, at] of users) this.set({ issuer_key_id: issuer, user }, Math.floor(at / 1000));
      },
    });
  }
}
