/**
 * Longest-first on a skewed suite: 60 sleeping tests, ~38 s of sleep in all, many short ones and
 * the four longest (4-7 s each) collected last, in a module of their own with a few short ones.
 * Timed under `bulkhead run --workers 2` cold (a fresh project: no `.bulkhead`, no history),
 * bulkhead with history (the same project right after that cold run recorded every duration) and
 * `pytest -n 2`, interleaved round by round (cold always before history, xdist's place rotating).
 *
 * The yardstick is the longest-first bound from the known sleeps on 2 workers: the lower bound
 * max(sum / 2, longest), and the makespan of an LPT schedule (longest first, each test to the
 * least loaded worker). Each run's makespan is its wall time (spawn to exit: interpreter start,
 * collection and shutdown included), and its test span (first test start to last test end, from
 * timestamps the tests write); both are reported against the LPT makespan, per round, and the
 * median of the per-round ratios. Saves bench/results/skewed-<date>.json.
 *
 *   node dist/bench/skewed.js [--rounds N] [--no-save]
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
} from './lib.js';

const USAGE = 'usage: node dist/bench/skewed.js [--rounds N] [--no-save]';
const WORKERS = 2;
/** pytest-benchmark off as in the other benchmarks; no cache plugin (no --lf/--ff state between runs). */
const COMMON_ARGS = ['-p', 'no:benchmark', '-p', 'no:cacheprovider'];
const TIMES_ENV = 'SKEWED_BENCH_TIMES';

type Variant = 'cold' | 'history' | 'xdist';

/** Sleep seconds per module, in collection order; the last module ends with the four longest. */
function suiteLayout(): { module: string; sleeps: number[] }[] {
  const shorts = (offset: number, count: number): number[] =>
    Array.from({ length: count }, (_, n) => Math.round((0.125 + ((n * 7 + offset) % 8) * 0.05) * 1000) / 1000);
  return [
    { module: 'test_a.py', sleeps: shorts(0, 10) },
    { module: 'test_b.py', sleeps: shorts(1, 10) },
    { module: 'test_c.py', sleeps: shorts(2, 10) },
    { module: 'test_d.py', sleeps: shorts(3, 10) },
    { module: 'test_e.py', sleeps: shorts(4, 10) },
    { module: 'test_z_slow.py', sleeps: [...shorts(5, 6), 4, 5, 6, 7] },
  ];
}

function writeSuite(root: string): number[] {
  writeFileSync(join(root, 'pytest.ini'), '[pytest]\n');
  // Each test logs its own start and end (wall clock, comparable across processes) to a file of
  // its process, named by the run's folder in the environment.
  writeFileSync(
    join(root, 'conftest.py'),
    [
      'import os, time',
      '',
      'def nap(seconds):',
      '    start = time.time()',
      '    time.sleep(seconds)',
      `    folder = os.environ.get("${TIMES_ENV}")`,
      '    if folder:',
      '        with open(os.path.join(folder, f"{os.getpid()}.log"), "a") as out:',
      '            out.write(f"{start} {time.time()}\\n")',
      '',
    ].join('\n'),
  );
  const all: number[] = [];
  for (const { module, sleeps } of suiteLayout()) {
    const body = sleeps.map((seconds, n) => `def test_${n}():\n    nap(${seconds})\n`).join('\n');
    writeFileSync(join(root, module), `from conftest import nap\n\n${body}`);
    all.push(...sleeps);
  }
  return all;
}

/** Makespan of LPT on `workers` machines: longest first, each to the least loaded. */
export function lptMakespan(durations: readonly number[], workers: number): number {
  const loads = new Array<number>(workers).fill(0);
  for (const duration of [...durations].sort((a, b) => b - a)) {
    let least = 0;
    for (let w = 1; w < workers; w++) if (loads[w]! < loads[least]!) least = w;
    loads[least]! += duration;
  }
  return Math.max(...loads);
}

/** First test start to last test end, from the tests' own timestamps; null when none were written. */
function testSpan(folder: string): { span: number; tests: number } | null {
  let first = Infinity;
  let last = -Infinity;
  let tests = 0;
  for (const file of readdirSync(folder)) {
    for (const line of readFileSync(join(folder, file), 'utf8').split('\n')) {
      const [start, end] = line.split(' ').map(Number);
      if (start === undefined || end === undefined || !Number.isFinite(start) || !Number.isFinite(end)) continue;
      first = Math.min(first, start);
      last = Math.max(last, end);
      tests += 1;
    }
  }
  return tests > 0 ? { span: Math.round((last - first) * 1000) / 1000, tests } : null;
}

/** Round order: cold always right before history (it writes the history that run reads). */
function order(round: number): Variant[] {
  const orders: Variant[][] = [
    ['cold', 'history', 'xdist'],
    ['xdist', 'cold', 'history'],
    ['cold', 'xdist', 'history'],
  ];
  return orders[round % orders.length]!;
}

interface SkewedRun extends RunRecord {
  variant: Variant;
  testSpan: number | null;
  testsTimed: number;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE);
  if (args.rest !== null) {
    process.stderr.write(`skewed takes no pytest arguments\n${USAGE}\n`);
    process.exit(2);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-skewed-'));
  const template = join(scratch, 'template');
  const logs = join(scratch, 'logs');
  mkdirSync(template);
  mkdirSync(logs);
  const sleeps = writeSuite(template);
  const sum = sleeps.reduce((total, value) => total + value, 0);
  const lowerBound = Math.max(sum / WORKERS, Math.max(...sleeps));
  const lpt = lptMakespan(sleeps, WORKERS);
  const bench = benchEnvironment(scratch);
  const tools = makeTools(bench, WORKERS, writeRssHook(scratch));
  const loadBefore = loadAverage();
  const startedAt = new Date();
  progress(
    `bench skewed: ${sleeps.length} tests, ${sum.toFixed(2)} s of sleep, longest ${Math.max(...sleeps)} s; ` +
      `bound on ${WORKERS} workers: max(sum/${WORKERS}, longest) ${lowerBound.toFixed(2)} s, LPT ${lpt.toFixed(2)} s; ${args.rounds} rounds; ${scratch}`,
  );
  // Untimed: bytecode and assertion-rewrite caches, written into the template every copy starts from.
  await timeRun(tools.pytest, [...COMMON_ARGS, '--collect-only', '-q'], template, join(logs, 'warmup.log'), { round: 0, what: 'warmup' });

  const runs: SkewedRun[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    // A fresh copy per round: the cold run finds no history, the history run finds the cold run's.
    const project = join(scratch, `round-${round}`);
    cpSync(template, project, { recursive: true });
    for (const variant of order(round - 1)) {
      const times = join(scratch, `times-${round}-${variant}`);
      mkdirSync(times);
      const base: Tool = variant === 'xdist' ? tools.xdist : tools.bulkhead;
      const tool: Tool = { ...base, env: { ...base.env, [TIMES_ENV]: times } };
      const record = await timeRun(tool, COMMON_ARGS, variant === 'xdist' ? template : project, join(logs, `r${round}-${variant}.log`), { round, what: variant });
      const span = testSpan(times);
      runs.push({ ...record, variant, testSpan: span?.span ?? null, testsTimed: span?.tests ?? 0 });
      progress(
        `  round ${round} ${variant.padEnd(8)} wall ${formatSeconds(record.seconds).padStart(6)} s (${(record.seconds / lpt).toFixed(2)}x)  ` +
          `tests ${span ? formatSeconds(span.span).padStart(6) : '   n/a'} s  exit ${record.exitCode}  ${record.summary ?? '(no summary line)'}`,
      );
    }
  }

  const variants: Variant[] = ['cold', 'history', 'xdist'];
  const labels: Record<Variant, string> = {
    cold: `bulkhead run --workers ${WORKERS} (cold: no history)`,
    history: `bulkhead run --workers ${WORKERS} (with history)`,
    xdist: `pytest -n ${WORKERS}`,
  };
  const stats = Object.fromEntries(
    variants.map((variant) => {
      const mine = runs.filter((run) => run.variant === variant);
      const wall = mine.map((run) => run.seconds);
      const spans = mine.flatMap((run) => (run.testSpan !== null ? [run.testSpan] : []));
      return [
        variant,
        {
          label: labels[variant],
          wall,
          testSpan: spans,
          wallOverLpt: wall.map((seconds) => round3(seconds / lpt)),
          testSpanOverLpt: spans.map((seconds) => round3(seconds / lpt)),
          medianWallOverLpt: round3(median(wall.map((seconds) => seconds / lpt))),
          medianTestSpanOverLpt: spans.length > 0 ? round3(median(spans.map((seconds) => seconds / lpt))) : null,
          medianWallOverLowerBound: round3(median(wall.map((seconds) => seconds / lowerBound))),
        },
      ];
    }),
  ) as Record<Variant, { label: string; wall: number[]; testSpan: number[]; wallOverLpt: number[]; testSpanOverLpt: number[]; medianWallOverLpt: number; medianTestSpanOverLpt: number | null; medianWallOverLowerBound: number }>;

  const rows = variants.map((variant) => {
    const s = stats[variant];
    return [
      s.label,
      s.wall.map(formatSeconds).join(' / '),
      `${s.medianWallOverLpt.toFixed(2)}x`,
      s.testSpan.map(formatSeconds).join(' / '),
      s.medianTestSpanOverLpt !== null ? `${s.medianTestSpanOverLpt.toFixed(2)}x` : 'n/a',
    ];
  });
  const loadAfter = loadAverage();
  const output = [
    '',
    `skewed suite: ${sleeps.length} tests, ${sum.toFixed(2)} s of sleep; bound on ${WORKERS} workers: lower ${lowerBound.toFixed(2)} s, LPT ${lpt.toFixed(2)} s`,
    table(['tool', 'wall s (per round)', 'wall/LPT (median)', 'test span s (per round)', 'span/LPT (median)'], rows),
    '',
    `ratios are medians of per-round ratios to the LPT makespan; load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`,
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  if (args.save) {
    const path = saveResults('skewed', {
      benchmark: 'skewed',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      suite: { tests: sleeps.length, sleepSeconds: round3(sum), longest: Math.max(...sleeps), layout: suiteLayout() },
      bound: { workers: WORKERS, lowerBound: round3(lowerBound), lptMakespan: round3(lpt) },
      pytestArgs: COMMON_ARGS,
      rounds: args.rounds,
      order: 'per round: a fresh copy of the project; bulkhead cold right before bulkhead with history (which reads the history the cold run wrote); xdist rotates',
      warmup: 'one untimed pytest --collect-only in the template every copy is made from',
      environment: bench.description,
      machine: { ...machineInfo(bench), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, niceness: niceness() },
      stats,
      runs,
    });
    progress(`saved ${path}`);
  }
  if (runs.every((run) => run.exitCode === 0)) rmSync(scratch, { recursive: true, force: true });
  else progress(`note: a run did not pass; logs kept in ${logs}`);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** This process's nice value (the benchmark may be run niced on the shared machine). */
function niceness(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[16]);
  } catch {
    return null;
  }
}

await main();
