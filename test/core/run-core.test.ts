/**
 * The run core fed by hand, with no process, timer or clock: blame, isolated retries, --maxfail,
 * collection verdicts, cancel, a death in each lifecycle state, an illegal lifecycle move, and a
 * timeout decided on a tick. Each test reads what the core said: commands and events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestInfo } from '../../src/model/test.js';
import { coreOptions, CoreDriver, testInfo } from '../support/core-driver.js';

const A = testInfo('test_a');
const B = testInfo('test_b');
const C = testInfo('test_c');

/** Runs every test the workers were handed until nothing new arrives; `outcome` may fail some. */
function runAssigned(d: CoreDriver, tests: TestInfo[], workers: number[], outcome: (id: string) => 'passed' | 'failed' = () => 'passed'): void {
  const done = new Set<string>();
  for (let progress = true; progress; ) {
    progress = false;
    for (const worker of workers) {
      for (const id of d.assigned(worker, tests)) {
        if (done.has(`${worker}:${id}`) || d.finals().has(id)) continue;
        done.add(`${worker}:${id}`);
        d.run(worker, id, outcome(id));
        progress = true;
      }
    }
  }
}

/** A worker told to finish ends its session and exits cleanly. */
function endCleanly(d: CoreDriver, worker: number): void {
  d.message(worker, { type: 'done', exitstatus: 0 });
  d.exit(worker);
}

test('two workers run the suite: every test assigned once, passed, and the lifecycle in order', () => {
  const d = new CoreDriver();
  d.feed({ type: 'begin' });
  const starts = d.commands.filter((command) => command.type === 'start');
  assert.deepEqual(starts.map((command) => command.type === 'start' && command.worker), [1, 2]);
  d.collect(1, [A, B, C]);
  d.collect(2, [A, B, C]);
  runAssigned(d, [A, B, C], [1, 2]);
  assert.ok(d.sent(1, 'finish') && d.sent(2, 'finish'));
  endCleanly(d, 1);
  endCleanly(d, 2);
  const finished = d.finishRun();
  assert.equal(finished.exitCode, 0);
  assert.deepEqual([...d.finals().values()], ['passed', 'passed', 'passed']);
  const assigned = d.events.flatMap((event) => (event.type === 'test_assigned' ? event.testIds : []));
  assert.deepEqual(assigned.sort(), [A.id, B.id, C.id]);
  const states = d.events.filter((event) => event.type === 'worker_state' && event.worker === 1).map((event) => event.type === 'worker_state' && event.to);
  assert.deepEqual(states, ['collecting', 'ready', 'finishing', 'exited']);
});

/** One worker: test_a segfaults its worker, test_b runs on the replacement, then test_a alone. */
function crashThenRetry(retryOutcome: 'passed' | 'crash', failOnFlaky = false): CoreDriver {
  const d = new CoreDriver(coreOptions({ workers: 1, failOnFlaky }));
  d.feed({ type: 'begin' });
  d.collect(1, [A, B]);
  assert.deepEqual(d.assigned(1, [A, B]), [A.id, B.id]);
  d.message(1, { type: 'started', id: A.id });
  const death = d.exit(1, { signal: 'SIGSEGV', code: null, stderrTail: 'Fatal Python error: Segmentation fault', crashStacks: 'File "test_m.py", line 3 in test_a' });
  const crashed = death.events.find((event) => event.type === 'test_crashed');
  assert.ok(crashed && crashed.type === 'test_crashed' && crashed.testId === A.id && crashed.willRetry);
  assert.equal(crashed.crash.cause.kind, 'signal');
  const exited = death.events.find((event) => event.type === 'worker_exited');
  assert.ok(exited?.type === 'worker_exited' && exited.testId === A.id, 'worker_exited names the running test');
  // The replacement takes test_b; the retry waits until nothing else runs.
  d.collect(2, [A, B]);
  assert.deepEqual(d.assigned(2, [A, B]), [B.id]);
  d.run(2, B.id);
  assert.equal(d.commands.filter((command) => command.type === 'start').length, 2, 'no isolated worker while another lives');
  endCleanly(d, 2);
  const isolated = d.commands.filter((command) => command.type === 'start').at(-1);
  assert.ok(isolated?.type === 'start' && isolated.role === 'isolated' && isolated.lone && isolated.worker === 3);
  d.collect(3, [A, B]);
  assert.deepEqual(d.assigned(3, [A, B]), [A.id]);
  if (retryOutcome === 'passed') {
    d.run(3, A.id);
    endCleanly(d, 3);
  } else {
    d.message(3, { type: 'started', id: A.id });
    d.exit(3, { signal: 'SIGSEGV', code: null });
  }
  return d;
}

test('a crash is blamed on its test and retried alone: passing alone makes it flaky, and the run green', () => {
  const d = crashThenRetry('passed');
  assert.equal(d.finals().get(A.id), 'flaky');
  assert.equal(d.finals().get(B.id), 'passed');
  assert.equal(d.finishRun().exitCode, 0);
});

test('--fail-on-flaky: the same run is red', () => {
  assert.equal(crashThenRetry('passed', true).finishRun().exitCode, 1);
});

test('crashing alone again: crashed, with the verdict, and the run red', () => {
  const d = crashThenRetry('crash');
  assert.equal(d.finals().get(A.id), 'crashed');
  const final = d.events.find((event) => event.type === 'test_finished' && event.testId === A.id);
  assert.ok(final?.type === 'test_finished' && final.outcome.kind === 'crashed' && final.outcome.retry?.verdict === 'crashes_alone');
  assert.equal(d.finishRun().exitCode, 1);
});

test('--maxfail 1: the first failure stops scheduling; the rest are not run, exit 1', () => {
  const d = new CoreDriver(coreOptions({ workers: 1 }));
  d.feed({ type: 'begin' });
  d.collect(1, [A, B, C], { maxfail: 1 });
  d.run(1, A.id, 'failed');
  assert.ok(d.sent(1, 'stop'), 'the worker is told to stop');
  d.message(1, { type: 'stolen', indices: [1, 2] });
  endCleanly(d, 1);
  const finished = d.finishRun();
  assert.equal(finished.exitCode, 1);
  assert.deepEqual(finished.reason, { kind: 'maxfail', failures: 1 });
  assert.deepEqual([...d.finals()], [[A.id, 'failed'], [B.id, 'not_run'], [C.id, 'not_run']]);
});

test('a collection error ends the run before any test: exit 2, every test listed as not run', () => {
  const d = new CoreDriver();
  d.feed({ type: 'begin' });
  d.message(1, { type: 'hello', pid: 1 });
  d.message(1, { type: 'collect_error', report: { nodeid: 'test_x.py', pytest: { summaryLine: 'ERROR test_x.py', longrepr: 'ImportError', longreprTerminal: '', crashMessage: null, junit: null } } });
  d.message(1, { type: 'collected', tests: [A], deselected: 0, errors: 1, interrupted: null, exitstatus: null });
  assert.ok(d.sent(1, 'stop') && d.sent(2, 'stop'), 'both workers are told to end');
  d.exit(1);
  d.exit(2);
  const finished = d.finishRun();
  assert.equal(finished.exitCode, 2);
  assert.deepEqual(finished.reason, { kind: 'collection_errors', errors: 1 });
  assert.equal(d.finals().get(A.id), 'not_run');
});

test('two workers that collect different suites abort the run, naming the difference', () => {
  const d = new CoreDriver();
  d.feed({ type: 'begin' });
  d.collect(1, [A, B]);
  d.collect(2, [A, C]);
  const finished = (endCleanly(d, 1), d.exit(2), d.finishRun());
  assert.equal(finished.reason.kind, 'aborted');
  assert.match(finished.reason.kind === 'aborted' ? finished.reason.detail : '', /test_c|test_b/);
});

test('Ctrl-C: running tests may finish within the grace; then what still runs is killed, as interrupted', () => {
  const d = new CoreDriver(coreOptions({ workers: 1 }));
  d.feed({ type: 'begin' });
  d.collect(1, [A, B]);
  d.message(1, { type: 'started', id: A.id });
  const stop = d.feed({ type: 'signal', kind: 'interrupt', detail: 'KeyboardInterrupt (SIGINT)' });
  assert.ok(stop.commands.some((command) => command.type === 'timer' && command.key === 'cancel_grace' && command.ms === 10_000));
  const kill = d.feed({ type: 'timer', key: 'cancel_grace' });
  assert.ok(kill.commands.some((command) => command.type === 'kill' && command.worker === 1 && command.reason.kind === 'interrupted' && !command.hard));
  d.exit(1, { signal: 'SIGTERM', code: null });
  const finished = d.finishRun();
  assert.equal(finished.exitCode, 2);
  assert.equal(d.finals().get(A.id), 'interrupted');
  assert.equal(d.finals().get(B.id), 'not_run');
});

test('deaths before any test (starting, collecting) are restarted, and three in a row abort with exit 3', () => {
  const d = new CoreDriver(coreOptions({ workers: 1 }));
  d.feed({ type: 'begin' });
  d.exit(1, { code: 1, stderrTail: 'ImportError: no module named conftest_dep' }); // while starting
  d.message(2, { type: 'hello', pid: 2 });
  const second = d.exit(2, { code: 1 }); // while collecting
  // A second quick death of the slot: its replacement waits (backoff), then starts.
  const backoff = second.commands.find((command) => command.type === 'timer');
  assert.ok(backoff?.type === 'timer' && backoff.ms === 250, JSON.stringify(second.commands));
  d.feed({ type: 'timer', key: backoff.key });
  assert.equal(d.commands.filter((command) => command.type === 'start').length, 3, 'each death before a test is replaced');
  const third = d.exit(3, { code: 1, stderrTail: 'ImportError: no module named conftest_dep' });
  assert.ok(!third.commands.some((command) => command.type === 'start'), 'no fourth start');
  const finished = d.finishRun();
  assert.equal(finished.exitCode, 3);
  assert.match(finished.reason.kind === 'aborted' ? finished.reason.detail : '', /3 workers in a row died before running any test.*\n.*ImportError/s);
});

test('a worker that dies between tests blames no test; its held tests go to its replacement', () => {
  const d = new CoreDriver(coreOptions({ workers: 1 }));
  d.feed({ type: 'begin' });
  d.collect(1, [A, B, C]);
  d.run(1, A.id);
  const death = d.exit(1, { signal: 'SIGKILL', code: null, stderrTail: 'Killed' });
  assert.ok(death.events.some((event) => event.type === 'worker_died_between_tests' && event.stderrLastLine === 'Killed'));
  assert.ok(!death.events.some((event) => event.type === 'test_crashed'));
  d.collect(2, [A, B, C]);
  runAssigned(d, [A, B, C], [2]);
  endCleanly(d, 2);
  assert.equal(d.finishRun().exitCode, 0);
  assert.deepEqual([...d.finals().values()], ['passed', 'passed', 'passed']);
});

test('a finishing worker that ends its session exits as finished: no crash, no restart', () => {
  const d = new CoreDriver(coreOptions({ workers: 1 }));
  d.feed({ type: 'begin' });
  d.collect(1, [A]);
  d.run(1, A.id);
  assert.ok(d.sent(1, 'finish'));
  const exit = (d.message(1, { type: 'done', exitstatus: 0 }), d.exit(1));
  const exited = exit.events.find((event) => event.type === 'worker_exited');
  assert.ok(exited?.type === 'worker_exited' && exited.cause.kind === 'finished');
  assert.ok(!exit.commands.some((command) => command.type === 'start'));
});

test('an illegal lifecycle move is an internal error, reported, and the run exits 3', () => {
  const d = new CoreDriver(coreOptions({ workers: 1 }));
  d.feed({ type: 'begin' });
  d.collect(1, [A]);
  const again = d.message(1, { type: 'hello', pid: 1 }); // finishing → collecting
  assert.ok(again.events.some((event) => event.type === 'internal_error' && event.source === 'core' && /finishing → collecting/.test(event.detail)));
  d.run(1, A.id);
  endCleanly(d, 1);
  assert.equal(d.finishRun().exitCode, 3);
});

test('a test past its timeout is killed on the tick, its late result ignored, and it is blamed with the timeout', () => {
  const d = new CoreDriver(coreOptions({ workers: 1, timeoutSeconds: 1, retries: 0 }));
  d.feed({ type: 'begin' });
  d.collect(1, [A]);
  d.message(1, { type: 'started', id: A.id });
  d.now += 1_500;
  const tick = d.feed({ type: 'tick', samples: [], memory: null });
  const kill = tick.commands.find((command) => command.type === 'kill');
  assert.ok(kill?.type === 'kill' && kill.reason.kind === 'timeout' && kill.dumpStacks && kill.watchdogDump);
  // Woken by the stack dump, the test reports a pass: the verdict stands.
  const late = d.message(1, { type: 'finished', id: A.id, leaked: [], memory: null, locks: [], plain: [] });
  assert.equal(late.events.length, 0);
  d.exit(1, { signal: 'SIGKILL', code: null });
  const final = d.events.find((event) => event.type === 'test_finished');
  assert.ok(final?.type === 'test_finished' && final.outcome.kind === 'crashed' && final.outcome.crash.cause.kind === 'timeout');
  assert.equal(d.finishRun().exitCode, 1);
});
