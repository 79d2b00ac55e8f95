/**
 * Cross-worker locks end to end, on `test/fixtures/scheduling` (tests record when they ran, and
 * when they were inside a locked section; see its conftest):
 *
 * - `with bulkhead_lock("model-init"):` around a 0.5 s section serializes the section only: the
 *   tests overlap outside it, never inside it; each test's wait is in --json (`locks`) and agrees
 *   with what the test itself saw, and the summary has a `locks` line;
 * - a holder that segfaults inside its section does not block the others: they get the lock and
 *   pass, and the holder is reported crashed (SIGSEGV, crashes on its own);
 * - a test that times out while in line for a lock is reported with the lock and its holder;
 * - plain pytest runs the lock tests too: with bulkhead's plugin loaded (the fixture and
 *   `bulkhead_pytest.lock` do nothing) and without it (the conftest's fallback fixture).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, copyFixture, describeRun, runPytest, summaryLine } from '../support/cli.js';
import { join } from 'node:path';
import { runScheduled } from '../support/scheduling-run.js';
import { describeSpans, overlappingPairs, overlappingSections, spansOf } from '../support/spans.js';

const project = copyFixture('scheduling');
after(() => project.cleanup());

test('a lock serializes only its section; each wait is reported', async () => {
  const run = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: ['tests/test_locks.py'], meetSeconds: 2 });
  const { result, spans } = run;
  assert.equal(result.code, 0, describeRun(result));
  assert.deepEqual(result.leftovers, []);
  assert.equal(spans.length, 4, describeSpans(spans));
  assert.deepEqual(overlappingSections(spans, 'model-init'), [], describeSpans(spans));
  assert.notDeepEqual(overlappingPairs(spans), [], `the tests never overlapped outside the lock:\n${describeSpans(spans)}`);

  let longest = 0;
  for (const span of spans) {
    const entry = run.tests.get(span.id)!;
    assert.equal(entry.outcome, 'passed');
    assert.equal(entry.locks.length, 1, JSON.stringify(entry.locks));
    const [lock] = entry.locks;
    assert.equal(lock!.name, 'model-init');
    // The supervisor's measure (request in, grant out) against the test's own (before it asked,
    // once inside): the same wait, give or take the channel and a busy machine.
    const seen = span.sections[0]!.start - (span.notes.get('lock-requested')!.t as number);
    assert.ok(Math.abs(lock!.waitedSeconds - seen) < 0.25, `${span.id}: reported ${lock!.waitedSeconds}s, the test saw ${seen}s`);
    longest = Math.max(longest, lock!.waitedSeconds);
  }
  // Two tests asked at about the same time (they met first): one waited for the other's 0.5 s.
  assert.ok(longest >= 0.25, `longest wait ${longest}s:\n${describeSpans(spans)}`);
  assert.match(result.stdout, /^=+ locks =+$/m);
  assert.match(result.stdout, /^lock 'model-init': taken 4 times, waited \d+\.\d\ds in all, longest \d+\.\d\ds by tests\/test_locks\.py::test_model_init\[\d\]$/m);
});

test('a lock holder that segfaults inside its section: the others get the lock and pass; it is reported crashed', async () => {
  const run = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: ['tests/test_lock_crash.py'], meetSeconds: 2 });
  const { result, spans } = run;
  assert.equal(result.code, 1, describeRun(result));
  assert.deepEqual(result.leftovers, []);
  const holder = run.tests.get('tests/test_lock_crash.py::test_holder_segfaults')!;
  assert.equal(holder.outcome, 'crashed', describeRun(result));
  assert.deepEqual(holder.cause, { kind: 'signal', signal: 'SIGSEGV' });
  assert.match(holder.isolatedRetry ?? '', /crashes on its own/);
  assert.match(result.stdout, /^CRASHED tests\/test_lock_crash\.py::test_holder_segfaults - worker \d+ \(pid \d+\) was killed by SIGSEGV/m);
  const waiters = spansOf(spans, '::test_waiter[');
  assert.equal(waiters.length, 3, describeSpans(spans));
  for (const span of waiters) {
    assert.equal(run.tests.get(span.id)?.outcome, 'passed', describeRun(result));
    assert.equal(span.sections.length, 1, describeSpans(spans));
  }
  // The holder's first attempt died inside its section (its end is never recorded), and a waiter
  // that asked while it was in there got the lock only after the crash, then passed.
  const crashedAttempt = spansOf(spans, '::test_holder_segfaults')[0]!;
  const held = crashedAttempt.sections[0]!;
  assert.equal(held.end, null, describeSpans(spans));
  const blocked = waiters.filter((span) => (span.notes.get('lock-requested')!.t as number) > held.start);
  assert.ok(blocked.length > 0, `no waiter asked while the holder held the lock:\n${describeSpans(spans)}`);
  for (const span of blocked) assert.ok(span.sections[0]!.start >= held.start + 0.3, `${span.id} entered before the holder crashed:\n${describeSpans(spans)}`);
  const waited = Math.max(...blocked.map((span) => run.tests.get(span.id)!.locks[0]?.waitedSeconds ?? 0));
  assert.ok(waited >= 0.15, `reported waits ${JSON.stringify(blocked.map((span) => run.tests.get(span.id)!.locks))}`);
  assert.deepEqual(overlappingSections(spans, 'crashy-init'), [], describeSpans(spans));
});

test('a test that times out in line for a lock: the report names the lock and the worker holding it', async () => {
  const run = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: ['tests/test_lock_timeout.py'], meetSeconds: 2 });
  const { result } = run;
  assert.equal(result.code, 1, describeRun(result));
  assert.deepEqual(result.leftovers, []);
  const holder = run.tests.get('tests/test_lock_timeout.py::test_holder_is_slow')!;
  const waiter = run.tests.get('tests/test_lock_timeout.py::test_waiter_times_out')!;
  assert.equal(holder.outcome, 'passed', describeRun(result));
  assert.notEqual(waiter.worker, holder.worker, 'the two groups ran on two workers');
  assert.equal(waiter.outcome, 'crashed', describeRun(result));
  assert.deepEqual(waiter.cause, { kind: 'timeout', limitSeconds: 1.5, waitingFor: [{ name: 'stuck', heldBy: [holder.worker] }] });
  assert.match(
    result.stdout,
    new RegExp(`^TIMEOUT tests/test_lock_timeout\\.py::test_waiter_times_out - worker \\d+ \\(pid \\d+\\) was killed after the test passed its timeout of 1\\.5s \\(waiting for lock 'stuck', held by worker ${holder.worker}\\)`, 'm'),
  );
});

test('plain pytest runs the lock tests: with bulkhead\'s plugin the lock does nothing, without it the conftest fallback does', async () => {
  const env = { BULKHEAD_SCHED_DIR: undefined, PYTHONPATH: join(REPO_ROOT, 'python') };
  const withPlugin = await runPytest({ cwd: project.dir, pytestArgs: ['-p', 'bulkhead_pytest.plugin', 'tests/test_locks.py', 'tests/test_lock_crash.py', '-k', 'not segfaults'], env });
  assert.equal(withPlugin.code, 0, describeRun(withPlugin));
  assert.equal(summaryLine(withPlugin.stdout), '7 passed, 1 deselected');
  const without = await runPytest({ cwd: project.dir, pytestArgs: ['tests/test_locks.py'], env: { BULKHEAD_SCHED_DIR: undefined, PYTHONPATH: undefined } });
  assert.equal(without.code, 0, describeRun(without));
  assert.equal(summaryLine(without.stdout), '4 passed');
  assert.deepEqual([...withPlugin.leftovers, ...without.leftovers], []);
});
