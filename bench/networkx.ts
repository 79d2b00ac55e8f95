/**
 * Wall time of networkx's own test suite under `bulkhead run --workers 2`, `pytest -n 2` (xdist)
 * and plain `pytest`, interleaved in the same session (the tool order rotates each round), median
 * of 3 each, after one untimed warm-up run. Prints a table and saves bench/results/networkx-<date>.json.
 *
 *   node dist/bench/networkx.js [--rounds N] [--workers N] [--warmup full|collect|none] [--no-save] [-- pytest args]
 *
 * Default pytest arguments: `--pyargs networkx -p no:benchmark`. Takes ~15 min on 2 cores.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

const USAGE =
  'usage: node dist/bench/networkx.js [--rounds N] [--workers N] [--warmup full|collect|none] [--no-save] [-- pytest args]';
const DEFAULT_ARGS = ['--pyargs', 'networkx', '-p', 'no:benchmark'];

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE, ['--warmup']);
  const warmup = args.extra.get('--warmup') ?? 'full';
  if (!['full', 'collect', 'none'].includes(warmup)) {
    process.stderr.write(`--warmup must be full, collect or none\n${USAGE}\n`);
    process.exit(2);
  }
  const pytestArgs = args.rest && args.rest.length > 0 ? args.rest : DEFAULT_ARGS;
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-networkx-'));
  // An empty cwd: no pytest configuration or conftest is picked up from where the bench is started.
  const cwd = join(scratch, 'cwd');
  const logs = join(scratch, 'logs');
  mkdirSync(cwd);
  mkdirSync(logs);
  const bench = benchEnvironment(scratch);
  const tools = makeTools(bench, args.workers, writeRssHook(scratch));
  const loadBefore = loadAverage();
  const startedAt = new Date();
  progress(`bench networkx: ${pytestArgs.join(' ')}; ${args.rounds} rounds; logs in ${logs}`);

  // Warm-up, untimed: fills the bytecode and assertion-rewrite caches (and the page cache). The
  // full warm-up is one xdist run: each xdist worker collects, and so rewrites, every test module.
  let warmupNote = 'none';
  if (warmup !== 'none') {
    const tool = tools.xdist;
    const extra = warmup === 'collect' ? ['--collect-only', '-q'] : [];
    const record = await timeRun(tool, [...pytestArgs, ...extra], cwd, join(logs, 'warmup.log'), { round: 0, what: 'warmup' });
    warmupNote = `one untimed ${tool.label}${warmup === 'collect' ? ' --collect-only' : ''} run before the timed rounds (${formatSeconds(record.seconds)} s, exit ${record.exitCode})`;
    progress(`  warm-up: ${warmupNote}`);
  }

  const runs: RunRecord[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    for (const name of roundOrder(round - 1)) {
      const tool = tools[name];
      const record = await timeRun(tool, pytestArgs, cwd, join(logs, `r${round}-${name}.log`), { round, what: 'suite' });
      runs.push(record);
      const rss = record.nodePeakRssMiB === null ? '' : `, node peak RSS ${record.nodePeakRssMiB} MiB`;
      progress(`  round ${round} ${tool.label.padEnd(24)} ${formatSeconds(record.seconds).padStart(8)} s  exit ${record.exitCode}  ${record.summary ?? '(no summary line)'}${rss}`);
    }
  }

  const stats = Object.fromEntries(
    TOOL_NAMES.map((name) => {
      const times = runs.filter((run) => run.tool === name).map((run) => run.seconds);
      return [name, { median: median(times), min: Math.min(...times), max: Math.max(...times), runs: times }];
    }),
  ) as Record<ToolName, { median: number; min: number; max: number; runs: number[] }>;
  const rssValues = runs.flatMap((run) => (run.nodePeakRssMiB === null ? [] : [run.nodePeakRssMiB]));
  const ratios = {
    bulkheadOverXdist: stats.bulkhead.median / stats.xdist.median,
    bulkheadOverPlain: stats.bulkhead.median / stats.pytest.median,
    xdistOverPlain: stats.xdist.median / stats.pytest.median,
  };

  const rows = TOOL_NAMES.map((name) => [
    tools[name].label,
    formatSeconds(stats[name].median),
    formatSeconds(stats[name].min),
    formatSeconds(stats[name].max),
    ratio(stats[name].median, stats.xdist.median),
    ratio(stats[name].median, stats.pytest.median),
  ]);
  const output = [
    '',
    `networkx suite (${pytestArgs.join(' ')}), wall time in seconds, median of ${args.rounds}`,
    table(['tool', 'median', 'min', 'max', 'vs xdist', 'vs plain'], rows),
    '',
    `bulkhead/xdist = ${ratios.bulkheadOverXdist.toFixed(2)}, bulkhead/plain = ${ratios.bulkheadOverPlain.toFixed(2)}, xdist/plain = ${ratios.xdistOverPlain.toFixed(2)}`,
    rssValues.length > 0 ? `bulkhead node process peak RSS: median ${median(rssValues).toFixed(1)} MiB, max ${Math.max(...rssValues).toFixed(1)} MiB (workers not included)` : '',
    `summaries: ${TOOL_NAMES.map((name) => `${name}: ${runs.find((run) => run.tool === name)?.summary ?? '?'}`).join(' | ')}`,
    `environment: PYTHONDONTWRITEBYTECODE removed for all tools; warm-up: ${warmupNote}; load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}`,
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  if (args.save) {
    const path = saveResults('networkx', {
      benchmark: 'networkx',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      pytestArgs,
      workers: args.workers,
      rounds: args.rounds,
      order: 'interleaved; tool order rotates each round',
      warmup: warmupNote,
      environment: bench.description,
      machine: { ...machineInfo(bench), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
      tools: Object.fromEntries(TOOL_NAMES.map((name) => [name, tools[name].label])),
      seconds: stats,
      ratios: Object.fromEntries(Object.entries(ratios).map(([key, value]) => [key, Math.round(value * 1000) / 1000])),
      bulkheadNodePeakRssMiB: rssValues.length > 0 ? { median: median(rssValues), max: Math.max(...rssValues) } : null,
      runs,
    });
    progress(`saved ${path}`);
  }
  const suspicious = runs.filter((run) => run.exitCode !== runs.find((r) => r.tool === 'pytest')?.exitCode || run.summary === null);
  if (suspicious.length > 0) progress(`note: ${suspicious.length} runs ended differently from plain pytest; logs kept in ${logs}`);
  else rmSync(scratch, { recursive: true, force: true });
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench networkx: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
