// serve's live trust and certificates: the client CA bundle, the request-header CA, the serving certificate
// (with its chain) and the service-account keys, each a DynamicSource (dynamic-source.ts). The TLS layer
// takes a new serving certificate through setSecureContext (connections in flight keep theirs); the
// authenticators read the current value per request. With --data-dir, a CA rotation's extra trust
// (DIR/pki/*-rotation-trust.*: the other CA while both are trusted) is read alongside the files the flags
// name: the signing files (ca.crt, front-proxy-ca.crt) stay one certificate each, as
// kube-controller-manager needs, and the extra files sit in the same watched directory.
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { parseCABundle, type AuthConfig } from '../auth/config.js';
import { parseServiceAccountPublicKeys, serviceAccountKeyId, ServiceAccountTokenSigner } from '../auth/serviceaccount-token.js';
import type { Logger } from '../util/logger.js';
import { parseCertificatesPem, type Certificate } from '../x509/certificate.js';
import { keyMatchesPublicKey, parsePrivateKeyPem } from '../x509/keys.js';
import { DynamicSource } from './dynamic-source.js';

/** Files of DIR/pki holding the trust a CA rotation adds (kubepki ca rotate, and each replica following it, write them and remove them at the end). */
export const ROTATION_TRUST_FILES = {
  clientCA: 'ca-rotation-trust.crt',
  requestHeaderCA: 'front-proxy-ca-rotation-trust.crt',
  serviceAccountKeys: 'sa-rotation-trust.pub',
} as const;

export interface CABundle {
  pem: string;
  certificates: Certificate[];
}

export interface ServingMaterial {
  cert: string;
  key: string;
  leaf: Certificate;
}

export interface ServiceAccountMaterial {
  keys: KeyObject[];
  signer?: ServiceAccountTokenSigner;
}

/** What the authenticators and token endpoints read per request. */
export interface LiveAuthMaterial {
  clientCA(): CABundle | undefined;
  requestHeaderCA(): CABundle | undefined;
  serviceAccount(): ServiceAccountMaterial | undefined;
}

/** The part of the API server that takes new TLS material (ApiServer.setTlsMaterial). */
export interface TlsTarget {
  setTlsMaterial(m: { cert: string; key: string; clientCA?: string }): void;
}

/** Joins bundles' text, each ending in a newline. */
const joinPem = (parts: (string | undefined)[]) => parts.filter((p): p is string => Boolean(p && p.trim())).map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');

function caBundleSource(o: { name: string; flag: string; file: string; extra?: string; logger: Logger; checkIntervalMs?: number }): Promise<DynamicSource<CABundle>> {
  return DynamicSource.open({
    name: o.name,
    files: [o.file],
    ...(o.extra ? { optionalFiles: [o.extra] } : {}),
    parse: ([main, extra]) => {
      const parsed = parseCABundle(o.flag, o.file, main ?? '');
      if (!extra?.trim()) return parsed;
      const more = parseCABundle(o.flag, o.extra!, extra);
      return { pem: joinPem([parsed.pem, more.pem]), certificates: [...parsed.certificates, ...more.certificates] };
    },
    logger: o.logger,
    ...(o.checkIntervalMs !== undefined ? { checkIntervalMs: o.checkIntervalMs } : {}),
  });
}

/** The serving certificate and key files: a chain whose leaf the key belongs to. */
export function parseServingMaterial(certPem: string, keyPem: string, where: { certFile: string; keyFile: string }): ServingMaterial {
  const chain = parseCertificatesPem(certPem, where.certFile);
  const leaf = chain[0]!;
  const key = parsePrivateKeyPem(keyPem, where.keyFile);
  if (!keyMatchesPublicKey(key, leaf.publicKey)) throw new Error(`the key in ${where.keyFile} does not belong to the certificate in ${where.certFile}`);
  return { cert: certPem, key: keyPem, leaf };
}

export interface OpenLiveMaterialOptions {
  config: AuthConfig;
  servingCertFile: string;
  servingKeyFile: string;
  /** --service-account-key-file and --service-account-signing-key-file, as resolved. */
  serviceAccountKeyFiles?: string[];
  serviceAccountSigningKeyFile?: string;
  /** DIR/pki with --data-dir: a rotation's extra trust is read from its rotation-trust directory. */
  pkiDir?: string;
  logger: Logger;
  /** Period of the content check behind fs.watch; default 60 s. */
  checkIntervalMs?: number;
}

export interface LiveMaterial {
  auth: LiveAuthMaterial;
  serving: DynamicSource<ServingMaterial>;
  /** Hands new serving certificates and client CA names to the TLS layer from now on. */
  attach(server: TlsTarget): void;
  /**
   * Called when what the in-process controllers were started with changes: the client CA bundle (their
   * root CA and cluster-info bundle) or, with --data-dir, the signing pair ca.crt/ca.key (read only as a
   * matching pair). serve restarts its controllers then (kube-controller-manager reloads its signer files too).
   */
  onControllerInputsChange(listener: () => void): void;
  /** Re-reads every source now (after a rotation step wrote files). */
  checkAll(): Promise<void>;
  close(): void;
}

export async function openLiveMaterial(o: OpenLiveMaterialOptions): Promise<LiveMaterial> {
  const { config, logger } = o;
  const interval = o.checkIntervalMs !== undefined ? { checkIntervalMs: o.checkIntervalMs } : {};
  const extra = (f: string) => (o.pkiDir ? { extra: path.join(o.pkiDir, f) } : {});
  const sources: { check(): Promise<unknown>; close(): void }[] = [];
  try {
    const clientCA = config.clientCA
      ? await caBundleSource({ name: 'client CA bundle', flag: '--client-ca-file', file: config.clientCA.file, ...extra(ROTATION_TRUST_FILES.clientCA), logger, ...interval })
      : undefined;
    if (clientCA) sources.push(clientCA);
    const requestHeaderCA = config.requestHeader
      ? await caBundleSource({ name: 'request-header CA bundle', flag: '--requestheader-client-ca-file', file: config.requestHeader.file, ...extra(ROTATION_TRUST_FILES.requestHeaderCA), logger, ...interval })
      : undefined;
    if (requestHeaderCA) sources.push(requestHeaderCA);
    const serving = await DynamicSource.open<ServingMaterial>({
      name: 'serving certificate',
      files: [o.servingCertFile, o.servingKeyFile],
      parse: ([cert, key]) => parseServingMaterial(cert!, key!, { certFile: o.servingCertFile, keyFile: o.servingKeyFile }),
      logger,
      ...interval,
    });
    sources.push(serving);
    const saKeyFiles = o.serviceAccountKeyFiles ?? [];
    const signingKeyFile = o.serviceAccountSigningKeyFile;
    const issuer = config.serviceAccount?.issuers[0];
    const serviceAccount =
      config.serviceAccount && saKeyFiles.length > 0
        ? await DynamicSource.open<ServiceAccountMaterial>({
            name: 'service-account keys',
            files: [...saKeyFiles, ...(signingKeyFile ? [signingKeyFile] : [])],
            ...(o.pkiDir ? { optionalFiles: [path.join(o.pkiDir, ROTATION_TRUST_FILES.serviceAccountKeys)] } : {}),
            parse: (contents) => {
              const keys: KeyObject[] = [];
              saKeyFiles.forEach((f, i) => keys.push(...parseServiceAccountPublicKeys(contents[i]!, f)));
              const extraKeys = o.pkiDir ? contents[contents.length - 1] : undefined;
              if (extraKeys?.trim()) keys.push(...parseServiceAccountPublicKeys(extraKeys, path.join(o.pkiDir!, ROTATION_TRUST_FILES.serviceAccountKeys)));
              if (!signingKeyFile || !issuer) return { keys };
              const privateKey = parsePrivateKeyPem(contents[saKeyFiles.length]!, signingKeyFile);
              const kid = serviceAccountKeyId(createPublicKey(privateKey));
              // A signing key whose tokens nothing verifies would make every new token fail: refuse it.
              if (!keys.some((k) => serviceAccountKeyId(k) === kid)) throw new Error(`no verification key matches the signing key ${signingKeyFile}`);
              return { keys, signer: new ServiceAccountTokenSigner({ privateKey, issuer }) };
            },
            logger,
            ...interval,
          })
        : undefined;
    if (serviceAccount) sources.push(serviceAccount);
    const signing = o.pkiDir
      ? await DynamicSource.open<string>({
          name: 'signing CA pair',
          files: [path.join(o.pkiDir, 'ca.crt'), path.join(o.pkiDir, 'ca.key')],
          parse: ([cert, key]) => {
            const c = parseCertificatesPem(cert!, 'ca.crt');
            if (c.length !== 1) throw new Error('ca.crt must hold one certificate');
            if (!keyMatchesPublicKey(parsePrivateKeyPem(key!, 'ca.key'), c[0]!.publicKey)) throw new Error('ca.key does not belong to ca.crt');
            return cert!;
          },
          logger,
          ...interval,
        }).catch(() => undefined) // no CA key (external CA): nothing to follow
      : undefined;
    if (signing) sources.push(signing);

    return {
      auth: {
        clientCA: () => clientCA?.current(),
        requestHeaderCA: () => requestHeaderCA?.current(),
        serviceAccount: () => serviceAccount?.current(),
      },
      serving,
      attach(server) {
        const apply = () => {
          const s = serving.current();
          const ca = clientCA?.current().pem;
          server.setTlsMaterial({ cert: s.cert, key: s.key, ...(ca ? { clientCA: ca } : {}) });
        };
        serving.onChange(apply);
        clientCA?.onChange(apply);
        apply();
      },
      onControllerInputsChange(listener) {
        clientCA?.onChange(() => listener());
        signing?.onChange(() => listener());
      },
      async checkAll() {
        await Promise.all(sources.map((s) => s.check()));
      },
      close() {
        for (const s of sources) s.close();
      },
    };
  } catch (err) {
    for (const s of sources) s.close();
    throw err;
  }
}
