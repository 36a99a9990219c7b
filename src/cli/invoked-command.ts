// Which top-level command an argument list invokes: main.ts registers that command's module for real, and the
// bundle's entry (scripts/bundle.js) starts that command's bundle. No imports: the bundle's entry stays tiny.

/** The invoked command's name (`kubepki help <command>` invokes <command>), or undefined. */
export function invokedCommandName(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
