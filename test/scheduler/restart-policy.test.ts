/**
 * RestartPolicy: per-slot backoff and the crash-loop breaker. Pure: lifetimes are passed in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RESTART_POLICY, RestartPolicy, type RestartDecision, type RestartPolicyOptions } from '../../src/scheduler/restart-policy.js';

const OPTIONS: RestartPolicyOptions = { baseDelayMs: 100, maxDelayMs: 1_000, stableMs: 5_000, crashLoopLimit: 3 };

function delays(decisions: RestartDecision[]): Array<number | string> {
  return decisions.map((d) => (d.kind === 'restart' ? d.delayMs : `${d.kind}:${d.deathsInARow}`));
}

test('backoff: 0, base, 2*base, 4*base, ... capped at max, for quick deaths of one slot', () => {
  const policy = new RestartPolicy(OPTIONS);
  // ranTests: true keeps the crash-loop breaker out of it.
  const got = Array.from({ length: 8 }, () => policy.workerDied(0, 10, true));
  assert.deepEqual(delays(got), [0, 100, 200, 400, 800, 1_000, 1_000, 1_000]);
});

test('backoff: the default policy is 0, 250, 500, ... up to 10 s', () => {
  const policy = new RestartPolicy();
  const got = Array.from({ length: 9 }, () => policy.workerDied(0, 0, true));
  assert.deepEqual(delays(got), [0, 250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  assert.equal(DEFAULT_RESTART_POLICY.crashLoopLimit, 3);
});

test('backoff: each slot has its own sequence', () => {
  const policy = new RestartPolicy(OPTIONS);
  const table: Array<[slot: number, expected: number]> = [
    [0, 0],
    [0, 100],
    [1, 0],
    [0, 200],
    [1, 100],
    [2, 0],
    [1, 200],
    [0, 400],
  ];
  for (const [i, [slot, expected]] of table.entries()) {
    assert.deepEqual(policy.workerDied(slot, 10, true), { kind: 'restart', delayMs: expected }, `step ${i}: slot ${slot}`);
  }
});

test('backoff: a worker that lived a stable period resets its slot (and only its slot)', () => {
  const policy = new RestartPolicy(OPTIONS);
  assert.deepEqual(delays([0, 0, 0, 0].map(() => policy.workerDied(0, 10, true))), [0, 100, 200, 400]);
  assert.deepEqual(delays([1, 1, 1].map(() => policy.workerDied(1, 10, true))), [0, 100, 200]);
  // Slot 0's worker lived exactly the stable period: its death counts as the first again.
  assert.deepEqual(policy.workerDied(0, 5_000, true), { kind: 'restart', delayMs: 0 });
  assert.deepEqual(policy.workerDied(0, 10, true), { kind: 'restart', delayMs: 100 }, 'quick deaths count again from there');
  // Just short of stable is quick.
  assert.deepEqual(policy.workerDied(0, 4_999, true), { kind: 'restart', delayMs: 200 });
  // Slot 1 was not reset.
  assert.deepEqual(policy.workerDied(1, 10, true), { kind: 'restart', delayMs: 400 });
});

test('crash loop: K deaths in a row before any test trip the breaker', () => {
  const policy = new RestartPolicy(OPTIONS);
  assert.deepEqual(policy.workerDied(0, 10, false), { kind: 'restart', delayMs: 0 });
  assert.deepEqual(policy.workerDied(1, 10, false), { kind: 'restart', delayMs: 0 }, 'another slot: its first death');
  assert.deepEqual(policy.workerDied(0, 10, false), { kind: 'crash_loop', deathsInARow: 3 });
  assert.deepEqual(policy.workerDied(2, 10, false), { kind: 'crash_loop', deathsInARow: 4 }, 'stays tripped');
});

test('crash loop: counts across slots and lifetimes, whatever the backoff says', () => {
  const policy = new RestartPolicy({ ...OPTIONS, crashLoopLimit: 2 });
  // A long-lived worker that never ran a test still counts (a suite that hangs while collecting).
  assert.equal(policy.workerDied(0, 60_000, false).kind, 'restart');
  assert.deepEqual(policy.workerDied(1, 60_000, false), { kind: 'crash_loop', deathsInARow: 2 });
});

test('crash loop: a limit of 1 trips on the first death before any test', () => {
  const policy = new RestartPolicy({ ...OPTIONS, crashLoopLimit: 1 });
  assert.deepEqual(policy.workerDied(0, 10, false), { kind: 'crash_loop', deathsInARow: 1 });
});

test('crash loop: testRan() resets the count', () => {
  const policy = new RestartPolicy(OPTIONS);
  assert.equal(policy.workerDied(0, 10, false).kind, 'restart');
  assert.equal(policy.workerDied(0, 10, false).kind, 'restart');
  policy.testRan();
  assert.equal(policy.workerDied(0, 10, false).kind, 'restart', 'one death since the test');
  assert.equal(policy.workerDied(0, 10, false).kind, 'restart', 'two deaths since the test');
  assert.deepEqual(policy.workerDied(0, 10, false), { kind: 'crash_loop', deathsInARow: 3 });
});

test('crash loop: a death after tests ran resets the count', () => {
  const policy = new RestartPolicy(OPTIONS);
  assert.equal(policy.workerDied(0, 10, false).kind, 'restart');
  assert.equal(policy.workerDied(1, 10, false).kind, 'restart');
  assert.equal(policy.workerDied(0, 10, true).kind, 'restart', 'this worker ran tests: the suite can run');
  assert.equal(policy.workerDied(1, 10, false).kind, 'restart');
  assert.equal(policy.workerDied(0, 10, false).kind, 'restart');
  assert.deepEqual(policy.workerDied(1, 10, false), { kind: 'crash_loop', deathsInARow: 3 });
});

test('crash loop: the backoff keeps counting for deaths before a test (the breaker is separate)', () => {
  const policy = new RestartPolicy({ ...OPTIONS, crashLoopLimit: 10 });
  const got = Array.from({ length: 5 }, () => policy.workerDied(0, 10, false));
  assert.deepEqual(delays(got), [0, 100, 200, 400, 800]);
});
