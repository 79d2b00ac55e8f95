/** BesideLog: the tests that ran beside a worker's death, running elsewhere or killed moments before. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BesideLog } from '../../src/core/beside.js';

test('the tests running in other workers, never the dying worker itself', () => {
  const log = new BesideLog();
  const running = [
    { worker: 2, testId: 'b', memoryBytes: 15e9 },
    { worker: 1, testId: 'a', memoryBytes: 6e9 },
  ];
  assert.deepEqual(log.beside(1, 1_000, running), [{ worker: 2, testId: 'b', memoryBytes: 15e9 }]);
});

test('one OOM kills two workers: the second to be reported still names the first', () => {
  const log = new BesideLog();
  log.died({ worker: 2, testId: 'b', memoryBytes: 15e9 }, 1_000);
  assert.deepEqual(log.beside(1, 1_200, []), [{ worker: 2, testId: 'b', memoryBytes: 15e9 }]);
  // Long after, it was not beside anything.
  assert.deepEqual(log.beside(1, 10_000, []), []);
});

test('a test both running and recently killed on one worker is named once', () => {
  const log = new BesideLog();
  log.died({ worker: 2, testId: 'b', memoryBytes: 1 }, 1_000);
  assert.deepEqual(log.beside(1, 1_100, [{ worker: 2, testId: 'b', memoryBytes: 2 }]), [{ worker: 2, testId: 'b', memoryBytes: 2 }]);
});
