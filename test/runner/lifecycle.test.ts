/**
 * The run loop driving real pytest workers on tiny temp projects: the order of each worker's
 * lifecycle states as the events tell it, for normal workers, a worker a test crashes, its
 * replacement, and the fresh worker of the isolated retry (like jest-worker's edge-case tests,
 * which assert the order of a worker's states).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEventBody } from '../../src/model/event.js';
import { cleanUpRuns, project, runLoop } from './run-shell-harness.js';

after(cleanUpRuns);

/** Each worker's states in order: ['starting', 'collecting', ...], from the worker_state events. */
function statesByWorker(events: readonly RunEventBody[]): Map<number, string[]> {
  const states = new Map<number, string[]>();
  for (const event of events) {
    if (event.type === 'worker_started') {
      assert.equal(states.has(event.worker), false, `worker ${event.worker} started twice`);
      states.set(event.worker, ['starting']);
    }
    if (event.type !== 'worker_state') continue;
    const list = states.get(event.worker);
    assert.ok(list, `worker_state for worker ${event.worker} before its worker_started`);
    assert.equal(event.from, list.at(-1), `worker ${event.worker}: ${event.from} -> ${event.to} after ${list.join(' -> ')}`);
    list.push(event.to);
  }
  return states;
}

function seqOf(events: readonly RunEventBody[], match: (event: RunEventBody) => boolean): number {
  const at = events.findIndex(match);
  assert.ok(at >= 0, 'event not found');
  return at;
}

function finishedOutcomes(events: readonly RunEventBody[]): Map<string, Extract<RunEventBody, { type: 'test_finished' }>[]> {
  const byId = new Map<string, Extract<RunEventBody, { type: 'test_finished' }>[]>();
  for (const event of events) {
    if (event.type !== 'test_finished') continue;
    byId.set(event.testId, [...(byId.get(event.testId) ?? []), event]);
  }
  return byId;
}

const NORMAL = ['starting', 'collecting', 'ready', 'finishing', 'exited'];
const CRASHED = ['starting', 'collecting', 'ready', 'exited'];

test('lifecycle: 2 workers, one test crashes its worker; states per worker, then the isolated retry alone', async () => {
  // The crashing test is first in its module, so the worker that takes the module dies in its first
  // test, while the queue still holds work (it was never told to finish). The other tests are slow
  // enough that the replacement worker is ready before the queue runs dry.
  const slow = (name: string, n: number): string =>
    Array.from({ length: n }, (_, i) => `def test_${name}_${i}():\n    time.sleep(0.4)\n`).join('\n');
  const root = project({
    'pytest.ini': '[pytest]\ntestpaths = tests\n',
    'tests/test_a.py': `import os\nimport time\n\n\ndef test_crash():\n    os._exit(3)\n\n\n${slow('a', 5)}`,
    'tests/test_b.py': `import time\n\n\n${slow('b', 6)}`,
  });
  const { events, exitCode } = await runLoop(root);
  assert.equal(exitCode, 1);
  const states = statesByWorker(events);

  const crashed = events.find((e): e is Extract<RunEventBody, { type: 'test_crashed' }> => e.type === 'test_crashed');
  assert.ok(crashed, 'a test_crashed event');
  assert.equal(crashed.testId, 'tests/test_a.py::test_crash');
  assert.deepEqual(crashed.crash.cause, { kind: 'exit_code', code: 3 });
  assert.equal(crashed.willRetry, true);
  const crashedWorker = crashed.crash.worker;

  const isolatedWorker = Math.max(...states.keys());
  assert.notEqual(isolatedWorker, crashedWorker);
  const isolatedStart = seqOf(events, (e) => e.type === 'worker_started' && e.worker === isolatedWorker);

  for (const [worker, list] of states) {
    if (worker === crashedWorker) {
      assert.deepEqual(list, CRASHED, `crashed worker ${worker}`);
    } else if (worker === isolatedWorker) {
      // Given its one test and `finish` at once; the test kills it again.
      assert.deepEqual(list, NORMAL, `isolated worker ${worker}`);
    } else {
      assert.deepEqual(list, NORMAL, `worker ${worker}`);
      const exited = seqOf(events, (e) => e.type === 'worker_state' && e.worker === worker && e.to === 'exited');
      assert.ok(exited < isolatedStart, `the isolated worker ${isolatedWorker} started before worker ${worker} exited`);
    }
  }
  assert.equal(states.size, 4, `workers: two, a replacement, the isolated one (${[...states.keys()]})`);

  // The exits say why: the crash, normal ends, the crash alone.
  const exits = events.filter((e): e is Extract<RunEventBody, { type: 'worker_exited' }> => e.type === 'worker_exited');
  assert.deepEqual(
    exits.map((e) => [e.worker, e.cause.kind]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [...states.keys()].sort((a, b) => a - b).map((w) => [w, w === crashedWorker || w === isolatedWorker ? 'exit_code' : 'finished']),
  );

  // Exactly one final outcome per test; the crash carries the verdict of its retry.
  const outcomes = finishedOutcomes(events);
  assert.equal(outcomes.size, 12);
  for (const [id, list] of outcomes) assert.equal(list.length, 1, id);
  const verdict = outcomes.get('tests/test_a.py::test_crash')![0]!;
  assert.equal(verdict.outcome.kind, 'crashed');
  assert.equal(verdict.outcome.kind === 'crashed' ? verdict.outcome.retry?.verdict : null, 'crashes_alone');
  assert.equal(verdict.worker, isolatedWorker);
  for (const [id, [event]] of outcomes) if (id !== verdict.testId) assert.equal(event!.outcome.kind, 'passed', id);
  assert.equal(events.at(-1)?.type, 'run_finished');
});

test('lifecycle: the isolated retry waits for a worker that is still collecting', async () => {
  // The second worker to pass the conftest sleeps there (3 s): the first worker takes the whole
  // one-module suite, and its last test kills it while the other is still collecting. A retry
  // "alone" must not start next to that worker's collection and session.
  const root = project({
    'pytest.ini': '[pytest]\ntestpaths = tests\n',
    'tests/conftest.py': [
      'import os, time',
      'here = os.path.dirname(__file__)',
      'for n in (1, 2, 3):',
      '    try:',
      '        os.close(os.open(os.path.join(here, "..", f".worker-{n}"), os.O_CREAT | os.O_EXCL))',
      '    except FileExistsError:',
      '        continue',
      '    if n == 2:',
      '        time.sleep(3)',
      '    break',
      '',
    ].join('\n'),
    'tests/test_a.py': 'import os\n\n\ndef test_fine():\n    pass\n\n\ndef test_crash():\n    os._exit(3)\n',
  });
  const { events } = await runLoop(root);
  const states = statesByWorker(events);
  const crashed = events.find((e): e is Extract<RunEventBody, { type: 'test_crashed' }> => e.type === 'test_crashed');
  assert.ok(crashed);
  const isolatedWorker = Math.max(...states.keys());
  const isolatedStart = seqOf(events, (e) => e.type === 'worker_started' && e.worker === isolatedWorker);
  for (const worker of states.keys()) {
    if (worker === isolatedWorker) continue;
    const exited = seqOf(events, (e) => e.type === 'worker_state' && e.worker === worker && e.to === 'exited');
    const where = states.get(worker)!.join(' -> ');
    assert.ok(exited < isolatedStart, `the isolated worker ${isolatedWorker} started before worker ${worker} (${where}) exited`);
  }
});
