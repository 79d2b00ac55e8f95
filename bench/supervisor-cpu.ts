/**
 * The supervisor's own CPU per test: `process.cpuUsage()` of the bulkhead node process over a run
 * of trivial tests (3,000 by default: modules of 100 `def test_n(): pass`), divided by the tests,
 * and its peak resident size. Builds are compared back to back, alternating round by round, so
 * load on the machine falls on each alike. Runs are as a user's: recorded, with artifacts kept.
 *
 *   node dist/bench/supervisor-cpu.js [--rounds N] [--tests N] [--build name=/path/to/checkout ...]
 *
 * Each build is a checkout with `dist/` built (this one is `current`). A build given as
 * `name=/path::--extra --args` runs with those extra bulkhead arguments (e.g. recording off).
 * Results go to bench/results/supervisor-cpu-<date>.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateTrivialSuite, median, REPO_ROOT, saveResults, shebangFlags, writeCpuHook } from './lib.js';

const PER_MODULE = 100;

interface Build {
  name: string;
  root: string;
  args: string[];
}

function parse(argv: readonly string[]): { rounds: number; tests: number; builds: Build[] } {
  let rounds = 3;
  let tests = 3000;
  const builds: Build[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--rounds') rounds = Number(argv[++i]);
    else if (arg === '--tests') tests = Math.max(PER_MODULE, Math.round(Number(argv[++i]) / PER_MODULE) * PER_MODULE);
    else if (arg === '--build') {
      const [spec, extra = ''] = argv[++i]!.split('::');
      const [name, root] = spec!.split('=');
      builds.push({ name: name!, root: resolve(root!), args: extra.split(' ').filter(Boolean) });
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (builds.length === 0) builds.push({ name: 'current', root: REPO_ROOT, args: [] });
  return { rounds, tests, builds };
}



interface Run {
  cpuPerTestUs: number;
  maxRssMiB: number;
  wallSeconds: number;
  exitCode: number | null;
}

function runOnce(build: Build, project: string, preload: string, out: string, tests: number): Run {
  const cli = join(build.root, 'dist', 'src', 'cli', 'main.js');
  const started = performance.now();
  // Started with the node flags of its #! line, as a user's shell starts it; the preload comes by
  // NODE_OPTIONS.
  const result = spawnSync(process.execPath, [...shebangFlags(cli), cli, 'run', '-w', '2', ...build.args, '--', '-q', '-p', 'no:cacheprovider', 'suite'], {
    cwd: project,
    env: { ...process.env, BULKHEAD_BENCH_CPU_FILE: out, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${preload}`.trim() },
    encoding: 'utf8',
    timeout: 600_000,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (result.status !== 0) process.stderr.write(`${build.name} exited ${result.status}:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}\n`);
  const { cpu, maxRss } = JSON.parse(readFileSync(out, 'utf8')) as { cpu: { user: number; system: number }; maxRss: number };
  return { cpuPerTestUs: (cpu.user + cpu.system) / tests, maxRssMiB: maxRss / 1024, wallSeconds, exitCode: result.status };
}

function main(): void {
  const { rounds, tests, builds } = parse(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-cpu-'));
  try {
    generateTrivialSuite(scratch, tests / PER_MODULE, PER_MODULE);
    const preload = writeCpuHook(scratch);
    const runs: Record<string, Array<Omit<Run, 'exitCode'> & { load1: number }>> = {};
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const build of order) {
        const load1 = loadavg()[0]!;
        const { exitCode, ...run } = runOnce(build, scratch, preload, join(scratch, 'cpu.json'), tests);
        if (exitCode !== 0) throw new Error(`${build.name}: exit ${exitCode}`);
        (runs[build.name] ??= []).push({ ...run, load1 });
        console.log(
          `round ${round + 1} ${build.name}: ${run.cpuPerTestUs.toFixed(1)} µs/test of supervisor CPU, peak ${run.maxRssMiB.toFixed(1)} MiB, ` +
            `${run.wallSeconds.toFixed(2)} s wall, load ${load1.toFixed(2)}`,
        );
      }
    }
    const summary = Object.fromEntries(
      Object.entries(runs).map(([name, list]) => [
        name,
        { medianCpuPerTestUs: median(list.map((run) => run.cpuPerTestUs)), maxRssMiB: Math.max(...list.map((run) => run.maxRssMiB)), runs: list },
      ]),
    );
    for (const [name, entry] of Object.entries(summary)) {
      console.log(`${name}: median ${entry.medianCpuPerTestUs.toFixed(1)} µs/test, peak ${entry.maxRssMiB.toFixed(1)} MiB`);
    }
    const file = saveResults('supervisor-cpu', { tests, workers: 2, builds: builds.map((b) => ({ name: b.name, args: b.args })), summary });
    console.log(`saved ${file}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
