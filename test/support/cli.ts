/**
 * Runs the built bulkhead CLI (dist/src/cli/main.js) as a child process, the way a user would,
 * and collects everything a test asserts on: exit code, stdout, stderr, the --json result file
 * and the --junit XML (both written to a fresh temp dir).
 *
 * The CLI starts in its own process group, and its workers start in process groups of their own;
 * on timeout (or once the CLI exits) every process that descends from it is killed, so a test
 * can never leave a pytest worker behind on the shared machine.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to dist/test/support/cli.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI_PATH = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures');
export const PYTHON = process.env.BULKHEAD_TEST_PYTHON ?? 'python3';

export function fixturePath(name: string): string {
  return join(FIXTURES_DIR, name);
}

/** The --json document (format bulkhead-results, version 1): what the e2e tests assert on. */
export interface JsonTest {
  id: string;
  file: string;
  line: number | null;
  markers: string[];
  outcome: 'passed' | 'failed' | 'error' | 'skipped' | 'xfailed' | 'xpassed' | 'crashed' | 'not_run';
  reason: string | null;
  cause: { kind: string; code?: number; signal?: string; detail?: string; reason?: string } | null;
  stderrTail: string | null;
  duration: number;
  worker: number | null;
  phases: Array<{ when: string; outcome: string; duration: number; longrepr: string; sections: Array<[string, string]> }>;
}

export interface JsonResults {
  format: string;
  version: number;
  run: {
    workers: number;
    pytestArgs: string[];
    cwd: string;
    artifactsDir: string;
    rootdir?: string;
    exitCode: number | null;
    end: { kind: string; [key: string]: unknown } | null;
    [key: string]: unknown;
  };
  summary: Record<string, number>;
  collectErrors: Array<{ nodeid: string; longrepr: string }>;
  tests: JsonTest[];
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed --json file, or null when it was not asked for or not written. */
  json: JsonResults | null;
  /** The --junit file's text, or null when it was not asked for or not written. */
  junitXml: string | null;
  timedOut: boolean;
  seconds: number;
  /** Descendant processes seen during the run that were still alive after it exited (then killed). */
  leftovers: string[];
  /** The most direct children (workers, probes; not the run's reaper) seen alive at once, sampled every 100 ms. */
  maxChildren: number;
}

export interface CliOptions {
  cwd: string;
  /** Arguments after `--`, for pytest. */
  pytestArgs?: string[];
  /** bulkhead options before `--` (besides --workers, --json and --junit, which are added). */
  options?: string[];
  /** Replaces the whole argv after `main.js` (no --workers/--json/--junit added). */
  rawArgs?: string[];
  workers?: number;
  /** Ask for --json / --junit (default: both). */
  json?: boolean;
  junit?: boolean;
  /** Added to (or, with undefined values, removed from) the environment. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Bytes of stdout/stderr kept in memory; beyond that output is dropped (and counted). */
  maxOutputBytes?: number;
  /** Starts the CLI through this instead (e.g. inside a capped cgroup: `CappedCgroup.wrap`). */
  wrap?: (command: string, args: readonly string[]) => { command: string; args: string[] };
}

/** The environment every run gets: no colour, a fixed width, nothing inherited that changes pytest. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, COLUMNS: '80', NO_COLOR: '1', PY_COLORS: '0' };
  delete env.FORCE_COLOR;
  // pytest prints whole (multi-line) messages in its short summary when it thinks it runs on CI;
  // the tests compare lines, so both pytest and bulkhead run as on a developer's machine.
  delete env.CI;
  delete env.BUILD_NUMBER;
  delete env.PYTEST_ADDOPTS;
  delete env.PYTEST_PLUGINS;
  delete env.PYTEST_XDIST_WORKER;
  delete env.PYTEST_XDIST_WORKER_COUNT;
  delete env.PYTEST_XDIST_TESTRUNUID;
  delete env.BULKHEAD_CHANNEL_FD;
  delete env.BULKHEAD_JOURNAL_FD;
  delete env.BULKHEAD_PYTHON;
  delete env.NODE_TEST_CONTEXT;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export async function runCli(options: CliOptions): Promise<CliResult> {
  const out = mkdtempSync(join(tmpdir(), 'bulkhead-e2e-out-'));
  const jsonPath = join(out, 'results.json');
  const junitPath = join(out, 'junit.xml');
  let args: string[];
  if (options.rawArgs) {
    args = options.rawArgs;
  } else {
    args = ['run', '--workers', String(options.workers ?? 2)];
    if (options.json !== false) args.push('--json', jsonPath);
    if (options.junit !== false) args.push('--junit', junitPath);
    args.push(...(options.options ?? []));
    if (options.pytestArgs && options.pytestArgs.length > 0) args.push('--', ...options.pytestArgs);
  }
  try {
    const started = options.wrap ? options.wrap(process.execPath, [CLI_PATH, ...args]) : { command: process.execPath, args: [CLI_PATH, ...args] };
    const result = await spawnBounded(started.command, started.args, {
      cwd: options.cwd,
      env: baseEnv(options.env),
      timeoutMs: options.timeoutMs ?? 60_000,
      maxOutputBytes: options.maxOutputBytes ?? 8 * 1024 * 1024,
    });
    const json = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as JsonResults) : null;
    const junitXml = existsSync(junitPath) ? readFileSync(junitPath, 'utf8') : null;
    return { ...result, json, junitXml };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export interface SpawnResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  seconds: number;
  /** Descendant processes seen during the run still alive once it exited ("pid command"); they are killed. */
  leftovers: string[];
  /** The most direct children seen alive at once (sampled every 100 ms), the run's reaper aside. */
  maxChildren: number;
}

/**
 * Runs a command to completion in its own process group, killing it and every descendant (in
 * whatever process group they are) on timeout, and any descendant still alive once it exits.
 */
export function spawnBounded(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; maxOutputBytes?: number },
): Promise<SpawnResult> {
  const started = performance.now();
  const limit = options.maxOutputBytes ?? 8 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid === undefined) {
      child.once('error', reject);
      return;
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes < limit) stdout.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes < limit) stderr.push(chunk);
      errBytes += chunk.length;
    });
    // Descendants seen while the command runs: a worker re-parented to init after the CLI was
    // killed is no longer found by walking the tree, so the tree is sampled as it goes.
    const seen = new Map<number, ProcStat>();
    let maxChildren = 0;
    const note = (): void => {
      let children = 0;
      for (const descendant of descendantsOf(pid)) {
        const stat = readStat(descendant);
        if (!stat) continue;
        if (!seen.has(descendant)) seen.set(descendant, stat);
        // The run's reaper (python/bulkhead-reaper.py) waits for the whole run beside the workers.
        if (stat.ppid === pid && stat.state !== 'Z' && !isReaper(descendant)) children += 1;
      }
      maxChildren = Math.max(maxChildren, children);
    };
    const sample = setInterval(note, 100);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      note();
      killTree(pid, seen.keys());
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      clearInterval(sample);
      reject(error);
    });
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      clearInterval(sample);
      // Whatever the command left behind is noted and killed; the run's reaper, told goodbye and
      // exiting unwaited, gets a moment first (one that never exits is still a leftover).
      const alive = (pid: number, starttime: string): ProcStat | null => [readStat(pid)].find((now) => now?.starttime === starttime && now.state !== 'Z') ?? null;
      const grace = performance.now() + 3_000;
      for (const [id, first] of seen) while (isReaper(id) && alive(id, first.starttime) && performance.now() < grace) await sleep(20);
      const leftovers = [...seen].flatMap(([id, first]) => [alive(id, first.starttime)].flatMap((now) => (now ? [`${id} ${now.comm}`] : [])));
      killTree(pid, seen.keys());
      resolve({
        leftovers,
        maxChildren,
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8') + (outBytes > limit ? `\n[... ${outBytes - limit} more bytes of stdout]\n` : ''),
        stderr: Buffer.concat(stderr).toString('utf8') + (errBytes > limit ? `\n[... ${errBytes - limit} more bytes of stderr]\n` : ''),
        timedOut,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}

/** Kills a process group and every known descendant's process group. */
function killTree(pid: number, descendants: Iterable<number>): void {
  const groups = new Set<number>([pid]);
  for (const descendant of descendants) {
    const group = processGroupOf(descendant);
    if (group !== null && group !== process.pid && group > 1) groups.add(group);
    tryKill(descendant);
  }
  for (const group of groups) tryKill(-group);
}

function tryKill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // already gone
  }
}

interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  starttime: string;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    // Fields from the state on: state ppid pgrp session tty tpgid flags minflt cminflt majflt
    // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime.
    return { pid, comm, state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]), starttime: rest[19]! };
  } catch {
    return null;
  }
}

function isReaper(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith('/bulkhead-reaper.py'));
  } catch {
    return false;
  }
}

function processGroupOf(pid: number): number | null {
  return readStat(pid)?.pgrp ?? null;
}

/** Every live process below `root`, by parent links in /proc. */
export function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  const found: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const next = stack.pop()!;
    for (const child of children.get(next) ?? []) {
      found.push(child);
      stack.push(child);
    }
  }
  return found;
}

/** Runs plain pytest (`python3 -m pytest`) on a project, with --junitxml to a temp file. */
export async function runPytest(options: {
  cwd: string;
  pytestArgs?: string[];
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  maxOutputBytes?: number;
}): Promise<SpawnResult & { junitXml: string | null }> {
  const out = mkdtempSync(join(tmpdir(), 'bulkhead-e2e-pytest-'));
  const junitPath = join(out, 'junit.xml');
  try {
    const result = await spawnBounded(PYTHON, ['-m', 'pytest', '-p', 'no:cacheprovider', `--junitxml=${junitPath}`, ...(options.pytestArgs ?? [])], {
      cwd: options.cwd,
      env: baseEnv(options.env),
      timeoutMs: options.timeoutMs ?? 60_000,
      maxOutputBytes: options.maxOutputBytes ?? 8 * 1024 * 1024,
    });
    const junitXml = existsSync(junitPath) ? readFileSync(junitPath, 'utf8') : null;
    return { ...result, junitXml };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A temp copy of a fixture project, for tests that write into the project (e.g. .bulkhead/). */
export function copyFixture(name: string): { dir: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), `bulkhead-e2e-${name}-`));
  const dir = join(root, name);
  cpSync(fixturePath(name), dir, {
    recursive: true,
    filter: (source) => !/(^|\/)(\.bulkhead|\.benchmarks|__pycache__|\.pytest_cache)(\/|$)/.test(source.slice(FIXTURES_DIR.length)),
  });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Removes what a run leaves in a fixture project run in place (.bulkhead/, caches). */
export function cleanProject(dir: string): void {
  for (const name of ['.bulkhead', '.pytest_cache']) rmSync(join(dir, name), { recursive: true, force: true });
}

/** A fresh temp dir (for files the tests in a fixture write, named by env var). */
export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `bulkhead-e2e-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The last `=== ... ===` line of pytest's terminal output without its time, e.g. "1 failed, 2 passed". */
export function summaryLine(output: string): string | null {
  const lines = output.split('\n').map((line) => line.trimEnd()).filter((line) => line.length > 0);
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    // "==== 1 failed, 2 passed in 0.12s ====", or without the separator under -q.
    const match = /^(?:=+ )?((?:\d+ [a-z]+(?:, )?)+|no tests ran) in [\d.]+s(?: \([^)]*\))?(?: =+)?$/.exec(lines[i]!);
    if (match) return match[1]!;
  }
  return null;
}

/** A readable dump of a run for assertion messages. */
export function describeRun(result: { code: number | null; stdout: string; stderr: string }, maxChars = 6000): string {
  const clip = (text: string): string => (text.length > maxChars ? `${text.slice(0, maxChars / 2)}\n[...]\n${text.slice(-maxChars / 2)}` : text);
  return `exit code ${result.code}\n--- stdout\n${clip(result.stdout)}\n--- stderr\n${clip(result.stderr)}`;
}

/** {id: outcome} of the --json tests. */
export function jsonOutcomes(json: JsonResults): Record<string, string> {
  return Object.fromEntries(json.tests.map((test) => [test.id, test.outcome]));
}
