/**
 * Hunts the unexplained stall of bulkhead issue 13 (one networkx run took 398 s instead of ~60 s,
 * every test passing, never reproduced): runs networkx's suite under `bulkhead run --workers 2`
 * (the command line and environment of bench/networkx.ts) N times in ONE project folder, so the
 * history store persists between runs as it does for a user re-running. Per run: wall seconds,
 * exit code, summary line, load average at start, and what its recording says (a `stall` event,
 * any other unusual event, where the time went). A run slower than 2x the median of the runs so
 * far, or with a stall event, keeps its run folder and terminal output (copied aside).
 *
 *   node dist/bench/stall-hunt.js [--runs N] [--workers N] [--warmup bulkhead|none] [--run-timeout S]
 *                                 [--project DIR] [--keep-dir DIR] [--no-save] [-- pytest args]
 *
 * Run it niced on a shared machine: `nohup nice -n 10 node dist/bench/stall-hunt.js > hunt.log 2>&1 &`.
 * Saves bench/results/stall-hunt-<date>.json, rewritten after every run (a hunt cut short keeps
 * what it found).
 */
import { spawn } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyseRecording, type RunAnalysis } from './stall-analysis.js';
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
  summaryLine,
  writeRssHook,
  type Tool,
} from './lib.js';

const USAGE =
  'usage: node dist/bench/stall-hunt.js [--runs N] [--workers N] [--warmup bulkhead|none] [--run-timeout S] [--project DIR] [--keep-dir DIR] [--no-save] [-- pytest args]';
const DEFAULT_ARGS = ['--pyargs', 'networkx', '-p', 'no:benchmark'];
/** A run is kept for analysis when slower than this many times the median of the runs before it. */
const SLOW_FACTOR = 2;
/** Or when it spent this long after its last test (workers ending, a worker still collecting). */
const LONG_TAIL_SECONDS = 30;

interface HuntRun {
  index: number;
  warmup: boolean;
  startedAt: string;
  loadAverageAtStart: number[];
  seconds: number;
  exitCode: number | null;
  signal: string | null;
  /** The run went past --run-timeout and was interrupted (SIGINT, then SIGKILL). */
  timedOut: boolean;
  summary: string | null;
  nodePeakRssMiB: number | null;
  /** Median wall time of the (non-warm-up) runs before this one, the yardstick for `slow`. */
  medianBefore: number | null;
  slow: boolean;
  /** More than LONG_TAIL_SECONDS from the last test's end to the run's. */
  longTail: boolean;
  stall: boolean;
  unusual: boolean;
  /** Where the run folder and terminal output were copied, when kept. */
  keptAt: string | null;
  analysis: RunAnalysis | null;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE, ['--runs', '--warmup', '--run-timeout', '--project', '--keep-dir']);
  const runsWanted = positiveOption(args.extra.get('--runs'), 20, '--runs');
  const timeoutSeconds = positiveOption(args.extra.get('--run-timeout'), 1800, '--run-timeout');
  const warmup = args.extra.get('--warmup') ?? 'bulkhead';
  if (!['bulkhead', 'none'].includes(warmup)) fail('--warmup must be bulkhead or none');
  const pytestArgs = args.rest && args.rest.length > 0 ? args.rest : DEFAULT_ARGS;

  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-stall-hunt-'));
  // One project folder for every run: its .bulkhead/ (history.sqlite, runs/) persists between runs.
  // --project reuses one (e.g. to go on with the history of an earlier hunt).
  const project = resolve(args.extra.get('--project') ?? join(scratch, 'project'));
  const logs = join(scratch, 'logs');
  const keepDir = resolve(args.extra.get('--keep-dir') ?? join(scratch, 'kept'));
  for (const dir of [project, logs, keepDir]) mkdirSync(dir, { recursive: true });
  const bench = benchEnvironment(scratch, { xdist: false });
  const tool = makeTools(bench, args.workers, writeRssHook(scratch)).bulkhead;
  const startedAt = new Date();
  const loadBefore = loadAverage();
  progress(`stall hunt: ${tool.label} -- ${pytestArgs.join(' ')}; ${runsWanted} runs in ${project}; logs in ${logs}; kept runs in ${keepDir}`);

  const runs: HuntRun[] = [];
  let savedPath: string | null = null;
  const save = (finished: boolean): void => {
    if (!args.save) return;
    const timed = runs.filter((run) => !run.warmup).map((run) => run.seconds);
    const data = {
      benchmark: 'stall-hunt',
      startedAt: startedAt.toISOString(),
      finishedAt: finished ? new Date().toISOString() : null,
      command: `${tool.label} --python ${bench.python} -- ${pytestArgs.join(' ')}`,
      pytestArgs,
      workers: args.workers,
      runsWanted,
      project,
      keepDir,
      rule:
        `a run is kept when slower than ${SLOW_FACTOR}x the median of the timed runs before it, has a stall event, ` +
        `spent over ${LONG_TAIL_SECONDS} s after its last test, or timed out (${timeoutSeconds} s)`,
      warmup: warmup === 'bulkhead' ? 'one untimed bulkhead run first (bytecode caches, history); listed as warmup, not in the statistics' : 'none',
      environment: bench.description,
      machine: { ...machineInfo(bench), loadAverageBefore: loadBefore, loadAverageNow: loadAverage() },
      seconds: timed.length > 0 ? { median: median(timed), min: Math.min(...timed), max: Math.max(...timed), count: timed.length } : null,
      stalls: runs.filter((run) => run.stall).map((run) => run.index),
      slowRuns: runs.filter((run) => run.slow).map((run) => run.index),
      unusualRuns: runs.filter((run) => run.unusual).map((run) => run.index),
      runs,
    };
    // The first save picks the file name (saveResults never overwrites); later ones rewrite it.
    if (savedPath === null) savedPath = saveResults('stall-hunt', data);
    else writeFileSync(savedPath, `${JSON.stringify(data, null, 2)}\n`);
  };

  for (let index = warmup === 'bulkhead' ? 0 : 1; index <= runsWanted; index++) {
    const isWarmup = index === 0;
    const timedBefore = runs.filter((run) => !run.warmup).map((run) => run.seconds);
    const medianBefore = timedBefore.length > 0 ? median(timedBefore) : null;
    const run = await huntRun(tool, pytestArgs, project, logs, index, isWarmup, timeoutSeconds);
    run.medianBefore = medianBefore;
    run.slow = !isWarmup && medianBefore !== null && run.seconds > SLOW_FACTOR * medianBefore;
    const a = run.analysis;
    const tail = a?.runFinishedSeconds != null && a.lastTestFinishSeconds != null ? a.runFinishedSeconds - a.lastTestFinishSeconds : null;
    run.longTail = tail !== null && tail > LONG_TAIL_SECONDS;
    if (run.slow || run.stall || run.timedOut || run.longTail) run.keptAt = keepRun(run, project, logs, keepDir);
    runs.push(run);
    progress(describeRun(run, runsWanted));
    save(false);
  }
  save(true);

  const timed = runs.filter((run) => !run.warmup);
  const seconds = timed.map((run) => run.seconds);
  progress(
    `\n${timed.length} timed runs: median ${formatSeconds(median(seconds))} s, min ${formatSeconds(Math.min(...seconds))} s, max ${formatSeconds(Math.max(...seconds))} s; ` +
      `stall events in ${runs.filter((run) => run.stall).length}, slow (> ${SLOW_FACTOR}x median so far) ${runs.filter((run) => run.slow).length}, ` +
      `unusual events in ${runs.filter((run) => run.unusual).length}; load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}`,
  );
  if (savedPath !== null) progress(`saved ${savedPath}`);
  progress(`project folder (history kept): ${project}; logs: ${logs}; kept runs: ${keepDir}`);
}

async function huntRun(
  tool: Tool,
  pytestArgs: readonly string[],
  project: string,
  logs: string,
  index: number,
  warmup: boolean,
  timeoutSeconds: number,
): Promise<HuntRun> {
  const runsDir = join(project, '.bulkhead', 'runs');
  const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
  const log = join(logs, `run-${String(index).padStart(2, '0')}.log`);
  const rssFile = `${log}.rss`;
  const startedAt = new Date();
  const loadAtStart = loadAverage();
  const out = createWriteStream(log);
  await new Promise<void>((done) => out.on('open', () => done()));
  const started = performance.now();
  let timedOut = false;
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((done, reject) => {
    const child = spawn(tool.command, [...tool.prefix, ...pytestArgs], {
      cwd: project,
      env: { ...tool.env, BULKHEAD_BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', out, out],
    });
    // A run that never ends is the bug itself: interrupt it (bulkhead records an interrupted run), then kill.
    const interrupt = setTimeout(() => {
      timedOut = true;
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    }, timeoutSeconds * 1000);
    child.on('error', reject);
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(interrupt);
      done({ code: exitCode, signal: exitSignal });
    });
  });
  const seconds = (performance.now() - started) / 1000;
  await new Promise<void>((done) => out.end(done));
  const rss = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : NaN;
  const fresh = (existsSync(runsDir) ? readdirSync(runsDir) : []).filter((name) => !before.has(name)).sort();
  const runId = fresh.at(-1) ?? null;
  const analysis = runId === null ? null : analyseRecording(join(runsDir, runId, 'events.ndjson'), runId);
  return {
    index,
    warmup,
    startedAt: startedAt.toISOString(),
    loadAverageAtStart: loadAtStart,
    seconds: Math.round(seconds * 1000) / 1000,
    exitCode: code,
    signal,
    timedOut,
    summary: summaryLine(readFileSync(log, 'utf8')),
    nodePeakRssMiB: Number.isFinite(rss) ? Math.round((rss / 1024) * 10) / 10 : null,
    medianBefore: null,
    slow: false,
    longTail: false,
    stall: analysis?.stalls.length ? true : false,
    unusual: analysis === null || !analysis.readable || analysis.unusual.length > 0,
    keptAt: null,
    analysis,
  };
}

/** Copies the run's folder (recording, worker logs and stacks) and its terminal output aside. */
function keepRun(run: HuntRun, project: string, logs: string, keepDir: string): string {
  const target = join(keepDir, `run-${String(run.index).padStart(2, '0')}`);
  mkdirSync(target, { recursive: true });
  const name = `run-${String(run.index).padStart(2, '0')}.log`;
  cpSync(join(logs, name), join(target, 'terminal.log'));
  const runId = run.analysis?.runId;
  if (runId) cpSync(join(project, '.bulkhead', 'runs', runId), join(target, runId), { recursive: true });
  return target;
}

function describeRun(run: HuntRun, runsWanted: number): string {
  const a = run.analysis;
  const flags = [run.warmup ? 'warm-up' : '', run.stall ? 'STALL' : '', run.slow ? 'SLOW' : '', run.timedOut ? 'TIMED OUT' : '', run.longTail ? 'LONG TAIL' : '']
    .filter(Boolean)
    .join(' ');
  const phases = a === null ? 'no recording' : `first test at ${a.firstTestStartSeconds ?? '?'} s, last done at ${a.lastTestFinishSeconds ?? '?'} s, longest quiet ${a.longestQuiet?.seconds ?? '?'} s`;
  const unusual = a === null ? '' : a.unusual.length > 0 ? `; unusual: ${[...new Set(a.unusual.map((event) => event.type))].join(', ')}` : '';
  return (
    `  run ${String(run.index).padStart(2)}/${runsWanted}` +
    ` ${formatSeconds(run.seconds).padStart(8)} s  exit ${run.exitCode}  load ${run.loadAverageAtStart[0]}  ${run.summary ?? '(no summary line)'}` +
    `  [${phases}${unusual}]${flags ? `  ${flags}` : ''}${run.keptAt ? `  kept in ${run.keptAt}` : ''}`
  );
}

function positiveOption(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 ? n : fail(`${name} must be a positive integer`);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench stall-hunt: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
