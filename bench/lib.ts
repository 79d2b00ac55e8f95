/**
 * What the benchmarks share: the environment every tool runs in, how each tool is started, how a
 * run is timed, and how results are printed and saved.
 *
 * Equal footing: every tool runs with the same environment, which is this process's environment
 * minus PYTHONDONTWRITEBYTECODE (with it set, pytest redoes the assertion rewriting of every test
 * module in every process, which penalises tools that start more processes), after an untimed
 * warm-up that fills the bytecode caches. Only the xdist runs get the extra PYTHONPATH entry that
 * makes Debian's python3-pytest-xdist importable (see `xdistPythonPath`), so plain pytest and
 * bulkhead's workers do not load the xdist plugin.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync, createWriteStream } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BULKHEAD_CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const DEBIAN_DIST_PACKAGES = '/usr/lib/python3/dist-packages';

export type ToolName = 'bulkhead' | 'xdist' | 'pytest';
export const TOOL_NAMES: readonly ToolName[] = ['bulkhead', 'xdist', 'pytest'];

export interface Tool {
  name: ToolName;
  /** How the tool is described in tables and results, e.g. `pytest -n 2`. */
  label: string;
  command: string;
  /** Arguments before the pytest arguments (for bulkhead, up to and including `--`). */
  prefix: string[];
  env: NodeJS.ProcessEnv;
}

export interface BenchEnvironment {
  python: string;
  /** The environment every tool gets (xdist adds to PYTHONPATH). */
  env: NodeJS.ProcessEnv;
  /** The PYTHONPATH entry that makes xdist importable, or null when it already is. */
  xdistPath: string | null;
  /** Human-readable account of the choices, saved with the results. */
  description: Record<string, string>;
}

// -- command line ------------------------------------------------------------------------------

export interface BenchArgs {
  rounds: number;
  workers: number;
  save: boolean;
  /** Arguments after `--`, or null. */
  rest: string[] | null;
  /** Other `--name value` options, for the individual benchmark. */
  extra: Map<string, string>;
}

export function parseBenchArgs(argv: readonly string[], usage: string, known: readonly string[] = []): BenchArgs {
  const args: BenchArgs = { rounds: 3, workers: 2, save: true, rest: null, extra: new Map() };
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n${usage}\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => argv[++i] ?? fail(`${arg} needs a value`);
    const positive = (): number => {
      const n = Number(value());
      return Number.isInteger(n) && n >= 1 ? n : fail(`${arg} must be a positive integer`);
    };
    if (arg === '--') {
      args.rest = argv.slice(i + 1);
      break;
    } else if (arg === '--rounds') args.rounds = positive();
    else if (arg === '--workers') args.workers = positive();
    else if (arg === '--no-save') args.save = false;
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    } else if (known.includes(arg)) args.extra.set(arg, value());
    else fail(`unknown option ${arg}`);
  }
  return args;
}

// -- environment and tools -----------------------------------------------------------------------

function canImport(python: string, env: NodeJS.ProcessEnv, module: string): boolean {
  return spawnSync(python, ['-c', `import ${module}`], { env, stdio: 'ignore' }).status === 0;
}

/**
 * A folder that holds symlinks to only xdist and execnet from Debian's dist-packages (and their
 * metadata, which carries xdist's pytest11 entry point). Putting all of dist-packages on the path
 * would bring Debian's old pytest with it.
 */
export function xdistPythonPath(folder: string): string {
  if (!existsSync(join(DEBIAN_DIST_PACKAGES, 'xdist'))) {
    throw new Error(`pytest-xdist is neither importable nor in ${DEBIAN_DIST_PACKAGES}; run: bash scripts/setup-machine.sh`);
  }
  mkdirSync(folder, { recursive: true });
  const wanted = /^(xdist|execnet|pytest_xdist-.*\.dist-info|execnet-.*\.(dist|egg)-info)$/;
  for (const entry of readdirSync(DEBIAN_DIST_PACKAGES)) {
    if (!wanted.test(entry)) continue;
    const link = join(folder, entry);
    if (!existsSync(link)) symlinkSync(join(DEBIAN_DIST_PACKAGES, entry), link);
  }
  return folder;
}

/** @param options.xdist false for a benchmark that runs no xdist (nothing is looked up for it). */
export function benchEnvironment(scratch: string, options: { xdist?: boolean } = {}): BenchEnvironment {
  const python = process.env.BULKHEAD_PYTHON ?? 'python3';
  const env: NodeJS.ProcessEnv = { ...process.env };
  const before = env.PYTHONDONTWRITEBYTECODE;
  delete env.PYTHONDONTWRITEBYTECODE;
  // Colour and terminal width do not depend on where output goes.
  delete env.FORCE_COLOR;
  delete env.PY_COLORS;
  env.NO_COLOR = '1';
  env.COLUMNS = '120';
  let xdistPath: string | null = null;
  const wantsXdist = options.xdist ?? true;
  if (wantsXdist && !canImport(python, env, 'xdist')) {
    xdistPath = xdistPythonPath(join(scratch, 'xdist-path'));
    const probeEnv = { ...env, PYTHONPATH: joinPath(xdistPath, env.PYTHONPATH) };
    if (!canImport(python, probeEnv, 'xdist')) throw new Error(`${python} cannot import xdist even with PYTHONPATH=${xdistPath}`);
  }
  return {
    python,
    env,
    xdistPath,
    description: {
      PYTHONDONTWRITEBYTECODE: `removed for all tools (was ${before === undefined ? 'unset' : JSON.stringify(before)}), so bytecode and assertion-rewrite caches are written once and reused`,
      PYTHONUNBUFFERED: env.PYTHONUNBUFFERED === undefined ? 'unset' : JSON.stringify(env.PYTHONUNBUFFERED),
      colour: 'NO_COLOR=1, COLUMNS=120, output to a log file',
      xdist: !wantsXdist
        ? 'not used'
        : xdistPath === null
          ? 'importable as installed'
          : `PYTHONPATH=${xdistPath} (symlinks to only xdist and execnet from ${DEBIAN_DIST_PACKAGES}), for the xdist runs only`,
    },
  };
}

function joinPath(first: string, rest: string | undefined): string {
  return rest ? `${first}:${rest}` : first;
}

/** The three tools. bulkhead's node gets a preload that records its own peak RSS at exit. */
export function makeTools(bench: BenchEnvironment, workers: number, rssHook: string): Record<ToolName, Tool> {
  return {
    bulkhead: {
      name: 'bulkhead',
      label: `bulkhead run --workers ${workers}`,
      command: process.execPath,
      prefix: [...shebangFlags(BULKHEAD_CLI), '--import', rssHook, BULKHEAD_CLI, 'run', '--workers', String(workers), '--python', bench.python, '--'],
      env: bench.env,
    },
    xdist: {
      name: 'xdist',
      label: `pytest -n ${workers}`,
      command: bench.python,
      prefix: ['-m', 'pytest', '-n', String(workers)],
      env: bench.xdistPath === null ? bench.env : { ...bench.env, PYTHONPATH: joinPath(bench.xdistPath, bench.env.PYTHONPATH) },
    },
    pytest: {
      name: 'pytest',
      label: 'pytest',
      command: bench.python,
      prefix: ['-m', 'pytest'],
      env: bench.env,
    },
  };
}

/** The node flags a CLI's `#!/usr/bin/env -S node --flag ...` line gives, so a benchmark starts it as a shell would. */
export function shebangFlags(cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\S*env(?: -S)? node(.*)$/.exec(first);
  return match ? match[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

/** An ES module for `node --import`: writes `process.resourceUsage().maxRSS` (KiB, this process only) at exit. */
export function writeRssHook(folder: string): string {
  const path = join(folder, 'rss-hook.mjs');
  writeFileSync(
    path,
    [
      "import { writeFileSync } from 'node:fs';",
      'const out = process.env.BULKHEAD_BENCH_RSS_FILE;',
      'if (out) process.on("exit", () => { try { writeFileSync(out, String(process.resourceUsage().maxRSS)); } catch {} });',
      '',
    ].join('\n'),
  );
  return path;
}

// -- timing --------------------------------------------------------------------------------------

export interface RunRecord {
  tool: ToolName;
  round: number;
  /** What was run (the benchmark's own label, e.g. `suite` or `baseline`). */
  what: string;
  seconds: number;
  exitCode: number | null;
  /** The tool's final summary line, e.g. `1234 passed, 5 skipped in 60.1s`. */
  summary: string | null;
  /** Peak RSS of bulkhead's node process (not its workers), MiB. */
  nodePeakRssMiB: number | null;
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** The last `===== ... in 1.23s =====` line of a pytest-style session. */
export function summaryLine(output: string): string | null {
  const lines = output.replace(ANSI, '').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /^=+ (.* in [\d.]+s(?: \([^)]*\))?) =+$/.exec(lines[i]!.trim());
    if (match) return match[1]!;
  }
  return null;
}

/** Runs one tool to completion with its output in `log`; wall time from spawn to exit. */
export async function timeRun(
  tool: Tool,
  pytestArgs: readonly string[],
  cwd: string,
  log: string,
  label: { round: number; what: string },
): Promise<RunRecord> {
  const rssFile = `${log}.rss`;
  const env = tool.name === 'bulkhead' ? { ...tool.env, BULKHEAD_BENCH_RSS_FILE: rssFile } : tool.env;
  const out = createWriteStream(log);
  await new Promise<void>((resolvePromise) => out.on('open', () => resolvePromise()));
  const started = performance.now();
  const exitCode = await new Promise<number | null>((resolvePromise, reject) => {
    const child = spawn(tool.command, [...tool.prefix, ...pytestArgs], { cwd, env, stdio: ['ignore', out, out] });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code));
  });
  const seconds = (performance.now() - started) / 1000;
  await new Promise<void>((resolvePromise) => out.end(resolvePromise));
  const rss = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : NaN;
  return {
    tool: tool.name,
    round: label.round,
    what: label.what,
    seconds: Math.round(seconds * 1000) / 1000,
    exitCode,
    summary: summaryLine(readFileSync(log, 'utf8')),
    nodePeakRssMiB: Number.isFinite(rss) ? Math.round((rss / 1024) * 10) / 10 : null,
  };
}

/** Tool order for a round: rotated each round so that no tool always runs first or last. */
export function roundOrder(round: number): ToolName[] {
  return TOOL_NAMES.map((_, index) => TOOL_NAMES[(index + round) % TOOL_NAMES.length]!);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// -- reporting -----------------------------------------------------------------------------------

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

function commandOutput(command: string, args: string[], cwd = REPO_ROOT): string | null {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(bench: BenchEnvironment): Record<string, unknown> {
  const xdistEnv = bench.xdistPath === null ? bench.env : { ...bench.env, PYTHONPATH: joinPath(bench.xdistPath, bench.env.PYTHONPATH) };
  let versions: string | null = null;
  try {
    versions = execFileSync(
      bench.python,
      ['-c', 'import sys, pytest, xdist, execnet; print(sys.version.split()[0], pytest.__version__, xdist.__version__, execnet.__version__)'],
      { env: xdistEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    ).trim();
  } catch {
    versions = null;
  }
  const [python, pytest, xdist, execnet] = versions?.split(' ') ?? [];
  const dirty = commandOutput('git', ['status', '--porcelain', '--', 'src', 'python']);
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? null,
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    python: python ?? null,
    pytest: pytest ?? null,
    xdist: xdist ?? null,
    execnet: execnet ?? null,
    bulkheadCommit: commandOutput('git', ['rev-parse', '--short', 'HEAD']),
    bulkheadSourceModified: dirty === null ? null : dirty.length > 0,
  };
}

export function loadAverage(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

/** Writes `bench/results/<name>-<YYYY-MM-DD>[-N].json` (via a .tmp file) and returns its path. */
export function saveResults(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const now = new Date();
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  let path = join(RESULTS_DIR, `${name}-${day}.json`);
  for (let n = 2; existsSync(path); n++) path = join(RESULTS_DIR, `${name}-${day}-${n}.json`);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return resolve(path);
}

export function formatSeconds(seconds: number): string {
  return seconds.toFixed(2);
}

export function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
}

export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * The trivial suite the per-test benchmarks share: `root/suite/test_mod_NN.py` with `tests`
 * `def test_n(): pass` each (and, with `baseline`, `root/baseline/test_one.py`: start-up alone).
 */
export function generateTrivialSuite(root: string, modules: number, tests: number, options: { baseline?: boolean } = {}): void {
  // An ini file makes `root` the rootdir, so nothing above it is picked up.
  writeFileSync(join(root, 'pytest.ini'), '[pytest]\n');
  mkdirSync(join(root, 'suite'), { recursive: true });
  const width = String(modules - 1).length;
  for (let m = 0; m < modules; m++) {
    const body = Array.from({ length: tests }, (_, n) => `def test_${n}():\n    pass\n`).join('\n');
    writeFileSync(join(root, 'suite', `test_mod_${String(m).padStart(width, '0')}.py`), body);
  }
  if (options.baseline) {
    mkdirSync(join(root, 'baseline'), { recursive: true });
    writeFileSync(join(root, 'baseline', 'test_one.py'), 'def test_one():\n    pass\n');
  }
}

/**
 * A `node --import` preload that writes the process's own CPU time and peak RSS, at exit, to the
 * file named by $BULKHEAD_BENCH_CPU_FILE: `{ cpu: { user, system } (us), maxRss (KiB) }`.
 */
export function writeCpuHook(folder: string): string {
  const path = join(folder, 'cpu-hook.mjs');
  writeFileSync(
    path,
    [
      "import { writeFileSync } from 'node:fs';",
      'const out = process.env.BULKHEAD_BENCH_CPU_FILE;',
      'if (out) process.on("exit", () => { try { writeFileSync(out, JSON.stringify({ cpu: process.cpuUsage(), maxRss: process.resourceUsage().maxRSS })); } catch {} });',
      '',
    ].join('\n'),
  );
  return path;
}
