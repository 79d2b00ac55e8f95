/**
 * Admission control end to end, on `test/fixtures/scheduling`: each test there records when it
 * ran (CLOCK_MONOTONIC, one clock for all processes), and each case checks from those spans what
 * ran at the same time as what:
 *
 * - tests with a serial marker (the default ones, and one named in `serial-markers`) never
 *   overlap, though they sit in two modules that would otherwise go to two workers;
 * - `xdist_group("db")` tests from two modules run on one worker, one after another;
 * - an `exclusive` test overlaps nothing, while the ordinary tests around it overlap each other;
 * - `cpus=2` tests never take more CPU slots than there are (the sum of the cpus of the tests
 *   running at once stays <= the pool size of 3);
 * - a resource with capacity 1 is held by one test at a time, with capacity 2 by at most two
 *   (and two do hold it at once);
 * - overrides: one selected by node-id glob gives the smoke tests a token, serializing them (they
 *   overlap without it); one selected by `slow and not gpu` gives a 1 s timeout that kills a
 *   sleeping test as `timeout`, without retry, and leaves the `slow and gpu` test alone.
 *
 * Every case passes `--workers 2` or `--workers 3` and checks that no process is left behind.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFixture, describeRun } from '../support/cli.js';
import { runScheduled, type ScheduledRun } from '../support/scheduling-run.js';
import { describeSpans, overlappingPairs, peakConcurrency, spansOf } from '../support/spans.js';

const project = copyFixture('scheduling');
after(() => project.cleanup());

/** The run ended as expected, every listed test passed, and nothing was left running. */
function assertPassed(run: ScheduledRun, expectedCount: number): void {
  assert.equal(run.result.code, 0, describeRun(run.result));
  assert.deepEqual(run.result.leftovers, []);
  assert.equal(run.tests.size, expectedCount, describeRun(run.result));
  for (const [id, entry] of run.tests) assert.equal(entry.outcome, 'passed', `${id}\n${describeRun(run.result)}`);
  // Every test recorded a whole span (a missing one would make the overlap checks vacuous).
  assert.equal(run.spans.filter((span) => span.end !== null).length, expectedCount, describeSpans(run.spans));
}

test('serial markers (default and configured) and an xdist_group: no two of a group ever overlap', async () => {
  const serial = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: ['tests/test_serial.py', 'tests/test_serial_more.py'] });
  assertPassed(serial, 10);
  const marked = spansOf(serial.spans, '::test_serial[', '::test_parallel_unsafe', '::test_no_parallel', '::test_custom_serial_marker[');
  assert.equal(marked.length, 6, describeSpans(serial.spans));
  assert.deepEqual(overlappingPairs(marked), [], describeSpans(serial.spans));

  const groups = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: ['tests/test_groups.py', 'tests/test_groups_more.py'] });
  assertPassed(groups, 8);
  const db = spansOf(groups.spans, '::test_db');
  assert.equal(db.length, 4, describeSpans(groups.spans));
  // The whole group, from both modules, went to one worker.
  assert.deepEqual(new Set(db.map((span) => span.pid)).size, 1, describeSpans(groups.spans));
  assert.deepEqual(overlappingPairs(db), [], describeSpans(groups.spans));
});

test('an exclusive test overlaps nothing; the ordinary tests around it do run side by side', async () => {
  const run = await runScheduled({
    cwd: project.dir,
    workers: 3,
    pytestArgs: ['tests/test_ordinary.py', 'tests/test_exclusive.py', 'tests/test_ordinary_more.py'],
    meetSeconds: 2,
  });
  assertPassed(run, 7);
  const exclusive = spansOf(run.spans, '::test_exclusive');
  const others = run.spans.filter((span) => !exclusive.includes(span));
  assert.equal(exclusive.length, 1);
  assert.deepEqual(overlappingPairs(exclusive, others), [], describeSpans(run.spans));
  assert.ok(peakConcurrency(others) >= 2, `the ordinary tests never overlapped:\n${describeSpans(run.spans)}`);
});

test('cpus=2 tests with 3 workers: the cpus of the tests running at once never pass 3', async () => {
  const run = await runScheduled({ cwd: project.dir, workers: 3, pytestArgs: ['tests/test_cpus.py', 'tests/test_cpus_one.py'], meetSeconds: 2 });
  assertPassed(run, 7);
  const cpusOf = (span: { id: string }): number => (span.id.includes('::test_two_cpus[') ? 2 : 1);
  assert.ok(peakConcurrency(run.spans, cpusOf) <= 3, `more than 3 CPU slots in use at once:\n${describeSpans(run.spans)}`);
  assert.deepEqual(overlappingPairs(spansOf(run.spans, '::test_two_cpus[')), [], describeSpans(run.spans));
  // Not serial either: one-slot tests ran side by side.
  assert.ok(peakConcurrency(run.spans) >= 2, `nothing ever overlapped:\n${describeSpans(run.spans)}`);
});

test('resource tokens: capacity 1 (bulkhead.toml) holds one test at a time, capacity 2 at most two', async () => {
  const args = ['tests/test_resources.py', 'tests/test_resources_more.py'];
  const one = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: args });
  assertPassed(one, 7);
  const model = spansOf(one.spans, '::test_uses_model');
  assert.equal(model.length, 6);
  assert.deepEqual(overlappingPairs(model), [], describeSpans(one.spans));

  const two = await runScheduled({ cwd: project.dir, workers: 3, pytestArgs: args, options: ['--config', 'configs/model-2.toml'], meetSeconds: 2 });
  assertPassed(two, 7);
  const peak = peakConcurrency(spansOf(two.spans, '::test_uses_model'));
  assert.equal(peak, 2, `capacity 2: expected two holders at once at most (and at least once):\n${describeSpans(two.spans)}`);
});

test('overrides: a node-id glob serializes the smoke tests; "slow and not gpu" sets a timeout that kills a sleeping test', async () => {
  const run = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: ['tests/test_smoke.py', 'tests/test_slow.py'] });
  assert.equal(run.result.code, 1, describeRun(run.result));
  assert.deepEqual(run.result.leftovers, []);
  const kloros = spansOf(run.spans, 'tests/test_smoke.py::');
  assert.equal(kloros.length, 4, describeSpans(run.spans));
  assert.deepEqual(overlappingPairs(kloros), [], describeSpans(run.spans));

  const sleeper = run.tests.get('tests/test_slow.py::test_sleeps_past_the_override_timeout')!;
  assert.equal(sleeper.outcome, 'crashed', describeRun(run.result));
  assert.deepEqual(sleeper.cause, { kind: 'timeout', limitSeconds: 1 });
  // The override's retries = 0: not run again alone (it would only time out again).
  assert.equal(sleeper.isolatedRetry, null);
  assert.equal(spansOf(run.spans, '::test_sleeps_past_the_override_timeout').length, 1, describeSpans(run.spans));
  assert.match(run.result.stdout, /^TIMEOUT tests\/test_slow\.py::test_sleeps_past_the_override_timeout - .*timeout of 1s/m);
  // "slow and gpu" is not selected: it runs past 1 s (its timeout is [defaults]' 30 s) and passes.
  assert.equal(run.tests.get('tests/test_slow.py::test_slow_gpu_is_not_selected')?.outcome, 'passed');
  assert.equal(run.tests.get('tests/test_slow.py::test_fast')?.outcome, 'passed');
  for (let n = 0; n < 4; n += 1) assert.equal(run.tests.get(`tests/test_smoke.py::test_kloros[${n}]`)?.outcome, 'passed');

  // The control: without the override (configs/plain.toml), the same smoke tests do overlap.
  const control = await runScheduled({
    cwd: project.dir,
    workers: 2,
    pytestArgs: ['tests/test_smoke.py'],
    options: ['--config', 'configs/plain.toml'],
    meetSeconds: 2,
  });
  assertPassed(control, 4);
  assert.notDeepEqual(overlappingPairs(control.spans), [], `without the override the smoke tests should overlap:\n${describeSpans(control.spans)}`);
});
