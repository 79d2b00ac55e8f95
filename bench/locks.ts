/**
 * What a cross-worker lock costs and saves against the alternatives, on a generated suite shaped
 * like the seed's: 8 tests (2 modules x 4), each building a heavy model (a 150 MiB allocation
 * and ~0.5 s of CPU-bound work filling it) and then using it for ~0.5 s. The suite is run three
 * ways under `bulkhead run --workers 2`:
 *
 *   locked   the constructor inside `with bulkhead_lock("model-init"):`, the use outside it
 *   serial   every test in one `xdist_group("model")`: one worker, one test after another
 *   free     no constraint
 *
 * Each run's wall time (spawn to exit), the run's memory peak as bulkhead's --json reports it
 * (`run.memory.runPeakBytes`: the run cgroup's max usage under cgroup v1, else the summed RSS of
 * the workers' process trees), the largest per-test peak and the time spent waiting for the lock.
 * Interleaved rounds (the mode order rotates each round), median of 3 each, after one untimed
 * warm-up run. Prints a table and saves bench/results/locks-<date>.json.
 *
 *   node dist/bench/locks.js [--rounds N] [--workers N] [--no-save]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  BULKHEAD_CLI,
  shebangFlags,
  benchEnvironment,
  formatSeconds,
  loadAverage,
  machineInfo,
  median,
  parseBenchArgs,
  progress,
  ratio,
  saveResults,
  table,
  timeRun,
  writeRssHook,
  type BenchEnvironment,
  type RunRecord,
  type Tool,
} from './lib.js';

const USAGE = 'usage: node dist/bench/locks.js [--rounds N] [--workers N] [--no-save]';
const MODES = ['locked', 'serial', 'free'] as const;
type Mode = (typeof MODES)[number];
const MODULES = 2;
const TESTS_PER_MODULE = 4;
const MODEL_MIB = 150;
/** Same plugin choice as the other benchmarks (pytest-benchmark is installed on the bench machines). */
const COMMON_ARGS = ['-p', 'no:benchmark'];

/**
 * The model and its use, the same in every mode: fixed amounts of work (blake2b and sha256
 * passes over the buffer, both CPU-bound), sized to ~0.5 s each on the 2-core bench machines, so
 * that contention for the CPUs shows in the wall time.
 */
const MODEL_PY = `"""A seed-like heavy model: big to allocate, slow to build, then used for a while."""
import hashlib

MODEL_BYTES = ${MODEL_MIB} * 1024 * 1024
BUILD_PASSES = 3  # blake2b over 150 MiB: ~0.17 s each
USE_PASSES = 6  # sha256 over 150 MiB: ~0.09 s each


def build_model():
    model = bytearray(MODEL_BYTES)  # zero-filled: every page is touched
    digest = b""
    for n in range(BUILD_PASSES):
        digest = hashlib.blake2b(model, digest_size=64).digest()
        model[n * 4096 : n * 4096 + 64] = digest
    return model


def use_model(model):
    total = 0
    for _ in range(USE_PASSES):
        total ^= int.from_bytes(hashlib.sha256(model).digest()[:8], "little")
    return total
`;

function testModule(mode: Mode, module: number): string {
  const head = `import pytest\n\nfrom model import build_model, use_model\n\n\n`;
  const params = `@pytest.mark.parametrize("n", range(${TESTS_PER_MODULE}))\n`;
  switch (mode) {
    case 'locked':
      return `${head}${params}def test_heavy_${module}(n, bulkhead_lock):\n    with bulkhead_lock("model-init"):\n        model = build_model()\n    assert use_model(model) is not None\n`;
    case 'serial':
      return `${head}@pytest.mark.xdist_group("model")\n${params}def test_heavy_${module}(n):\n    model = build_model()\n    assert use_model(model) is not None\n`;
    case 'free':
      return `${head}${params}def test_heavy_${module}(n):\n    model = build_model()\n    assert use_model(model) is not None\n`;
  }
}

/** `root/<mode>/test_heavy_<m>.py` for each mode, and the shared `root/model.py`. */
function generateSuite(root: string): void {
  // An ini file makes `root` the rootdir (nothing above it is picked up) and puts model.py on the path.
  writeFileSync(join(root, 'pytest.ini'), '[pytest]\npythonpath = .\n');
  writeFileSync(join(root, 'model.py'), MODEL_PY);
  for (const mode of MODES) {
    mkdirSync(join(root, mode));
    for (let m = 0; m < MODULES; m++) writeFileSync(join(root, mode, `test_heavy_${m}.py`), testModule(mode, m));
  }
}

function bulkheadTool(bench: BenchEnvironment, workers: number, rssHook: string, jsonPath: string): Tool {
  return {
    name: 'bulkhead',
    label: `bulkhead run --workers ${workers}`,
    command: process.execPath,
    prefix: [...shebangFlags(BULKHEAD_CLI), '--import', rssHook, BULKHEAD_CLI, 'run', '--workers', String(workers), '--python', bench.python, '--json', jsonPath, '--'],
    env: bench.env,
  };
}

interface ModeRecord extends RunRecord {
  mode: Mode;
  /** bulkhead's --json `run.memory.runPeakBytes`, MiB. */
  runPeakMiB: number | null;
  memoryMechanism: string | null;
  /** The largest per-test peak above its worker's baseline, MiB. */
  maxTestPeakMiB: number | null;
  /** Seconds all tests spent waiting for the lock, and the longest single wait. */
  lockWaitSeconds: number;
  longestLockWaitSeconds: number;
  passed: number;
}

interface ResultsFile {
  run: { memory?: { runPeakBytes?: number | null; mechanism?: string } };
  summary: { passed: number };
  tests: Array<{ peakMemoryBytes: number | null; locks?: Array<{ waitedSeconds: number }> }>;
}

const MiB = 1024 * 1024;
const toMiB = (bytes: number | null | undefined): number | null => (bytes == null ? null : Math.round((bytes / MiB) * 10) / 10);

function readResults(path: string): Omit<ModeRecord, keyof RunRecord | 'mode'> {
  const results = JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
  const peaks = results.tests.flatMap((test) => (test.peakMemoryBytes === null ? [] : [test.peakMemoryBytes]));
  const waits = results.tests.flatMap((test) => (test.locks ?? []).map((lock) => lock.waitedSeconds));
  return {
    runPeakMiB: toMiB(results.run.memory?.runPeakBytes),
    memoryMechanism: results.run.memory?.mechanism ?? null,
    maxTestPeakMiB: peaks.length > 0 ? toMiB(Math.max(...peaks)) : null,
    lockWaitSeconds: Math.round(waits.reduce((sum, wait) => sum + wait, 0) * 1000) / 1000,
    longestLockWaitSeconds: Math.round(Math.max(0, ...waits) * 1000) / 1000,
    passed: results.summary.passed,
  };
}

/** Mode order for a round: rotated each round so that no mode always runs first or last. */
function modeOrder(round: number): Mode[] {
  return MODES.map((_, index) => MODES[(index + round) % MODES.length]!);
}

function pythonVersions(python: string): { python: string | null; pytest: string | null } {
  try {
    const [py, pytest] = execFileSync(python, ['-c', 'import sys, pytest; print(sys.version.split()[0], pytest.__version__)'], { encoding: 'utf8' }).trim().split(' ');
    return { python: py ?? null, pytest: pytest ?? null };
  } catch {
    return { python: null, pytest: null };
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), USAGE);
  if (args.rest !== null) {
    process.stderr.write(`locks takes no pytest arguments\n${USAGE}\n`);
    process.exit(2);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-locks-'));
  const root = join(scratch, 'project');
  const logs = join(scratch, 'logs');
  mkdirSync(root);
  mkdirSync(logs);
  generateSuite(root);
  const bench = benchEnvironment(scratch, { xdist: false });
  const rssHook = writeRssHook(scratch);
  const loadBefore = loadAverage();
  const startedAt = new Date();
  const total = MODULES * TESTS_PER_MODULE;
  progress(`bench locks: ${total} tests (${MODEL_MIB} MiB model, ~0.5 s to build, ~0.5 s to use) x ${MODES.join(', ')}; ${args.rounds} rounds; project ${root}`);

  const runOne = async (mode: Mode, round: number): Promise<ModeRecord> => {
    // Each run starts without history (.bulkhead/ of the previous one), as a first run would.
    rmSync(join(root, '.bulkhead'), { recursive: true, force: true });
    const jsonPath = join(logs, `r${round}-${mode}.json`);
    const tool = bulkheadTool(bench, args.workers, rssHook, jsonPath);
    const record = await timeRun(tool, [...COMMON_ARGS, mode], root, join(logs, `r${round}-${mode}.log`), { round, what: mode });
    return { ...record, mode, ...readResults(jsonPath) };
  };

  // Warm-up, untimed: writes the bytecode and assertion-rewrite caches of every mode's modules.
  for (const mode of MODES) await runOne(mode, 0);

  const runs: ModeRecord[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    for (const mode of modeOrder(round - 1)) {
      const record = await runOne(mode, round);
      runs.push(record);
      progress(
        `  round ${round} ${mode.padEnd(7)} ${formatSeconds(record.seconds).padStart(7)} s  exit ${record.exitCode}  run peak ${record.runPeakMiB ?? '?'} MiB  lock wait ${record.lockWaitSeconds.toFixed(2)} s  ${record.summary ?? '(no summary line)'}`,
      );
    }
  }

  const stats = Object.fromEntries(
    MODES.map((mode) => {
      const mine = runs.filter((run) => run.mode === mode);
      const seconds = mine.map((run) => run.seconds);
      const peaks = mine.flatMap((run) => (run.runPeakMiB === null ? [] : [run.runPeakMiB]));
      return [
        mode,
        {
          secondsMedian: median(seconds),
          secondsMin: Math.min(...seconds),
          secondsMax: Math.max(...seconds),
          runPeakMiBMedian: peaks.length > 0 ? median(peaks) : null,
          runPeakMiBMax: peaks.length > 0 ? Math.max(...peaks) : null,
          lockWaitSecondsMedian: median(mine.map((run) => run.lockWaitSeconds)),
          seconds,
          runPeakMiB: peaks,
        },
      ];
    }),
  ) as Record<Mode, { secondsMedian: number; secondsMin: number; secondsMax: number; runPeakMiBMedian: number | null; runPeakMiBMax: number | null; lockWaitSecondsMedian: number; seconds: number[]; runPeakMiB: number[] }>;

  const label: Record<Mode, string> = {
    locked: 'constructor behind bulkhead_lock',
    serial: 'one xdist_group (serial)',
    free: 'unconstrained',
  };
  const rows = MODES.map((mode) => [
    `${mode}: ${label[mode]}`,
    formatSeconds(stats[mode].secondsMedian),
    `${formatSeconds(stats[mode].secondsMin)}-${formatSeconds(stats[mode].secondsMax)}`,
    ratio(stats[mode].secondsMedian, stats.free.secondsMedian),
    stats[mode].runPeakMiBMedian === null ? '?' : stats[mode].runPeakMiBMedian!.toFixed(0),
    stats[mode].lockWaitSecondsMedian.toFixed(2),
  ]);
  const mechanism = runs.find((run) => run.memoryMechanism !== null)?.memoryMechanism ?? 'unknown';
  const output = [
    '',
    `${total} tests, each: build a ${MODEL_MIB} MiB model (~0.5 s CPU), use it (~0.5 s CPU); bulkhead run --workers ${args.workers}; medians of ${args.rounds}`,
    table(['mode', 'wall s', 'range', 'vs free', 'run peak MiB', 'lock wait s'], rows),
    '',
    `run peak: bulkhead's --json run.memory.runPeakBytes (${mechanism}); lock wait: the sum over the tests of the seconds each waited for the lock`,
    `environment: PYTHONDONTWRITEBYTECODE removed; warm-up: one untimed run of each mode; load average before ${loadBefore.join(' ')}, after ${loadAverage().join(' ')}`,
  ];
  process.stdout.write(`${output.join('\n')}\n`);

  if (args.save) {
    const path = saveResults('locks', {
      benchmark: 'locks',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      suite: {
        tests: total,
        modules: MODULES,
        modelMiB: MODEL_MIB,
        build: 'bytearray(150 MiB) + 3 blake2b passes over it (~0.5 s)',
        use: '6 sha256 passes over the model (~0.5 s)',
        modes: label,
      },
      pytestArgs: COMMON_ARGS,
      workers: args.workers,
      rounds: args.rounds,
      order: 'interleaved; mode order rotates each round; .bulkhead/ removed before each run',
      warmup: 'one untimed run of each mode',
      environment: bench.description,
      machine: { ...machineInfo(bench), ...pythonVersions(bench.python), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
      memoryMechanism: mechanism,
      results: stats,
      ratios: Object.fromEntries(MODES.map((mode) => [`${mode}OverFree`, Math.round((stats[mode].secondsMedian / stats.free.secondsMedian) * 1000) / 1000])),
      runs,
    });
    progress(`saved ${path}`);
  }
  const failed = runs.filter((run) => run.exitCode !== 0 || run.passed !== total);
  if (failed.length > 0) progress(`note: ${failed.length} runs did not pass all ${total} tests; logs kept in ${logs}`);
  else rmSync(scratch, { recursive: true, force: true });
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench locks: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
