// cfssl's ca-config.json: {"signing": {"default": PROFILE, "profiles": {NAME: PROFILE}}}, a PROFILE being
// {"usages", "expiry", "backdate", "ca_constraint": {"is_ca", "max_path_len", "max_path_len_zero"}, ...}.
// Loaded with cfssl's rules (every profile needs an expiry; a named profile needs a known usage); what
// kubepki cannot honour is reported as a warning, what cannot matter to a local signer is ignored.
import { KubepkiError } from '../util/errors.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS, parseUsages, type Usages } from '../x509/index.js';
import { GoDecoder, goField, parseJsonText, type JsonObject } from './go-json.js';
import { parseCfsslDuration } from './duration.js';

export interface CaConstraint {
  isCA: boolean;
  maxPathLen: number;
  maxPathLenZero: boolean;
}

export interface SigningProfile {
  /** "default" or the profile's name, for messages. */
  name: string;
  usages: string[];
  /** 0 = take the default profile's expiry (cfssl's rule for a named profile). */
  expiryMs: number;
  /** undefined = cfssl's 5 minutes. */
  backdateMs: number | undefined;
  caConstraint: CaConstraint;
  notBefore: Date | undefined;
  notAfter: Date | undefined;
}

export interface SigningPolicy {
  /** Where the policy came from (the -config path, or a description), for messages. */
  source: string;
  default: SigningProfile;
  profiles: Map<string, SigningProfile>;
  /** One line each: settings kubepki read but does not apply. */
  warnings: string[];
}

const ONE_YEAR_MS = 8760 * 3_600_000;
const NO_CA: CaConstraint = { isCA: false, maxPathLen: 0, maxPathLenZero: false };

/** cfssl's DefaultConfig(): what signs when there is no -config, or the config has no "default". */
export function defaultSigningProfile(): SigningProfile {
  return {
    name: 'default',
    usages: ['signing', 'key encipherment', 'server auth', 'client auth'],
    expiryMs: ONE_YEAR_MS,
    backdateMs: undefined,
    caConstraint: { ...NO_CA },
    notBefore: undefined,
    notAfter: undefined,
  };
}

export function defaultSigningPolicy(): SigningPolicy {
  return { source: 'the built-in default policy', default: defaultSigningProfile(), profiles: new Map(), warnings: [] };
}

/** cfssl's initca policy: cert sign + crl sign, 5 years (43800h), CA:TRUE. */
export function initCaProfile(options: { expiryMs?: number; backdateMs?: number; maxPathLen?: number; maxPathLenZero?: boolean }): SigningProfile {
  return {
    name: 'initca',
    usages: ['cert sign', 'crl sign'],
    expiryMs: options.expiryMs ?? 5 * ONE_YEAR_MS,
    backdateMs: options.backdateMs,
    caConstraint: { isCA: true, maxPathLen: options.maxPathLen ?? 0, maxPathLenZero: options.maxPathLenZero ?? false },
    notBefore: undefined,
    notAfter: undefined,
  };
}

/** cfssl's spelling of content commitment (its old "committment" typo is still accepted by cfssl). */
const USAGE_ALIASES: Record<string, string> = { 'content committment': 'content commitment' };

function isKnownUsage(name: string): boolean {
  const n = USAGE_ALIASES[name] ?? name;
  return n === 'signing' || n in KEY_USAGE_BITS || n in EXT_KEY_USAGE_OIDS;
}

/** Key usage bits and EKU OIDs of a profile (unknown names were reported at load and are skipped). */
export function profileUsages(profile: SigningProfile): Usages {
  return parseUsages(profile.usages.filter(isKnownUsage).map((u) => USAGE_ALIASES[u] ?? u));
}

/** Settings of a profile that change a certificate and that kubepki does not write. */
const UNSUPPORTED_PROFILE_FIELDS = ['issuer_urls', 'ocsp_url', 'crl_url', 'policies', 'ocsp_no_check', 'copy_extensions', 'name_whitelist'];

/** Parses ca-config.json text (`source` = the path, for messages). */
export function parseCaConfig(text: string, source: string): SigningPolicy {
  const d = new GoDecoder(source, 'InvalidConfig');
  const parsed = parseJsonText(text, source, 'InvalidConfig');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KubepkiError('InvalidConfig', `${source}: expected a JSON object with a "signing" section`);
  }
  const root = parsed as JsonObject;
  const signing = d.object(goField(root, 'signing'), 'signing');
  if (!signing) throw new KubepkiError('InvalidConfig', `${source}: no "signing" section`);
  const warnings: string[] = [];
  const defaultObj = d.object(goField(signing, 'default'), 'signing.default');
  const def = defaultObj ? parseProfile(d, source, 'default', defaultObj, warnings) : defaultSigningProfile();
  if (defaultObj && def.expiryMs === 0) throw new KubepkiError('InvalidConfig', `${source}: the default profile's expiry must be positive`);
  const profiles = new Map<string, SigningProfile>();
  const profilesObj = d.object(goField(signing, 'profiles'), 'signing.profiles') ?? {};
  for (const [name, value] of Object.entries(profilesObj)) {
    const obj = d.object(value, `signing.profiles.${name}`);
    if (!obj) throw new KubepkiError('InvalidConfig', `${source}: profile "${name}" is null`);
    const p = parseProfile(d, source, name, obj, warnings);
    if (p.usages.length === 0) throw new KubepkiError('InvalidConfig', `${source}: profile "${name}" has no "usages"`);
    if (!p.usages.some(isKnownUsage)) {
      throw new KubepkiError('InvalidConfig', `${source}: profile "${name}" has no known usage (${p.usages.map((u) => `"${u}"`).join(', ')})`);
    }
    profiles.set(name, p);
  }
  return { source, default: def, profiles, warnings };
}

function parseProfile(d: GoDecoder, source: string, name: string, obj: JsonObject, warnings: string[]): SigningProfile {
  const path = name === 'default' ? 'signing.default' : `signing.profiles.${name}`;
  const label = name === 'default' ? 'the default profile' : `profile "${name}"`;
  if (d.string(goField(obj, 'remote'), `${path}.remote`) !== '') {
    throw new KubepkiError('InvalidConfig', `${source}: ${label} uses a remote signer ("remote"), which kubepki does not support`);
  }
  const expiry = d.string(goField(obj, 'expiry'), `${path}.expiry`);
  if (expiry === '') throw new KubepkiError('InvalidConfig', `${source}: ${label} has no "expiry" (cfssl requires one, e.g. "8760h")`);
  const backdate = d.string(goField(obj, 'backdate'), `${path}.backdate`);
  const usages = d.strings(goField(obj, 'usages'), `${path}.usages`) ?? [];
  for (const u of usages) if (!isKnownUsage(u)) warnings.push(`${source}: ${label}: unknown usage "${u}" ignored`);
  const cc = d.object(goField(obj, 'ca_constraint'), `${path}.ca_constraint`);
  const caConstraint: CaConstraint = cc
    ? {
        isCA: d.bool(goField(cc, 'is_ca'), `${path}.ca_constraint.is_ca`),
        maxPathLen: d.int(goField(cc, 'max_path_len'), `${path}.ca_constraint.max_path_len`),
        maxPathLenZero: d.bool(goField(cc, 'max_path_len_zero'), `${path}.ca_constraint.max_path_len_zero`),
      }
    : { ...NO_CA };
  for (const field of UNSUPPORTED_PROFILE_FIELDS) {
    const v = goField(obj, field);
    if (v !== undefined && v !== null && v !== '' && v !== false && !(Array.isArray(v) && v.length === 0)) {
      warnings.push(`${source}: ${label}: "${field}" is not supported by kubepki and is ignored`);
    }
  }
  return {
    name,
    usages,
    expiryMs: parseCfsslDuration(expiry, `${source}: ${label}: "expiry"`, { allowZero: true }),
    backdateMs: backdate === '' ? undefined : parseCfsslDuration(backdate, `${source}: ${label}: "backdate"`, { allowZero: true }),
    caConstraint,
    notBefore: parseTime(d, goField(obj, 'not_before'), `${path}.not_before`),
    notAfter: parseTime(d, goField(obj, 'not_after'), `${path}.not_after`),
  };
}

function parseTime(d: GoDecoder, value: unknown, path: string): Date | undefined {
  const s = d.string(value, path);
  if (s === '' || s === '0001-01-01T00:00:00Z') return undefined;
  const t = new Date(s);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) || Number.isNaN(t.getTime())) d.fail(path, `must be an RFC 3339 time, not "${s}"`);
  return t;
}

/**
 * The profile to sign with, checked to carry key usages: the named one (an unknown name is an error — cfssl would silently fall back
 * to the default profile and sign with other usages than asked), else the default.
 */
export function selectProfile(policy: SigningPolicy, name: string | undefined): SigningProfile {
  if (name === undefined || name === '') return withUsages(policy, policy.default);
  const p = policy.profiles.get(name);
  if (!p) {
    const known = [...policy.profiles.keys()].sort();
    throw new KubepkiError('InvalidConfig', `${policy.source}: unknown profile "${name}" (${known.length ? `profiles: ${known.join(', ')}` : 'it defines no profiles'})`);
  }
  return p;
}

function withUsages(policy: SigningPolicy, profile: SigningProfile): SigningProfile {
  const { keyUsage, extKeyUsages } = profileUsages(profile);
  if (keyUsage === 0 && extKeyUsages.length === 0) {
    const known = [...policy.profiles.keys()].sort();
    throw new KubepkiError('InvalidConfig', `${policy.source}: the default profile has no "usages" to sign with${known.length ? `; choose a profile with -profile (${known.join(', ')})` : ''}`);
  }
  return profile;
}
