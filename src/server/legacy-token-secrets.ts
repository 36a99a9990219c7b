// kube-controller-manager's tokens controller, for manually created legacy token Secrets: a Secret of type
// kubernetes.io/service-account-token naming an existing ServiceAccount gets data.token (a legacy JWT),
// data.ca.crt and data.namespace, and the account's uid annotation. It runs inside serve because it signs
// with the service-account key the server holds; it reads the server's Secret/ServiceAccount caches.
import type { ServiceAccountTokenSigner } from '../auth/serviceaccount-token.js';
import { secretDataString } from '../auth/objects.js';
import type { KubeObject, Secret } from '../apis/objects.js';
import { ApiError } from '../apis/status.js';
import type { Logger } from '../util/logger.js';

const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

export interface LegacyTokenSecretsOptions {
  /** The signer in force (a reloaded sa.key signs from the moment it is read). */
  signer: () => ServiceAccountTokenSigner | undefined;
  /** PEM written as ca.crt (kube-controller-manager's --root-ca-file), read live; '' writes none. */
  caPem: () => string;
  getServiceAccount(namespace: string, name: string): KubeObject | undefined;
  /** Secrets currently known (to fill those waiting for an account that now exists). */
  secrets(): Iterable<KubeObject>;
  updateSecret(secret: Secret): Promise<void>;
  logger: Logger;
}

export class LegacyTokenSecretsController {
  private readonly filling = new Set<string>();

  constructor(private readonly o: LegacyTokenSecretsOptions) {}

  /** A Secret was listed, added or changed. */
  secretChanged(secret: Secret): void {
    void this.fill(secret);
  }

  /** A ServiceAccount was added or changed: its token Secrets may now be filled. */
  serviceAccountChanged(sa: KubeObject): void {
    for (const s of this.o.secrets()) {
      const secret = s as Secret;
      if (secret.metadata.namespace === sa.metadata.namespace && secret.metadata.annotations?.[SA_NAME_ANNOTATION] === sa.metadata.name) {
        void this.fill(secret);
      }
    }
  }

  private async fill(secret: Secret): Promise<void> {
    if (secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE || secret.metadata.deletionTimestamp) return;
    const ns = secret.metadata.namespace ?? '';
    const name = secret.metadata.name ?? '';
    const saName = secret.metadata.annotations?.[SA_NAME_ANNOTATION];
    const signer = this.o.signer();
    if (!saName || !signer) return;
    const caPem = this.o.caPem();
    const hasToken = (secretDataString(secret, 'token') ?? '') !== '';
    if (hasToken && secretDataString(secret, 'namespace') === ns && (caPem === '' || secretDataString(secret, 'ca.crt') === caPem)) return;
    const sa = this.o.getServiceAccount(ns, saName);
    if (!sa) return; // filled once the account exists
    const saUid = sa.metadata.uid ?? '';
    const wantedUid = secret.metadata.annotations?.[SA_UID_ANNOTATION];
    if (wantedUid && wantedUid !== saUid) return; // meant for an earlier account of that name
    const key = `${ns}/${name}`;
    if (this.filling.has(key)) return;
    this.filling.add(key);
    try {
      const next = structuredClone(secret);
      const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
      next.data = { ...(next.data ?? {}) };
      if (!hasToken) next.data['token'] = b64(await signer.issueLegacyToken({ serviceAccount: { namespace: ns, name: saName, uid: saUid }, secretName: name }));
      if (caPem) next.data['ca.crt'] = b64(caPem);
      next.data['namespace'] = b64(ns);
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [SA_UID_ANNOTATION]: saUid };
      await this.o.updateSecret(next);
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) {
        this.o.logger.warn({ secret: key, err: (err as Error).message }, 'could not fill the service-account token secret');
      }
    } finally {
      this.filling.delete(key);
    }
  }
}
