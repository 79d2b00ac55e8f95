/**
 * Recorded as it happens, replayed into any report, on real runs of fixture projects: each run
 * is made with --junit and --json, then `bulkhead report` rebuilds them from the run's recording,
 * and the files must be byte for byte the live ones (the terminal report too, at the same
 * width). Then: bulkhead killed with SIGKILL mid-run; --no-record, --no-artifacts, --keep-runs and
 * `record = false`; a project where the run folder cannot be made.
 *
 * Fixtures run in temp copies, bounded in time; every process a run starts is reaped by
 * spawnBounded, and the faults fixture's leaked `sleep 600` is looked for and killed after.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { readRecording } from '../../src/record/index.js';
import { CLI_PATH, baseEnv, copyFixture, describeRun, spawnBounded, tempDir, type SpawnResult } from '../support/cli.js';
import { CappedCgroup, cgroupSkipReason } from '../support/memory-cgroup.js';
import { findProcesses, waitForCliPid, waitUntil } from '../support/proc-watch.js';

interface Wrap {
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
}

function cli(cwd: string, args: string[], options: { env?: Record<string, string | undefined>; timeoutMs?: number; wrap?: Wrap | null } = {}): Promise<SpawnResult> {
  const started = options.wrap ? options.wrap.wrap(process.execPath, [CLI_PATH, ...args]) : { command: process.execPath, args: [CLI_PATH, ...args] };
  return spawnBounded(started.command, started.args, { cwd, env: baseEnv(options.env), timeoutMs: options.timeoutMs ?? 60_000 });
}

function runFolders(cwd: string): string[] {
  const root = join(cwd, '.bulkhead', 'runs');
  return existsSync(root) ? readdirSync(root).sort() : [];
}

/** Runs the project live with --junit/--json, then replays its recording: both sets of outputs. */
async function liveThenReplay(
  t: TestContext,
  cwd: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number; wrap?: Wrap | null } = {},
): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'bulkhead-replay-out-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const before = new Set(runFolders(cwd));
  const [pytestArgs, own] = args.includes('--') ? [args.slice(args.indexOf('--')), args.slice(0, args.indexOf('--'))] : [[], args];
  const live = await cli(cwd, ['run', ...own, '--junit', join(out, 'live.xml'), '--json', join(out, 'live.json'), ...pytestArgs], options);
  assert.equal(live.timedOut, false, describeRun(live));
  assert.deepEqual(live.leftovers, []);
  const made = runFolders(cwd).filter((name) => !before.has(name));
  assert.equal(made.length, 1, `one new run folder: ${made.join(', ')}`);
  const folder = join(cwd, '.bulkhead', 'runs', made[0]!);
  const replay = await cli(cwd, ['report', folder, '--junit', join(out, 'replay.xml'), '--json', join(out, 'replay.json')], { env: options.env ?? {} });
  assert.equal(replay.stderr, '', describeRun(replay));
  assert.equal(replay.code, live.code, 'the report exits with the run\'s exit code');
  // Byte for byte: compared as strings first (a readable diff), then as bytes.
  assert.equal(readFileSync(join(out, 'replay.xml'), 'utf8'), readFileSync(join(out, 'live.xml'), 'utf8'));
  assert.equal(readFileSync(join(out, 'replay.json'), 'utf8'), readFileSync(join(out, 'live.json'), 'utf8'));
  assert.ok(readFileSync(join(out, 'replay.xml')).equals(readFileSync(join(out, 'live.xml'))));
  assert.ok(readFileSync(join(out, 'replay.json')).equals(readFileSync(join(out, 'live.json'))));
  assert.equal(replay.stdout, live.stdout, 'the terminal report, as the run printed it');
  const json = JSON.parse(readFileSync(join(out, 'live.json'), 'utf8')) as { summary: { total: number } };
  t.diagnostic(`${cwd}: exit ${live.code}, ${json.summary.total} tests, live ${live.seconds.toFixed(1)} s, replay ${replay.seconds.toFixed(2)} s`);
}

const faults = copyFixture('faults');
const faultsDir = tempDir('faults-record');
after(() => {
  for (const pid of findProcesses(['sleep', '600'], `BULKHEAD_FAULTS_DIR=${faultsDir.dir}`)) process.kill(pid, 'SIGKILL');
  faults.cleanup();
  faultsDir.cleanup();
});

test('faults: every kind of worker death, replayed into byte-identical JUnit and JSON', async (t) => {
  await liveThenReplay(t, faults.dir, ['--workers', '2', '--heartbeat-timeout', '3'], { env: { BULKHEAD_FAULTS_DIR: faultsDir.dir }, timeoutMs: 120_000 });
});

test('scheduling: locks (one holder segfaults), serial tests, resource tokens, config overrides, replayed byte for byte', async (t) => {
  const project = copyFixture('scheduling');
  const spans = tempDir('sched-record');
  t.after(() => {
    project.cleanup();
    spans.cleanup();
  });
  await liveThenReplay(t, project.dir, ['--workers', '2', '--', 'tests/test_locks.py', 'tests/test_lock_crash.py', 'tests/test_smoke.py', 'tests/test_serial.py'], {
    env: { BULKHEAD_SCHED_DIR: spans.dir, SCHED_MEET_SECONDS: '2' },
    timeoutMs: 90_000,
  });
});

test('memory: a runaway allocation killed at its cap (oom), peaks measured, replayed byte for byte', async (t) => {
  const project = copyFixture('memory');
  // As test/e2e/memory.test.ts: inside a 2.5 GiB cgroup where this process may make one.
  const outer = cgroupSkipReason() === null ? CappedCgroup.create(`bulkhead-record-memory-${process.pid}`, 2560 * 1024 * 1024) : null;
  t.after(() => {
    outer?.remove();
    project.cleanup();
  });
  await liveThenReplay(t, project.dir, ['--workers', '2', '--worker-memory-max', '300M', '--memory-budget', '1G', '--memory-control', 'rlimit'], {
    timeoutMs: 90_000,
    wrap: outer,
  });
});

test('bulkhead killed with SIGKILL mid-run: the recording holds every result finished before, and replays as cut short (exit 2)', async (t) => {
  const project = copyFixture('slow-suite');
  const started = tempDir('slow-record');
  t.after(() => {
    project.cleanup();
    started.cleanup();
  });
  const run = cli(project.dir, ['run', '--workers', '2'], { env: { BULKHEAD_SLOW_STARTED_DIR: started.dir }, timeoutMs: 60_000 });
  const pid = await waitForCliPid(project.dir);
  assert.ok(pid !== null, 'found the CLI');
  assert.ok(await waitUntil(() => readdirSync(started.dir).length >= 5, 30_000), '5 tests started');
  // Reported while it runs: the recording so far, read as a run that is still going.
  const meanwhile = await cli(project.dir, ['report', '-q', '--json', join(started.dir, '..', 'meanwhile.json')]);
  t.after(() => rmSync(join(started.dir, '..', 'meanwhile.json'), { force: true }));
  assert.equal(meanwhile.code, 2, describeRun(meanwhile));
  const partial = JSON.parse(readFileSync(join(started.dir, '..', 'meanwhile.json'), 'utf8')) as { run: { end: { detail: string } } };
  assert.match(partial.run.end.detail, new RegExp(`: the run is still going \\(bulkhead pid ${pid}\\)$`));
  process.kill(pid, 'SIGKILL');
  const live = await run;
  assert.equal(live.signal, 'SIGKILL', describeRun(live));
  const [folder] = runFolders(project.dir);
  const path = join(project.dir, '.bulkhead', 'runs', folder!, 'events.ndjson');
  const read = readRecording(path);
  assert.ok(read.ok, read.ok ? '' : read.message);
  const recorded = read.recording.events.flatMap((event) => (event.type === 'test_finished' ? [event.testId] : []));
  assert.ok(!read.recording.events.some((event) => event.type === 'run_finished'));
  // The replay keeps every recorded result and lists every other test as not run, saying where
  // the recording ends (test/record/recorder-kill.test.ts checks that no acknowledged result is
  // ever missing from a killed recorder's file).
  const report = await cli(project.dir, ['report', '--json', join(started.dir, '..', `${folder}.json`)]);
  t.after(() => rmSync(join(started.dir, '..', `${folder}.json`), { force: true }));
  assert.equal(report.code, 2, describeRun(report));
  const json = JSON.parse(readFileSync(join(started.dir, '..', `${folder}.json`), 'utf8')) as { tests: Array<{ id: string; outcome: string; reason: string | null }> };
  assert.equal(json.tests.length, 20);
  const passed = json.tests.filter((entry) => entry.outcome === 'passed').map((entry) => entry.id);
  assert.deepEqual(passed.sort(), [...recorded].sort());
  for (const entry of json.tests) {
    if (entry.outcome === 'passed') continue;
    assert.equal(entry.outcome, 'not_run', entry.id);
    assert.match(entry.reason ?? '', /the recording ends after event \d+ \(.*\), \d+\.\d\ds into the run \(.*Z\): bulkhead stopped before the run finished$/);
  }
  assert.match(report.stdout, /^=+ not run =+$/m);
  t.diagnostic(`killed with ${readdirSync(started.dir).length} tests started; ${recorded.length} results recorded`);
});

test('--no-artifacts keeps the recording; --no-record and record = false keep none; --keep-runs prunes', async (t) => {
  const project = copyFixture('outcomes');
  t.after(() => project.cleanup());
  const plain = ['--workers', '1', '--', 'tests/test_plain.py'];
  const run = async (options: string[]): Promise<string[]> => {
    const before = new Set(runFolders(project.dir));
    const result = await cli(project.dir, ['run', ...options, ...plain]);
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stderr, '');
    const made = runFolders(project.dir).filter((name) => !before.has(name));
    return made.length === 1 ? readdirSync(join(project.dir, '.bulkhead', 'runs', made[0]!))
      .filter((name) => name.endsWith('.ndjson') || name.endsWith('.log'))
      .sort() : made;
  };
  assert.deepEqual(await run([]), ['events.ndjson', 'worker-1.log']);
  assert.deepEqual(await run(['--no-artifacts']), ['events.ndjson']);
  assert.deepEqual(await run(['--no-record']), ['worker-1.log']);
  assert.deepEqual(await run(['--no-record', '--no-artifacts']), [], 'no folder at all');
  writeFileSync(join(project.dir, 'bulkhead.toml'), 'record = false\nkeep-runs = 2\n');
  assert.deepEqual(await run([]), ['worker-1.log']);
  assert.equal(runFolders(project.dir).length, 2, 'keep-runs = 2');
  assert.deepEqual(await run(['--keep-runs', '1']), ['worker-1.log']);
  assert.equal(runFolders(project.dir).length, 1, '--keep-runs 1');
  const bad = await cli(project.dir, ['run', '--keep-runs', '0', ...plain]);
  assert.equal(bad.code, 4);
  assert.equal(bad.stderr, "bulkhead: error: --keep-runs must be a whole number >= 1 (got '0')\n");
});

test('a run folder that cannot be made: the run goes on, with one warning line', async (t) => {
  const project = copyFixture('outcomes');
  t.after(() => project.cleanup());
  // A file where the runs folder goes: nobody can make a folder in it, root included.
  mkdirSync(join(project.dir, '.bulkhead'));
  writeFileSync(join(project.dir, '.bulkhead', 'runs'), '');
  const result = await cli(project.dir, ['run', '--workers', '1', '--', 'tests/test_plain.py']);
  assert.equal(result.code, 0, describeRun(result));
  assert.match(result.stdout, /3 passed in/);
  assert.match(
    result.stderr,
    /^bulkhead: warning: cannot create the run folder \.bulkhead\/runs\/[^ ]+ \((ENOTDIR|EEXIST): .*\): this run is not recorded and keeps no worker logs\n$/,
  );
});
