/**
 * Options that make pytest do something other than run tests (list them, show help, debug one
 * interactively): bulkhead hands these to one plain pytest process with the terminal attached,
 * whose output is pytest's own.
 */
const PLAIN_PYTEST_OPTIONS = new Set([
  '--collect-only',
  '--co',
  '--fixtures',
  '--funcargs',
  '--fixtures-per-test',
  '--markers',
  '-h',
  '--help',
  '-V',
  '--version',
  '--cache-show',
  '--setup-plan',
  '--pdb',
  '--trace',
]);

export function plainPytestReason(args: readonly string[]): string | null {
  for (const arg of args) {
    if (arg === '--') break;
    const name = arg.split('=', 1)[0]!;
    if (PLAIN_PYTEST_OPTIONS.has(name)) return name;
  }
  return null;
}

/** pytest as its console script runs it, with the user's arguments. */
export function plainPytestCommand(python: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: python, args: ['-c', 'import sys, pytest; sys.exit(pytest.console_main())', ...args] };
}
