// How deep a YAML text nests, measured before the `yaml` package composes it. Composing is recursive: about a
// thousand levels (`{"a":{"a":…`, `[[[…`, `- - - …`) exhaust the stack, and past that V8 aborts the whole process
// ("RegExpCompiler Allocation failed - process out of memory") instead of throwing. So every YAML that kubepki
// did not write itself (request bodies, cluster-info from a server, kubeconfig and config files) is first run
// through the package's lexer and CST parser, which keep their nesting on an array, and refused past the limit.
import { createRequire } from 'node:module';

/** Levels of mappings and sequences a YAML text may nest; no Kubernetes object or kubeconfig comes near it. */
export const MAX_YAML_NESTING = 500;

type Yaml = typeof import('yaml');
let yamlModule: Yaml | undefined;
// Loaded on first use, synchronously (its Node entry is CommonJS): commands that never read YAML never load it.
const yaml = (): Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as Yaml);

/** Why `text` may not be composed (it nests deeper than `limit`), or undefined. Stops at the first level too deep. */
export function yamlNestingProblem(text: string, limit = MAX_YAML_NESTING): string | undefined {
  const { Lexer, Parser } = yaml();
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) void token;
    // The parser's stack holds the document and the collection being read at each level.
    if (parser.stack.length > limit + 2) return `exceeded max depth: mappings and sequences nest more than ${limit} levels deep`;
  }
  return undefined;
}

/**
 * A text kubepki did not write, read as kube reads YAML (sigs.k8s.io/yaml: YAML turned into JSON): the `yaml`
 * package's value as a JSON value, so an alias is a copy and never the same object twice, and an alias to a node
 * that contains it (a cycle, which the package returns as a circular object) is an Error, as are texts nested
 * past `limit` levels.
 */
export function parseUntrustedYaml(text: string, limit = MAX_YAML_NESTING): unknown {
  const problem = yamlNestingProblem(text, limit);
  if (problem) throw new Error(problem);
  const value: unknown = yaml().parse(text);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    // TypeError for a cycle; RangeError when aliases nest copies deeper than the stack.
    throw new Error(err instanceof TypeError ? 'an alias refers to a node that contains it' : 'aliases nest too deep', { cause: err });
  }
  return json === undefined ? undefined : JSON.parse(json);
}
