/**
 * Every worker death becomes an attributed result, on the `faults` project: a segfault, abort,
 * os._exit(3), SIGKILL to itself, a sleep past its timeout, a SIGTERM-ignoring loop past its
 * timeout, a GIL-holding regex that never ends (busy, so its timeout decides), a leaked setsid daemon, 200 MB straight to
 * fd 1, fake protocol lines, and a test that crashes only while another worker is alive, among
 * passing tests. One run with `--workers 2 --heartbeat-timeout 3 --json --junit` is checked test
 * by test: outcome, cause, isolated-retry verdict, faulthandler stacks, JUnit error type, counts,
 * exit code, leftover processes, and bulkhead's own memory while the 200 MB go through it.
 *
 * Then: the crash-loop breaker (every worker segfaults importing conftest), a session fixture
 * whose teardown segfaults (`teardown-segfault`), --fail-on-flaky, a leaked daemon whose worker
 * crashes later, and cancelling a run on `slow-suite`: Ctrl-C, a second Ctrl-C, --run-timeout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  copyFixture,
  describeRun,
  jsonOutcomes,
  runCli,
  tempDir,
  type CliOptions,
  type CliResult,
  type JsonResults,
  type JsonTest,
} from '../support/cli.js';
import { caseKey, junitKeyOfNodeId, parseJunit } from '../support/junit-outcomes.js';
import { linesMatching, section, shortSummary } from '../support/output.js';
import { findProcesses, rssBytes, signalGroup, waitForCliPid, waitUntil, findCliPid } from '../support/proc-watch.js';

/** The --json test entry with the fields this file asserts on (besides the support's). */
interface FaultTest extends Omit<JsonTest, 'outcome' | 'cause'> {
  outcome: string;
  cause: { kind: string; [key: string]: unknown } | null;
  stacks: string | null;
  isolatedRetry: string | null;
  leaked: Array<{ pid: number; cmd: string }>;
}

function testsOf(json: JsonResults): Map<string, FaultTest> {
  return new Map((json.tests as unknown as FaultTest[]).map((entry) => [entry.id, entry]));
}

const OUTCOME_KINDS = ['passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed', 'crashed', 'flaky', 'interrupted', 'not_run'];
/** The isolated retry's verdict when the test crashed again alone, with the retry's own cause. */
const alone = (cause: string): string => `crashes on its own: run alone in a fresh worker, it ${cause} again`;
const CRASHES_ALONE_SEGV = alone('was killed by SIGSEGV');
const PASSED_ALONE = 'passed alone: crashed only under parallel load';

const CONCURRENCY = 'tests/test_concurrency_sensitive.py::test_crashes_only_under_parallel_load';
const SEGFAULT = 'tests/test_crashes.py::test_segfault';
const ABORT = 'tests/test_crashes.py::test_abort';
const EXIT_3 = 'tests/test_crashes.py::test_exit_3';
const SIGKILL = 'tests/test_crashes.py::test_sigkill_self';
const SLEEPS = 'tests/test_hangs.py::test_sleeps_forever';
const IGNORES_TERM = 'tests/test_hangs.py::test_ignores_sigterm_and_loops';
const REGEX = 'tests/test_hangs.py::test_regex_backtracking_holds_the_gil';
const LEAK = 'tests/test_leaks.py::test_starts_a_setsid_daemon';
const BIG_WRITE = 'tests/test_output.py::test_writes_200_mb_to_fd1';
const FAKE_LINES = 'tests/test_output.py::test_prints_fake_protocol_lines_then_fails';
const PASSING = Array.from({ length: 8 }, (_, n) => `tests/test_passing.py::test_passes[${n}]`);

interface Expected {
  outcome: string;
  /** The exact cause (unresponsive: its kind; silentSeconds is checked separately). */
  cause?: Record<string, unknown>;
  retry?: string;
  /** A function the faulthandler stacks must show a frame of (in the test's own file). */
  stackFrame?: string;
  /** JUnit: the type of the <error>, or 'failure' / 'none'. */
  junit: string;
  /** The word the short summary starts the test's line with. */
  label?: string;
}

const EXPECTED: Record<string, Expected> = {
  // Crashed only under parallel load and passed alone: flaky, which fails nothing by default.
  [CONCURRENCY]: { outcome: 'flaky', cause: { kind: 'exit_code', code: 9 }, retry: PASSED_ALONE, junit: 'flaky', label: 'FLAKY' },
  [SEGFAULT]: {
    outcome: 'crashed',
    cause: { kind: 'signal', signal: 'SIGSEGV' },
    retry: CRASHES_ALONE_SEGV,
    stackFrame: 'test_segfault',
    junit: 'crashed',
    label: 'CRASHED',
  },
  [ABORT]: {
    outcome: 'crashed',
    cause: { kind: 'signal', signal: 'SIGABRT' },
    retry: alone('was killed by SIGABRT'),
    stackFrame: 'test_abort',
    junit: 'crashed',
    label: 'CRASHED',
  },
  [EXIT_3]: { outcome: 'crashed', cause: { kind: 'exit_code', code: 3 }, retry: alone('exited with code 3'), junit: 'crashed', label: 'CRASHED' },
  [SIGKILL]: { outcome: 'crashed', cause: { kind: 'signal', signal: 'SIGKILL' }, retry: alone('was killed by SIGKILL'), junit: 'crashed', label: 'CRASHED' },
  [SLEEPS]: {
    outcome: 'crashed',
    cause: { kind: 'timeout', limitSeconds: 2 },
    retry: alone('was killed after the test passed its timeout of 2s'),
    stackFrame: 'test_sleeps_forever',
    junit: 'timeout',
    label: 'TIMEOUT',
  },
  [IGNORES_TERM]: {
    outcome: 'crashed',
    cause: { kind: 'timeout', limitSeconds: 2 },
    retry: alone('was killed after the test passed its timeout of 2s'),
    stackFrame: 'test_ignores_sigterm_and_loops',
    junit: 'timeout',
    label: 'TIMEOUT',
  },
  [REGEX]: {
    outcome: 'crashed',
    cause: { kind: 'timeout', limitSeconds: 5 },
    retry: alone('was killed after the test passed its timeout of 5s'),
    stackFrame: 'test_regex_backtracking_holds_the_gil',
    junit: 'timeout',
    label: 'TIMEOUT',
  },
  [LEAK]: { outcome: 'passed', junit: 'none' },
  [BIG_WRITE]: { outcome: 'passed', junit: 'none' },
  [FAKE_LINES]: { outcome: 'failed', junit: 'failure', label: 'FAILED' },
  ...Object.fromEntries(PASSING.map((id) => [id, { outcome: 'passed', junit: 'none' }])),
};

const SLEEP_600 = ['sleep', '600'];

// -- bulkhead's memory while the 200 MB go through it ------------------------------------------

interface RssTrace {
  cliPid: number | null;
  /** VmRSS samples of the CLI, every 100 ms. */
  samples: Array<{ at: number; bytes: number }>;
  /** Index of the first sample taken once the big write's start (end) marker existed. */
  startIndex: number | null;
  endIndex: number | null;
}

/**
 * Samples the CLI's VmRSS every 100 ms while the run goes on, and notes when the 200 MB test's
 * markers appear: the test writes `bigwrite-start`, waits 0.5 s, writes, then `bigwrite-end`.
 */
function traceRss(cwd: string, markerDir: string): { stop(): RssTrace } {
  const trace: RssTrace = { cliPid: null, samples: [], startIndex: null, endIndex: null };
  const timer = setInterval(() => {
    trace.cliPid ??= findCliPid(cwd);
    if (trace.cliPid === null) return;
    const started = existsSync(join(markerDir, 'bigwrite-start'));
    const ended = existsSync(join(markerDir, 'bigwrite-end'));
    const bytes = rssBytes(trace.cliPid);
    if (bytes === null) return;
    trace.samples.push({ at: performance.now(), bytes });
    if (started && trace.startIndex === null) trace.startIndex = trace.samples.length - 1;
    if (ended && trace.endIndex === null) trace.endIndex = trace.samples.length - 1;
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return trace;
    },
  };
}

// -- the main run ------------------------------------------------------------------------------

const project = copyFixture('faults');
const scratch = tempDir('faults');
let bulk: CliResult;
let rss: RssTrace;

before(async () => {
  const tracer = traceRss(project.dir, scratch.dir);
  bulk = await runCli({
    cwd: project.dir,
    workers: 2,
    options: ['--heartbeat-timeout', '3'],
    env: { BULKHEAD_FAULTS_DIR: scratch.dir },
    timeoutMs: 120_000,
  });
  rss = tracer.stop();
});

after(() => {
  // Whatever a failed assertion left (runCli already killed what it saw), then the copies.
  for (const pid of findProcesses(SLEEP_600, `BULKHEAD_FAULTS_DIR=${scratch.dir}`)) process.kill(pid, 'SIGKILL');
  project.cleanup();
  scratch.cleanup();
});

test('the run completes with exit code 1', () => {
  assert.equal(bulk.timedOut, false, describeRun(bulk));
  assert.equal(bulk.code, 1, describeRun(bulk));
  assert.ok(bulk.json, describeRun(bulk));
  assert.equal(bulk.json.run.exitCode, 1);
  assert.deepEqual(bulk.json.run.end, { kind: 'completed' });
  assert.equal(bulk.stderr, '', 'nothing on stderr');
});

test('every collected test has exactly one outcome, and the counts add up', () => {
  const json = bulk.json!;
  const ids = json.tests.map((entry) => entry.id);
  assert.equal(new Set(ids).size, ids.length, 'no test listed twice');
  assert.deepEqual([...ids].sort(), Object.keys(EXPECTED).sort());
  assert.equal(json.summary.total, 19);
  const sum = OUTCOME_KINDS.reduce((total, kind) => total + (json.summary[kind] ?? 0), 0);
  assert.equal(sum, json.summary.total);
  assert.deepEqual(
    Object.fromEntries(OUTCOME_KINDS.map((kind) => [kind, json.summary[kind]])),
    { passed: 10, failed: 1, error: 0, skipped: 0, xfailed: 0, xpassed: 0, crashed: 7, flaky: 1, interrupted: 0, not_run: 0 },
  );
  // pytest's own categories first, in pytest's order; bulkhead's follow in the order first seen.
  const parts = statsLine(bulk.stdout)!.split(', ');
  assert.deepEqual(parts.slice(0, 2), ['1 failed', '10 passed']);
  assert.deepEqual(parts.slice(2).sort(), ['1 flaky', '3 timed out', '4 crashed']);
});

test('each test: its exact outcome and cause', () => {
  const byId = testsOf(bulk.json!);
  assert.deepEqual(jsonOutcomes(bulk.json!), Object.fromEntries(Object.entries(EXPECTED).map(([id, e]) => [id, e.outcome])));
  for (const [id, expected] of Object.entries(EXPECTED)) {
    const entry = byId.get(id)!;
    if (expected.cause === undefined) {
      assert.equal(entry.cause, null, `${id} has no cause`);
      continue;
    }
    if (expected.cause!.kind === 'unresponsive') {
      assert.equal(entry.cause?.kind, 'unresponsive', id);
      const silent = entry.cause!.silentSeconds as number;
      // Killed once silent past --heartbeat-timeout 3 (checked every 200 ms), not much later.
      assert.ok(silent >= 3 && silent < 6, `${id}: silent for ${silent}s`);
    } else {
      assert.deepEqual(entry.cause, expected.cause, id);
    }
    assert.ok(entry.worker !== null && entry.worker >= 1, `${id} names its worker`);
    assert.match(entry.reason ?? '', new RegExp(`^worker ${entry.worker} \\(pid \\d+\\) .* while running ${escape(id)}$`), id);
  }
});

test('each crash: the isolated-retry verdict', () => {
  const byId = testsOf(bulk.json!);
  for (const [id, expected] of Object.entries(EXPECTED)) {
    assert.equal(byId.get(id)!.isolatedRetry, expected.retry ?? null, id);
  }
});

test('faulthandler stacks name the test function (segfault, abort, timeouts, unresponsive)', () => {
  const byId = testsOf(bulk.json!);
  for (const [id, expected] of Object.entries(EXPECTED)) {
    if (!expected.stackFrame) continue;
    const stacks = byId.get(id)!.stacks ?? '';
    const file = id.split('::')[0]!.replace(/\./g, '\\.');
    // The frame is in the thread that ran the test (faulthandler's "Current thread" on a fatal
    // signal; on SIGUSR1 before a kill, also the main thread).
    assert.match(stacks, new RegExp(`File "[^"]*${file}", line \\d+ in ${expected.stackFrame}\\b`), `${id} stacks:\n${stacks}`);
  }
});

test('every other test ran and passed (its call phase passed)', () => {
  const byId = testsOf(bulk.json!);
  for (const id of [LEAK, BIG_WRITE, ...PASSING]) {
    const phases = byId.get(id)!.phases.map((phase) => `${phase.when}:${phase.outcome}`);
    assert.deepEqual(phases, ['setup:passed', 'call:passed', 'teardown:passed'], id);
  }
});

test('the test that printed fake protocol lines is failed, and its lines are its output', () => {
  const byId = testsOf(bulk.json!);
  const call = byId.get(FAKE_LINES)!.phases.find((phase) => phase.when === 'call')!;
  assert.equal(call.outcome, 'failed');
  assert.match(call.longrepr, /AssertionError: this test must be reported failed, whatever it printed/);
  const failures = section(bulk.stdout, 'FAILURES') ?? '';
  assert.ok(failures.includes('{"type":"done","exitstatus":0}'), failures);
  assert.doesNotMatch(bulk.stdout, /broke the worker protocol|INTERNALERROR/);
});

test('the leaked setsid daemon: reported on its test (--json and terminal), not alive afterwards', () => {
  const byId = testsOf(bulk.json!);
  const leaked = byId.get(LEAK)!.leaked;
  assert.equal(leaked.length, 1, JSON.stringify(leaked));
  assert.equal(leaked[0]!.cmd, 'sleep 600');
  for (const [id, entry] of byId) if (id !== LEAK) assert.deepEqual(entry.leaked, [], id);
  const leaks = section(bulk.stdout, 'processes left running by tests (killed)');
  assert.ok(leaks !== null, describeRun(bulk));
  assert.deepEqual(
    leaks.split('\n').filter((line) => line.trim()),
    [`${LEAK}: leaked 1 process: sleep 600 (pid ${leaked[0]!.pid})`],
  );
  assert.deepEqual(findProcesses(SLEEP_600, `BULKHEAD_FAULTS_DIR=${scratch.dir}`), []);
});

test('terminal: one short-summary line per failure, with its label and retry verdict', () => {
  const lines = shortSummary(bulk.stdout);
  for (const [id, expected] of Object.entries(EXPECTED)) {
    if (!expected.label) continue;
    const mine = lines.filter((line) => line.startsWith(`${expected.label} ${id} `));
    assert.equal(mine.length, 1, `${id}:\n${lines.join('\n')}`);
    if (expected.outcome === 'flaky') {
      assert.ok(mine[0]!.startsWith(`FLAKY ${id} - ${PASSED_ALONE}: worker `), mine[0]);
    } else if (expected.retry) {
      assert.ok(mine[0]!.endsWith('[crashes on its own]'), mine[0]);
    }
  }
  assert.equal(lines.length, 9, lines.join('\n'));
});

test('--junit: an <error> typed crashed / timeout / unresponsive for each death', () => {
  const cases = parseJunit(bulk.junitXml!).cases;
  assert.equal(cases.length, 19);
  for (const [id, expected] of Object.entries(EXPECTED)) {
    const testcase = cases.find((entry) => caseKey(entry) === junitKeyOfNodeId(id));
    assert.ok(testcase, `${id} in the JUnit XML`);
    const children = testcase.children.filter((child) => ['failure', 'error', 'skipped'].includes(child.tag));
    if (expected.junit === 'none') {
      assert.deepEqual(children, [], id);
    } else if (expected.junit === 'flaky') {
      // As Surefire writes a flaky test: the passing testcase, with the first attempt in <flakyError>.
      assert.deepEqual(children, [], id);
      const flaky = testcase.children.filter((child) => child.tag === 'flakyError');
      assert.equal(flaky.length, 1, id);
      assert.equal(flaky[0]!.attrs.type, 'crashed', id);
    } else if (expected.junit === 'failure') {
      assert.deepEqual(children.map((child) => child.tag), ['failure'], id);
    } else {
      assert.deepEqual(children.map((child) => child.tag), ['error'], id);
      assert.equal(children[0]!.attrs.type, expected.junit, id);
    }
  }
});

test('no process outlives the run', () => {
  assert.deepEqual(bulk.leftovers, []);
  assert.ok(bulk.maxChildren <= 2, `${bulk.maxChildren} workers at once`);
});

/**
 * How much a Node process's RSS grows just from reading 200 MB off a pipe and dropping every
 * chunk: ~40 MB on Node 20 here (the 64 KB read buffers are freed only at the next GC, and the
 * same ~40 MB plateau is reached with 1 GB). So the bound on bulkhead's growth sits above that
 * floor and far below the 200 MB that any buffering of the output would add.
 */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;

test("bulkhead's own memory does not grow with the 200 MB a test writes to fd 1", (t) => {
  // A bound on buffering, not a timing: the output is streamed to the worker's log with only a
  // bounded tail in memory, so passing 200 MB through must not grow the CLI by anything like it.
  assert.ok(rss.cliPid !== null, 'found the CLI process');
  assert.ok(rss.startIndex !== null && rss.endIndex !== null, `saw both markers (${rss.samples.length} samples)`);
  const before = rss.samples[rss.startIndex]!.bytes;
  const during = rss.samples.slice(rss.startIndex, rss.endIndex + 11); // and 1 s after the write
  assert.ok(rss.endIndex - rss.startIndex >= 3, `${rss.endIndex - rss.startIndex} samples during the write`);
  const peak = Math.max(...during.map((sample) => sample.bytes));
  const growth = peak - before;
  t.diagnostic(`CLI RSS ${mb(before)} before the 200 MB write, peak ${mb(peak)} (+${mb(growth)}) over ${during.length} samples`);
  assert.ok(growth < RSS_GROWTH_BOUND, `RSS ${mb(before)} before, peak ${mb(peak)} during: +${mb(growth)}`);
});

// -- further runs on the faults project ---------------------------------------------------------

test('--fail-on-flaky: the load-sensitive crash is still flaky, and now fails the run', async () => {
  const markers = tempDir('faults-flaky');
  try {
    const result = await runCli({
      cwd: project.dir,
      workers: 2,
      options: ['--fail-on-flaky'],
      env: { BULKHEAD_FAULTS_DIR: markers.dir },
      pytestArgs: ['tests/test_concurrency_sensitive.py', 'tests/test_passing.py'],
    });
    assert.equal(result.code, 1, describeRun(result));
    const json = result.json!;
    assert.deepEqual(jsonOutcomes(json), { [CONCURRENCY]: 'flaky', ...Object.fromEntries(PASSING.map((id) => [id, 'passed'])) });
    assert.equal(json.summary.flaky, 1);
    assert.equal(json.summary.crashed, 0);
    const entry = testsOf(json).get(CONCURRENCY)!;
    assert.deepEqual(entry.cause, { kind: 'exit_code', code: 9 });
    assert.deepEqual(result.leftovers, []);
  } finally {
    markers.cleanup();
  }
});

test('crash-loop breaker: every worker segfaults importing conftest: exit 3, one message, bounded time', async () => {
  const result = await runCli({ cwd: project.dir, env: { BULKHEAD_FAULTS_CRASH_AT_IMPORT: '1' }, timeoutMs: 45_000 });
  assert.equal(result.timedOut, false, 'it did not respawn forever');
  assert.equal(result.code, 3, describeRun(result));
  const lines = result.stderr.split('\n').filter((line) => line.trim());
  // One line says what happened; the faulthandler stack under it says where (the conftest import).
  assert.match(lines[0]!, /^bulkhead: error: 3 workers in a row died before running any test; the last, worker \d+ \(pid \d+\), was killed by SIGSEGV/);
  assert.equal(lines.filter((line) => line.startsWith('bulkhead:')).length, 1, result.stderr);
  assert.match(result.stderr, /Python stacks \(faulthandler\):/);
  assert.match(result.stderr, /File ".*conftest\.py", line \d+ in <module>/);
  assert.ok(result.seconds < 20, `${result.seconds}s`);
  assert.ok(result.maxChildren <= 2, `${result.maxChildren} workers at once`);
  assert.equal(result.json?.run.exitCode, 3);
  assert.equal(result.json?.run.end?.kind, 'aborted');
  assert.deepEqual(result.leftovers, []);
});

/** A leaked daemon, then a crash on the same worker (so the worker never reaches its own cleanup). */
async function leakThenCrash(extra: string[]): Promise<CliResult> {
  const markers = tempDir('faults-leak');
  try {
    const result = await runCli({
      cwd: project.dir,
      workers: 1,
      options: ['--retries', '0', ...extra],
      env: { BULKHEAD_FAULTS_DIR: markers.dir },
      pytestArgs: ['tests/test_leaks.py', 'tests/test_crashes.py::test_exit_3'],
    });
    // runCli has killed what it saw outlive the CLI; this finds anything it could not see.
    const unseen = findProcesses(SLEEP_600, `BULKHEAD_FAULTS_DIR=${markers.dir}`);
    for (const pid of unseen) process.kill(pid, 'SIGKILL');
    assert.deepEqual(unseen, []);
    assert.equal(result.code, 1, describeRun(result));
    assert.deepEqual(jsonOutcomes(result.json!), { [LEAK]: 'passed', [EXIT_3]: 'crashed' }, describeRun(result));
    assert.equal(testsOf(result.json!).get(LEAK)!.leaked[0]?.cmd, 'sleep 600');
    return result;
  } finally {
    markers.cleanup();
  }
}

test('a daemon leaked before its worker crashes does not outlive the run (cgroups)', async () => {
  const result = await leakThenCrash([]);
  assert.deepEqual(result.leftovers, []);
});

test('a daemon leaked before its worker crashes does not outlive the run (--no-cgroups)', async () => {
  // Without a cgroup the daemon is in a session of its own, outside the worker's process group;
  // the worker that would kill it at its session end died first. bulkhead knows its pid (it
  // reported the leak), and the terminal says "(killed)".
  const result = await leakThenCrash(['--no-cgroups']);
  assert.deepEqual(result.leftovers, [], 'the leaked `sleep 600` was still alive after bulkhead exited');
});

// -- a session fixture whose teardown segfaults ---------------------------------------------------

const TD = 'tests/test_outcomes_survive.py';
const TEARDOWN_DESIGNED: Record<string, string> = {
  ...Object.fromEntries([0, 1, 2, 3].map((n) => [`tests/test_another_module.py::test_takes_a_while[${n}]`, 'passed'])),
  [`${TD}::test_passes`]: 'passed',
  [`${TD}::test_fails`]: 'failed',
  [`${TD}::test_skipped`]: 'skipped',
  [`${TD}::test_xfails`]: 'xfailed',
  [`${TD}::test_errors_in_setup`]: 'error',
  ...Object.fromEntries([0, 1, 2, 3].map((n) => [`${TD}::test_passes_too[${n}]`, 'passed'])),
  [`${TD}::test_passes_last`]: 'passed',
};

const teardownProject = copyFixture('teardown-segfault');
after(() => teardownProject.cleanup());
let teardownOneWorker: CliResult;

function checkTeardownCrash(entry: FaultTest): void {
  assert.deepEqual(entry.cause, { kind: 'signal', signal: 'SIGSEGV' }, entry.id);
  assert.match(entry.stacks ?? '', /line \d+ in resource_whose_teardown_segfaults\b/, `${entry.id}: ${entry.stacks}`);
  // Run alone, it sets up the (autouse) session fixture, tears it down, and crashes again.
  assert.equal(entry.isolatedRetry, CRASHES_ALONE_SEGV, entry.id);
  assert.ok(!entry.phases.some((phase) => phase.when === 'teardown'), `${entry.id}: its teardown is what crashed`);
}

test('session fixture teardown segfaults, one worker: the last test is crashed, the rest keep their outcomes', async () => {
  teardownOneWorker = await runCli({ cwd: teardownProject.dir, workers: 1 });
  const result = teardownOneWorker;
  assert.equal(result.code, 1, describeRun(result));
  assert.deepEqual(jsonOutcomes(result.json!), { ...TEARDOWN_DESIGNED, [`${TD}::test_passes_last`]: 'crashed' });
  checkTeardownCrash(testsOf(result.json!).get(`${TD}::test_passes_last`)!);
  assert.deepEqual(result.leftovers, []);
});

test(
  'session fixture teardown segfaults: the crashed test keeps the reports it had (its call passed)',
  {},
  () => {
    const entry = testsOf(teardownOneWorker.json!).get(`${TD}::test_passes_last`)!;
    const phases = entry.phases.map((phase) => `${phase.when}:${phase.outcome}`);
    assert.deepEqual(phases, ['setup:passed', 'call:passed']);
  },
);

test('session fixture teardown segfaults, two workers: each worker\'s last test is crashed, the rest keep their outcomes', async () => {
  const result = await runCli({ cwd: teardownProject.dir, workers: 2 });
  assert.equal(result.code, 1, describeRun(result));
  const byId = testsOf(result.json!);
  assert.deepEqual([...byId.keys()].sort(), Object.keys(TEARDOWN_DESIGNED).sort());
  const crashed = [...byId.values()].filter((entry) => entry.outcome === 'crashed');
  for (const entry of byId.values()) {
    if (entry.outcome === 'crashed') {
      checkTeardownCrash(entry);
    } else {
      assert.equal(entry.outcome, TEARDOWN_DESIGNED[entry.id], entry.id);
      assert.ok(entry.phases.some((phase) => phase.when === 'teardown'), `${entry.id} was torn down`);
    }
  }
  // The session fixture is torn down once per worker, in its last test: one crash per worker.
  const workers = new Set([...byId.values()].map((entry) => entry.worker));
  assert.equal(crashed.length, workers.size, `crashed: ${crashed.map((entry) => entry.id).join(', ')}; workers ${[...workers].join(', ')}`);
  assert.equal(new Set(crashed.map((entry) => entry.worker)).size, crashed.length);
  assert.deepEqual(result.leftovers, []);
});

// -- cancelling a run ---------------------------------------------------------------------------

const slow = copyFixture('slow-suite');
after(() => slow.cleanup());
const SLOW_IDS = Array.from({ length: 20 }, (_, n) => `tests/test_slow.py::test_takes_one_second[${n}]`);

/**
 * Runs the CLI on slow-suite; once `startedAtLeast` tests have started (each leaves a file),
 * sends the signals (to the CLI's process group, as a terminal's Ctrl-C does) with the given gaps.
 */
async function runAndInterrupt(
  options: Partial<CliOptions>,
  startedAtLeast: number,
  signals: Array<{ afterMs: number; signal: NodeJS.Signals }>,
): Promise<{ result: CliResult; started: string[]; firstSignalAt: number | null; endedAt: number }> {
  const startedDir = tempDir('slow-started');
  try {
    let firstSignalAt: number | null = null;
    const run = runCli({ cwd: slow.dir, workers: 2, env: { BULKHEAD_SLOW_STARTED_DIR: startedDir.dir }, timeoutMs: 60_000, ...options });
    if (signals.length > 0) {
      const pid = await waitForCliPid(slow.dir);
      assert.ok(pid !== null, 'found the CLI');
      const ready = await waitUntil(() => readdirSync(startedDir.dir).length >= startedAtLeast, 30_000);
      assert.ok(ready, `${startedAtLeast} tests started`);
      for (const { afterMs, signal } of signals) {
        await sleep(afterMs);
        firstSignalAt ??= performance.now();
        signalGroup(pid, signal);
      }
    }
    const result = await run;
    const endedAt = performance.now();
    return { result, started: readdirSync(startedDir.dir), firstSignalAt, endedAt };
  } finally {
    startedDir.cleanup();
  }
}

/** The ids the terminal's "not run" section lists, by word (NOT RUN / INTERRUPTED). */
function listedUnfinished(stdout: string): Record<string, string[]> {
  const text = section(stdout, 'not run') ?? '';
  const listed: Record<string, string[]> = { 'NOT RUN': [], INTERRUPTED: [] };
  for (const line of linesMatching(text, /^(NOT RUN|INTERRUPTED) /)) {
    const [, word, id] = /^(NOT RUN|INTERRUPTED) (.*)$/.exec(line)!;
    listed[word!]!.push(id!);
  }
  return listed;
}

function markerName(id: string): string {
  return id.replace(/\//g, '_').replace(/:/g, '_');
}

test('Ctrl-C: running tests finish, the rest are listed as not run; exit 2; --json written', async () => {
  // 4 started: at least two have finished and two are running.
  const { result, started, firstSignalAt, endedAt } = await runAndInterrupt({}, 4, [{ afterMs: 0, signal: 'SIGINT' }]);
  assert.equal(result.code, 2, describeRun(result));
  const json = result.json!;
  assert.ok(json, 'the --json file was written');
  assert.equal(json.run.exitCode, 2);
  assert.deepEqual(json.run.end, { kind: 'interrupted', detail: 'KeyboardInterrupt (SIGINT)' });
  assert.equal(json.summary.total, 20);
  const outcomes = jsonOutcomes(json);
  const passed = SLOW_IDS.filter((id) => outcomes[id] === 'passed');
  const notRun = SLOW_IDS.filter((id) => outcomes[id] === 'not_run');
  assert.equal(passed.length + notRun.length, 20, JSON.stringify(outcomes));
  // Every test that had started finished within the cancel grace (1 s < 10 s), and no new one started.
  assert.deepEqual(passed.map(markerName).sort(), [...started].sort());
  assert.ok(passed.length >= 4 && notRun.length >= 10, `${passed.length} passed, ${notRun.length} not run`);
  for (const entry of testsOf(json).values()) {
    if (entry.outcome === 'not_run') assert.equal(entry.reason, 'KeyboardInterrupt (SIGINT)', entry.id);
  }
  const listed = listedUnfinished(result.stdout);
  assert.deepEqual([...listed['NOT RUN']!].sort(), [...notRun].sort(), describeRun(result));
  assert.equal(statsLine(result.stdout), `${passed.length} passed, ${notRun.length} not run`);
  assert.match(result.stderr, /^bulkhead: SIGINT: stopping; running tests may finish \(press Ctrl-C again to kill them now\)$/m);
  // The running tests took at most their 1 s: nobody waited for the 10 s cancel grace.
  assert.ok(endedAt - firstSignalAt! < 5000, `${Math.round(endedAt - firstSignalAt!)} ms after Ctrl-C`);
  assert.deepEqual(result.leftovers, []);
});

test('a second Ctrl-C kills tests that ignore SIGTERM at once: exit 2 well under the cancel grace', async () => {
  const { result, started, firstSignalAt, endedAt } = await runAndInterrupt({ pytestArgs: ['stubborn'] }, 2, [
    { afterMs: 0, signal: 'SIGINT' },
    { afterMs: 300, signal: 'SIGINT' },
  ]);
  assert.equal(result.code, 2, describeRun(result));
  const elapsed = endedAt - firstSignalAt!;
  assert.ok(elapsed < 3000, `exited ${Math.round(elapsed)} ms after the first Ctrl-C (cancel grace 10 s)`);
  assert.match(result.stderr, /^bulkhead: second SIGINT: killing every worker now$/m);
  const json = result.json!;
  assert.equal(json.summary.total, 4);
  const outcomes = Object.values(jsonOutcomes(json));
  assert.equal(outcomes.filter((outcome) => outcome === 'interrupted').length, started.length, JSON.stringify(jsonOutcomes(json)));
  assert.equal(outcomes.filter((outcome) => outcome === 'not_run').length, 4 - started.length);
  const listed = listedUnfinished(result.stdout);
  assert.equal(listed.INTERRUPTED!.length + listed['NOT RUN']!.length, 4, describeRun(result));
  assert.deepEqual(result.leftovers, []);
});

test('--run-timeout 3: the run is cancelled at its deadline, exit 2, the tests not run are listed', async () => {
  const { result } = await runAndInterrupt({ options: ['--run-timeout', '3'] }, 0, []);
  assert.equal(result.code, 2, describeRun(result));
  const json = result.json!;
  assert.deepEqual(json.run.end, { kind: 'interrupted', detail: 'run deadline of 3s reached' });
  const outcomes = jsonOutcomes(json);
  const notRun = SLOW_IDS.filter((id) => outcomes[id] === 'not_run');
  const passed = SLOW_IDS.filter((id) => outcomes[id] === 'passed');
  assert.equal(passed.length + notRun.length, 20, JSON.stringify(outcomes));
  assert.ok(notRun.length >= 10, `${notRun.length} not run`);
  assert.deepEqual([...listedUnfinished(result.stdout)['NOT RUN']!].sort(), [...notRun].sort(), describeRun(result));
  assert.ok(result.seconds < 10, `${result.seconds}s`);
  assert.deepEqual(result.leftovers, []);
});

/** The final stats line without its time ("1 failed, 2 passed, 1 timed out"): its words may be two. */
function statsLine(stdout: string): string | null {
  const lines = linesMatching(stdout, /^=+ .* in [\d.]+s =+$/);
  const last = lines[lines.length - 1];
  return last ? /^=+ (.*) in [\d.]+s =+$/.exec(last)![1]! : null;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
