/**
 * The pressure guard (src/core/pressure.ts) with injected readings and an injected clock:
 * when it holds admission, which worker it evicts (the most recently started test, never a test
 * retried alone, never a worker already being killed), and its cooldown between evictions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PressureGuard } from '../../src/core/pressure.js';
import type { MemoryOptions } from '../../src/core/options.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A 4.5 GiB limit and a 4 GiB budget: the guard keeps 512 MiB, and evicts under 256 MiB. */
const OPTIONS: MemoryOptions = {
  limitBytes: 4.5 * GiB,
  limitSource: 'test',
  budgetBytes: 4 * GiB,
  workerMaxBytes: null,
  forceRlimit: false,
  recycleBytes: null,
};

interface Reading {
  availableBytes: number | null;
  stallPercent: number | null;
}

/** A worker as the guard's caller sees it: running a test since `runningSince`, or idle. */
interface Slot {
  id: number;
  runningSince: number | null;
  exempt: boolean;
}

type SlotRole = 'pool' | 'isolated';

function guardWith(readings: Reading[], clock: { now: number }) {
  const guard = new PressureGuard(OPTIONS);
  return {
    check(slots: Slot[]) {
      const reading = readings.shift() ?? { availableBytes: null, stallPercent: null };
      const candidates = slots
        .filter((slot) => slot.runningSince !== null)
        .map((slot) => ({ worker: slot.id, runningSince: slot.runningSince!, exempt: slot.exempt }));
      const verdict = guard.check(reading, clock.now, candidates);
      return { ...verdict, victim: slots.find((slot) => slot.id === verdict.victim) ?? null };
    },
  };
}

function slot(id: number, runningSince: number | null, role: SlotRole = 'pool', terminating = false): Slot {
  return { id, runningSince, exempt: role === 'isolated' || terminating };
}

test('plenty available: no hold, no victim; the reserve is what the budget leaves of the limit', () => {
  const clock = { now: 10_000 };
  const reading = guardWith([{ availableBytes: 2 * GiB, stallPercent: 0 }], clock).check([slot(1, 1000), slot(2, 2000)]);
  assert.deepEqual({ ...reading, victim: reading.victim?.id ?? null }, { hold: false, victim: null, availableBytes: 2 * GiB, reserveBytes: 512 * MiB });
});

test('under the reserve: admission holds, nothing is killed', () => {
  const clock = { now: 10_000 };
  const reading = guardWith([{ availableBytes: 400 * MiB, stallPercent: null }], clock).check([slot(1, 1000), slot(2, 2000)]);
  assert.equal(reading.hold, true);
  assert.equal(reading.victim, null);
});

test('PSI stalls over 40% hold admission with memory still available on paper', () => {
  const clock = { now: 10_000 };
  const guard = guardWith([{ availableBytes: 2 * GiB, stallPercent: 55 }, { availableBytes: 2 * GiB, stallPercent: 40 }], clock);
  assert.equal(guard.check([]).hold, true);
  assert.equal(guard.check([]).hold, false, '40% is not over 40%');
});

test('under half the reserve: the most recently started test is evicted', () => {
  const clock = { now: 10_000 };
  const older = slot(1, 1000);
  const newest = slot(2, 3000);
  const idle = slot(3, null);
  const reading = guardWith([{ availableBytes: 200 * MiB, stallPercent: null }], clock).check([older, newest, idle]);
  assert.equal(reading.hold, true);
  assert.equal(reading.victim, newest);
});

test('never evicted: a test retried alone, a worker already being killed, a worker running nothing', () => {
  const clock = { now: 10_000 };
  const readings = () => [{ availableBytes: 100 * MiB, stallPercent: null }];
  const isolated = slot(1, 5000, 'isolated');
  const dying = slot(2, 4000, 'pool', true);
  const idle = slot(3, null);
  const older = slot(4, 1000);
  assert.equal(guardWith(readings(), clock).check([isolated, dying, idle, older]).victim, older);
  const none = guardWith(readings(), clock).check([isolated, dying, idle]);
  assert.equal(none.victim, null);
  assert.equal(none.hold, true, 'it still holds admission');
});

test('after an eviction, none for 2 s (the kernel takes the memory back first); then the next newest', () => {
  const clock = { now: 10_000 };
  const low = { availableBytes: 100 * MiB, stallPercent: null };
  const guard = guardWith([low, low, low, low], clock);
  const a = slot(1, 1000);
  const b = slot(2, 2000);
  assert.equal(guard.check([a, b]).victim, b);
  b.runningSince = null;
  clock.now = 11_000;
  assert.equal(guard.check([a, b]).victim, null, 'within the cooldown');
  clock.now = 12_000;
  assert.equal(guard.check([a, b]).victim, null, 'exactly 2 s is still the cooldown');
  clock.now = 12_001;
  assert.equal(guard.check([a, b]).victim, a);
});

test('no victim to take starts no cooldown', () => {
  const clock = { now: 10_000 };
  const low = { availableBytes: 100 * MiB, stallPercent: null };
  const guard = guardWith([low, low], clock);
  assert.equal(guard.check([slot(1, null)]).victim, null);
  clock.now = 10_100;
  const late = slot(2, 10_050);
  assert.equal(guard.check([late]).victim, late);
});

test('unknown available memory (no /proc/meminfo, no cgroup limit) never evicts', () => {
  const clock = { now: 10_000 };
  const reading = guardWith([{ availableBytes: null, stallPercent: null }], clock).check([slot(1, 1000)]);
  assert.deepEqual([reading.hold, reading.victim], [false, null]);
});
