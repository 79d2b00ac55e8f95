/**
 * The supervisor's own CPU per test: `process.cpuUsage()` of the bulkhead node process over a run
 * of 3,000 trivial tests (30 modules x 100), divided by the tests. Builds are compared back to back,
 * alternating round by round, so load on the machine falls on each alike.
 *
 *   node dist/bench/supervisor-cpu.js [--rounds N] [--build name=/path/to/checkout ...] [--args "--no-record"]
 *
 * Each build is a checkout with `dist/` built (this one is `current`). A build given as
 * `name=/path::--extra --args` runs with those extra bulkhead arguments (e.g. recording off).
 * Results go to bench/results/supervisor-cpu-<date>.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTrivialSuite, median, REPO_ROOT, RESULTS_DIR, writeCpuHook } from './lib.js';

const MODULES = 30;
const PER_MODULE = 100;
const TESTS = MODULES * PER_MODULE;

interface Build {
  name: string;
  root: string;
  args: string[];
}

function parse(argv: readonly string[]): { rounds: number; builds: Build[] } {
  let rounds = 3;
  const builds: Build[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--rounds') rounds = Number(argv[++i]);
    else if (arg === '--build') {
      const [spec, extra = ''] = argv[++i]!.split('::');
      const [name, root] = spec!.split('=');
      builds.push({ name: name!, root: root!, args: extra.split(' ').filter(Boolean) });
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (builds.length === 0) builds.push({ name: 'current', root: REPO_ROOT, args: [] });
  return { rounds, builds };
}



function runOnce(build: Build, project: string, preload: string, out: string): { cpuPerTestUs: number; wallSeconds: number; exitCode: number | null } {
  const cli = join(build.root, 'dist', 'src', 'cli', 'main.js');
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', preload, cli, 'run', '-w', '2', '--no-artifacts', ...build.args, '--', '-q', '-p', 'no:cacheprovider', 'suite'], {
    cwd: project,
    env: { ...process.env, BULKHEAD_BENCH_CPU_FILE: out },
    encoding: 'utf8',
    timeout: 600_000,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const { cpu } = JSON.parse(readFileSync(out, 'utf8')) as { cpu: { user: number; system: number } };
  return { cpuPerTestUs: (cpu.user + cpu.system) / TESTS, wallSeconds, exitCode: result.status };
}

function main(): void {
  const { rounds, builds } = parse(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-bench-cpu-'));
  try {
    generateTrivialSuite(scratch, MODULES, PER_MODULE);
    const preload = writeCpuHook(scratch);
    const runs: Record<string, Array<{ cpuPerTestUs: number; wallSeconds: number; load1: number }>> = {};
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const build of order) {
        const load1 = loadavg()[0]!;
        const run = runOnce(build, scratch, preload, join(scratch, 'cpu.json'));
        if (run.exitCode !== 0) throw new Error(`${build.name}: exit ${run.exitCode}`);
        (runs[build.name] ??= []).push({ cpuPerTestUs: run.cpuPerTestUs, wallSeconds: run.wallSeconds, load1 });
        console.log(`round ${round + 1} ${build.name}: ${run.cpuPerTestUs.toFixed(1)} µs/test of supervisor CPU, ${run.wallSeconds.toFixed(2)} s wall, load ${load1.toFixed(2)}`);
      }
    }
    const summary = Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, { medianCpuPerTestUs: median(list.map((run) => run.cpuPerTestUs)), runs: list }]));
    for (const [name, entry] of Object.entries(summary)) console.log(`${name}: median ${entry.medianCpuPerTestUs.toFixed(1)} µs/test`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `supervisor-cpu-${new Date().toISOString().slice(0, 10)}.json`);
    writeFileSync(file, `${JSON.stringify({ tests: TESTS, workers: 2, builds: builds.map((b) => ({ name: b.name, args: b.args })), summary }, null, 2)}\n`);
    console.log(`saved ${file}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
