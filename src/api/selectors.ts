// Label and field selectors with kube's grammar and semantics (k8s.io/apimachinery/pkg/labels and
// pkg/fields): `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1` for labels;
// `a=b`, `a==b`, `a!=b` with `\` escapes for fields. A `!=`/`notin` requirement matches an absent label.
import { validateLabelKey, validateLabelValue } from './validation.js';
import { badRequest } from '../apis/status.js';

export type LabelOperator = 'in' | 'notin' | 'exists' | '!' | '=' | '!=' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  requirements: LabelRequirement[];
  /** Selects everything. */
  empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
  toString(): string;
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels![r.key]! : undefined;
  switch (r.op) {
    case '=':
    case 'in':
      return has && r.values.includes(v!);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  switch (r.op) {
    case '=':
      return `${r.key}=${r.values[0]}`;
    case '!=':
      return `${r.key}!=${r.values[0]}`;
    case 'in':
      return `${r.key} in (${r.values.join(',')})`;
    case 'notin':
      return `${r.key} notin (${r.values.join(',')})`;
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
  }
}

function makeLabelSelector(requirements: LabelRequirement[]): LabelSelector {
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => requirementMatches(r, labels)),
    toString: () => requirements.map(requirementString).join(','),
  };
}

export const everythingLabels: LabelSelector = makeLabelSelector([]);

/** Parses a labelSelector query parameter; a syntax or validation error is a 400 BadRequest. */
export function parseLabelSelector(input: string | undefined | null): LabelSelector {
  if (input === undefined || input === null || input.trim() === '') return everythingLabels;
  const s = input;
  let i = 0;
  const reqs: LabelRequirement[] = [];
  const fail = (msg: string): never => {
    throw badRequest(`unable to parse requirement: ${msg}`);
  };
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const readIdent = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && !/[\s,=!()<>]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const checkKey = (key: string) => {
    const errs = validateLabelKey(key);
    if (errs.length > 0) fail(`key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
  };
  const checkValue = (value: string, idx: number) => {
    const errs = validateLabelValue(value);
    if (errs.length > 0) fail(`values[${idx}][${reqs.length > 0 ? reqs[reqs.length - 1]!.key : ''}]: Invalid value: ${JSON.stringify(value)}: ${errs.join('; ')}`);
  };
  while (true) {
    skipWs();
    if (i >= s.length) fail('found \'\', expected: identifier');
    let key: string;
    if (s[i] === '!') {
      i++;
      key = readIdent();
      if (!key) fail(`found '${s[i] ?? ''}', expected: identifier after '!'`);
      checkKey(key);
      reqs.push({ key, op: '!', values: [] });
    } else {
      key = readIdent();
      if (!key) fail(`found '${s[i] ?? ''}', expected: !, identifier, or 'end of string'`);
      checkKey(key);
      skipWs();
      const rest = s.slice(i);
      if (i >= s.length || s[i] === ',') {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (rest.startsWith('==') || rest.startsWith('!=') || rest.startsWith('=')) {
        const op: LabelOperator = rest.startsWith('!=') ? '!=' : '=';
        i += rest.startsWith('=') && !rest.startsWith('==') ? 1 : 2;
        skipWs();
        const start = i;
        while (i < s.length && !/[\s,]/.test(s[i]!)) i++;
        const value = s.slice(start, i);
        if (/[=!()<>]/.test(value)) fail(`found '${value}', expected: identifier`);
        checkValue(value, 0);
        reqs.push({ key, op, values: [value] });
      } else if (rest.startsWith('>') || rest.startsWith('<')) {
        const op: LabelOperator = rest.startsWith('>') ? 'gt' : 'lt';
        i++;
        const value = readIdent();
        if (!/^-?\d+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
        reqs.push({ key, op, values: [value] });
      } else {
        const word = readIdent();
        let op: LabelOperator;
        if (word === 'in') op = 'in';
        else if (word === 'notin') op = 'notin';
        else return fail(`found '${word}', expected: in, notin, =, ==, !=, gt, lt`);
        skipWs();
        if (s[i] !== '(') fail(`found '${s[i] ?? ''}', expected: '('`);
        i++;
        const close = s.indexOf(')', i);
        if (close < 0) fail(`found '', expected: ')'`);
        const values = s
          .slice(i, close)
          .split(',')
          .map((v) => v.trim());
        if (values.length === 1 && values[0] === '') values.length = 0;
        if (values.length === 0) fail(`for 'in', 'notin' operators, values set can't be empty`);
        values.forEach((v, idx) => checkValue(v, idx));
        i = close + 1;
        reqs.push({ key, op, values: [...new Set(values)].sort() });
      }
    }
    skipWs();
    if (i >= s.length) break;
    if (s[i] !== ',') fail(`found '${s[i]}', expected: ',' or 'end of string'`);
    i++;
  }
  return makeLabelSelector(reqs);
}

// ---- Field selectors ------------------------------------------------------------------------------------

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  empty: boolean;
  matches(fields: Record<string, string>): boolean;
  /** The value the selector requires for `field` with `=`, if any (used to index watches by name). */
  exactValue(field: string): string | undefined;
  toString(): string;
}

const escapeField = (s: string) => s.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/=/g, '\\=');

function makeFieldSelector(reqs: FieldRequirement[]): FieldSelector {
  return {
    requirements: reqs,
    empty: reqs.length === 0,
    matches: (fields) =>
      reqs.every((r) => {
        const v = fields[r.field] ?? '';
        return r.op === '=' ? v === r.value : v !== r.value;
      }),
    exactValue: (field) => reqs.find((r) => r.field === field && r.op === '=')?.value,
    toString: () => reqs.map((r) => `${r.field}${r.op}${escapeField(r.value)}`).join(','),
  };
}

export const everythingFields: FieldSelector = makeFieldSelector([]);

/** Splits on unescaped commas and unescapes `\,`, `\=`, `\\`. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined || !'\\,=!'.includes(n)) throw badRequest(`invalid field selector: invalid escape sequence in ${JSON.stringify(s)}`);
      out += n;
      i++;
    } else if (c === '=' || c === ',' ) {
      throw badRequest(`invalid field selector: unescaped ${c} in value ${JSON.stringify(s)}`);
    } else out += c;
  }
  return out;
}

/**
 * Parses a fieldSelector. `supported` lists the field labels the resource can be selected by; any other
 * is a 400 with kube's "field label not supported" message.
 */
export function parseFieldSelector(input: string | undefined | null, supported?: ReadonlySet<string>): FieldSelector {
  if (input === undefined || input === null || input.trim() === '') return everythingFields;
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(input)) {
    if (term === '') continue;
    let idx = -1;
    let op: '=' | '!=' = '=';
    let opLen = 1;
    for (let i = 0; i < term.length; i++) {
      if (term[i] === '\\') {
        i++;
        continue;
      }
      if (term.startsWith('!=', i)) {
        idx = i;
        op = '!=';
        opLen = 2;
        break;
      }
      if (term.startsWith('==', i)) {
        idx = i;
        opLen = 2;
        break;
      }
      if (term[i] === '=') {
        idx = i;
        break;
      }
    }
    if (idx < 0) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = term.slice(0, idx).trim();
    const value = unescape(term.slice(idx + opLen));
    if (supported && !supported.has(field)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field, op, value });
  }
  return makeFieldSelector(reqs);
}
