import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeapKeeper } from '../../src/runner/heap-keeper.js';

const MiB = 1024 * 1024;

/** A keeper over a fake heap: each check sees the next of `used`; each collection leaves the next of `liveAfter`. */
function keeper(used: number[], liveAfter: number[]): { keeper: { check(): boolean }; collected: () => number } {
  let current = 0;
  const k = new HeapKeeper(() => (current = liveAfter.shift() ?? current), () => current, 64 * MiB);
  const check = (): boolean => {
    current = used.shift() ?? current;
    return k.check();
  };
  return { keeper: { check }, collected: () => k.collections };
}

test('nothing is collected below the floor, however the heap grows', () => {
  const { keeper: k, collected } = keeper([10 * MiB, 30 * MiB, 63 * MiB], []);
  assert.deepEqual([k.check(), k.check(), k.check()], [false, false, false]);
  assert.equal(collected(), 0);
});

test('past the floor, a collection; the next only once the heap has grown by half from what was live', () => {
  const { keeper: k, collected } = keeper([70 * MiB, 80 * MiB, 89 * MiB, 91 * MiB], [60 * MiB, 55 * MiB]);
  assert.equal(k.check(), true, '70 MiB: past the floor');
  assert.equal(k.check(), false, '80 MiB: under 1.5 times the 60 MiB left live');
  assert.equal(k.check(), false, '89 MiB');
  assert.equal(k.check(), true, '91 MiB: grown by half');
  assert.equal(collected(), 2);
});

test('a small live heap is collected at the floor, not at half again its size', () => {
  const { keeper: k, collected } = keeper([65 * MiB, 50 * MiB, 63 * MiB, 64 * MiB], [20 * MiB, 20 * MiB]);
  assert.deepEqual([k.check(), k.check(), k.check(), k.check()], [true, false, false, true]);
  assert.equal(collected(), 2);
});

test('a heap that stays live past the floor is collected again only as it grows by half, not on every tick', () => {
  const { keeper: k, collected } = keeper([100 * MiB, 110 * MiB, 130 * MiB, 134 * MiB], [90 * MiB]);
  assert.deepEqual([k.check(), k.check(), k.check(), k.check()], [true, false, false, false]);
  assert.equal(collected(), 1);
});

test('without an exposed gc (node started without --expose-gc), it does nothing', () => {
  const k = new HeapKeeper(null, () => 1024 * MiB);
  assert.equal(k.check(), false);
  assert.equal(k.collections, 0);
});

test('with the real gc (exposed here as --expose-gc exposes it), a forced collection runs and is counted', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let garbage: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i }));
  const before = process.memoryUsage().heapUsed;
  garbage = null;
  const k = new HeapKeeper(gc, undefined, 0);
  assert.equal(k.check(), true);
  assert.equal(k.collections, 1);
  assert.ok(process.memoryUsage().heapUsed < before, 'the garbage was collected');
  assert.equal(garbage, null);
});
