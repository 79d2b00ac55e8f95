/**
 * The run core fed by hand: a crashed test's fresh isolated worker is told to collect only the
 * test's file, its partial collection is checked file by file and its indices translated; a file
 * that differs, a collection without the test, or a test whose file cannot be told, falls back to
 * a worker that collects the whole suite, which is then judged as any worker's collection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunCommand } from '../../src/core/commands.js';
import type { TestInfo } from '../../src/model/test.js';
import { coreOptions, CoreDriver, testInfo } from '../support/core-driver.js';

const A = testInfo('test_a', 'test_m');
const B = testInfo('test_b', 'test_m');
const X = testInfo('test_x', 'test_crash');
const Y = testInfo('test_y', 'test_crash');
const SUITE = [A, B, X, Y];
const ROOTDIR = '/p';

type Start = Extract<RunCommand, { type: 'start' }>;

function starts(d: CoreDriver): Start[] {
  return d.commands.filter((command): command is Start => command.type === 'start');
}

function runCommands(d: CoreDriver, worker: number): number[][] {
  return d.commands.flatMap((command) => (command.type === 'send' && command.worker === worker && command.command.type === 'run' ? [command.command.indices] : []));
}

/** One worker runs the suite; test_x crashes it; the rest runs on its replacement; worker 3 is the isolated one. */
function crashX(suite: TestInfo[] = SUITE): CoreDriver {
  const d = new CoreDriver(coreOptions({ workers: 1 }));
  d.feed({ type: 'begin' });
  d.collect(1, suite, { rootdir: ROOTDIR });
  for (const id of d.assigned(1, suite)) {
    if (id === X.id) break;
    d.run(1, id);
  }
  d.message(1, { type: 'started', id: X.id });
  d.exit(1, { signal: 'SIGSEGV', code: null });
  d.collect(2, suite, { rootdir: ROOTDIR });
  for (const id of d.assigned(2, suite)) if (!d.finals().has(id)) d.run(2, id);
  d.message(2, { type: 'done', exitstatus: 0 });
  d.exit(2);
  return d;
}

test("the isolated worker collects only the crashed test's file, and runs it by its own index", () => {
  const d = crashX();
  const isolated = starts(d).at(-1)!;
  assert.equal(isolated.role, 'isolated');
  assert.equal(isolated.worker, 3);
  assert.deepEqual(isolated.collect, { rootdir: ROOTDIR, files: ['test_crash.py'] });
  assert.ok(starts(d).slice(0, 2).every((start) => start.collect === null), 'pool workers collect everything');
  // Its collection: test_crash.py only, in another order than the suite's (a shuffle).
  d.collect(3, [Y, X], { rootdir: ROOTDIR });
  assert.deepEqual(runCommands(d, 3), [[1]], 'test_x is its test 1 (the suite says 2)');
  const assigned = d.events.filter((event) => event.type === 'test_assigned' && event.worker === 3);
  assert.deepEqual(assigned.map((event) => event.type === 'test_assigned' && event.testIds), [[X.id]]);
  d.run(3, X.id);
  d.message(3, { type: 'done', exitstatus: 0 });
  d.exit(3);
  assert.equal(d.finals().get(X.id), 'flaky');
  assert.equal(d.finishRun().exitCode, 0);
  assert.equal(d.events.filter((event) => event.type === 'test_finished').length, SUITE.length);
});

test('tests it gives back are numbered as the suite; an index it never collected is a protocol violation', () => {
  const d = crashX();
  d.collect(3, [Y, X], { rootdir: ROOTDIR });
  d.feed({ type: 'signal', kind: 'interrupt', detail: 'Ctrl-C' });
  assert.ok(d.sent(3, 'stop'));
  d.message(3, { type: 'stolen', indices: [1] });
  assert.ok(!d.commands.some((command) => command.type === 'kill' && command.worker === 3), 'its own index 1 is test_x');
  d.message(3, { type: 'stolen', indices: [2] });
  const kill = d.commands.find((command) => command.type === 'kill' && command.worker === 3);
  assert.ok(kill?.type === 'kill' && kill.reason.kind === 'protocol_violation' && /never collected: 2/.test(kill.reason.detail), JSON.stringify(kill));
});

test('a file that holds other tests than the reference collected: a fresh worker collects the whole suite, and its difference ends the run', () => {
  const d = crashX();
  const Z = testInfo('test_z', 'test_crash');
  d.collect(3, [X, Y, Z], { rootdir: ROOTDIR });
  assert.equal(runCommands(d, 3).length, 0);
  assert.ok(d.sent(3, 'stop'));
  d.message(3, { type: 'done', exitstatus: 0 });
  d.exit(3);
  const fallback = starts(d).at(-1)!;
  assert.ok(fallback.worker === 4 && fallback.role === 'isolated' && fallback.collect === null, 'the fallback collects everything');
  // The whole collection differs too: the run ends, naming the difference, as for any worker.
  d.collect(4, [...SUITE, Z], { rootdir: ROOTDIR });
  assert.equal(runCommands(d, 4).length, 0);
  d.exit(4);
  const finished = d.finishRun();
  assert.equal(finished.exitCode, 2);
  assert.equal(finished.reason.kind, 'aborted');
  const detail = finished.reason.kind === 'aborted' ? finished.reason.detail : '';
  assert.match(detail, /^Different tests were collected by worker 1 \(pid 10001\) \(\d+\) and worker 4 \(pid 10004\) \(\d+\):/);
  assert.match(detail, /only in worker 4 \(pid 10004\):\n {4}test_crash\.py::test_z/);
});

test('a file that differs only in the targeted collection (a conftest off its path): the whole collection matches, and the retry runs', () => {
  const d = crashX();
  d.collect(3, [X], { rootdir: ROOTDIR }); // test_crash.py without test_y
  assert.ok(d.sent(3, 'stop'));
  d.message(3, { type: 'done', exitstatus: 0 });
  d.exit(3);
  retryPassesInWholeCollection(d);
});

/** Worker 4, the fallback, collects the whole suite and runs the retry, which passes: flaky. */
function retryPassesInWholeCollection(d: CoreDriver): void {
  d.collect(4, SUITE, { rootdir: ROOTDIR });
  assert.deepEqual(runCommands(d, 4), [[2]]);
  d.run(4, X.id);
  d.message(4, { type: 'done', exitstatus: 0 });
  d.exit(4);
  assert.equal(d.finals().get(X.id), 'flaky');
  assert.equal(d.finishRun().exitCode, 0);
}

test('a collection without the test: that worker ends, and a fresh one collects the whole suite for the retry', () => {
  const d = crashX();
  d.collect(3, [A, B], { rootdir: ROOTDIR }); // it matched test_m.py, not the crashed test's file
  assert.ok(d.sent(3, 'stop'));
  assert.equal(runCommands(d, 3).length, 0);
  assert.equal(starts(d).length, 3, 'the fallback waits until worker 3 has exited');
  d.message(3, { type: 'done', exitstatus: 0 });
  d.exit(3);
  const fallback = starts(d).at(-1)!;
  assert.ok(fallback.worker === 4 && fallback.role === 'isolated' && fallback.collect === null);
  retryPassesInWholeCollection(d);
  assert.equal(starts(d).length, 4);
});

test('a test whose file cannot be told (its id is not unique): the isolated worker collects the whole suite', () => {
  const twin = { ...X };
  const d = crashX([A, X, B, twin]);
  assert.equal(starts(d).at(-1)!.collect, null);
});

test('an isolated worker that dies collecting is replaced by one that collects the same file', () => {
  const d = crashX();
  d.message(3, { type: 'hello', pid: 10_003 });
  d.exit(3, { signal: 'SIGKILL', code: null });
  const restarted = starts(d).filter((start) => start.role === 'isolated');
  // The restart may wait out a backoff: its timer, then the start.
  const timer = d.commands.find((command) => command.type === 'timer' && command.key.startsWith('start:'));
  if (restarted.length < 2 && timer?.type === 'timer') d.feed({ type: 'timer', key: timer.key });
  const again = starts(d).filter((start) => start.role === 'isolated');
  assert.equal(again.length, 2);
  assert.deepEqual(again[1]!.collect, { rootdir: ROOTDIR, files: ['test_crash.py'] });
});
