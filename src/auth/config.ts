// kube-apiserver's authentication and authorization flags, read and checked once at start, and the chain
// built from them. A dangerous or broken configuration is refused with an explanation before the server
// listens: a request-header CA shared with the client CA while any CN may assert identities, an unreadable
// CA file, a malformed token file, service-account keys that cannot verify the tokens being signed.
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { parseCertificatesPem, parsePrivateKeyPem, type Certificate } from '../x509/index.js';
import type { Authenticator } from './types.js';
import type { CredentialObjectLookup } from './objects.js';
import { bearerTokenAuthenticator, type TokenAuthenticator } from './authn/bearer-token.js';
import { bootstrapTokenAuthenticator } from './authn/bootstrap-token.js';
import {
  DEFAULT_EXTRA_HEADER_PREFIXES,
  DEFAULT_GROUP_HEADERS,
  DEFAULT_USERNAME_HEADERS,
  requestHeaderAuthenticator,
} from './authn/requestheader.js';
import { serviceAccountAuthenticator } from './authn/serviceaccount.js';
import { parseTokenFile, tokenFileAuthenticator, type TokenFileAuthenticator } from './authn/tokenfile.js';
import { unionAuthenticator } from './authn/union.js';
import { RbacAuthorizer, type RuleResolver } from './authz/rbac.js';
import { NodeAuthorizer } from './authz/node.js';
import type { RbacSnapshot } from './authz/rbac-cache.js';
import { privilegedGroupsAuthorizer, unionAuthorizer } from './authz/union.js';
import { parseServiceAccountPublicKeys, serviceAccountKeyId, ServiceAccountTokenSigner } from './serviceaccount-token.js';
import type { Authorizer } from '../apis/authorization.js';
import { readBoundedFile } from '../util/bounded-file.js';

export const AUTHORIZATION_MODES = ['Node', 'RBAC', 'AlwaysAllow'] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** The flags, named as kube-apiserver names them. */
export interface AuthFlags {
  clientCAFile?: string;
  requestHeaderClientCAFile?: string;
  requestHeaderAllowedNames?: string[];
  requestHeaderUsernameHeaders?: string[];
  requestHeaderGroupHeaders?: string[];
  requestHeaderExtraHeadersPrefix?: string[];
  tokenAuthFile?: string;
  serviceAccountKeyFiles?: string[];
  serviceAccountSigningKeyFile?: string;
  serviceAccountIssuers?: string[];
  apiAudiences?: string[];
  enableBootstrapTokenAuth?: boolean;
  anonymousAuth?: boolean;
  authorizationModes?: string[];
}

/** The flags with their files read and checked. */
export interface AuthConfig {
  clientCA?: { file: string; pem: string; certificates: Certificate[] };
  requestHeader?: {
    file: string;
    pem: string;
    certificates: Certificate[];
    allowedNames: string[];
    usernameHeaders: string[];
    groupHeaders: string[];
    extraHeaderPrefixes: string[];
  };
  tokenFile?: { file: string; authenticator: TokenFileAuthenticator };
  serviceAccount?: { keys: KeyObject[]; issuers: string[]; signer?: ServiceAccountTokenSigner };
  apiAudiences: string[];
  enableBootstrapTokenAuth: boolean;
  anonymousAuth: boolean;
  authorizationModes: AuthorizationMode[];
}

async function readFlagFile(flag: string, path: string): Promise<string> {
  try {
    return await readBoundedFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new KubepkiError('InvalidConfig', `${flag}: cannot read '${path}': ${why}`, { cause: err });
  }
}

async function readCABundle(flag: string, path: string): Promise<{ pem: string; certificates: Certificate[] }> {
  return parseCABundle(flag, path, await readFlagFile(flag, path));
}

/** A CA bundle's text checked: PEM certificates, every one a CA. Also used when serve reloads the file. */
export function parseCABundle(flag: string, path: string, pem: string): { pem: string; certificates: Certificate[] } {
  let certificates: Certificate[];
  try {
    certificates = parseCertificatesPem(pem, path);
  } catch (err) {
    throw new KubepkiError('InvalidConfig', `${flag}: '${path}' is not a PEM certificate bundle: ${(err as Error).message}`, { cause: err });
  }
  const notCA = certificates.find((c) => !c.isCA);
  if (notCA) {
    throw new KubepkiError('InvalidConfig', `${flag}: '${path}' holds "CN=${notCA.subject.commonName ?? ''}", which is not a CA certificate (basic constraints CA:FALSE)`);
  }
  return { pem, certificates };
}

const nonEmpty = (l: string[] | undefined): string[] => (l ?? []).map((s) => s.trim()).filter((s) => s !== '');

/**
 * Reads every file the flags name and refuses dangerous or broken settings, each with one explanation.
 * Throws KubepkiError('InvalidConfig').
 */
export async function validateAuthConfig(flags: AuthFlags): Promise<AuthConfig> {
  const modes = nonEmpty(flags.authorizationModes ?? ['RBAC']);
  for (const m of modes) {
    if (!(AUTHORIZATION_MODES as readonly string[]).includes(m)) {
      throw new KubepkiError('InvalidConfig', `--authorization-mode: authorization mode "${m}" is not supported: use one of ${AUTHORIZATION_MODES.join(', ')}`);
    }
  }
  if (modes.length === 0) throw new KubepkiError('InvalidConfig', '--authorization-mode: at least one authorization mode must be given');

  const config: AuthConfig = {
    apiAudiences: [],
    enableBootstrapTokenAuth: flags.enableBootstrapTokenAuth ?? false,
    anonymousAuth: flags.anonymousAuth ?? true,
    authorizationModes: modes as AuthorizationMode[],
  };

  if (flags.clientCAFile) config.clientCA = { file: flags.clientCAFile, ...(await readCABundle('--client-ca-file', flags.clientCAFile)) };

  if (flags.requestHeaderClientCAFile) {
    const rh = await readCABundle('--requestheader-client-ca-file', flags.requestHeaderClientCAFile);
    const allowedNames = nonEmpty(flags.requestHeaderAllowedNames);
    const usernameHeaders = nonEmpty(flags.requestHeaderUsernameHeaders ?? DEFAULT_USERNAME_HEADERS);
    if (usernameHeaders.length === 0) {
      throw new KubepkiError('InvalidConfig', '--requestheader-username-headers: must name at least one header when --requestheader-client-ca-file is set');
    }
    if (config.clientCA && allowedNames.length === 0) {
      const clientDer = new Set(config.clientCA.certificates.map((c) => Buffer.from(c.der).toString('base64')));
      const shared = rh.certificates.find((c) => clientDer.has(Buffer.from(c.der).toString('base64')));
      if (shared) {
        throw new KubepkiError(
          'InvalidConfig',
          `--requestheader-client-ca-file and --client-ca-file both trust the CA "CN=${shared.subject.commonName ?? ''}" and --requestheader-allowed-names is empty: ` +
            'every client certificate from that CA could then send X-Remote-User/X-Remote-Group headers and act as any user or group. ' +
            'Use a separate front-proxy CA (front-proxy-ca.crt) or list the proxy\'s certificate CN in --requestheader-allowed-names.',
        );
      }
    }
    config.requestHeader = {
      file: flags.requestHeaderClientCAFile,
      ...rh,
      allowedNames,
      usernameHeaders,
      groupHeaders: nonEmpty(flags.requestHeaderGroupHeaders ?? DEFAULT_GROUP_HEADERS),
      extraHeaderPrefixes: nonEmpty(flags.requestHeaderExtraHeadersPrefix ?? DEFAULT_EXTRA_HEADER_PREFIXES),
    };
  }

  const issuers = nonEmpty(flags.serviceAccountIssuers);
  const keyFiles = nonEmpty(flags.serviceAccountKeyFiles);
  config.apiAudiences = nonEmpty(flags.apiAudiences);
  if (config.apiAudiences.length === 0) config.apiAudiences = [...issuers];

  if (flags.tokenAuthFile) {
    const text = await readFlagFile('--token-auth-file', flags.tokenAuthFile);
    config.tokenFile = { file: flags.tokenAuthFile, authenticator: tokenFileAuthenticator(parseTokenFile(text, flags.tokenAuthFile), config.apiAudiences) };
  }

  if (flags.serviceAccountSigningKeyFile && issuers.length === 0) {
    throw new KubepkiError('InvalidConfig', '--service-account-issuer: required when --service-account-signing-key-file is set (it becomes the "iss" of every token)');
  }
  if (flags.serviceAccountSigningKeyFile && keyFiles.length === 0) {
    throw new KubepkiError('InvalidConfig', '--service-account-key-file: required when --service-account-signing-key-file is set (tokens must be verifiable)');
  }
  if (keyFiles.length > 0) {
    const keys: KeyObject[] = [];
    for (const f of keyFiles) {
      const pem = await readFlagFile('--service-account-key-file', f);
      try {
        keys.push(...parseServiceAccountPublicKeys(pem, f));
      } catch (err) {
        throw new KubepkiError('InvalidConfig', `--service-account-key-file: ${(err as Error).message}`, { cause: err });
      }
    }
    config.serviceAccount = { keys, issuers };
    if (flags.serviceAccountSigningKeyFile) {
      const pem = await readFlagFile('--service-account-signing-key-file', flags.serviceAccountSigningKeyFile);
      let privateKey: KeyObject;
      try {
        privateKey = parsePrivateKeyPem(pem, flags.serviceAccountSigningKeyFile);
      } catch (err) {
        throw new KubepkiError('InvalidConfig', `--service-account-signing-key-file: ${(err as Error).message}`, { cause: err });
      }
      let signer: ServiceAccountTokenSigner;
      try {
        signer = new ServiceAccountTokenSigner({ privateKey, issuer: issuers[0]! });
      } catch (err) {
        throw new KubepkiError('InvalidConfig', `--service-account-signing-key-file: ${(err as Error).message}`, { cause: err });
      }
      const kid = serviceAccountKeyId(createPublicKey(privateKey));
      if (!keys.some((k) => serviceAccountKeyId(k) === kid)) {
        throw new KubepkiError(
          'InvalidConfig',
          `--service-account-key-file: none of the keys in ${keyFiles.join(', ')} matches --service-account-signing-key-file ${flags.serviceAccountSigningKeyFile}: the tokens it signs could not be verified`,
        );
      }
      config.serviceAccount.signer = signer;
    }
  } else if (issuers.length > 0) {
    throw new KubepkiError('InvalidConfig', '--service-account-key-file: required when --service-account-issuer is set');
  }
  return config;
}

export interface BuildAuthenticatorOptions {
  config: AuthConfig;
  /** The client-certificate authenticator for config.clientCA (src/auth/authn/x509.ts), when set. */
  x509?: Authenticator;
  lookup: CredentialObjectLookup;
  clock?: Clock;
  logger?: Logger;
  /** Material serve reloads while running (src/server/dynamic-certs.ts); read per request instead of the config's. */
  live?: { requestHeaderCA?: () => Certificate[]; serviceAccountKeys?: () => KeyObject[] };
}

/** The whole chain in kube-apiserver's order: request header, x509, bearer tokens, then anonymous. */
export function buildAuthenticator(options: BuildAuthenticatorOptions): Authenticator {
  const { config, lookup } = options;
  const clock = options.clock ?? systemClock;
  const authenticators: Authenticator[] = [];
  if (config.requestHeader) {
    const rh = config.requestHeader;
    authenticators.push(
      requestHeaderAuthenticator({
        clientCA: options.live?.requestHeaderCA ?? rh.certificates,
        allowedNames: rh.allowedNames,
        usernameHeaders: rh.usernameHeaders,
        groupHeaders: rh.groupHeaders,
        extraHeaderPrefixes: rh.extraHeaderPrefixes,
        clock,
      }),
    );
  }
  if (options.x509) authenticators.push(options.x509);
  const tokens: TokenAuthenticator[] = [];
  if (config.tokenFile) tokens.push(config.tokenFile.authenticator);
  if (config.serviceAccount) {
    tokens.push(
      serviceAccountAuthenticator({ keys: options.live?.serviceAccountKeys ?? config.serviceAccount.keys, issuers: config.serviceAccount.issuers, apiAudiences: config.apiAudiences, lookup, clock }),
    );
  }
  if (config.enableBootstrapTokenAuth) {
    tokens.push(
      bootstrapTokenAuthenticator({
        getSecret: (ns, name) => lookup.getSecret(ns, name),
        apiAudiences: config.apiAudiences,
        clock,
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    );
  }
  if (tokens.length > 0) authenticators.push(bearerTokenAuthenticator({ tokenAuthenticators: tokens, apiAudiences: config.apiAudiences }));
  return unionAuthenticator({ authenticators, anonymous: config.anonymousAuth });
}

/**
 * system:masters first, then the modes in order (RBAC reads the watch-fed snapshot); `resolvers` enumerate
 * rules for SelfSubjectRulesReview, in the same order.
 */
export function buildAuthorizer(config: AuthConfig, rbac: RbacSnapshot): { authorizer: Authorizer; rbac?: RbacAuthorizer; resolvers: RuleResolver[] } {
  const chain: Authorizer[] = [privilegedGroupsAuthorizer()];
  const resolvers: RuleResolver[] = [];
  let rbacAuthorizer: RbacAuthorizer | undefined;
  for (const m of config.authorizationModes) {
    if (m === 'RBAC') {
      rbacAuthorizer = new RbacAuthorizer(rbac);
      chain.push(rbacAuthorizer);
      resolvers.push(rbacAuthorizer);
    } else if (m === 'Node') {
      const node = new NodeAuthorizer();
      chain.push(node);
      resolvers.push(node);
    } else {
      chain.push({ authorize: async () => ({ decision: 'allow', reason: '' }) });
      resolvers.push({ rulesFor: () => ({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], resourceNames: [] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false }) });
    }
  }
  return { authorizer: unionAuthorizer(chain), resolvers, ...(rbacAuthorizer ? { rbac: rbacAuthorizer } : {}) };
}
