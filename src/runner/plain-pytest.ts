import { spawn } from 'node:child_process';

/**
 * Runs one plain framework process attached to the terminal, for options that do not run a suite
 * (pytest's --collect-only, --fixtures, --help, --pdb): their output is the framework's own.
 */
export function runPlain(plain: { command: string; args: string[] }, cwd: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(plain.command, plain.args, {
      cwd,
      stdio: 'inherit',
    });
    child.on('error', () => resolve(4));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 2 : 3)));
  });
}
