// Reading and writing JSON the way cfssl's Go code does: struct fields match keys case-insensitively
// (encoding/json's rule), unknown keys are ignored, a wrong type is an error; output escapes <, > and &
// (Go's HTML-safe default) so kubepki's bytes are the ones cfssl prints.
import { KubepkiError, type KubepkiErrorCode } from '../util/errors.js';

export type JsonObject = Record<string, unknown>;

/** Parses JSON text; `source` names the input in the one-line error. */
export function parseJsonText(text: string, source: string, code: KubepkiErrorCode): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new KubepkiError(code, `${source}: invalid JSON: ${describeJsonError(text)}`, { cause: err });
  }
}

/** Why JSON.parse fails, on one line with line and column (V8's message may quote the input, newlines and all). */
function describeJsonError(text: string): string {
  if (text.trim() === '') return 'the input is empty';
  const { at, expected } = findJsonError(text);
  if (at >= text.length) return `unexpected end of input (expected ${expected})`;
  const before = text.slice(0, at).split('\n');
  return `unexpected ${JSON.stringify(text[at])} at line ${before.length}, column ${before[before.length - 1]!.length + 1} (expected ${expected})`;
}

/** A validating scan of JSON text (RFC 8259) that stops at the first error: its offset and what was expected there. */
function findJsonError(text: string): { at: number; expected: string } {
  let i = 0;
  class Stop {
    constructor(readonly expected: string) {}
  }
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) throw new Stop(`"${word}"`);
      i++;
    }
  };
  const string = () => {
    if (text[i] !== '"') throw new Stop('a double-quoted string');
    i++;
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Stop('a closing \'"\'');
      if (ch === '"') return void i++;
      if (ch < ' ') throw new Stop('no control character inside a string');
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? '')) throw new Stop('four hex digits after \\u');
        } else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i]!)) i++;
        else throw new Stop('a valid escape');
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '' || m[0] === '-') throw new Stop('a value');
    i += m[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') throw new Stop("':'");
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else throw new Stop("',' or '}'");
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else throw new Stop("',' or ']'");
      }
    }
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    return number();
  };
  try {
    value();
    ws();
    if (i < text.length) throw new Stop('nothing after the JSON value');
  } catch (e) {
    if (e instanceof Stop) return { at: i, expected: e.expected };
    throw e;
  }
  return { at: text.length, expected: 'valid JSON' };
}

/** A field of a decoded object as Go finds it: the exact key first, else a case-insensitive match. */
export function goField(obj: JsonObject, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/** Typed readers: `null`/absent give the zero value, as Go's decoder leaves the field untouched. */
export class GoDecoder {
  constructor(
    private readonly source: string,
    private readonly code: KubepkiErrorCode,
  ) {}

  fail(path: string, message: string): never {
    throw new KubepkiError(this.code, `${this.source}: ${path ? `"${path}" ` : ''}${message}`);
  }

  object(value: unknown, path: string): JsonObject | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(path, `must be an object, not ${describe(value)}`);
    return value as JsonObject;
  }

  string(value: unknown, path: string): string {
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string') this.fail(path, `must be a string, not ${describe(value)}`);
    return value;
  }

  bool(value: unknown, path: string): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') this.fail(path, `must be true or false, not ${describe(value)}`);
    return value;
  }

  int(value: unknown, path: string): number {
    if (value === undefined || value === null) return 0;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(path, `must be an integer, not ${describe(value)}`);
    return value;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) this.fail(path, `must be a list, not ${describe(value)}`);
    return value;
  }

  strings(value: unknown, path: string): string[] | undefined {
    return this.array(value, path)?.map((v, i) => {
      if (typeof v !== 'string') this.fail(`${path}[${i}]`, `must be a string, not ${describe(v)}`);
      return v;
    });
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * JSON text as Go's encoding/json writes it: keys in the object's own order (callers build objects in
 * Go's field order, or sorted for Go maps), HTML-safe escapes, \u00XX for control characters without a
 * short form. `indent` = Go's MarshalIndent("", indent); empty = Marshal.
 */
export function goJsonStringify(value: unknown, indent = ''): string {
  return encode(value, indent, '');
}

function encode(value: unknown, indent: string, prefix: string): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  const inner = prefix + indent;
  const nl = indent ? '\n' : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${nl}${value.map((v) => inner + encode(v, indent, inner)).join(`,${nl}`)}${nl}${prefix}]`;
  }
  const entries = Object.entries(value as JsonObject).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{${nl}${entries.map(([k, v]) => `${inner}${goString(k)}${sep}${encode(v, indent, inner)}`).join(`,${nl}`)}${nl}${prefix}}`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function goString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    if (SHORT_ESCAPES[ch]) out += SHORT_ESCAPES[ch];
    else if (code < 0x20 || ch === '<' || ch === '>' || ch === '&' || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 to Go, which writes U+FFFD in its place.
      const next = s.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += ch + s[i + 1]!;
        i++;
      } else out += '\\ufffd';
    } else out += ch;
  }
  return `${out}"`;
}
