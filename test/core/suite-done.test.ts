/**
 * The end of the suite and workers that never got to it: once every test has finished, a pool
 * worker still starting or collecting has nothing left to do, and the run must not wait for its
 * collection (however long that takes, up to --startup-timeout) to tell it so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunCommand } from '../../src/core/commands.js';
import { CoreDriver, testInfo } from '../support/core-driver.js';

const TESTS = [testInfo('test_a'), testInfo('test_b'), testInfo('test_c')];

function killsOf(d: CoreDriver, worker: number): Array<Extract<RunCommand, { type: 'kill' }>> {
  return d.commands.filter((command): command is Extract<RunCommand, { type: 'kill' }> => command.type === 'kill' && command.worker === worker);
}

/** Worker 1 collects and runs the whole suite; worker 2 is left where `slow` puts it. */
function suiteDoneBeside(slow: 'starting' | 'collecting'): CoreDriver {
  const d = new CoreDriver();
  d.feed({ type: 'begin' });
  if (slow === 'collecting') d.message(2, { type: 'hello', pid: 10_002 });
  d.collect(1, TESTS);
  // Tests are handed out a few at a time: run what was assigned until nothing new comes.
  for (let next = d.assigned(1, TESTS).find((id) => !d.finals().has(id)); next !== undefined; next = d.assigned(1, TESTS).find((id) => !d.finals().has(id))) {
    d.run(1, next);
  }
  assert.equal(d.finals().size, TESTS.length, 'worker 1 ran every test');
  assert.ok(d.sent(1, 'finish'));
  return d;
}

for (const slow of ['starting', 'collecting'] as const) {
  test(`every test finished: a pool worker still ${slow} is shut down, and the run ends without waiting for its collection`, () => {
    const d = suiteDoneBeside(slow);
    const kills = killsOf(d, 2);
    assert.equal(kills.length, 1, 'worker 2 is killed once the suite is done');
    assert.deepEqual(kills[0]!.reason, { kind: 'shutdown', detail: 'suite done' });
    d.message(1, { type: 'done', exitstatus: 0 });
    d.exit(1);
    d.exit(2, { signal: 'SIGTERM', code: null });
    const exited = d.events.find((event) => event.type === 'worker_exited' && event.worker === 2);
    assert.ok(exited?.type === 'worker_exited');
    assert.equal(exited.cause.kind, 'stopped', 'a shutdown, not a crash');
    assert.equal(d.commands.filter((command) => command.type === 'start').length, 2, 'no replacement is started');
    const finished = d.finishRun();
    assert.equal(finished.exitCode, 0);
    assert.deepEqual([...d.finals().values()], ['passed', 'passed', 'passed']);
  });
}

test('a pool worker still collecting while tests remain is left to collect and join', () => {
  const d = new CoreDriver();
  d.feed({ type: 'begin' });
  d.message(2, { type: 'hello', pid: 10_002 });
  d.collect(1, TESTS);
  const [first] = d.assigned(1, TESTS);
  d.run(1, first!);
  assert.equal(killsOf(d, 2).length, 0, 'work remains: worker 2 is still wanted');
  d.collect(2, TESTS);
  assert.ok(d.events.some((event) => event.type === 'worker_ready' && event.worker === 2), 'worker 2 joins the run');
  assert.equal(killsOf(d, 2).length, 0);
});
