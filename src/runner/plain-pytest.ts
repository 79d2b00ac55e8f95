import { spawn } from 'node:child_process';

/**
 * Runs one plain pytest process attached to the terminal, for pytest options that do not run a
 * suite (--collect-only, --fixtures, --help, --pdb): their output is pytest's own.
 */
export function runPlainPytest(python: string, args: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', 'import sys, pytest; sys.exit(pytest.console_main())', ...args], {
      cwd,
      stdio: 'inherit',
    });
    child.on('error', () => resolve(4));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 2 : 3)));
  });
}
