/**
 * bulkhead itself SIGKILLed mid-run (the OOM killer, a CI job cancelled hard), on
 * `test/fixtures/supervisor-death`: two workers that cannot act for themselves, one stopped
 * (SIGSTOP) and one stuck in C holding the GIL, each with a child process (one of them in a
 * session of its own). Within 2 s of the kill no process of the run is left (the recorded pids, and
 * every process that carries the run's marker in its environment), nor any cgroup of the run.
 *
 * Who clears them: the run's reaper (src/supervisor/run-reaper.ts, python/bulkhead-reaper.py),
 * which sees its pipe from the dead supervisor end, and each worker's PR_SET_PDEATHSIG.
 *
 * What the run recorded survives it: the recording's complete lines parse, and `bulkhead report`
 * on it lists the two quick tests that finished before the kill as passed and every other test as
 * not run, saying the recording ends there.
 *
 * The CLI is started here rather than through runCli: runCli kills whatever outlives the CLI as
 * soon as the CLI exits, which would hide the very processes this test looks for.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { baseEnv, CLI_PATH, copyFixture, tempDir } from '../support/cli.js';
import { isAlive, waitUntil } from '../support/proc-watch.js';

/** How long after bulkhead's death nothing of its run may be left. */
const DEADLINE_MS = 2_000;
const MARKERS = ['stopped.worker', 'stopped.child', 'stuck.worker', 'stuck.child'] as const;
type Marker = (typeof MARKERS)[number];

const linux = process.platform === 'linux' && existsSync('/proc/self/environ');
const project = copyFixture('supervisor-death');
const markers = tempDir('supervisor-death');

/** What was seen: before the kill, and at the deadline after it. */
interface Observed {
  output: () => string;
  pids: Record<Marker, number>;
  /** BULKHEAD_RUN_ID, as a worker's environment holds it. */
  runId: string | null;
  /** The run's cgroup folders that existed just before the kill. */
  cgroupsBefore: string[];
  /** Per recorded pid, ms after the kill when it was first seen gone (null: still alive at the deadline). */
  goneAfterMs: Record<Marker, number | null>;
  /** "pid cmd" of every process of the run still alive at the deadline. */
  survivors: string[];
  /** The run's cgroup folders still there at the deadline. */
  cgroupsLeft: string[];
  /** The run's recording as the kill left it, and `bulkhead report` on it (exit code, JSON results). */
  recording: string;
  report: { exitCode: number | null; stdout: string; json: ReportedRun | null };
}

interface ReportedRun {
  run: { end: { kind: string; detail?: string } | null };
  tests: Array<{ id: string; outcome: string; reason: string | null }>;
}

let observed: Observed | null = null;

before(async () => {
  if (!linux) return;
  const cli = startCli();
  // Every pid of the run learnt of, and every cgroup: killed and removed at the end, pass or fail.
  const known = new Set<number>([cli.process.pid!]);
  let cgroups: string[] = [];
  try {
    const started = await waitUntil(() => MARKERS.every((name) => existsSync(join(markers.dir, name))), 60_000);
    assert.ok(started, `both long tests started and wrote their pids\n${cli.output()}`);
    const pids = Object.fromEntries(MARKERS.map((name) => [name, Number(readFileSync(join(markers.dir, name), 'utf8'))])) as Record<Marker, number>;
    for (const pid of Object.values(pids)) known.add(pid);
    const runId = environOf(pids['stopped.worker']).find((entry) => entry.startsWith('BULKHEAD_RUN_ID='))?.slice('BULKHEAD_RUN_ID='.length) ?? null;
    cgroups = runCgroups(cli.process.pid!);

    // The quick tests' results reach the recording within a journal read (20 ms) and a recorder
    // flush of their finishing: what is recorded by then is what must survive the kill.
    const quickRecorded = () => (readRecording().match(/"type":"test_finished"[^\n]*test_quick_(one|two)/g) ?? []).length === 2;
    assert.ok(await waitUntil(quickRecorded, 5_000), `the quick tests were recorded\n${cli.output()}`);
    process.kill(pids['stopped.worker'], 'SIGSTOP');
    assert.ok(await waitUntil(() => stateOf(pids['stopped.worker']) === 'T', 5_000), 'the worker stopped');
    for (const pid of runProcesses(runId)) known.add(pid);

    process.kill(cli.process.pid!, 'SIGKILL');
    const killedAt = performance.now();
    const goneAfterMs = Object.fromEntries(MARKERS.map((name) => [name, null])) as Record<Marker, number | null>;
    for (;;) {
      const elapsed = performance.now() - killedAt;
      for (const name of MARKERS) if (goneAfterMs[name] === null && !isAlive(pids[name])) goneAfterMs[name] = Math.round(elapsed);
      if (elapsed >= DEADLINE_MS) break;
      await sleep(20);
    }
    const survivors = runProcesses(runId).map((pid) => `${pid} ${(cmdlineOf(pid) ?? []).join(' ')}`);
    const cgroupsLeft = cgroups.filter((dir) => existsSync(dir));
    observed = { output: cli.output, pids, runId, cgroupsBefore: cgroups, goneAfterMs, survivors, cgroupsLeft, recording: readRecording(), report: replay() };
  } finally {
    for (const pid of [...known, ...runProcesses(null)]) killQuietly(pid);
    await cli.closed(10_000);
    for (const dir of cgroups) await removeCgroup(dir);
  }
});

after(() => {
  project.cleanup();
  markers.cleanup();
});

test('the stopped worker, the stuck one and both their children are gone within 2 s of bulkhead', (t) => {
  if (!observed) return t.skip('needs Linux /proc');
  const { goneAfterMs } = observed;
  t.diagnostic(`gone after (ms): ${JSON.stringify(goneAfterMs)}`);
  for (const name of MARKERS) assert.notEqual(goneAfterMs[name], null, `${name} (pid ${observed.pids[name]}) outlived bulkhead by ${DEADLINE_MS} ms\n${observed.output()}`);
});

test('no process of the run is left: none carries its marker (the reaper is gone too)', (t) => {
  if (!observed) return t.skip('needs Linux /proc');
  assert.match(observed.runId ?? '', /^[0-9a-f]{32}$/, 'workers carry BULKHEAD_RUN_ID');
  assert.deepEqual(observed.survivors, []);
});

test('no cgroup of the run is left (v1 memory, v2 unified)', (t) => {
  if (!observed) return t.skip('needs Linux /proc');
  if (observed.cgroupsBefore.length === 0) return t.skip('no writable cgroup hierarchy here: the run made none');
  assert.deepEqual(observed.cgroupsLeft, []);
});

test('the recording survives: every complete line parses, and the quick tests finished in it', (t) => {
  if (!observed) return t.skip('needs Linux /proc');
  const lines = observed.recording.split('\n');
  // A kill can cut only the last line; every line before it is whole. (After a final newline the
  // last piece is empty; without one it is the cut line: either way it is not parsed.)
  const complete = lines.slice(0, -1);
  const parsed = complete.map((line) => JSON.parse(line) as { type?: string; format?: string; testId?: string });
  assert.equal(parsed[0]?.format, 'bulkhead-events', 'a versioned header first');
  const finished = parsed.filter((event) => event.type === 'test_finished').map((event) => event.testId);
  assert.deepEqual(finished.sort(), ['tests/test_first.py::test_quick_one', 'tests/test_first.py::test_quick_two']);
  assert.ok(!parsed.some((event) => event.type === 'run_finished'), 'the run never finished');
});

test('bulkhead report on it: the finished tests as they ended, every other test not run, and why', (t) => {
  if (!observed) return t.skip('needs Linux /proc');
  const { exitCode, json, stdout } = observed.report;
  assert.equal(exitCode, 2, `a recording cut short replays as an interrupted run\n${stdout}`);
  assert.ok(json, 'the JSON results were written');
  const outcomes = Object.fromEntries(json.tests.map((test) => [test.id, test.outcome]));
  assert.equal(outcomes['tests/test_first.py::test_quick_one'], 'passed');
  assert.equal(outcomes['tests/test_first.py::test_quick_two'], 'passed');
  const rest = json.tests.filter((test) => !test.id.startsWith('tests/test_first.py::'));
  assert.equal(rest.length, 6);
  for (const test of rest) {
    assert.equal(test.outcome, 'not_run', test.id);
    assert.match(test.reason ?? '', /the recording ends after event \d+/, test.id);
  }
  assert.equal(json.run.end?.kind, 'interrupted');
});

// -- helpers ----------------------------------------------------------------------------------

/** The run's events.ndjson, as the kill left it. */
function readRecording(): string {
  const runs = join(project.dir, '.bulkhead', 'runs');
  const folders = existsSync(runs) ? readdirSync(runs) : [];
  assert.equal(folders.length, 1, `one run folder: ${folders.join(', ')}`);
  return readFileSync(join(runs, folders[0]!, 'events.ndjson'), 'utf8');
}

/** `bulkhead report latest --json` in the project, as a user would after the kill. */
function replay(): Observed['report'] {
  const jsonPath = join(markers.dir, 'replayed.json');
  const result = spawnSync(process.execPath, [CLI_PATH, 'report', 'latest', '--json', jsonPath], { cwd: project.dir, env: baseEnv({}), encoding: 'utf8', timeout: 60_000 });
  const json = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as ReportedRun) : null;
  return { exitCode: result.status, stdout: `${result.stdout}${result.stderr}`, json };
}

function startCli(): { process: ChildProcess; output: () => string; closed: (timeoutMs: number) => Promise<void> } {
  const child = spawn(process.execPath, [CLI_PATH, 'run', '--workers', '2'], {
    cwd: project.dir,
    env: baseEnv({ SUPERVISOR_DEATH_DIR: markers.dir }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    process: child,
    output: () => `--- bulkhead's output\n${text}`,
    // The bound's timer is unref'd: once the CLI has closed it must not keep this test file alive.
    closed: (timeoutMs) => Promise.race([closed, sleep(timeoutMs, undefined, { ref: false })]),
  };
}

/**
 * Living processes of this run: those whose environment holds the run's marker, or the fixture's
 * folder (every process the CLI started inherits it, the reaper included).
 */
function runProcesses(runId: string | null): number[] {
  const tags = [`SUPERVISOR_DEATH_DIR=${markers.dir}`, ...(runId ? [`BULKHEAD_RUN_ID=${runId}`] : [])];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid && isAlive(pid) && environOf(pid).some((entry) => tags.includes(entry)));
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function cmdlineOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

function stateOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * The run's cgroup folders (`bulkhead-<pid>-<ms>`, beside the CLI's own cgroup) in the v1 memory
 * hierarchy and the v2 one, as src/supervisor/platform makes them.
 */
function runCgroups(cliPid: number): string[] {
  const parents: string[] = [];
  for (const line of readFileSync(`/proc/${cliPid}/cgroup`, 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':', 3);
    if (path === undefined) continue;
    if (controllers === '') parents.push(join('/sys/fs/cgroup/unified', path), join('/sys/fs/cgroup', path));
    else if (controllers?.split(',').includes('memory')) parents.push(join('/sys/fs/cgroup/memory', path));
  }
  const name = new RegExp(`^bulkhead-${cliPid}-\\d+$`);
  return parents.filter((dir) => existsSync(dir)).flatMap((dir) => readdirSync(dir).filter((entry) => name.test(entry)).map((entry) => join(dir, entry)));
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills what is left in a cgroup folder (v2 at once, v1 one process at a time) and removes it, leaves first; bounded. */
async function removeCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  try {
    if (existsSync(join(dir, 'cgroup.kill'))) writeFileSync(join(dir, 'cgroup.kill'), '1');
    else for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) killQuietly(Number(pid));
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) await removeCgroup(join(dir, entry.name));
  } catch {
    // removed meanwhile
  }
  for (let attempt = 0; attempt < 50 && existsSync(dir); attempt += 1) {
    try {
      rmdirSync(dir);
    } catch {
      await sleep(20); // the kernel is still finishing the kills
    }
  }
}
