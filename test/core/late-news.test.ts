/**
 * News from a worker the run already told to end: it was starting or collecting when the run
 * stopped (-x), was told to stop and killed, and its `hello` or `collected` is read only afterwards
 * (from its journal, before its exit is reported). That is late news, never an illegal lifecycle
 * move: the worker neither collects again nor becomes ready.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreDriver, testInfo } from '../support/core-driver.js';
import { sampleSessionInfo } from '../support/session-info.js';

const TESTS = [testInfo('test_a'), testInfo('test_b'), testInfo('test_c')];

for (const when of ['starting', 'collecting'] as const) {
  test(`-x stops the run while worker 2 is ${when}: its late hello and collection are taken quietly`, () => {
    const d = new CoreDriver();
    d.feed({ type: 'begin' });
    if (when === 'collecting') d.message(2, { type: 'hello', pid: 10_002 });
    d.collect(1, TESTS, { maxfail: 1 });
    const [first] = d.assigned(1, TESTS);
    d.run(1, first!, 'failed');
    assert.ok(d.sent(2, 'stop'), 'worker 2 is told to stop');
    assert.ok(d.commands.some((command) => command.type === 'kill' && command.worker === 2), 'and is killed');

    // What its journal still held, read before its exit is reported.
    if (when === 'starting') d.message(2, { type: 'hello', pid: 10_002 });
    d.message(2, { type: 'session', info: sampleSessionInfo({ maxfail: 1 }) });
    d.message(2, { type: 'collected', tests: TESTS, deselected: 0, errors: 0, interrupted: null, exitstatus: null });

    assert.deepEqual(d.events.filter((event) => event.type === 'internal_error'), []);
    assert.equal(d.events.some((event) => event.type === 'worker_ready' && event.worker === 2), false, 'worker 2 never becomes ready');
    assert.equal(d.assigned(2, TESTS).length, 0, 'nor gets a test');
    d.message(1, { type: 'done', exitstatus: 1 });
    d.exit(1);
    d.exit(2, { signal: 'SIGTERM', code: null });
    const finished = d.finishRun();
    assert.equal(finished.exitCode, 1);
    assert.deepEqual(finished.reason, { kind: 'maxfail', failures: 1 });
  });
}
