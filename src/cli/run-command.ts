import { resolve } from 'node:path';
import { JsonReporter } from '../reporters/json-reporter.js';
import { JunitReporter } from '../reporters/junit.js';
import type { Reporter } from '../reporters/reporter.js';
import { TerminalReporter } from '../reporters/terminal/terminal-reporter.js';
import { DEFAULT_RESTART_POLICY } from '../scheduler/restart-policy.js';
import { runTests } from '../runner/run.js';
import { parseCount, parseSeconds, parseWorkers } from './parse-options.js';
import { UsageError } from './usage-error.js';
import type { MemoryOptions } from '../runner/options.js';
import { memoryBudget, parseBudget, parseBytes, type BudgetSpec } from '../scheduler/memory-budget.js';
import { effectiveMemoryLimit } from '../supervisor/platform/index.js';

export interface RunFlags {
  workers: string;
  standby: string;
  python?: string;
  junit?: string;
  json?: string;
  artifacts: boolean;
  timeout?: string;
  startupTimeout: string;
  heartbeatTimeout: string;
  runTimeout?: string;
  killGrace: string;
  cancelGrace: string;
  retries: string;
  flakyPasses: boolean;
  cgroups: boolean;
  memoryBudget?: string;
  workerMemoryMax?: string;
  workerRecycleMemory?: string;
  memoryControl: string;
}

export async function runCommand(pytestArgs: string[], flags: RunFlags): Promise<number> {
  const workers = parseWorkers(flags.workers);
  const timeouts = {
    timeoutSeconds: flags.timeout !== undefined ? parseSeconds('--timeout', flags.timeout) : null,
    startupTimeoutSeconds: parseSeconds('--startup-timeout', flags.startupTimeout),
    heartbeatTimeoutSeconds: parseSeconds('--heartbeat-timeout', flags.heartbeatTimeout),
    runTimeoutSeconds: flags.runTimeout !== undefined ? parseSeconds('--run-timeout', flags.runTimeout) : null,
    killGraceSeconds: parseSeconds('--kill-grace', flags.killGrace),
    cancelGraceSeconds: parseSeconds('--cancel-grace', flags.cancelGrace),
  };
  const cwd = process.cwd();
  const color = decideColor();
  const columns = process.stdout.columns || Number(process.env.COLUMNS) || 80;
  const write = (text: string): void => {
    process.stdout.write(text);
  };
  const reporters: Reporter[] = [new TerminalReporter(write, { color, width: columns })];
  if (flags.junit) reporters.push(new JunitReporter(resolve(cwd, flags.junit)));
  if (flags.json) reporters.push(new JsonReporter(resolve(cwd, flags.json)));
  const memory = resolveMemory(flags);
  const outcome = await runTests(
    {
      cwd,
      python: flags.python ?? process.env.BULKHEAD_PYTHON ?? 'python3',
      workers,
      standby: parseCount('--standby', flags.standby),
      pytestArgs,
      color,
      columns,
      ...timeouts,
      heartbeatIntervalSeconds: Math.min(1, timeouts.heartbeatTimeoutSeconds / 4),
      retries: parseCount('--retries', flags.retries),
      flakyPasses: flags.flakyPasses,
      restart: DEFAULT_RESTART_POLICY,
      useCgroups: flags.cgroups,
      memory,
      keepArtifacts: flags.artifacts,
    },
    reporters,
    (line) => process.stderr.write(`${line}\n`),
  );
  if (outcome.error !== null) {
    // pytest's own usage errors already begin with "ERROR:"; ours get a prefix naming us.
    const text = outcome.error.startsWith('ERROR:') ? outcome.error : `bulkhead: error: ${outcome.error}`;
    process.stderr.write(`${text}\n`);
  }
  return outcome.exitCode;
}

function resolveMemory(flags: RunFlags): MemoryOptions {
  const limit = effectiveMemoryLimit();
  let spec: BudgetSpec = { kind: 'default' };
  if (flags.memoryBudget !== undefined) {
    const parsed = parseBudget(flags.memoryBudget);
    if (parsed === null) throw new UsageError(`--memory-budget must be a size such as 4G or 512M, or a percentage such as 80% (got '${flags.memoryBudget}')`);
    spec = parsed;
  }
  let workerMaxBytes: number | null = null;
  if (flags.workerMemoryMax !== undefined) {
    workerMaxBytes = parseBytes(flags.workerMemoryMax);
    if (workerMaxBytes === null) throw new UsageError(`--worker-memory-max must be a size such as 2G or 512M (got '${flags.workerMemoryMax}')`);
  }
  let recycleBytes: number | null = null;
  if (flags.workerRecycleMemory !== undefined) {
    recycleBytes = parseBytes(flags.workerRecycleMemory);
    if (recycleBytes === null) throw new UsageError(`--worker-recycle-memory must be a size such as 1G or 512M (got '${flags.workerRecycleMemory}')`);
  }
  if (flags.memoryControl !== 'auto' && flags.memoryControl !== 'rlimit') {
    throw new UsageError(`--memory-control must be 'auto' or 'rlimit' (got '${flags.memoryControl}')`);
  }
  return {
    limitBytes: limit.bytes,
    limitSource: limit.source,
    budgetBytes: memoryBudget(limit.bytes, spec),
    workerMaxBytes,
    forceRlimit: flags.memoryControl === 'rlimit',
    recycleBytes,
  };
}

/** Colour as pytest decides it: NO_COLOR/FORCE_COLOR/PY_COLORS, else whether stdout is a terminal. */
function decideColor(): boolean {
  const env = process.env;
  if (env.PY_COLORS === '1') return true;
  if (env.PY_COLORS === '0') return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return true;
  return Boolean(process.stdout.isTTY) && env.TERM !== 'dumb';
}
