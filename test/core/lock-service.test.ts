/**
 * LockService: lock requests in, `lock_granted` commands out, with the wait measured on an
 * injected clock. No processes, no timers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkerCommand } from '../../src/adapters/messages.js';
import { LockService } from '../../src/core/lock-service.js';
import { noticeText } from '../../src/reporters/terminal/notices.js';

interface Harness {
  service: LockService;
  sent: Array<[worker: number, command: WorkerCommand]>;
  notices: string[];
  clock: { ms: number };
}

function harness(): Harness {
  const sent: Harness['sent'] = [];
  const notices: string[] = [];
  const clock = { ms: 1_000 };
  const service = new LockService({
    send: (worker, command) => sent.push([worker, command]),
    now: () => clock.ms,
    disagreement: (fact) => notices.push(noticeText({ type: 'lock_disagreement', ...fact, seq: 0, t: 0 })!),
  });
  return { service, sent, notices, clock };
}

test('a free lock is granted at once, with no wait', () => {
  const { service, sent } = harness();
  service.onMessage(1, { type: 'lock_acquire', name: 'model-init', permits: 1, token: '10-1' });
  assert.deepEqual(sent, [[1, { type: 'lock_granted', token: '10-1', waitedSeconds: 0 }]]);
});

test('a waiter is granted on release, with the time it waited', () => {
  const { service, sent, clock } = harness();
  service.onMessage(1, { type: 'lock_acquire', name: 'x', permits: 1, token: 'a' });
  clock.ms += 500;
  service.onMessage(2, { type: 'lock_acquire', name: 'x', permits: 1, token: 'b' });
  clock.ms += 2_250;
  assert.equal(sent.length, 1);
  service.onMessage(1, { type: 'lock_release', token: 'a' });
  assert.deepEqual(sent[1], [2, { type: 'lock_granted', token: 'b', waitedSeconds: 2.25 }]);
  service.onMessage(1, { type: 'lock_release', token: 'a' }); // idempotent
  assert.equal(sent.length, 2);
});

test('a withdrawn request is never granted', () => {
  const { service, sent } = harness();
  service.onMessage(1, { type: 'lock_acquire', name: 'x', permits: 1, token: 'a' });
  service.onMessage(2, { type: 'lock_acquire', name: 'x', permits: 1, token: 'b' });
  service.onMessage(2, { type: 'lock_release', token: 'b' });
  service.onMessage(1, { type: 'lock_release', token: 'a' });
  assert.deepEqual(
    sent.map(([worker, command]) => [worker, command.type]),
    [[1, 'lock_granted']],
  );
});

test("a dead worker's locks go to the next in line, and its late lines are ignored", () => {
  const { service, sent, clock } = harness();
  service.onMessage(1, { type: 'lock_acquire', name: 'x', permits: 1, token: 'a' });
  service.onMessage(2, { type: 'lock_acquire', name: 'x', permits: 1, token: 'b' });
  service.onMessage(3, { type: 'lock_acquire', name: 'x', permits: 1, token: 'c' });
  assert.deepEqual(service.waitsOf(2), [{ name: 'x', heldBy: [1] }]);
  clock.ms += 4_000;
  service.workerGone(1);
  assert.deepEqual(sent.at(-1), [2, { type: 'lock_granted', token: 'b', waitedSeconds: 4 }]);
  // A line worker 1 wrote before it died, read after its death was handled.
  service.onMessage(1, { type: 'lock_acquire', name: 'x', permits: 1, token: 'z' });
  service.workerGone(3); // worker 3 dies while waiting
  service.onMessage(2, { type: 'lock_release', token: 'b' });
  assert.equal(sent.length, 2, 'nothing more to grant: 1 and 3 are gone');
  assert.deepEqual(service.waitsOf(3), []);
});

test('callers that disagree on permits get the smallest, and a notice once per value', () => {
  const { service, sent, notices } = harness();
  service.onMessage(1, { type: 'lock_acquire', name: 'gpu', permits: 2, token: 'a' });
  service.onMessage(2, { type: 'lock_acquire', name: 'gpu', permits: 1, token: 'b' });
  service.onMessage(3, { type: 'lock_acquire', name: 'gpu', permits: 1, token: 'c' });
  service.onMessage(4, { type: 'lock_acquire', name: 'gpu', permits: 3, token: 'd' });
  service.onMessage(5, { type: 'lock_acquire', name: 'gpu', permits: 3, token: 'e' });
  assert.deepEqual(notices, [
    "lock 'gpu': worker 2 asked for permits=1, but earlier requests gave it a capacity of 2; at most 1 hold it at once from now on (the smallest permits wins)",
    "lock 'gpu': worker 4 asked for permits=3, but earlier requests gave it a capacity of 1; at most 1 hold it at once (the smallest permits wins)",
  ]);
  assert.deepEqual(
    sent.map(([worker]) => worker),
    [1],
    'worker 2 waits: one holder is the limit now',
  );
});
