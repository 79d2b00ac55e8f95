/**
 * The interpreter probe, started as the first thing the process does: loading bulkhead's modules
 * takes about 0.2 s of node's time, and the probe (Python starting, importing pytest, through a
 * pyenv shim often enough) about 0.3 s of Python's, so the two overlap instead of adding up.
 *
 * Only a guess can be made this early, from the command line and the environment (`--python`,
 * else BULKHEAD_PYTHON, else python3). Where a config file may exist (`--config` here; the entry
 * point looks for bulkhead.toml and [tool.bulkhead], config/config-files.ts) there is no head
 * start: the file may name another interpreter, and a bad one must stop the run before anything
 * starts. The run takes the early
 * probe only when its own probe command, directory and environment are the ones guessed;
 * otherwise the early one is killed and the run probes as it always did. An early probe nobody
 * takes is killed when the process exits. Light on purpose: imported before everything else.
 */
import { probeCommand } from '../adapters/pytest/probe.js';
import { ENV } from '../model/environment.js';
import { execCommand, type ExecResult } from '../supervisor/exec.js';

interface EarlyProbe {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  abort: AbortController;
  result: Promise<ExecResult>;
}

let early: EarlyProbe | null = null;

/** The interpreter a `run` or `list` command line asks for, as far as it can be told before parsing; null: not one of those. */
export function guessPython(argv: readonly string[], env: NodeJS.ProcessEnv): string | null {
  if (argv[0] !== 'run' && argv[0] !== 'list') return null;
  let python: string | null = null;
  for (let i = 1; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--config' || arg.startsWith('--config=')) return null;
    if (arg === '--python') python = argv[i + 1] ?? null;
    else if (arg.startsWith('--python=')) python = arg.slice('--python='.length);
  }
  if (python === '') return null;
  return python ?? (env[ENV.python.name] || 'python3');
}

export function startProbeEarly(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): void {
  const python = guessPython(argv, env);
  if (python === null || early !== null) return;
  const probe = probeCommand(python);
  const abort = new AbortController();
  const snapshot = { ...env };
  const result = execCommand(probe.command, probe.args, { cwd: probe.cwd ?? cwd, env: snapshot, timeoutMs: probe.timeoutMs, signal: abort.signal });
  early = { command: probe.command, args: probe.args, cwd: probe.cwd ?? cwd, env: snapshot, abort, result };
  process.once('exit', () => abort.abort());
}

/**
 * The early probe's result if it ran exactly this command, in this directory, with this
 * environment; null otherwise (and the early probe, if any, is killed). Taken once.
 */
export function takeEarlyProbe(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ExecResult> | null {
  const taken = early;
  early = null;
  if (taken === null) return null;
  if (taken.command === command && taken.cwd === cwd && sameList(taken.args, args) && sameEnv(taken.env, env)) return taken.result;
  taken.abort.abort();
  return null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sameEnv(a: NodeJS.ProcessEnv, b: NodeJS.ProcessEnv): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
