/**
 * What recording costs the supervisor: `process.cpuUsage()` (user + system) of bulkhead's own
 * node process over a run of 3,000 trivial tests (30 modules x 100 `def test_n(): pass`, the
 * suite of bench/overhead.ts), recorded (the default) and with --no-record, back to back, the
 * order alternating each round, after one untimed run of each. A `node --import` preload writes
 * the process's CPU time and peak RSS at exit. Per round, the pair gives the recording's cost per
 * test: (cpu recorded - cpu unrecorded) / tests; the median over rounds is reported, with each
 * mode's CPU per test, wall time and the recording's size per test. `.bulkhead/` is removed
 * before every run, so both modes start alike (no history, no older runs to prune).
 *
 * CPU time of whole runs on a shared 2-core machine varies by several percent from run to run,
 * more than recording adds; so the recorder is also measured alone: the events of one recorded
 * run fed to a fresh EventRecorder in this process (serialize, buffer, a write per test_finished,
 * close), 7 passes, its CPU per test.
 *
 *   node dist/bench/record-overhead.js [--rounds N (8)] [--workers N] [--modules N] [--tests N]
 *                                      [--reports none|junit-json] [--no-save]
 *
 * `--reports junit-json` adds `--junit` and `--json` to both modes (workers then render JUnit,
 * and the events carry it). Results: bench/results/record-overhead-<date>.json.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventRecorder, readRecording } from '../src/record/index.js';
import { BULKHEAD_CLI, benchEnvironment, generateTrivialSuite, loadAverage, median, parseBenchArgs, progress, saveResults, shebangFlags, summaryLine, table, writeCpuHook } from './lib.js';
import { execFileSync } from 'node:child_process';

const USAGE = 'usage: node dist/bench/record-overhead.js [--rounds N] [--workers N] [--modules N] [--tests N] [--reports none|junit-json] [--no-save]';
type Mode = 'recorded' | 'unrecorded';
const MODES: readonly Mode[] = ['recorded', 'unrecorded'];

interface RunResult {
  mode: Mode;
  round: number;
  exitCode: number | null;
  summary: string | null;
  wallSeconds: number;
  /** User + system CPU of bulkhead's node process, microseconds. */
  cpuMicros: number;
  userMicros: number;
  systemMicros: number;
  peakRssMiB: number;
  /** events.ndjson of the run (recorded mode), bytes. */
  recordingBytes: number | null;
}



function recordingOf(root: string): string | null {
  const runs = join(root, '.bulkhead', 'runs');
  if (!existsSync(runs)) return null;
  for (const name of readdirSync(runs)) {
    const file = join(runs, name, 'events.ndjson');
    if (existsSync(file)) return file;
  }
  return null;
}

/**
 * The recorder alone, in this process: a recorded run's events fed to a fresh EventRecorder
 * (serialize, buffer, a write per test_finished, close), CPU measured around it. Free of the
 * noise of a whole run on a shared machine; the median of `times` passes, in us per test.
 */
async function recorderAlone(recording: string, scratch: string, tests: number, times: number): Promise<number[]> {
  const read = readRecording(recording);
  if (!read.ok) throw new Error(read.message);
  const events = read.recording.events;
  const costs: number[] = [];
  for (let pass = 0; pass < times; pass++) {
    const path = join(scratch, `alone-${pass}.ndjson`);
    const before = process.cpuUsage();
    const recorder = EventRecorder.create(path, { runId: 'bench', bulkhead: 'bench', startedAt: '', cwd: '', argv: [] }, progress);
    if (!(recorder instanceof EventRecorder)) throw new Error(recorder.failed);
    for (const event of events) recorder.onEvent(event);
    await recorder.close();
    const used = process.cpuUsage(before);
    costs.push((used.user + used.system) / tests);
    rmSync(path);
  }
  return costs;
}

async function runOnce(root: string, logs: string, hook: string, env: NodeJS.ProcessEnv, args: string[], mode: Mode, round: number): Promise<RunResult> {
  rmSync(join(root, '.bulkhead'), { recursive: true, force: true });
  const log = join(logs, `r${round}-${mode}.log`);
  const cpuFile = `${log}.cpu`;
  const out = createWriteStream(log);
  await new Promise<void>((resolve) => out.on('open', () => resolve()));
  const argv = [...shebangFlags(BULKHEAD_CLI), '--import', hook, BULKHEAD_CLI, 'run', ...args, ...(mode === 'unrecorded' ? ['--no-record'] : []), '--', '-p', 'no:benchmark', 'suite'];
  const started = performance.now();
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: root, env: { ...env, BULKHEAD_BENCH_CPU_FILE: cpuFile }, stdio: ['ignore', out, out] });
    // Bounded: a trivial suite takes seconds; a stuck run is killed, its process group with it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const wallSeconds = (performance.now() - started) / 1000;
  await new Promise<void>((resolve) => out.end(resolve));
  const measured = JSON.parse(readFileSync(cpuFile, 'utf8')) as { cpu: { user: number; system: number }; maxRss: number };
  return {
    mode,
    round,
    exitCode,
    summary: summaryLine(readFileSync(log, 'utf8')),
    wallSeconds: Math.round(wallSeconds * 1000) / 1000,
    cpuMicros: measured.cpu.user + measured.cpu.system,
    userMicros: measured.cpu.user,
    systemMicros: measured.cpu.system,
    peakRssMiB: Math.round((measured.maxRss / 1024) * 10) / 10,
    recordingBytes: mode === 'recorded' ? sizeOf(recordingOf(root)) : null,
  };
}

function sizeOf(path: string | null): number | null {
  return path === null ? null : statSync(path).size;
}

function positive(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE, ['--modules', '--tests', '--reports']);
  // An even number of rounds by default, so each mode runs first equally often.
  const rounds = process.argv.includes('--rounds') ? args.rounds : 8;
  const modules = positive(args.extra.get('--modules'), 30);
  const perModule = positive(args.extra.get('--tests'), 100);
  const reports = args.extra.get('--reports') ?? 'none';
  if (reports !== 'none' && reports !== 'junit-json') {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const total = modules * perModule;
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-record-'));
  const root = join(scratch, 'project');
  const logs = join(scratch, 'logs');
  mkdirSync(root);
  mkdirSync(logs);
  generateTrivialSuite(root, modules, perModule);
  const bench = benchEnvironment(scratch, { xdist: false });
  const hook = writeCpuHook(scratch);
  const runArgs = ['--workers', String(args.workers), '--python', bench.python, ...(reports === 'junit-json' ? ['--junit', join(scratch, 'out.xml'), '--json', join(scratch, 'out.json')] : [])];
  const loadBefore = loadAverage();
  const startedAt = new Date();
  progress(`bench record-overhead: ${total} tests, ${rounds} rounds, --workers ${args.workers}, reports ${reports}; project ${root}`);
  for (const mode of MODES) await runOnce(root, logs, hook, bench.env, runArgs, mode, 0); // warm-up, untimed
  // One more untimed recorded run: its recording is the sample for the recorder-alone measure.
  const sample = join(scratch, 'sample.ndjson');
  await runOnce(root, logs, hook, bench.env, runArgs, 'recorded', 0);
  writeFileSync(sample, readFileSync(recordingOf(root)!));

  const runs: RunResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      const run = await runOnce(root, logs, hook, bench.env, runArgs, mode, round);
      runs.push(run);
      progress(
        `  round ${round} ${mode.padEnd(10)} cpu ${(run.cpuMicros / 1e6).toFixed(2)} s (${(run.cpuMicros / total).toFixed(1)} us/test)  wall ${run.wallSeconds.toFixed(2)} s  exit ${run.exitCode}  ${run.summary ?? ''}`,
      );
    }
  }
  const alone = await recorderAlone(sample, scratch, total, 7);
  const of = (mode: Mode): RunResult[] => runs.filter((run) => run.mode === mode);
  const perTest = (mode: Mode): number[] => of(mode).map((run) => run.cpuMicros / total);
  const paired = Array.from({ length: rounds }, (_, index) => {
    const recorded = of('recorded')[index]!;
    const unrecorded = of('unrecorded')[index]!;
    return (recorded.cpuMicros - unrecorded.cpuMicros) / total;
  });
  const bytes = of('recorded').flatMap((run) => (run.recordingBytes !== null ? [run.recordingBytes] : []));
  const stats = {
    cpuMicrosPerTest: { recorded: median(perTest('recorded')), unrecorded: median(perTest('unrecorded')) },
    recordingCostMicrosPerTest: median(paired),
    recordingCostMicrosPerTestRuns: paired.map((value) => Math.round(value * 10) / 10),
    recordingCostPercent: (median(paired) / median(perTest('unrecorded'))) * 100,
    wallSeconds: { recorded: median(of('recorded').map((run) => run.wallSeconds)), unrecorded: median(of('unrecorded').map((run) => run.wallSeconds)) },
    peakRssMiB: { recorded: median(of('recorded').map((run) => run.peakRssMiB)), unrecorded: median(of('unrecorded').map((run) => run.peakRssMiB)) },
    recordingBytesPerTest: bytes.length > 0 ? median(bytes) / total : null,
    recordingBytes: bytes.length > 0 ? median(bytes) : null,
    recorderAloneMicrosPerTest: median(alone),
    recorderAloneMicrosPerTestRuns: alone.map((value) => Math.round(value * 100) / 100),
  };
  const rows = MODES.map((mode) => [
    mode === 'recorded' ? 'bulkhead run (recorded)' : 'bulkhead run --no-record',
    stats.cpuMicrosPerTest[mode].toFixed(1),
    stats.wallSeconds[mode].toFixed(2),
    stats.peakRssMiB[mode].toFixed(1),
  ]);
  process.stdout.write(
    [
      '',
      `supervisor CPU per test, ${total} trivial tests, --workers ${args.workers}, reports ${reports}, medians of ${rounds} alternating rounds`,
      table(['mode', 'cpu us/test', 'wall s', 'peak RSS MiB'], rows),
      '',
      `recording costs ${stats.recordingCostMicrosPerTest.toFixed(1)} us of supervisor CPU per test (${stats.recordingCostPercent.toFixed(1)}%; per round: ${stats.recordingCostMicrosPerTestRuns.join(', ')})`,
      `the recorder alone (the run's ${total} tests' events fed to it in this process, 7 passes): ${stats.recorderAloneMicrosPerTest.toFixed(1)} us per test`,
      stats.recordingBytes !== null ? `recording: ${(stats.recordingBytes / 1024 / 1024).toFixed(2)} MiB, ${stats.recordingBytesPerTest!.toFixed(0)} bytes per test` : '',
      `load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}`,
      '',
    ].join('\n'),
  );
  if (args.save) {
    const versions = execFileSync(bench.python, ['-c', 'import sys, pytest; print(sys.version.split()[0], pytest.__version__)'], { encoding: 'utf8' }).trim().split(' ');
    const path = saveResults('record-overhead', {
      benchmark: 'record-overhead',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      suite: { modules, testsPerModule: perModule, total, test: 'def test_n(): pass' },
      workers: args.workers,
      reports,
      rounds,
      order: 'alternating: recorded first in odd rounds, --no-record first in even ones; one untimed run of each first; .bulkhead/ removed before every run',
      measure: 'process.cpuUsage() user+system of bulkhead\'s node process at exit (a node --import preload); workers not included',
      environment: bench.description,
      machine: { node: process.version, python: versions[0], pytest: versions[1], loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
      results: stats,
      runs,
    });
    progress(`saved ${path}`);
  }
  const failed = runs.filter((run) => run.exitCode !== 0);
  if (failed.length > 0) progress(`note: ${failed.length} runs did not exit 0; logs kept in ${logs}`);
  else rmSync(scratch, { recursive: true, force: true });
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench record-overhead: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
