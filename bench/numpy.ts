/**
 * Issue 13's first target: numpy's whole suite on 2 workers, `bulkhead run --workers 2` against
 * `pytest -n 2` (xdist), and plain `pytest` with `--plain` (~9 min, off by default). The goal is
 * bulkhead at most 0.9x xdist.
 *
 *   node dist/bench/numpy.js [--rounds N] [--workers N] [--plain] [--subset PKG] [--cgroup-limit GIB]
 *                            [--warmup collect|none] [--no-save] [-- pytest args]
 *
 * Every tool gets `--pyargs numpy --continue-on-collection-errors -p no:cacheprovider` (`--subset
 * numpy.linalg` swaps the package; arguments after `--` replace all of it) plus `-p
 * bulkhead_bench_memdeselect`, the plugin in bench/numpy-deselect.ts that deselects the tests
 * numpy's `requires_memory` wraps and that need more than a quarter of the machine's memory
 * (under load they skip at run time, so they would not compare). Every tool runs inside a memory
 * cgroup (cgroup v1) this script makes under its own, capped at 16 GiB unless told, and removes at
 * the end, also on error or Ctrl-C; per run it records the cgroup's peak (memory.max_usage_in_bytes)
 * and failcnt, both reset before each run. One round by default (each takes ~5 min a tool); tools
 * are interleaved, the order rotating each round; the ratio is bulkhead/xdist per round, and the
 * median of those.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CappedCgroup, cgroupSkipReason } from '../test/support/memory-cgroup.js';
import { DESELECT_DIR_VARIABLE, DESELECT_PLUGIN, readDeselection, writeDeselectPlugin, type Deselection } from './numpy-deselect.js';
import {
  benchEnvironment,
  formatSeconds,
  loadAverage,
  machineInfo,
  makeTools,
  median,
  parseBenchArgs,
  progress,
  saveResults,
  table,
  timeRun,
  writeRssHook,
  type RunRecord,
  type Tool,
  type ToolName,
} from './lib.js';

const USAGE =
  'usage: node dist/bench/numpy.js [--rounds N] [--workers N] [--plain] [--subset PKG] [--cgroup-limit GIB] [--warmup collect|none] [--no-save] [-- pytest args]';
const GiB = 1024 ** 3;
const COMMON_ARGS = ['--continue-on-collection-errors', '-p', 'no:cacheprovider'];

interface NumpyRun extends RunRecord {
  cgroupPeakBytes: number;
  cgroupFailcnt: number;
  deselection: Deselection;
  /** The log's last line, for a run that printed no pytest summary (a crash, a usage error). */
  lastLine: string | null;
}

async function main(): Promise<void> {
  // `--plain` is a flag; parseBenchArgs knows only options with values.
  const argv = process.argv.slice(2);
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const plain = own.includes('--plain');
  const args = parseBenchArgs(
    argv.filter((arg, index) => !(arg === '--plain' && (dashes === -1 || index < dashes))),
    USAGE,
    ['--subset', '--cgroup-limit', '--warmup'],
  );
  // One round unless asked: a round of the whole suite is ~10 min of a shared 2-core machine.
  if (!own.includes('--rounds')) args.rounds = 1;
  const fail = (message: string): never => {
    process.stderr.write(`bench numpy: ${message}\n${USAGE}\n`);
    process.exit(2);
  };
  const limitGiB = Number(args.extra.get('--cgroup-limit') ?? '16');
  if (!(limitGiB > 0)) fail('--cgroup-limit must be a positive number of GiB');
  const warmup = args.extra.get('--warmup') ?? 'collect';
  if (warmup !== 'collect' && warmup !== 'none') return fail('--warmup must be collect or none');
  const subset = args.extra.get('--subset');
  if (subset !== undefined && args.rest !== null) fail('--subset and pytest arguments after -- do not go together');
  const target = args.rest && args.rest.length > 0 ? args.rest : ['--pyargs', subset ?? 'numpy', ...COMMON_ARGS];
  const pytestArgs = [...target, '-p', DESELECT_PLUGIN];
  const skip = cgroupSkipReason();
  if (skip !== null) fail(`${skip}: every tool runs inside a memory cgroup`);

  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-numpy-'));
  const cgroup = CappedCgroup.create(`bulkhead-bench-numpy-${process.pid}`, Math.round(limitGiB * GiB));
  const cleanup = (): void => cgroup.remove();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      progress(`bench numpy: ${signal}: removing ${cgroup.path}`);
      cleanup();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
  try {
    await benchmark({ rounds: args.rounds, workers: args.workers, save: args.save, plain, warmup, pytestArgs, limitGiB }, scratch, cgroup);
  } finally {
    cleanup();
  }
}

interface Options {
  rounds: number;
  workers: number;
  save: boolean;
  plain: boolean;
  warmup: 'collect' | 'none';
  pytestArgs: string[];
  limitGiB: number;
}

async function benchmark(options: Options, scratch: string, cgroup: CappedCgroup): Promise<void> {
  // An empty cwd: no pytest configuration or conftest is picked up from where the bench is started.
  const cwd = join(scratch, 'cwd');
  const logs = join(scratch, 'logs');
  mkdirSync(cwd);
  mkdirSync(logs);
  const pluginPath = writeDeselectPlugin(join(scratch, 'plugin'));
  const bench = benchEnvironment(scratch);
  const tools = makeTools(bench, options.workers, writeRssHook(scratch));
  const active: ToolName[] = options.plain ? ['bulkhead', 'xdist', 'pytest'] : ['bulkhead', 'xdist'];
  let runCount = 0;
  /** The tool inside the cgroup, with the plugin importable and its own report folder. */
  const prepared = (tool: Tool): { tool: Tool; reports: string } => {
    const reports = join(scratch, 'deselected', String(++runCount));
    mkdirSync(reports, { recursive: true });
    const pythonPath = tool.env.PYTHONPATH ? `${pluginPath}:${tool.env.PYTHONPATH}` : pluginPath;
    const wrapped = cgroup.wrap(tool.command, tool.prefix);
    return {
      tool: { ...tool, command: wrapped.command, prefix: wrapped.args, env: { ...tool.env, PYTHONPATH: pythonPath, [DESELECT_DIR_VARIABLE]: reports } },
      reports,
    };
  };
  const loadBefore = loadAverage();
  const startedAt = new Date();
  progress(
    `bench numpy: ${options.pytestArgs.join(' ')}; ${active.join(', ')}; ${options.rounds} round(s); ` +
      `cgroup ${cgroup.path} capped at ${options.limitGiB} GiB; logs in ${logs}`,
  );

  // Untimed: one plain `--collect-only` fills the bytecode and assertion-rewrite caches of every test module.
  let warmupNote = 'none';
  if (options.warmup === 'collect') {
    const { tool } = prepared(tools.pytest);
    const record = await timeRun(tool, [...options.pytestArgs, '--collect-only', '-q'], cwd, join(logs, 'warmup.log'), { round: 0, what: 'warmup' });
    warmupNote = `one untimed pytest --collect-only run before the timed rounds (${formatSeconds(record.seconds)} s, exit ${record.exitCode})`;
    progress(`  warm-up: ${warmupNote}`);
  }

  const runs: NumpyRun[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const order = active.map((_, index) => active[(index + round - 1) % active.length]!);
    for (const name of order) {
      const { tool, reports } = prepared(tools[name]);
      resetCounters(cgroup);
      const log = join(logs, `r${round}-${name}.log`);
      const record = await timeRun(tool, options.pytestArgs, cwd, log, { round, what: 'suite' });
      const run: NumpyRun = {
        ...record,
        lastLine: record.summary === null ? lastLine(log) : null,
        cgroupPeakBytes: cgroup.peakBytes(),
        cgroupFailcnt: readCounter(cgroup, 'memory.failcnt'),
        deselection: readDeselection(reports),
      };
      runs.push(run);
      progress(
        `  round ${round} ${tools[name].label.padEnd(26)} ${formatSeconds(run.seconds).padStart(8)} s  exit ${run.exitCode}  ` +
          `peak ${(run.cgroupPeakBytes / GiB).toFixed(2)} GiB  failcnt ${run.cgroupFailcnt}  deselected ${run.deselection.counts.join('/') || '?'}  ${run.summary ?? `(no summary line) ${run.lastLine ?? ''}`}`,
      );
    }
  }

  const perRound = Array.from({ length: options.rounds }, (_, index) => {
    const seconds = (name: ToolName): number => runs.find((run) => run.round === index + 1 && run.tool === name)!.seconds;
    return { round: index + 1, bulkheadOverXdist: round3(seconds('bulkhead') / seconds('xdist')) };
  });
  const medianRatio = round3(median(perRound.map((entry) => entry.bulkheadOverXdist)));
  const stats = Object.fromEntries(
    active.map((name) => {
      const mine = runs.filter((run) => run.tool === name);
      return [name, { median: median(mine.map((run) => run.seconds)), runs: mine.map((run) => run.seconds), peakBytesMax: Math.max(...mine.map((run) => run.cgroupPeakBytes)) }];
    }),
  ) as Partial<Record<ToolName, { median: number; runs: number[]; peakBytesMax: number }>>;
  const deselectedIds = [...new Set(runs.flatMap((run) => run.deselection.ids))].sort();

  const rows = active.map((name) => [
    tools[name].label,
    formatSeconds(stats[name]!.median),
    stats[name]!.runs.map(formatSeconds).join(' '),
    (stats[name]!.peakBytesMax / GiB).toFixed(2),
    String(Math.max(...runs.filter((run) => run.tool === name).map((run) => run.cgroupFailcnt))),
  ]);
  const output = [
    '',
    `numpy (${options.pytestArgs.join(' ')}), wall seconds${options.rounds > 1 ? `, median of ${options.rounds}` : ''}; each tool in a cgroup capped at ${options.limitGiB} GiB`,
    table(['tool', 'median', 'runs', 'peak GiB', 'failcnt'], rows),
    '',
    `bulkhead/xdist per round: ${perRound.map((entry) => entry.bulkheadOverXdist.toFixed(3)).join(' ')}; median ${medianRatio.toFixed(3)} (target: at most 0.9)`,
    `deselected (requires_memory above a quarter of RAM, ${runs[0]?.deselection.limitBytes ?? '?'} bytes): ${deselectedIds.length}: ${deselectedIds.join(' ')}`,
    `summaries: ${runs.map((run) => `r${run.round} ${run.tool}: ${run.summary ?? '?'}`).join(' | ')}`,
    `warm-up: ${warmupNote}; load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}`,
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  if (options.save) {
    const path = saveResults('numpy', {
      benchmark: 'numpy',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      pytestArgs: options.pytestArgs,
      workers: options.workers,
      rounds: options.rounds,
      order: 'interleaved; tool order rotates each round',
      warmup: warmupNote,
      cgroup: { limitGiB: options.limitGiB, note: 'cgroup v1 child of this process\'s memory cgroup; peak and failcnt reset before each run' },
      deselection: { plugin: DESELECT_PLUGIN, rule: 'numpy requires_memory(free_bytes), or the bytes a test is known to take (UNDERSTATED), > SC_PHYS_PAGES * SC_PAGE_SIZE / 4', limitBytes: runs[0]?.deselection.limitBytes ?? null, count: deselectedIds.length, ids: deselectedIds },
      environment: bench.description,
      machine: { ...machineInfo(bench), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
      tools: Object.fromEntries(active.map((name) => [name, tools[name].label])),
      seconds: stats,
      ratios: { bulkheadOverXdistPerRound: perRound, bulkheadOverXdistMedian: medianRatio },
      runs,
    });
    progress(`saved ${path}`);
  }
  const odd = runs.filter((run) => run.summary === null || run.exitCode === null || run.exitCode > 1 || run.cgroupFailcnt > 0);
  if (odd.length > 0) progress(`note: ${odd.length} run(s) without a summary, ended by a signal or an error exit, or hit the cgroup's cap; logs kept in ${logs}`);
  else rmSync(scratch, { recursive: true, force: true });
}

/** Peak and failcnt count from now (v1: writing 0 resets both). */
function resetCounters(cgroup: CappedCgroup): void {
  cgroup.resetPeak();
  writeFileSync(join(cgroup.path, 'memory.failcnt'), '0');
}

function readCounter(cgroup: CappedCgroup, name: string): number {
  try {
    return Number(readFileSync(join(cgroup.path, name), 'utf8').trim());
  } catch {
    return NaN;
  }
}

function lastLine(log: string): string | null {
  const last = readFileSync(log, 'utf8').trim().split('\n').pop();
  return last ? last.slice(0, 200) : null;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench numpy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
