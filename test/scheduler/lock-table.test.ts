/**
 * LockTable: cross-worker locks as a pure table. Every call returns the grants it makes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LockTable, type LockGrant } from '../../src/scheduler/lock-table.js';

/** Grants as short strings, `worker:token`, for readable expectations. */
function got(grants: readonly LockGrant[]): string[] {
  return grants.map((grant) => `${grant.worker}:${grant.token}`);
}

test('one holder at a time by default; the next in line gets it on release', () => {
  const table = new LockTable();
  assert.deepEqual(table.acquire(1, 'a', 'model-init', 1), [{ worker: 1, token: 'a', name: 'model-init' }]);
  assert.deepEqual(got(table.acquire(2, 'b', 'model-init', 1)), []);
  assert.deepEqual(got(table.acquire(3, 'c', 'model-init', 1)), []);
  assert.deepEqual(got(table.release(1, 'a')), ['2:b']);
  assert.deepEqual(got(table.release(2, 'b')), ['3:c']);
  assert.deepEqual(got(table.release(3, 'c')), []);
  assert.deepEqual(table.holders('model-init'), []);
});

test('names are independent', () => {
  const table = new LockTable();
  assert.deepEqual(got(table.acquire(1, 'a', 'x', 1)), ['1:a']);
  assert.deepEqual(got(table.acquire(2, 'b', 'y', 1)), ['2:b']);
  assert.deepEqual(got(table.acquire(2, 'c', 'x', 1)), []);
});

test('permits=N admits N holders at once, then first come first served', () => {
  const table = new LockTable();
  const steps: Array<[action: () => LockGrant[], expected: string[]]> = [
    [() => table.acquire(1, 'a', 'gpu', 2), ['1:a']],
    [() => table.acquire(2, 'b', 'gpu', 2), ['2:b']],
    [() => table.acquire(3, 'c', 'gpu', 2), []],
    [() => table.acquire(4, 'd', 'gpu', 2), []],
    [() => table.release(2, 'b'), ['3:c']],
    [() => table.acquire(5, 'e', 'gpu', 2), []], // d was first: e waits behind it
    [() => table.release(1, 'a'), ['4:d']],
    [() => table.release(3, 'c'), ['5:e']],
  ];
  for (const [i, [action, expected]] of steps.entries()) assert.deepEqual(got(action()), expected, `step ${i}`);
  assert.deepEqual(table.holders('gpu'), [
    { worker: 4, token: 'd' },
    { worker: 5, token: 'e' },
  ]);
});

test('one worker may hold several permits of a name (several threads)', () => {
  const table = new LockTable();
  assert.deepEqual(got(table.acquire(1, 'a', 'gpu', 2)), ['1:a']);
  assert.deepEqual(got(table.acquire(1, 'b', 'gpu', 2)), ['1:b']);
  assert.deepEqual(got(table.acquire(2, 'c', 'gpu', 2)), []);
  assert.deepEqual(got(table.release(1, 'b')), ['2:c']);
});

test('tokens belong to their worker: the same token of two workers is two requests', () => {
  const table = new LockTable();
  assert.deepEqual(got(table.acquire(1, 't', 'x', 1)), ['1:t']);
  assert.deepEqual(got(table.acquire(2, 't', 'x', 1)), []);
  assert.deepEqual(got(table.release(3, 't')), [], 'a third worker cannot release it');
  assert.deepEqual(got(table.release(1, 't')), ['2:t']);
});

test('releases are idempotent, and a release of a queued request withdraws it', () => {
  const table = new LockTable();
  table.acquire(1, 'a', 'x', 1);
  table.acquire(2, 'b', 'x', 1);
  table.acquire(3, 'c', 'x', 1);
  assert.deepEqual(got(table.release(2, 'b')), [], 'withdrawn while waiting');
  assert.deepEqual(got(table.release(2, 'b')), []);
  assert.deepEqual(got(table.release(9, 'nope')), []);
  assert.deepEqual(got(table.release(1, 'a')), ['3:c'], 'the withdrawn request is skipped');
  assert.deepEqual(got(table.release(1, 'a')), [], 'released twice');
  assert.deepEqual(table.holders('x'), [{ worker: 3, token: 'c' }]);
});

test('the same request sent twice stands once', () => {
  const table = new LockTable();
  assert.deepEqual(got(table.acquire(1, 'a', 'x', 1)), ['1:a']);
  assert.deepEqual(got(table.acquire(1, 'a', 'x', 1)), []);
  table.acquire(2, 'b', 'x', 1);
  assert.deepEqual(got(table.acquire(2, 'b', 'x', 1)), []);
  assert.deepEqual(table.waiting('x'), [{ worker: 2, token: 'b' }]);
  assert.deepEqual(got(table.release(1, 'a')), ['2:b']);
});

test('permits that disagree: the smallest wins, and nobody is evicted', () => {
  const table = new LockTable();
  const steps: Array<[action: () => LockGrant[], expected: string[], capacity: number]> = [
    [() => table.acquire(1, 'a', 'gpu', 2), ['1:a'], 2],
    [() => table.acquire(2, 'b', 'gpu', 2), ['2:b'], 2],
    // One caller believes only one may hold it: from now on only one does.
    [() => table.acquire(3, 'c', 'gpu', 1), [], 1],
    [() => table.release(1, 'a'), [], 1], // b still holds: one is the limit
    [() => table.release(2, 'b'), ['3:c'], 1],
    // A larger permits later does not raise it again, even once the name is idle.
    [() => table.acquire(4, 'd', 'gpu', 3), [], 1],
    [() => table.release(3, 'c'), ['4:d'], 1],
    [() => table.release(4, 'd'), [], 1],
    [() => table.acquire(5, 'e', 'gpu', 2), ['5:e'], 1],
    [() => table.acquire(6, 'f', 'gpu', 2), [], 1],
  ];
  for (const [i, [action, expected, capacity]] of steps.entries()) {
    assert.deepEqual(got(action()), expected, `step ${i}`);
    assert.equal(table.capacity('gpu'), capacity, `step ${i}: capacity`);
  }
  assert.equal(table.capacity('never-asked'), null);
});

test('a dead worker: its holdings and its waits are dropped at once, and the others go on', () => {
  const table = new LockTable();
  table.acquire(1, 'a', 'x', 1);
  table.acquire(1, 'b', 'y', 2);
  table.acquire(2, 'c', 'z', 1);
  table.acquire(1, 'd', 'z', 1); // worker 1 waits for z behind worker 2
  table.acquire(3, 'e', 'x', 1);
  table.acquire(3, 'f', 'z', 1); // behind worker 1's request
  table.acquire(4, 'g', 'y', 2); // y has room: granted at once
  assert.deepEqual(table.waitsOf(1), ['z']);
  assert.deepEqual(got(table.releaseWorker(1)), ['3:e']);
  assert.deepEqual(table.waiting('z'), [{ worker: 3, token: 'f' }], "worker 1's wait is gone");
  assert.deepEqual(table.holders('y'), [{ worker: 4, token: 'g' }]);
  assert.deepEqual(got(table.release(2, 'c')), ['3:f'], 'z goes to worker 3, not to the dead worker 1');
  assert.deepEqual(got(table.release(1, 'a')), [], "a dead worker's late release changes nothing");
  assert.deepEqual(got(table.releaseWorker(1)), []);
  assert.deepEqual(got(table.releaseWorker(99)), []);
  assert.deepEqual(table.waitsOf(1), []);
});

test("a dead worker's grants come out in the table's order, whatever the order it took them", () => {
  const table = new LockTable();
  table.acquire(9, 'w', 'first', 1);
  table.acquire(1, 'late', 'second', 1);
  table.acquire(1, 'early', 'first', 1);
  table.acquire(2, 'a', 'second', 1);
  table.acquire(3, 'b', 'first', 1);
  table.release(9, 'w'); // worker 1 now holds both
  assert.deepEqual(table.releaseWorker(1), [
    { worker: 3, token: 'b', name: 'first' },
    { worker: 2, token: 'a', name: 'second' },
  ]);
});

test('permits must be an integer >= 1', () => {
  const table = new LockTable();
  for (const permits of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => table.acquire(1, 'a', 'x', permits), /lock 'x' asked by worker 1 with permits=/);
  }
  assert.equal(table.capacity('x'), null, 'a rejected request leaves nothing behind');
});

/** A small deterministic PRNG, so the random walk is the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('random walks keep the invariants: never over capacity, FIFO grants, nothing lost', () => {
  for (let seed = 1; seed <= 40; seed += 1) {
    const random = prng(seed);
    const table = new LockTable();
    const names = ['x', 'y'];
    const permitsOf: Record<string, number> = { x: 1, y: 2 };
    let nextToken = 0;
    /** Requests of each name in arrival order that are neither withdrawn nor dead yet. */
    const pending: Record<string, string[]> = { x: [], y: [] };
    const held = new Map<string, { worker: number; name: string }>();
    const queued = new Map<string, { worker: number; name: string }>();
    const dead = new Set<number>();
    const key = (worker: number, token: string): string => `${worker}:${token}`;
    const apply = (grants: LockGrant[]): void => {
      for (const grant of grants) {
        const k = key(grant.worker, grant.token);
        assert.ok(queued.has(k), `seed ${seed}: granted ${k}, which was not waiting`);
        assert.equal(pending[grant.name]!.shift(), k, `seed ${seed}: ${k} overtook an earlier request`);
        queued.delete(k);
        held.set(k, { worker: grant.worker, name: grant.name });
      }
    };
    for (let step = 0; step < 300; step += 1) {
      const roll = random();
      const worker = 1 + Math.floor(random() * 5);
      if (dead.has(worker)) continue;
      if (roll < 0.45) {
        const name = names[Math.floor(random() * names.length)]!;
        const token = `t${nextToken++}`;
        queued.set(key(worker, token), { worker, name });
        pending[name]!.push(key(worker, token));
        apply(table.acquire(worker, token, name, permitsOf[name]!));
      } else if (roll < 0.9) {
        const mine = [...held.keys(), ...queued.keys()].filter((k) => k.startsWith(`${worker}:`));
        const k = mine[Math.floor(random() * mine.length)];
        if (k === undefined) continue;
        const name = (held.get(k) ?? queued.get(k))!.name;
        held.delete(k);
        queued.delete(k);
        pending[name] = pending[name]!.filter((p) => p !== k);
        apply(table.release(worker, k.split(':')[1]!));
      } else if (roll < 0.95) {
        dead.add(worker);
        for (const map of [held, queued]) {
          for (const [k, entry] of [...map]) if (entry.worker === worker) map.delete(k);
        }
        for (const name of names) pending[name] = pending[name]!.filter((p) => !p.startsWith(`${worker}:`));
        apply(table.releaseWorker(worker));
      }
      for (const name of names) {
        const holders = [...held.values()].filter((entry) => entry.name === name).length;
        assert.ok(holders <= permitsOf[name]!, `seed ${seed} step ${step}: ${holders} hold ${name}`);
        assert.equal(table.holders(name).length, holders, `seed ${seed} step ${step}: holders of ${name}`);
        // Work-conserving: nobody waits while a permit is free.
        if (holders < permitsOf[name]!) assert.equal(pending[name]!.length, 0, `seed ${seed} step ${step}: ${name} idles`);
      }
    }
  }
});
