// tokencleaner: deletes bootstrap-token Secrets in kube-system once their `expiration` has passed (an
// unparseable expiration counts as expired), as pkg/controller/bootstrap/tokencleaner.go does; a token that
// expires later is re-checked exactly then. The delete carries a UID precondition so a Secret re-created
// under the same name is never removed by mistake.
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE, bootstrapTokenExpiration } from '../../auth/bootstrap-token-secret.js';
import { RESOURCES, type KubeClient, type ResourceClient } from '../../client/interface.js';
import type { ControllerMetrics } from '../metrics.js';
import { Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { retryable, terminal, waiting, type Outcome } from '../runtime/outcome.js';
import type { Secret } from '../../apis/objects.js';
import { isConflict, isNotFound } from '../../apis/status.js';
import { NAMESPACE_SYSTEM } from '../../apis/names.js';

export interface TokenCleanerOptions {
  client: KubeClient;
  /** An informer over kube-system's Secrets (ideally narrowed to type=bootstrap.kubernetes.io/token). */
  informer: Informer<Secret>;
  clock: Clock;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

/** Whether a bootstrap-token Secret is expired at `now`, or how long it has left (undefined = never expires). */
export function tokenExpiry(secret: Secret, now: Date): { expired: true } | { expired: false; remainingMs?: number } {
  const { expires, invalid } = bootstrapTokenExpiration(secret);
  if (invalid) return { expired: true };
  if (!expires) return { expired: false };
  const remaining = expires.getTime() - now.getTime();
  return remaining <= 0 ? { expired: true } : { expired: false, remainingMs: remaining };
}

export class TokenCleanerController {
  readonly controller: Controller;
  private readonly secrets: ResourceClient<Secret>;
  private readonly logger: Logger;

  constructor(private readonly options: TokenCleanerOptions) {
    this.secrets = options.client.resource<Secret>(RESOURCES.secrets);
    this.logger = options.logger ?? silentLogger;
    this.controller = new Controller({
      name: 'tokencleaner',
      reconcile: (key) => this.reconcile(key),
      clock: options.clock,
      workers: 1,
      logger: this.logger,
      metrics: options.metrics,
    });
    const enqueue = (s: Secret) => {
      if (s.type === BOOTSTRAP_TOKEN_SECRET_TYPE && s.metadata.namespace === NAMESPACE_SYSTEM) this.controller.enqueue(`${s.metadata.namespace}/${s.metadata.name}`);
    };
    options.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s) });
  }

  async reconcile(key: string): Promise<Outcome> {
    const secret = this.options.informer.get(key);
    if (!secret) return terminal('deleted');
    if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return terminal('not a bootstrap token');
    const expiry = tokenExpiry(secret, this.options.clock.now());
    if (!expiry.expired) return expiry.remainingMs !== undefined ? waiting('not expired yet', expiry.remainingMs) : terminal('never expires');
    try {
      await this.secrets.delete(secret.metadata.name!, {
        namespace: secret.metadata.namespace!,
        ...(secret.metadata.uid ? { preconditions: { uid: secret.metadata.uid } } : {}),
      });
    } catch (err) {
      // NotFound: already deleted; Conflict: the UID precondition failed (a new Secret took the name).
      if (isNotFound(err) || isConflict(err)) return terminal('already gone');
      return retryable(err);
    }
    this.options.metrics?.objectsDeleted.inc({ controller: 'tokencleaner' });
    this.logger.info({ secret: key }, 'deleted expired bootstrap token');
    return terminal('deleted expired token');
  }

  run(signal: AbortSignal): Promise<void> {
    return this.controller.run(signal);
  }
}
