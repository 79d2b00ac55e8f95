/**
 * Per-test overhead: a generated suite of trivial tests (30 modules x 100 `def test_n(): pass`,
 * 3,000 tests) timed under `bulkhead run --workers 2`, `pytest -n 2` and plain `pytest`, each
 * paired in the same round with a baseline run of the same tool on a one-test suite (interpreter,
 * plugin and worker start-up). Per-test overhead = (suite - baseline) / 3000, median over the
 * rounds; interleaved, tool order rotating each round, after an untimed warm-up of each tool.
 * Prints a table and saves bench/results/overhead-<date>.json.
 *
 *   node dist/bench/overhead.js [--rounds N] [--workers N] [--modules N] [--tests N] [--no-save]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchEnvironment,
  generateTrivialSuite,
  formatSeconds,
  loadAverage,
  machineInfo,
  makeTools,
  median,
  parseBenchArgs,
  progress,
  ratio,
  roundOrder,
  saveResults,
  table,
  timeRun,
  TOOL_NAMES,
  writeRssHook,
  type RunRecord,
  type ToolName,
} from './lib.js';

const USAGE = 'usage: node dist/bench/overhead.js [--rounds N] [--workers N] [--modules N] [--tests N] [--no-save]';
/** Same plugin choice as the networkx benchmark (pytest-benchmark is installed on the bench machines). */
const COMMON_ARGS = ['-p', 'no:benchmark'];

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${name} must be a positive integer\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}


async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE, ['--modules', '--tests']);
  if (args.rest !== null) {
    process.stderr.write(`overhead takes no pytest arguments\n${USAGE}\n`);
    process.exit(2);
  }
  const modules = positive(args.extra.get('--modules'), 30, '--modules');
  const testsPerModule = positive(args.extra.get('--tests'), 100, '--tests');
  const total = modules * testsPerModule;
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-overhead-'));
  const root = join(scratch, 'project');
  const logs = join(scratch, 'logs');
  mkdirSync(root);
  mkdirSync(logs);
  generateTrivialSuite(root, modules, testsPerModule, { baseline: true });
  const bench = benchEnvironment(scratch);
  const tools = makeTools(bench, args.workers, writeRssHook(scratch));
  const loadBefore = loadAverage();
  const startedAt = new Date();
  progress(`bench overhead: ${modules} modules x ${testsPerModule} tests = ${total}; ${args.rounds} rounds; project ${root}`);

  // Warm-up, untimed: each tool once on the suite and the baseline, which writes the
  // assertion-rewrite caches.
  for (const name of TOOL_NAMES) {
    for (const what of ['baseline', 'suite']) {
      await timeRun(tools[name], [...COMMON_ARGS, what], root, join(logs, `warmup-${name}-${what}.log`), { round: 0, what: 'warmup' });
    }
  }

  const runs: RunRecord[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    for (const name of roundOrder(round - 1)) {
      const tool = tools[name];
      for (const what of ['baseline', 'suite'] as const) {
        const record = await timeRun(tool, [...COMMON_ARGS, what], root, join(logs, `r${round}-${name}-${what}.log`), { round, what });
        runs.push(record);
        progress(`  round ${round} ${tool.label.padEnd(24)} ${what.padEnd(8)} ${formatSeconds(record.seconds).padStart(7)} s  exit ${record.exitCode}  ${record.summary ?? '(no summary line)'}`);
      }
    }
  }

  const stats = Object.fromEntries(
    TOOL_NAMES.map((name) => {
      const mine = runs.filter((run) => run.tool === name);
      const suite = mine.filter((run) => run.what === 'suite').map((run) => run.seconds);
      const baseline = mine.filter((run) => run.what === 'baseline').map((run) => run.seconds);
      // Paired per round: a slow moment on the shared machine hits both runs of a pair alike.
      const perTest = suite.map((seconds, index) => (seconds - baseline[index]!) / total);
      return [
        name,
        {
          suiteMedian: median(suite),
          baselineMedian: median(baseline),
          perTestMicroseconds: Math.round(median(perTest) * 1e7) / 10,
          perTestMicrosecondsRuns: perTest.map((value) => Math.round(value * 1e7) / 10),
          suiteRuns: suite,
          baselineRuns: baseline,
        },
      ];
    }),
  ) as Record<ToolName, { suiteMedian: number; baselineMedian: number; perTestMicroseconds: number; perTestMicrosecondsRuns: number[]; suiteRuns: number[]; baselineRuns: number[] }>;
  const rssValues = runs.flatMap((run) => (run.what === 'suite' && run.nodePeakRssMiB !== null ? [run.nodePeakRssMiB] : []));
  const perTest = (name: ToolName): number => stats[name].perTestMicroseconds;
  const ratios = {
    bulkheadOverXdist: perTest('bulkhead') / perTest('xdist'),
    bulkheadOverPlain: perTest('bulkhead') / perTest('pytest'),
    xdistOverPlain: perTest('xdist') / perTest('pytest'),
  };

  const rows = TOOL_NAMES.map((name) => [
    tools[name].label,
    formatSeconds(stats[name].baselineMedian),
    formatSeconds(stats[name].suiteMedian),
    perTest(name).toFixed(0),
    ratio(perTest(name), perTest('xdist')),
    ratio(perTest(name), perTest('pytest')),
  ]);
  const output = [
    '',
    `per-test overhead: ${total} trivial tests (${modules} modules x ${testsPerModule}), medians of ${args.rounds}`,
    table(['tool', 'baseline s', `${total} tests s`, 'us/test', 'vs xdist', 'vs plain'], rows),
    '',
    `bulkhead/xdist = ${ratios.bulkheadOverXdist.toFixed(2)}, bulkhead/plain = ${ratios.bulkheadOverPlain.toFixed(2)} (per-test overhead; us/test = (suite - baseline) / ${total}, wall clock, median of per-round pairs)`,
    rssValues.length > 0 ? `bulkhead node process peak RSS on the ${total}-test suite: median ${median(rssValues).toFixed(1)} MiB (workers not included)` : '',
    `environment: PYTHONDONTWRITEBYTECODE removed for all tools; warm-up: one untimed run of each tool on the suite and the baseline; load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}`,
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  if (args.save) {
    const path = saveResults('overhead', {
      benchmark: 'overhead',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      suite: { modules, testsPerModule, total, test: 'def test_n(): pass', baseline: 'one module, one trivial test' },
      pytestArgs: COMMON_ARGS,
      workers: args.workers,
      rounds: args.rounds,
      order: 'interleaved; tool order rotates each round; baseline then suite for each tool',
      warmup: 'one untimed run of each tool on the suite and on the baseline',
      environment: bench.description,
      machine: { ...machineInfo(bench), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
      tools: Object.fromEntries(TOOL_NAMES.map((name) => [name, tools[name].label])),
      results: stats,
      ratios: Object.fromEntries(Object.entries(ratios).map(([key, value]) => [key, Math.round(value * 1000) / 1000])),
      bulkheadNodePeakRssMiB: rssValues.length > 0 ? { median: median(rssValues), max: Math.max(...rssValues) } : null,
      runs,
    });
    progress(`saved ${path}`);
  }
  const failed = runs.filter((run) => run.exitCode !== 0);
  if (failed.length > 0) progress(`note: ${failed.length} runs did not exit 0; logs kept in ${logs}`);
  else rmSync(scratch, { recursive: true, force: true });
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench overhead: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
