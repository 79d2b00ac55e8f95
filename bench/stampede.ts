/**
 * The stampede (issue 4): test/fixtures/stampede (8 parametrizations of a test that builds a
 * 1.5 GiB model and holds it for a second) inside a cgroup v1 capped at 4.5 GiB, run by
 * `bulkhead run --workers 4 --memory-budget 4G` (cold: no history; then warm), by `pytest -n 4`
 * (xdist) and by plain `pytest` (one at a time). For each: wall time, passed / failed / crashed,
 * the cgroup's peak memory and OOM kills, and how many models were held at once (from the
 * timestamps the tests log). The yardstick is the ideal packing: two fit, so 4 rounds of one
 * test's solo time (measured first, in the same cgroup).
 *
 *   node dist/bench/stampede.js [--rounds N] [--no-save]
 *
 * Every process the benchmark starts runs inside the capped cgroup, which is removed at the end
 * (with anything left in it); it refuses to run where no such cgroup can be made (root and a
 * writable cgroup v1 memory controller are needed). About 75 s a round on 2 cores.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CappedCgroup, cgroupSkipReason } from '../test/support/memory-cgroup.js';
import { maxOverlap, readIntervals, type Interval } from '../test/support/overlap.js';
import {
  REPO_ROOT,
  benchEnvironment,
  formatSeconds,
  loadAverage,
  machineInfo,
  makeTools,
  median,
  parseBenchArgs,
  progress,
  ratio,
  saveResults,
  table,
  timeRun,
  writeRssHook,
  type Tool,
} from './lib.js';

const USAGE = 'usage: node dist/bench/stampede.js [--rounds N] [--no-save]';
const GiB = 1024 ** 3;
const CAP_BYTES = 4.5 * GiB;
const WORKERS = 4;
const BUDGET = '4G';
const TESTS = 8;
/** Two 1.5 GiB models fit in the 4 GiB budget: the best any tool can do is 8 / 2 rounds. */
const AT_ONCE = 2;
const COMMON_ARGS = ['-p', 'no:benchmark'];
const SOLO_TEST = 'tests/test_stampede.py::test_build_model[0]';

type Variant = 'bulkhead-cold' | 'bulkhead-warm' | 'xdist' | 'pytest';
const VARIANTS: readonly Variant[] = ['bulkhead-cold', 'bulkhead-warm', 'xdist', 'pytest'];

interface StampedeRun {
  variant: Variant;
  round: number;
  seconds: number;
  exitCode: number | null;
  summary: string | null;
  passed: number;
  failed: number;
  crashed: number;
  cgroupPeakBytes: number;
  oomKills: number;
  /** The most models held at once (a test killed mid-way counts for one solo duration). */
  mostAtOnce: number;
  nodePeakRssMiB: number | null;
}

/** Counts from pytest's summary line; xdist reports a worker killed under a test as a failure. */
function pytestCounts(log: string, summary: string | null): { passed: number; failed: number; crashed: number } {
  const count = (word: string): number => Number(new RegExp(`(\\d+) ${word}`).exec(summary ?? '')?.[1] ?? 0);
  const crashed = (log.match(/^worker '\w+' crashed while running/gm) ?? []).length;
  return { passed: count('passed'), failed: count('failed') - crashed, crashed };
}

function bulkheadCounts(jsonPath: string): { passed: number; failed: number; crashed: number } {
  try {
    const summary = (JSON.parse(readFileSync(jsonPath, 'utf8')) as { summary: Record<string, number> }).summary;
    return { passed: summary.passed ?? 0, failed: (summary.failed ?? 0) + (summary.error ?? 0), crashed: summary.crashed ?? 0 };
  } catch {
    return { passed: 0, failed: 0, crashed: 0 };
  }
}

function closeKilled(intervals: readonly Interval[], soloSeconds: number): Interval[] {
  return intervals.map((interval) => (interval.end === null ? { ...interval, end: interval.start + soloSeconds } : interval));
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE);
  // One round unless asked: each costs ~75 s of a shared 2-core machine at 4.5 GiB.
  if (!process.argv.includes('--rounds')) args.rounds = 1;
  if (process.argv.includes('--workers')) {
    process.stderr.write(`bench stampede: the stampede is defined for ${WORKERS} workers (no --workers)\n${USAGE}\n`);
    process.exit(2);
  }
  const skip = cgroupSkipReason();
  if (skip !== null) {
    process.stderr.write(`bench stampede: ${skip}: the stampede only ever runs inside a capped cgroup\n`);
    process.exit(2);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-stampede-'));
  const logs = join(scratch, 'logs');
  mkdirSync(logs);
  const cgroup = CappedCgroup.create(`bulkhead-bench-stampede-${process.pid}`, CAP_BYTES);
  const cleanup = (): void => {
    cgroup.remove();
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    await benchmark(args.rounds, args.save, scratch, logs, cgroup);
  } finally {
    cleanup();
  }
}

async function benchmark(rounds: number, save: boolean, scratch: string, logs: string, cgroup: CappedCgroup): Promise<void> {
  const bench = benchEnvironment(scratch);
  const tools = makeTools(bench, WORKERS, writeRssHook(scratch));
  const inCgroup = (tool: Tool, extraPrefix: string[] = []): Tool => {
    const wrapped = cgroup.wrap(tool.command, [...extraPrefix, ...tool.prefix]);
    return { ...tool, command: wrapped.command, prefix: wrapped.args };
  };
  const bulkheadTool = (jsonPath: string): Tool => {
    const base = tools.bulkhead;
    // makeTools' bulkhead ends its prefix with `--python X --`: the memory options go before that.
    const dashes = base.prefix.lastIndexOf('--');
    const prefix = [...base.prefix.slice(0, dashes), '--memory-budget', BUDGET, '--json', jsonPath, '--', ...base.prefix.slice(dashes + 1)];
    return inCgroup({ ...base, label: `bulkhead run --workers ${WORKERS} --memory-budget ${BUDGET}`, prefix });
  };
  const loadBefore = loadAverage();
  const startedAt = new Date();
  progress(`bench stampede: ${TESTS} x 1.5 GiB in a ${CAP_BYTES / GiB} GiB cgroup (${cgroup.path}); ${rounds} round(s); logs in ${logs}`);

  const fixture = join(REPO_ROOT, 'test', 'fixtures', 'stampede');
  const runs: StampedeRun[] = [];
  const soloSeconds: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    // A fresh copy each round: the cold run must find no history.
    const project = join(scratch, `project-${round}`);
    cpSync(fixture, project, { recursive: true, filter: (source) => !/(\.bulkhead|__pycache__|\.pytest_cache)/.test(source) });
    const stampedeLog = (name: string): string => join(logs, `r${round}-${name}.stamps`);

    // Untimed warm-up (bytecode and assertion-rewrite caches), then one test alone: the solo time.
    await timeRun(inCgroup(tools.pytest), [...COMMON_ARGS, '--collect-only', '-q'], project, join(logs, `r${round}-warmup.log`), { round, what: 'warmup' });
    const soloLog = stampedeLog('solo');
    const soloTool = inCgroup({ ...tools.pytest, env: { ...tools.pytest.env, STAMPEDE_LOG: soloLog } });
    const solo = await timeRun(soloTool, [...COMMON_ARGS, SOLO_TEST], project, join(logs, `r${round}-solo.log`), { round, what: 'solo' });
    const soloInterval = readIntervals(soloLog)[0];
    if (solo.exitCode !== 0 || soloInterval?.end == null) throw new Error(`the solo run failed (exit ${solo.exitCode}); see ${logs}`);
    soloSeconds.push(soloInterval.end - soloInterval.start);
    progress(`  round ${round} solo: one test ${formatSeconds(soloSeconds.at(-1)!)} s (pytest wall ${formatSeconds(solo.seconds)} s)`);

    for (const variant of VARIANTS) {
      const log = join(logs, `r${round}-${variant}.log`);
      const stamps = stampedeLog(variant);
      const jsonPath = join(logs, `r${round}-${variant}.json`);
      const base = variant.startsWith('bulkhead') ? bulkheadTool(jsonPath) : variant === 'xdist' ? inCgroup(tools.xdist) : inCgroup(tools.pytest);
      const tool = { ...base, env: { ...base.env, STAMPEDE_LOG: stamps } };
      cgroup.resetPeak();
      const oomBefore = cgroup.oomKills();
      const record = await timeRun(tool, COMMON_ARGS, project, log, { round, what: variant });
      const counts = variant.startsWith('bulkhead') ? bulkheadCounts(jsonPath) : pytestCounts(readFileSync(log, 'utf8'), record.summary);
      const run: StampedeRun = {
        variant,
        round,
        seconds: record.seconds,
        exitCode: record.exitCode,
        summary: record.summary,
        ...counts,
        cgroupPeakBytes: cgroup.peakBytes(),
        oomKills: cgroup.oomKills() - oomBefore,
        mostAtOnce: maxOverlap(closeKilled(readIntervals(stamps), soloSeconds.at(-1)!)),
        nodePeakRssMiB: record.nodePeakRssMiB,
      };
      runs.push(run);
      progress(
        `  round ${round} ${variant.padEnd(14)} ${formatSeconds(run.seconds).padStart(7)} s  exit ${run.exitCode}  ` +
          `${run.passed} passed ${run.failed} failed ${run.crashed} crashed  peak ${(run.cgroupPeakBytes / GiB).toFixed(2)} GiB  ` +
          `oom kills ${run.oomKills}  at once ${run.mostAtOnce}`,
      );
    }
  }

  const solo = median(soloSeconds);
  const ideal = (TESTS / AT_ONCE) * solo;
  const labels: Record<Variant, string> = {
    'bulkhead-cold': `bulkhead --workers ${WORKERS} --memory-budget ${BUDGET} (cold)`,
    'bulkhead-warm': `bulkhead --workers ${WORKERS} --memory-budget ${BUDGET} (warm)`,
    xdist: `pytest -n ${WORKERS}`,
    pytest: 'pytest (one at a time)',
  };
  const stats = Object.fromEntries(
    VARIANTS.map((variant) => {
      const mine = runs.filter((run) => run.variant === variant);
      const pick = (key: 'passed' | 'failed' | 'crashed' | 'oomKills' | 'mostAtOnce'): number => Math.max(...mine.map((run) => run[key]));
      return [
        variant,
        {
          label: labels[variant],
          medianSeconds: median(mine.map((run) => run.seconds)),
          passedMin: Math.min(...mine.map((run) => run.passed)),
          failedMax: pick('failed'),
          crashedMax: pick('crashed'),
          oomKillsMax: pick('oomKills'),
          mostAtOnceMax: pick('mostAtOnce'),
          cgroupPeakBytesMax: Math.max(...mine.map((run) => run.cgroupPeakBytes)),
        },
      ];
    }),
  ) as Record<Variant, { label: string; medianSeconds: number; passedMin: number; failedMax: number; crashedMax: number; oomKillsMax: number; mostAtOnceMax: number; cgroupPeakBytesMax: number }>;

  const gib = (bytes: number): string => (bytes / GiB).toFixed(2);
  const rows: string[][] = [
    [`ideal packing (${AT_ONCE} at a time: ${TESTS / AT_ONCE} x solo ${formatSeconds(solo)} s)`, formatSeconds(ideal), '1.00x', '', `${TESTS}`, '0', '0', '', '', `${AT_ONCE}`],
    ...VARIANTS.map((variant) => {
      const s = stats[variant];
      return [
        s.label,
        formatSeconds(s.medianSeconds),
        ratio(s.medianSeconds, ideal),
        ratio(s.medianSeconds, stats.xdist.medianSeconds),
        String(s.passedMin),
        String(s.failedMax),
        String(s.crashedMax),
        gib(s.cgroupPeakBytesMax),
        String(s.oomKillsMax),
        String(s.mostAtOnceMax),
      ];
    }),
  ];
  const output = [
    '',
    `stampede: ${TESTS} x 1.5 GiB (hold 1 s) in a cgroup capped at ${CAP_BYTES / GiB} GiB; wall time in seconds${rounds > 1 ? `, median of ${rounds}` : ''}`,
    table(['run', 'wall s', 'vs ideal', 'vs xdist', 'passed', 'failed', 'crashed', 'peak GiB', 'oom kills', 'at once'], rows),
    '',
    `peak GiB: the cgroup's memory.max_usage_in_bytes (its cap is ${CAP_BYTES / GiB}); oom kills: the kernel's, at that cap; at once: the most models held at the same time`,
    `load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}`,
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  if (save) {
    const path = saveResults('stampede', {
      benchmark: 'stampede',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      fixture: 'test/fixtures/stampede',
      cgroupCapBytes: CAP_BYTES,
      pytestArgs: COMMON_ARGS,
      rounds,
      order: 'per round: warm-up (untimed), solo test, bulkhead cold, bulkhead warm, pytest -n 4, pytest',
      environment: bench.description,
      machine: { ...machineInfo(bench), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
      soloSeconds: { median: solo, runs: soloSeconds },
      idealSeconds: ideal,
      stats,
      ratios: Object.fromEntries(VARIANTS.map((variant) => [variant, { overIdeal: round3(stats[variant].medianSeconds / ideal), overXdist: round3(stats[variant].medianSeconds / stats.xdist.medianSeconds) }])),
      runs,
    });
    progress(`saved ${path}`);
  }
  if (runs.every((run) => !run.variant.startsWith('bulkhead') || run.exitCode === 0)) rmSync(scratch, { recursive: true, force: true });
  else progress(`note: a bulkhead run did not pass; logs kept in ${logs}`);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench stampede: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
