/**
 * Ledger: phase reports, crashes waiting for their isolated retry, and the one final outcome
 * per test. Pure: events are recorded from the emit callback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEventBody } from '../../src/model/event.js';
import type { CrashReport, FinalOutcome } from '../../src/model/outcome.js';
import type { Phase, PhaseReport } from '../../src/model/report.js';
import { samplePhaseReport } from '../support/session-info.js';
import type { TestInfo } from '../../src/model/test.js';
import { Ledger } from '../../src/core/ledger.js';

const TESTS: TestInfo[] = ['a', 'b', 'c', 'd'].map((name, i) => ({
  id: `tests/test_m.py::test_${name}`,
  file: 'tests/test_m.py',
  line: i,
  markers: [],
  scope: 'tests/test_m.py',
  timeout: null,
  bulkheadMarker: null,
  xdistGroup: null,
}));
const A = 0;
const B = 1;
const ID_A = TESTS[A]!.id;
const ID_B = TESTS[B]!.id;

function report(index: number, when: Phase, outcome: PhaseReport['outcome'], extra: Partial<Omit<PhaseReport, 'pytest'>> = {}): PhaseReport {
  const testId = TESTS[index]!.id;
  return samplePhaseReport(testId, when, outcome, { duration: 0.25, ...extra }, { location: { file: 'tests/test_m.py', line: index, domain: testId } });
}

function crash(worker: number, over: Partial<CrashReport> = {}): CrashReport {
  return { worker, pid: 1000 + worker, cause: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: 'Fatal Python error', stacks: 'File "x.py", line 1 in test_a', ...over };
}

class Harness {
  readonly events: RunEventBody[] = [];
  readonly book: Ledger;

  constructor(options: { retries: number; failOnFlaky: boolean }) {
    this.book = new Ledger((event) => this.events.push(event), options);
    this.book.setTests(TESTS);
  }

  /** setup / call / teardown with the given call outcome; returns the failure flags of each. */
  run(index: number, worker: number, call: PhaseReport['outcome'] | 'setup_error', extra: Partial<PhaseReport> = {}): boolean[] {
    if (call === 'setup_error') {
      return [this.book.addReport(index, worker, report(index, 'setup', 'failed')), this.book.addReport(index, worker, report(index, 'teardown', 'passed'))];
    }
    return [
      this.book.addReport(index, worker, report(index, 'setup', 'passed')),
      this.book.addReport(index, worker, report(index, 'call', call, extra)),
      this.book.addReport(index, worker, report(index, 'teardown', 'passed')),
    ];
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }

  finished(testId?: string): Extract<RunEventBody, { type: 'test_finished' }>[] {
    return this.events.filter((e): e is Extract<RunEventBody, { type: 'test_finished' }> => e.type === 'test_finished' && (testId === undefined || e.testId === testId));
  }

  outcome(testId: string): FinalOutcome {
    const finished = this.finished(testId);
    assert.equal(finished.length, 1, `${testId}: ${finished.length} test_finished events`);
    return finished[0]!.outcome;
  }
}

test('a normal test: its reports are emitted, then one test_finished with the summed duration', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  assert.deepEqual(h.run(A, 2, 'passed'), [false, false, false]);
  assert.equal(h.book.isFinished(A), false);
  assert.equal(h.book.finishNormally(A, 2, []), false, 'no retry for a normal test');
  assert.deepEqual(h.types(), ['test_report', 'test_report', 'test_report', 'test_finished']);
  assert.deepEqual(h.finished(), [{ type: 'test_finished', testId: ID_A, worker: 2, outcome: { kind: 'passed' }, duration: 0.75, leaked: [], memory: null, locks: [], plain: [] }]);
  assert.equal(h.book.isFinished(A), true);
  assert.equal(h.book.failures, 0);
});

test('plain phases: no report emitted for them, the outcome and duration counted, and they ride on test_finished', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  assert.equal(h.book.finishNormally(A, 2, [], null, [], [['setup', 0.5], ['call', 0.25], ['teardown', 0.125]]), false);
  assert.deepEqual(h.types(), ['test_finished']);
  const [finished] = h.finished(ID_A);
  assert.deepEqual(finished?.outcome, { kind: 'passed' });
  assert.equal(finished?.duration, 0.875);
  assert.deepEqual(finished?.plain, [['setup', 0.5], ['call', 0.25], ['teardown', 0.125]]);
  // A plain call with a teardown sent whole because it failed: an error, as pytest counts it.
  h.book.addReport(B, 1, report(B, 'teardown', 'failed'));
  h.book.finishNormally(B, 1, [], null, [], [['setup', 0.5], ['call', 0.25]]);
  assert.deepEqual(h.outcome(ID_B), { kind: 'error' });
  assert.equal(h.book.failures, 1);
  // Plain setup and teardown, but no call at all: not a pass.
  h.book.finishNormally(2, 1, [], null, [], [['setup', 0.5], ['teardown', 0.1]]);
  assert.deepEqual(h.outcome(TESTS[2]!.id), { kind: 'error' });
});

test('normal outcomes: failed, setup error, skipped, xfailed', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  assert.deepEqual(h.run(A, 1, 'failed'), [false, true, false]);
  h.book.finishNormally(A, 1, []);
  assert.deepEqual(h.outcome(ID_A), { kind: 'failed' });
  assert.deepEqual(h.run(B, 1, 'setup_error'), [true, false]);
  h.book.finishNormally(B, 1, []);
  assert.deepEqual(h.outcome(ID_B), { kind: 'error' });
  assert.equal(h.book.failures, 2);
  // An xfail is a skipped call with an xfail reason; its failure is not a failure.
  assert.deepEqual(h.run(2, 1, 'skipped', { xfailReason: 'known' }), [false, false, false]);
  h.book.finishNormally(2, 1, []);
  assert.deepEqual(h.outcome(TESTS[2]!.id), { kind: 'xfailed', reason: 'known' });
  assert.equal(h.book.failures, 2);
});

test('leaked processes are carried to test_finished', () => {
  const h = new Harness({ retries: 0, failOnFlaky: true });
  h.run(A, 1, 'passed');
  const leaked = [{ pid: 42, cmd: 'sleep 100', startTime: 7 }];
  h.book.finishNormally(A, 1, leaked);
  assert.deepEqual(h.finished(ID_A)[0]!.leaked, leaked);
});

test('the locks a test took, with their waits, are carried to test_finished', () => {
  const h = new Harness({ retries: 0, failOnFlaky: true });
  h.run(A, 1, 'passed');
  const locks = [{ name: 'model-init', waitedSeconds: 0.5 }, { name: 'gpu', waitedSeconds: 0 }];
  h.book.finishNormally(A, 1, [], null, locks);
  assert.deepEqual(h.finished(ID_A)[0]!.locks, locks);
});

test('crash without retries: test_crashed (willRetry false), then a final crashed with no retry', () => {
  const h = new Harness({ retries: 0, failOnFlaky: true });
  h.book.addReport(A, 3, report(A, 'setup', 'passed'));
  const c = crash(3);
  assert.equal(h.book.crashed(A, c, true), false);
  assert.deepEqual(h.types(), ['test_report', 'test_crashed', 'test_finished']);
  assert.deepEqual(h.events[1], { type: 'test_crashed', testId: ID_A, crash: c, willRetry: false });
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: c, retry: null });
  assert.equal(h.finished(ID_A)[0]!.worker, 3);
  assert.equal(h.book.failures, 1);
});

test('crash not retryable (e.g. a protocol violation): no retry even with retries on', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  const c = crash(1, { cause: { kind: 'protocol_violation', detail: 'x' } });
  assert.equal(h.book.crashed(A, c, false), false);
  assert.deepEqual(h.types(), ['test_crashed', 'test_finished']);
  assert.equal((h.events[0] as Extract<RunEventBody, { type: 'test_crashed' }>).willRetry, false);
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: c, retry: null });
});

test('crash with retries, then passes alone, with --fail-on-flaky: test_crashed now, flaky after the retry, and a failure', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  h.book.addReport(A, 1, report(A, 'setup', 'passed'));
  const c = crash(1);
  assert.equal(h.book.crashed(A, c, true), true, 'run it again alone');
  assert.deepEqual(h.types(), ['test_report', 'test_crashed']);
  assert.equal((h.events[1] as Extract<RunEventBody, { type: 'test_crashed' }>).willRetry, true);
  assert.equal(h.book.isFinished(A), false, 'the verdict waits for the retry');
  assert.equal(h.book.failures, 0, 'a crash waiting for its retry is no failure yet');

  h.book.beginAttempt(A);
  assert.deepEqual(h.run(A, 5, 'passed'), [false, false, false]);
  assert.equal(h.book.finishNormally(A, 5, []), false);
  // The retry's reports are evidence for the verdict, not shown as results of their own.
  assert.deepEqual(h.types(), ['test_report', 'test_crashed', 'test_finished']);
  assert.deepEqual(h.outcome(ID_A), { kind: 'flaky', flaky: 'load', crash: c });
  assert.equal(h.finished(ID_A)[0]!.worker, 5, 'finished on the isolated worker');
  assert.equal(h.book.failures, 1, '--fail-on-flaky: flaky counts as failed');
});

test('crash with retries, passing alone (the default): flaky, and no failure', () => {
  const h = new Harness({ retries: 1, failOnFlaky: false });
  const c = crash(1);
  assert.equal(h.book.crashed(A, c, true), true);
  assert.equal(h.book.failures, 0);
  h.book.beginAttempt(A);
  h.run(A, 4, 'passed');
  assert.equal(h.book.finishNormally(A, 4, []), false);
  assert.deepEqual(h.outcome(ID_A), { kind: 'flaky', flaky: 'load', crash: c });
  assert.equal(h.book.failures, 0, 'a flaky pass does not count for --maxfail');
});

test('crash with retries, crashes again alone: crashed/crashes_alone carrying the second crash', () => {
  const h = new Harness({ retries: 1, failOnFlaky: false });
  const first = crash(1);
  const second = crash(6, { cause: { kind: 'exit_code', code: 3 } });
  assert.equal(h.book.crashed(A, first, true), true);
  h.book.beginAttempt(A);
  h.book.addReport(A, 6, report(A, 'setup', 'passed'));
  assert.equal(h.book.crashed(A, second, true), false, 'no second retry');
  assert.deepEqual(h.types(), ['test_crashed', 'test_finished'], 'one test_crashed only: the retry crash is the verdict');
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: first, retry: { verdict: 'crashes_alone', attempt: second } });
  assert.equal(h.finished(ID_A)[0]!.worker, 6);
  assert.equal(h.book.failures, 1, 'one test, one failure');
});

test('crash with retries, fails alone: crashed/failed_alone (failed or error)', () => {
  const h = new Harness({ retries: 1, failOnFlaky: false });
  const c = crash(1);
  h.book.crashed(A, c, true);
  h.book.beginAttempt(A);
  assert.deepEqual(h.run(A, 2, 'failed'), [false, false, false], "a retry's failure does not count again");
  assert.equal(h.book.finishNormally(A, 2, []), false);
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: c, retry: { verdict: 'failed_alone', outcome: 'failed' } });

  const cb = crash(1);
  h.book.crashed(B, cb, true);
  h.book.beginAttempt(B);
  h.run(B, 3, 'setup_error');
  h.book.finishNormally(B, 3, []);
  assert.deepEqual(h.outcome(ID_B), { kind: 'crashed', crash: cb, retry: { verdict: 'failed_alone', outcome: 'error' } });
  assert.equal(h.book.failures, 2);
});

test('beginAttempt: the reports of the crashed attempt do not leak into the verdict', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  // The crashed attempt had a failed call before the worker died in teardown.
  h.book.addReport(A, 1, report(A, 'setup', 'passed'));
  h.book.addReport(A, 1, report(A, 'call', 'failed'));
  const c = crash(1);
  h.book.crashed(A, c, true);
  h.book.beginAttempt(A);
  h.run(A, 2, 'passed');
  h.book.finishNormally(A, 2, []);
  assert.deepEqual(h.outcome(ID_A), { kind: 'flaky', flaky: 'load', crash: c });
});

test('beginAttempt on a test with no pending crash keeps its reports', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  h.book.addReport(A, 1, report(A, 'setup', 'passed'));
  h.book.addReport(A, 1, report(A, 'call', 'failed'));
  h.book.beginAttempt(A);
  h.book.addReport(A, 1, report(A, 'teardown', 'passed'));
  h.book.finishNormally(A, 1, []);
  assert.deepEqual(h.outcome(ID_A), { kind: 'failed' });
});

test('retries=2: one pass asks for another run; two passes give passed_alone', () => {
  const h = new Harness({ retries: 2, failOnFlaky: true });
  const c = crash(1);
  assert.equal(h.book.crashed(A, c, true), true);
  h.book.beginAttempt(A);
  h.run(A, 2, 'passed');
  assert.equal(h.book.finishNormally(A, 2, []), true, 'one pass of two: again');
  assert.equal(h.book.isFinished(A), false);
  assert.deepEqual(h.finished(), []);
  h.book.beginAttempt(A);
  h.run(A, 3, 'passed');
  assert.equal(h.book.finishNormally(A, 3, []), false);
  assert.deepEqual(h.outcome(ID_A), { kind: 'flaky', flaky: 'load', crash: c });
  assert.equal(h.finished(ID_A)[0]!.worker, 3);
});

test('retries=2: a pass, then a crash alone: crashes_alone', () => {
  const h = new Harness({ retries: 2, failOnFlaky: false });
  const c = crash(1);
  h.book.crashed(A, c, true);
  h.book.beginAttempt(A);
  h.run(A, 2, 'passed');
  assert.equal(h.book.finishNormally(A, 2, []), true);
  h.book.beginAttempt(A);
  const again = crash(3);
  assert.equal(h.book.crashed(A, again, true), false);
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: c, retry: { verdict: 'crashes_alone', attempt: again } });
});

test('retries=2: a pass, then a failure alone: failed_alone', () => {
  const h = new Harness({ retries: 2, failOnFlaky: false });
  const c = crash(1);
  h.book.crashed(A, c, true);
  h.book.beginAttempt(A);
  h.run(A, 2, 'passed');
  assert.equal(h.book.finishNormally(A, 2, []), true);
  h.book.beginAttempt(A);
  h.run(A, 3, 'failed');
  assert.equal(h.book.finishNormally(A, 3, []), false);
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: c, retry: { verdict: 'failed_alone', outcome: 'failed' } });
  assert.equal(h.book.failures, 1);
});

test('notRun of a pending crash: crashed/not_run with the reason, on the crashed worker', () => {
  const h = new Harness({ retries: 1, failOnFlaky: false });
  const c = crash(7);
  h.book.crashed(A, c, true);
  h.book.notRun(A, 'stopping after 1 failures');
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: c, retry: { verdict: 'not_run', reason: 'stopping after 1 failures' } });
  assert.equal(h.finished(ID_A)[0]!.worker, 7);
  assert.equal(h.book.failures, 1, 'a crash never retried stays a failure');
});

test('interrupted during the isolated retry: crashed/not_run with the detail', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  const c = crash(1);
  h.book.crashed(A, c, true);
  h.book.beginAttempt(A);
  h.book.addReport(A, 9, report(A, 'setup', 'passed'));
  h.book.interrupted(A, 9, 'KeyboardInterrupt (SIGINT)');
  assert.deepEqual(h.outcome(ID_A), { kind: 'crashed', crash: c, retry: { verdict: 'not_run', reason: 'KeyboardInterrupt (SIGINT)' } });
  assert.equal(h.finished(ID_A)[0]!.worker, 9);
});

test('interrupted and notRun of ordinary tests', () => {
  const h = new Harness({ retries: 1, failOnFlaky: true });
  h.book.addReport(A, 2, report(A, 'setup', 'passed'));
  h.book.interrupted(A, 2, 'ctrl-c');
  h.book.notRun(B, 'run deadline');
  assert.deepEqual(h.outcome(ID_A), { kind: 'interrupted', detail: 'ctrl-c' });
  assert.deepEqual(h.outcome(ID_B), { kind: 'not_run', reason: 'run deadline' });
  assert.equal(h.book.failures, 0);
});

test('--maxfail counting: failed reports and settled crashes count; xfail failures, pending retries and flaky passes do not', () => {
  const h = new Harness({ retries: 1, failOnFlaky: false });
  // A failed call and a failed teardown of one test: two, as pytest counts reports.
  h.book.addReport(A, 1, report(A, 'setup', 'passed'));
  assert.equal(h.book.addReport(A, 1, report(A, 'call', 'failed')), true);
  assert.equal(h.book.addReport(A, 1, report(A, 'teardown', 'failed')), true);
  h.book.finishNormally(A, 1, []);
  assert.equal(h.book.failures, 2);
  // An xfail-strict style failure with an xfail reason does not count.
  assert.equal(h.book.addReport(B, 1, report(B, 'call', 'failed', { xfailReason: 'reason' })), false);
  h.book.finishNormally(B, 1, []);
  assert.equal(h.book.failures, 2);
  // A crash waiting for its retry counts for the exit code only once settled (a flaky pass never
  // does), but for --maxfail at once: -x stops at the first sign of trouble.
  h.book.crashed(2, crash(1), true);
  assert.equal(h.book.failures, 2);
  assert.equal(h.book.failuresForMaxfail, 3);
  h.book.beginAttempt(2);
  h.run(2, 4, 'passed');
  h.book.finishNormally(2, 4, []);
  assert.equal(h.book.failures, 2);
  // A crash without a retry counts at once.
  h.book.crashed(3, crash(1), false);
  assert.equal(h.book.failures, 3);
});

test('exactly one test_finished per test, whatever is called after its end', () => {
  const h = new Harness({ retries: 1, failOnFlaky: false });
  // A: normal, then everything else thrown at it.
  h.run(A, 1, 'passed');
  h.book.finishNormally(A, 1, []);
  h.book.notRun(A, 'late');
  h.book.interrupted(A, 1, 'late');
  h.book.finishNormally(A, 1, []);
  // B: crashed, retried, settled; then the run's end lists every test as not run.
  h.book.crashed(B, crash(1), true);
  h.book.beginAttempt(B);
  h.run(B, 2, 'passed');
  h.book.finishNormally(B, 2, []);
  h.book.notRun(B, 'end');
  // C: only the end of the run.
  h.book.notRun(2, 'end');
  h.book.notRun(2, 'end again');
  for (const t of TESTS.slice(0, 3)) assert.equal(h.finished(t.id).length, 1, t.id);
  assert.deepEqual(h.outcome(ID_A), { kind: 'passed' });
  assert.equal(h.outcome(ID_B).kind, 'flaky');
  assert.deepEqual(h.outcome(TESTS[2]!.id), { kind: 'not_run', reason: 'end' });
});

test('a test unknown to the book is named by its index', () => {
  const h = new Harness({ retries: 0, failOnFlaky: true });
  h.book.notRun(17, 'x');
  assert.equal(h.finished()[0]!.testId, '#17');
});
