import { spawn } from 'node:child_process';

export type ExecResult =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { kind: 'spawn_failed'; error: NodeJS.ErrnoException }
  | { kind: 'timed_out'; stdout: string; stderr: string };

/** Runs a short helper command (a probe) to completion, with a bound on its time. */
export function execCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal, killSignal: 'SIGKILL' as const } : {}) });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (result: ExecResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ kind: 'timed_out', stdout, stderr });
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    child.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'spawn_failed', error }));
    child.on('close', (code, signal) => finish({ kind: 'exited', code, signal, stdout, stderr }));
  });
}
