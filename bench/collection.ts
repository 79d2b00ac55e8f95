/**
 * What collection costs a bulkhead run: per worker, when its process started, how long its
 * collection took, when its `collected` message was out, and when it started its first test; and
 * what fraction of a 2-worker run's wall time passes before the workers run tests. A pytest
 * plugin (written into the scratch folder, loaded with `-p bulkhead_bench_timing`) stamps each
 * pytest process; plain `pytest --collect-only` gives the one-process collection time.
 *
 *   node dist/bench/collection.js [--rounds N] [--workers N] [--suites networkx,trivial,numpy] [--modes runs,probe]
 *                                 [--build name=/checkout ...] [--no-save]
 *
 * Suites: `networkx` (`--pyargs networkx -p no:benchmark`, a full bulkhead run), `trivial` (the
 * 3,000 trivial tests of bench/lib.ts, a full bulkhead run), `numpy` (`--pyargs numpy`,
 * collection only: plain `pytest --collect-only`, one process and then N at once). Runs are
 * interleaved round by round. `--modes probe` (or `runs,probe`) also measures lazy collection
 * (python/bulkhead_pytest/lazy_collect.py) in one process, against a full collection: the walk
 * alone, then the walk and every other file expanded (a 2-worker run's share), with peak RSS.
 * Each `--build` (a checkout with `dist/` built; default: this one) runs
 * once a round, the order alternating. Saves bench/results/collection-<date>.json.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import {
  BULKHEAD_CLI,
  REPO_ROOT,
  benchEnvironment,
  generateTrivialSuite,
  loadAverage,
  machineInfo,
  median,
  parseBenchArgs,
  progress,
  saveResults,
  summaryLine,
  table,
} from './lib.js';

const USAGE = 'usage: node dist/bench/collection.js [--rounds N] [--workers N] [--suites networkx,trivial,numpy] [--modes runs,probe] [--build name=/checkout ...] [--no-save]';
const SUITES = ['networkx', 'trivial', 'numpy'] as const;
type Suite = (typeof SUITES)[number];

/** Stamps of one pytest process, absolute seconds (time.time()). */
interface Stamps {
  pid: number;
  procStart: number | null;
  collectStart?: number;
  collectEnd?: number;
  /** bulkhead workers only: when the `collected` message had been handed to the channel. */
  collectedSent?: number;
  firstTest?: number;
  items?: number;
  tests?: number;
  end?: number;
}

const TIMING_PLUGIN = String.raw`
"""Loaded with -p bulkhead_bench_timing: stamps this pytest process into $BENCH_TIMING_DIR/<pid>.json."""
import json, os, time
import pytest

def _proc_start():
    try:
        with open('/proc/self/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        with open('/proc/uptime') as f:
            uptime = float(f.read().split()[0])
        return time.time() - (uptime - int(fields[19]) / os.sysconf('SC_CLK_TCK'))
    except Exception:
        return None

_marks = {"pid": os.getpid(), "procStart": _proc_start()}

@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_collection(session):
    _marks["collectStart"] = time.time()
    yield
    _marks["collectEnd"] = time.time()
    _marks["items"] = len(session.items)

@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    worker = config.pluginmanager.get_plugin("bulkhead-worker")
    if worker is None:
        return
    send = worker._send_collected
    def timed(*args, **kwargs):
        result = send(*args, **kwargs)
        _marks.setdefault("collectedSent", time.time())
        return result
    worker._send_collected = timed

def pytest_runtest_logstart(nodeid, location):
    _marks.setdefault("firstTest", time.time())
    _marks["tests"] = _marks.get("tests", 0) + 1

def pytest_unconfigure(config):
    _marks["end"] = time.time()
    folder = os.environ.get("BENCH_TIMING_DIR")
    if folder:
        with open(os.path.join(folder, f"{os.getpid()}.json"), "w") as f:
            json.dump(_marks, f)
`;

/** In one process: a full collection, or the lazy walk and every `share`-th file expanded (0: none). */
const LAZY_PROBE = String.raw`
import json, resource, sys, time
import pytest
from bulkhead_pytest.lazy_collect import LazyCollection

mode, share, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

class Probe:
    lazy = None
    def pytest_sessionstart(self, session):
        if mode == "lazy":
            self.lazy = LazyCollection(session)
            session.config.pluginmanager.register(self.lazy, "bulkhead-lazy-collect")
    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_collection(self, session):
        started = time.perf_counter()
        yield
        self.collect = time.perf_counter() - started
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        started = time.perf_counter()
        expanded = 0
        files = list(self.lazy.files) if self.lazy else []
        if share > 0:
            for file in files[::share]:
                expanded += len(self.lazy.expand(file) or [])
        result = {"mode": mode, "share": share, "collectSeconds": round(self.collect, 3),
                  "expandSeconds": round(time.perf_counter() - started, 3), "files": len(files),
                  "items": len(session.items), "expandedItems": expanded,
                  "maxRssMiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        print("PROBE " + json.dumps(result), file=sys.stderr)
        return True

pytest.main(args + ["-q", "-p", "no:cacheprovider"], plugins=[Probe()])
`;

interface ProbeResult {
  suite: Suite;
  round: number;
  mode: string;
  share: number;
  collectSeconds: number;
  expandSeconds: number;
  files: number;
  items: number;
  expandedItems: number;
  maxRssMiB: number;
}

interface Measured {
  suite: Suite;
  mode: string;
  round: number;
  wallSeconds: number;
  exitCode: number | null;
  summary: string | null;
  /** Per pytest process, seconds from the command's start (collection: seconds it took). */
  workers: Array<{
    pid: number;
    started: number | null;
    collectStart: number | null;
    collectSeconds: number | null;
    collectEnd: number | null;
    collectedSent: number | null;
    firstTest: number | null;
    tests: number;
  }>;
}

async function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: string): Promise<{ seconds: number; exitCode: number | null; start: number }> {
  const out = openSync(log, 'w');
  const start = Date.now() / 1000;
  const began = performance.now();
  const exitCode = await new Promise<number | null>((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', out, out] });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code));
  });
  closeSync(out);
  return { seconds: (performance.now() - began) / 1000, exitCode, start };
}

function readStamps(folder: string, start: number): Measured['workers'] {
  const rel = (value: number | null | undefined): number | null => (value === null || value === undefined ? null : Math.round((value - start) * 1000) / 1000);
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')) as Stamps)
    .map((stamps) => ({
      pid: stamps.pid,
      started: rel(stamps.procStart),
      collectStart: rel(stamps.collectStart),
      collectSeconds: stamps.collectStart !== undefined && stamps.collectEnd !== undefined ? Math.round((stamps.collectEnd - stamps.collectStart) * 1000) / 1000 : null,
      collectEnd: rel(stamps.collectEnd),
      collectedSent: rel(stamps.collectedSent),
      firstTest: rel(stamps.firstTest),
      tests: stamps.tests ?? 0,
    }))
    .sort((a, b) => (a.collectEnd ?? Infinity) - (b.collectEnd ?? Infinity));
}

async function main(): Promise<void> {
  // --build may repeat: taken out before the shared parser sees the arguments.
  const argv = process.argv.slice(2);
  const builds: Array<{ name: string; cli: string }> = [];
  for (let at = argv.indexOf('--build'); at !== -1; at = argv.indexOf('--build')) {
    const [name, root] = (argv[at + 1] ?? '').split('=');
    if (!name || !root) {
      process.stderr.write(`--build needs name=/path\n${USAGE}\n`);
      process.exit(2);
    }
    builds.push({ name, cli: join(root, 'dist', 'src', 'cli', 'main.js') });
    argv.splice(at, 2);
  }
  if (builds.length === 0) builds.push({ name: 'current', cli: BULKHEAD_CLI });
  const args = parseBenchArgs(argv, USAGE, ['--suites', '--modes']);
  const modes = new Set((args.extra.get('--modes') ?? 'runs').split(','));
  const suites = (args.extra.get('--suites') ?? 'networkx,trivial').split(',') as Suite[];
  for (const suite of suites) {
    if (!SUITES.includes(suite)) {
      process.stderr.write(`unknown suite ${suite}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-collection-'));
  const cwd = join(scratch, 'cwd');
  const logs = join(scratch, 'logs');
  const trivial = join(scratch, 'trivial');
  for (const folder of [cwd, logs, trivial]) mkdirSync(folder);
  generateTrivialSuite(trivial, 30, 100);
  writeFileSync(join(scratch, 'bulkhead_bench_timing.py'), TIMING_PLUGIN);
  writeFileSync(join(scratch, 'lazy_probe.py'), LAZY_PROBE);
  const bench = benchEnvironment(scratch, { xdist: false });
  const env = { ...bench.env, PYTHONPATH: [scratch, bench.env.PYTHONPATH].filter(Boolean).join(':') };
  const probeEnv = { ...env, PYTHONPATH: [join(REPO_ROOT, 'python'), env.PYTHONPATH].join(':') };
  const loadBefore = loadAverage();
  const startedAt = new Date();
  const where = (suite: Suite): { cwd: string; pytestArgs: string[] } =>
    suite === 'trivial'
      ? { cwd: trivial, pytestArgs: ['-p', 'no:benchmark', 'suite'] }
      : { cwd, pytestArgs: ['--pyargs', suite, '-p', 'no:benchmark'] };

  const runOne = async (suite: Suite, mode: string, round: number, command: string, commandArgs: string[], at: string): Promise<Measured> => {
    const stamps = join(scratch, `stamps-${suite}-${mode}-${round}`);
    mkdirSync(stamps);
    const log = join(logs, `${suite}-${mode}-${round}.log`);
    const result = await timed(command, commandArgs, at, { ...env, BENCH_TIMING_DIR: stamps }, log);
    const measured: Measured = {
      suite,
      mode,
      round,
      wallSeconds: Math.round(result.seconds * 1000) / 1000,
      exitCode: result.exitCode,
      summary: summaryLine(readFileSync(log, 'utf8')),
      workers: readStamps(stamps, result.start),
    };
    const line = measured.workers
      .map((w) => `[collect ${w.collectSeconds ?? '?'} s, out at ${w.collectedSent ?? w.collectEnd ?? '?'}, first test at ${w.firstTest ?? '-'}]`)
      .join(' ');
    progress(`  ${suite.padEnd(8)} ${mode.padEnd(16)} r${round} ${measured.wallSeconds.toFixed(2).padStart(7)} s exit ${measured.exitCode} ${line}`);
    return measured;
  };

  // Warm-up, untimed: bytecode and assertion-rewrite caches, once per suite.
  for (const suite of suites) {
    const { cwd: at, pytestArgs } = where(suite);
    await timed(bench.python, ['-m', 'pytest', '--collect-only', '-q', ...pytestArgs], at, env, join(logs, `warmup-${suite}.log`));
  }

  const runs: Measured[] = [];
  const probes: ProbeResult[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    for (const suite of suites) {
      const { cwd: at, pytestArgs } = where(suite);
      if (modes.has('probe')) {
        const order: Array<[string, number]> = round % 2 === 0 ? [['full', 0], ['lazy', 0], ['lazy', 2]] : [['lazy', 2], ['lazy', 0], ['full', 0]];
        for (const [mode, share] of order) {
          const log = join(logs, `probe-${suite}-${mode}-${share}-${round}.log`);
          await timed(bench.python, [join(scratch, 'lazy_probe.py'), mode, String(share), ...pytestArgs], at, probeEnv, log);
          const line = readFileSync(log, 'utf8').split('\n').find((text) => text.startsWith('PROBE '));
          if (!line) throw new Error(`probe ${suite} ${mode} wrote no result; see ${log}`);
          const probe = { suite, round, ...(JSON.parse(line.slice(6)) as Omit<ProbeResult, 'suite' | 'round'>) };
          probes.push(probe);
          progress(`  ${suite.padEnd(8)} probe ${mode}${share ? ` 1/${share}` : ''} r${round}: collect/walk ${probe.collectSeconds} s, expand ${probe.expandSeconds} s (${probe.expandedItems} of ${probe.items || '?'} items, ${probe.files} files), peak RSS ${probe.maxRssMiB} MiB`);
        }
      }
      if (!modes.has('runs')) continue;
      const pytest = ['-m', 'pytest', '-p', 'bulkhead_bench_timing', ...pytestArgs];
      runs.push(await runOne(suite, 'collect-only', round, bench.python, [...pytest, '--collect-only', '-q'], at));
      if (suite === 'numpy') {
        // Collection only: N processes collecting at once, as N workers would.
        const many = await Promise.all(
          Array.from({ length: args.workers }, (_, n) => runOne(suite, `collect-only x${args.workers} #${n + 1}`, round, bench.python, [...pytest, '--collect-only', '-q'], at)),
        );
        runs.push(...many);
        continue;
      }
      for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
        const bulkhead = [build.cli, 'run', '--workers', String(args.workers), '--python', bench.python, '--', '-p', 'bulkhead_bench_timing', ...pytestArgs];
        runs.push(await runOne(suite, `bulkhead -w ${args.workers} ${build.name}`, round, process.execPath, bulkhead, at));
      }
    }
  }

  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const suite of suites) {
    for (const mode of [...new Set(runs.filter((run) => run.suite === suite).map((run) => run.mode))]) {
      const mine = runs.filter((run) => run.suite === suite && run.mode === mode);
      const collects = mine.flatMap((run) => run.workers.map((w) => w.collectSeconds ?? NaN)).filter(Number.isFinite);
      const firstTests = mine.map((run) => Math.min(...run.workers.map((w) => w.firstTest ?? Infinity))).filter(Number.isFinite);
      const allRunning = mine.map((run) => Math.max(...run.workers.map((w) => w.firstTest ?? -Infinity))).filter(Number.isFinite);
      const lastCollected = mine.map((run) => Math.max(...run.workers.map((w) => w.collectEnd ?? -Infinity)));
      const outToFirst = mine.flatMap((run) => run.workers.flatMap((w) => (w.firstTest !== null && w.collectEnd !== null ? [w.firstTest - w.collectEnd] : [])));
      const wall = median(mine.map((run) => run.wallSeconds));
      const entry = {
        runs: mine.length,
        wallMedian: wall,
        collectSecondsMedian: collects.length ? median(collects) : null,
        firstTestAnyMedian: firstTests.length ? median(firstTests) : null,
        firstTestAllMedian: allRunning.length ? median(allRunning) : null,
        lastCollectEndMedian: median(lastCollected),
        collectEndToFirstTestMedian: outToFirst.length ? median(outToFirst) : null,
        beforeAllRunFraction: allRunning.length ? median(allRunning) / wall : null,
      };
      summary[`${suite} / ${mode}`] = entry;
      const show = (value: number | null, digits = 2): string => (value === null ? '-' : value.toFixed(digits));
      rows.push([
        `${suite} ${mode}`,
        show(entry.wallMedian),
        show(entry.collectSecondsMedian),
        show(entry.firstTestAnyMedian),
        show(entry.firstTestAllMedian),
        show(entry.collectEndToFirstTestMedian),
        entry.beforeAllRunFraction === null ? '-' : `${(entry.beforeAllRunFraction * 100).toFixed(1)}%`,
      ]);
    }
  }
  const probeRows: string[][] = [];
  const probeSummary: Record<string, unknown> = {};
  for (const suite of suites) {
    const of = (mode: string, share: number): ProbeResult[] => probes.filter((probe) => probe.suite === suite && probe.mode === mode && probe.share === share);
    const full = of('full', 0);
    if (full.length === 0) continue;
    const walk = of('lazy', 0);
    const half = of('lazy', 2);
    const entry = {
      fullCollectSeconds: median(full.map((probe) => probe.collectSeconds)),
      fullItems: full[0]!.items,
      fullRssMiB: median(full.map((probe) => probe.maxRssMiB)),
      walkSeconds: median(walk.map((probe) => probe.collectSeconds)),
      walkRssMiB: median(walk.map((probe) => probe.maxRssMiB)),
      files: walk[0]?.files ?? null,
      halfSeconds: median(half.map((probe) => probe.collectSeconds + probe.expandSeconds)),
      halfItems: half[0]?.expandedItems ?? null,
      halfRssMiB: median(half.map((probe) => probe.maxRssMiB)),
    };
    probeSummary[suite] = entry;
    probeRows.push([
      suite,
      `${entry.fullCollectSeconds.toFixed(2)} (${entry.fullItems})`,
      `${entry.walkSeconds.toFixed(2)} (${entry.files} files)`,
      `${entry.halfSeconds.toFixed(2)} (${entry.halfItems})`,
      [entry.fullRssMiB, entry.walkRssMiB, entry.halfRssMiB].map((value) => value.toFixed(0)).join(' / '),
    ]);
  }
  if (probeRows.length > 0) {
    process.stdout.write(
      [
        '',
        `lazy collection in one process, medians of ${args.rounds} (seconds; items)`,
        table(['suite', 'full collection', 'lazy walk', 'walk + every other file', 'peak RSS MiB full / walk / half'], probeRows),
        '',
      ].join('\n'),
    );
  }
  const loadAfter = loadAverage();
  process.stdout.write(
    [
      '',
      ...(rows.length > 0
        ? [
            `collection cost, medians of ${args.rounds} rounds (seconds from the command's start)`,
            table(['suite / mode', 'wall', 'collect/worker', '1st test (any)', '1st test (all)', 'collected->1st test', 'before all run'], rows),
          ]
        : []),
      `load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`,
      '',
    ].join('\n'),
  );
  if (args.save) {
    const path = saveResults('collection', {
      benchmark: 'collection',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      workers: args.workers,
      rounds: args.rounds,
      builds,
      environment: bench.description,
      machine: { ...machineInfo(bench), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      summary,
      runs,
      lazyProbe: probes.length > 0 ? { summary: probeSummary, probes } : null,
    });
    progress(`saved ${path}`);
  }
  rmSync(scratch, { recursive: true, force: true });
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench collection: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
