// A reader for the plain block-style YAML that kubeconfigs are written in (by kubepki, kubeadm and kubectl):
// nested mappings and sequences by indentation, plain scalars of YAML 1.2's core schema, single- and
// double-quoted strings, `{}` and `[]`, full-line comments. It exists for start-up time alone: loading and
// running the `yaml` package costs a CLI command about 50 ms of CPU (bench:cli, token list). It returns
// undefined for anything outside that subset (anchors, tags, block scalars, flow collections, multi-line or
// numeric-looking scalars it does not resolve exactly, tabs, several documents...), and callers then parse
// with the `yaml` package: the result is always what `yaml` gives (test/util/simple-yaml.test.ts checks it).

import { MAX_YAML_NESTING } from './yaml-nesting.js';

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

interface Line {
  indent: number;
  text: string;
}

class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

/** The document as `yaml`'s parse() gives it, or undefined when the text is not in the supported subset. */
export function readSimpleYaml(text: string): Value | undefined {
  if (/[\t\r]/.test(text)) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const trimmed = raw.trimEnd();
    if (trimmed === '' || /^\s*#/.test(trimmed)) continue;
    if (/^(---|\.\.\.|%)/.test(trimmed)) return undefined;
    const indent = trimmed.length - trimmed.trimStart().length;
    lines.push({ indent, text: trimmed.slice(indent) });
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  try {
    const reader = new BlockReader(lines);
    const value = reader.block(0);
    if (!reader.done) return undefined;
    return value;
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/;

class BlockReader {
  private i = 0;
  /** Blocks being read, one inside the other: deeper than the yaml package may go, it is not this subset's. */
  private depth = 0;

  constructor(private readonly lines: Line[]) {}

  get done(): boolean {
    return this.i >= this.lines.length;
  }

  private peek(): Line | undefined {
    return this.lines[this.i];
  }

  /** The block whose first line is the next one, at exactly `indent`. */
  block(indent: number): Value {
    const first = this.peek() ?? unsupported();
    if (first.indent !== indent || this.depth >= MAX_YAML_NESTING) unsupported();
    this.depth++;
    try {
      return first.text === '-' || first.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent, undefined);
    } finally {
      this.depth--;
    }
  }

  /** A mapping at `indent`; `inline` is a first entry's text that followed a sequence's "- ". */
  private mapping(indent: number, inline: string | undefined): Value {
    const out: { [key: string]: Value } = {};
    let text = inline;
    for (;;) {
      if (text === undefined) {
        const line = this.peek();
        if (!line || line.indent < indent) break;
        if (line.indent > indent) unsupported();
        if (line.text === '-' || line.text.startsWith('- ')) break; // a sequence at the parent key's indent
        text = line.text;
        this.i++;
      }
      const colon = text.indexOf(':');
      if (colon <= 0) unsupported();
      const key = text.slice(0, colon);
      const rest = text.slice(colon + 1);
      if (!KEY.test(key) || (rest !== '' && !rest.startsWith(' ')) || Object.hasOwn(out, key) || key === '__proto__') unsupported();
      const valueText = rest.trim();
      out[key] = valueText === '' ? this.nested(indent) : scalar(valueText);
      text = undefined;
    }
    return out;
  }

  /** What follows `key:` with nothing after it: a deeper block, a sequence at the same indent, or null. */
  private nested(indent: number): Value {
    const next = this.peek();
    if (next && next.indent > indent) return this.block(next.indent);
    if (next && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))) return this.sequence(indent);
    return null;
  }

  private sequence(indent: number): Value {
    const out: Value[] = [];
    for (;;) {
      const line = this.peek();
      if (!line || line.indent !== indent || !(line.text === '-' || line.text.startsWith('- '))) break;
      this.i++;
      const item = line.text.slice(1).trimStart();
      if (item === '') {
        const next = this.peek();
        out.push(next && next.indent > indent ? this.block(next.indent) : null);
      } else if (/^[A-Za-z0-9_][A-Za-z0-9_.\/-]*:( |$)/.test(item)) {
        // "- key: value": a mapping whose further keys line up with this first one.
        out.push(this.mapping(indent + (line.text.length - item.length), item));
      } else if (item.startsWith('- ') || item === '-') {
        unsupported(); // a sequence directly inside a sequence's item
      } else out.push(scalar(item));
    }
    return out;
  }
}

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** One scalar on one line, resolved as YAML 1.2's core schema does (the `yaml` package's default). */
function scalar(text: string): Value {
  if (text === '{}') return {};
  if (text === '[]') return [];
  const q = text[0];
  if (q === "'") {
    if (text.length < 2 || !text.endsWith("'")) unsupported();
    const inner = text.slice(1, -1);
    if (/'(?!')/.test(inner.replaceAll("''", ''))) unsupported();
    return inner.replaceAll("''", "'");
  }
  if (q === '"') {
    // JSON's escapes mean the same in a YAML double-quoted string; anything else is left to the yaml package.
    try {
      const s: unknown = JSON.parse(text);
      return typeof s === 'string' ? s : unsupported();
    } catch {
      return unsupported();
    }
  }
  // Indicators, flow collections, comments and mapping-like text are left to the yaml package.
  if (/^[[\]{}&*!|>%@`#,?:-]/.test(text) && !/^-[0-9.]/.test(text)) unsupported();
  if (text.includes(': ') || text.includes(' #') || text.endsWith(':')) unsupported();
  if (/^(~|null|Null|NULL)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+0-9.]/.test(text)) {
    if (INT.test(text)) {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : unsupported();
    }
    if (FLOAT.test(text)) return Number(text);
    return unsupported(); // 0x1f, 0o17, 1_000, .inf, 1.2.3...: not guessed here
  }
  if (/^\.(inf|Inf|INF|nan|NaN|NAN)$/.test(text)) unsupported();
  return text;
}
