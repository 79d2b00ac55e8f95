import { resolve } from 'node:path';
import { ENV } from '../model/environment.js';
import { JsonReporter } from '../reporters/json-reporter.js';
import { JunitReporter } from '../reporters/junit.js';
import type { Reporter } from '../reporters/reporter.js';
import { TerminalReporter } from '../reporters/terminal/terminal-reporter.js';
import { ListReporter } from '../reporters/list-reporter.js';
import { DEFAULT_RESTART_POLICY } from '../scheduler/restart-policy.js';
import { runTests } from '../runner/run.js';
import { parseCount, parsePositive, parseSeconds, parseWorkers } from './parse-options.js';
import { decideColor, terminalColumns } from './terminal.js';
import { UsageError } from './usage-error.js';
import { CoalescedOutput } from './coalesced-output.js';
import type { MemoryOptions } from '../core/options.js';
import { memoryBudget, parseBudget, parseBytes } from '../scheduler/memory-budget.js';
import { describeRunOptions, loadConfig, mergeRunOptions, resolveAllSettings, type CliRunOptions, type CliTestOverrides, type MpStartMethod, type RunOptions as ConfigRunOptions } from '../config/index.js';
import { ExitCode } from '../model/exit-code.js';
import { effectiveMemoryLimit } from '../supervisor/platform/index.js';

export interface RunFlags {
  workers?: string;
  standby?: string;
  config?: string;
  mpStartMethod?: string;
  threadCaps: boolean;
  xdistIdentity: boolean;
  python?: string;
  junit?: string;
  json?: string;
  artifacts: boolean;
  /** `--no-record` makes it false. */
  record: boolean;
  keepRuns?: string;
  timeout?: string;
  startupTimeout: string;
  heartbeatTimeout: string;
  runTimeout?: string;
  killGrace: string;
  cancelGrace: string;
  retries?: string;
  failOnFlaky: boolean;
  cgroups: boolean;
  memoryBudget?: string;
  workerMemoryMax?: string;
  workerRecycleMemory?: string;
  memoryControl: string;
}

export async function runCommand(pytestArgs: string[], flags: RunFlags, mode: 'run' | 'list' = 'run'): Promise<number> {
  const cwd = process.cwd();
  const loaded = loadConfig(cwd, flags.config);
  if (!loaded.ok) {
    // Every problem in the file at once, one line each, and nothing runs.
    for (const error of loaded.errors) process.stderr.write(`bulkhead: error: ${error}\n`);
    return ExitCode.USAGE_ERROR;
  }
  for (const notice of loaded.config.notices) process.stderr.write(`bulkhead: ${notice}\n`);
  const cli = cliRunOptions(flags);
  const mergedRun = mergeRunOptions(cli, loaded.config);
  const merged = mergedRun.values;
  const timeouts = {
    timeoutSeconds: merged.timeoutSeconds,
    startupTimeoutSeconds: parseSeconds('--startup-timeout', flags.startupTimeout),
    heartbeatTimeoutSeconds: parseSeconds('--heartbeat-timeout', flags.heartbeatTimeout),
    runTimeoutSeconds: flags.runTimeout !== undefined ? parseSeconds('--run-timeout', flags.runTimeout) : null,
    killGraceSeconds: parseSeconds('--kill-grace', flags.killGrace),
    cancelGraceSeconds: parseSeconds('--cancel-grace', flags.cancelGrace),
  };
  const color = decideColor();
  const columns = terminalColumns();
  const stdout = new CoalescedOutput((text) => process.stdout.write(text));
  const { write } = stdout;
  const warn = (line: string): void => {
    stdout.flush();
    process.stderr.write(`${line}\n`);
  };
  const reporters: Reporter[] = mode === 'list' ? [new ListReporter(write, describeRunOptions(mergedRun))] : [new TerminalReporter(write, { color, width: columns })];
  const junitPath = flags.junit && mode === 'run' ? resolve(cwd, flags.junit) : null;
  // Also without --junit: pytest's own --junitxml (after --, or in addopts) is written by bulkhead.
  if (mode === 'run') reporters.push(new JunitReporter(junitPath));
  if (flags.json && mode === 'run') reporters.push(new JsonReporter(resolve(cwd, flags.json)));
  const memory = resolveMemory(merged, flags.memoryControl);
  // Per-test settings: only the flags actually given beat overrides and markers.
  const cliTest: CliTestOverrides = {
    ...(cli.timeoutSeconds != null ? { timeoutSeconds: cli.timeoutSeconds } : {}),
    ...(cli.retries !== undefined ? { retries: cli.retries } : {}),
  };
  const outcome = await runTests(
    {
      cwd,
      python: merged.python ?? process.env[ENV.python.name] ?? 'python3',
      workers: merged.workers,
      standby: mode === 'list' ? 0 : merged.standby,
      listOnly: mode === 'list',
      pytestArgs,
      color,
      columns,
      ...timeouts,
      heartbeatIntervalSeconds: Math.min(1, timeouts.heartbeatTimeoutSeconds / 4),
      retries: merged.retries,
      failOnFlaky: flags.failOnFlaky,
      restart: DEFAULT_RESTART_POLICY,
      useCgroups: flags.cgroups,
      memory,
      keepArtifacts: flags.artifacts && mode === 'run',
      record: merged.record && mode === 'run',
      keepRuns: merged.keepRuns,
      resources: merged.resources,
      mpStartMethod: merged.mpStartMethod,
      threadCaps: merged.threadCaps,
      xdistIdentity: merged.xdistIdentity,
      junitPath,
      resolveSettings: (tests) => {
        const resolved = resolveAllSettings(tests, loaded.config, cliTest);
        if (!resolved.ok) return resolved;
        return { ok: true, settings: tests.map((test) => resolved.settings.get(test.id)!) };
      },
    },
    reporters,
    warn,
  );
  stdout.flush();
  if (outcome.error !== null) {
    // pytest's own usage errors already begin with "ERROR:"; ours get a prefix naming us.
    const text = outcome.error.startsWith('ERROR:') ? outcome.error : `bulkhead: error: ${outcome.error}`;
    process.stderr.write(`${text}\n`);
  }
  return outcome.exitCode;
}

/** The run options given on the command line (a flag not given is not a value: config may set it). */
function cliRunOptions(flags: RunFlags): CliRunOptions {
  const cli: CliRunOptions = {};
  if (flags.workers !== undefined) cli.workers = flags.workers === 'auto' ? 'auto' : parseWorkers(flags.workers);
  if (flags.standby !== undefined) cli.standby = parseCount('--standby', flags.standby);
  if (flags.retries !== undefined) cli.retries = parseCount('--retries', flags.retries);
  if (flags.timeout !== undefined) cli.timeoutSeconds = parseSeconds('--timeout', flags.timeout);
  if (flags.python !== undefined) cli.python = flags.python;
  if (flags.memoryBudget !== undefined) {
    const parsed = parseBudget(flags.memoryBudget);
    if (parsed === null) throw new UsageError(`--memory-budget must be a size such as 4G or 512M, or a percentage such as 80% (got '${flags.memoryBudget}')`);
    cli.memoryBudget = parsed;
  }
  if (flags.workerMemoryMax !== undefined) cli.workerMemoryMaxBytes = parseSize('--worker-memory-max', flags.workerMemoryMax);
  if (flags.workerRecycleMemory !== undefined) cli.workerRecycleMemoryBytes = parseSize('--worker-recycle-memory', flags.workerRecycleMemory);
  if (flags.mpStartMethod !== undefined) {
    if (!['fork', 'spawn', 'forkserver'].includes(flags.mpStartMethod)) {
      throw new UsageError(`--mp-start-method must be fork, spawn or forkserver (got '${flags.mpStartMethod}')`);
    }
    cli.mpStartMethod = flags.mpStartMethod as MpStartMethod;
  }
  if (!flags.threadCaps) cli.threadCaps = false;
  if (!flags.xdistIdentity) cli.xdistIdentity = false;
  if (!flags.record) cli.record = false;
  if (flags.keepRuns !== undefined) cli.keepRuns = parsePositive('--keep-runs', flags.keepRuns);
  return cli;
}

function parseSize(option: string, value: string): number {
  const bytes = parseBytes(value);
  if (bytes === null) throw new UsageError(`${option} must be a size such as 2G or 512M (got '${value}')`);
  return bytes;
}

function resolveMemory(merged: ConfigRunOptions, memoryControl: string): MemoryOptions {
  const limit = effectiveMemoryLimit();
  if (memoryControl !== 'auto' && memoryControl !== 'rlimit') {
    throw new UsageError(`--memory-control must be 'auto' or 'rlimit' (got '${memoryControl}')`);
  }
  return {
    limitBytes: limit.bytes,
    limitSource: limit.source,
    budgetBytes: memoryBudget(limit.bytes, merged.memoryBudget),
    budgetChosen: merged.memoryBudget.kind !== 'default',
    workerMaxBytes: merged.workerMemoryMaxBytes,
    forceRlimit: memoryControl === 'rlimit',
    recycleBytes: merged.workerRecycleMemoryBytes,
  };
}
