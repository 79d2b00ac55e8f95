/**
 * MemoryRung's caps (src/supervisor/memory-rung.ts): a test alone (an isolated retry, or a test over the whole budget) may have
 * what plain pytest would have, never less than the budget; a budget the user chose stays the
 * limit; after the test the worker's cap is what it was. No cgroups here (the caps are numbers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRung, type RungWorker } from '../../src/supervisor/memory-rung.js';
import { availableMemory } from '../../src/supervisor/platform/index.js';

const MiB = 1024 ** 2;

function memoryFor(budgetBytes: number, budgetChosen: boolean, workerMaxBytes: number | null): MemoryRung {
  const memory = { limitBytes: 64 * 1024 * MiB, limitSource: 'test', budgetBytes, budgetChosen, workerMaxBytes, forceRlimit: false, recycleBytes: null };
  return new MemoryRung(memory, false, 'unit', null);
}

function slot(id: number, role: 'pool' | 'isolated'): RungWorker {
  return { id, isolated: role === 'isolated', pid: null, exited: false, terminating: false, leaf: null };
}

test('an isolated retry gets what is available now, never less than the budget', () => {
  const memory = memoryFor(64 * MiB, false, 32 * MiB);
  const lone = slot(1, 'isolated');
  memory.confine(lone, null);
  const cap = memory.capFor(lone)!;
  const available = availableMemory();
  assert.ok(cap >= 64 * MiB, String(cap));
  if (available !== null) assert.ok(cap <= available && cap > available - 2 * 1024 * MiB, `cap ${cap}, available ${available}`);
  assert.equal(memory.capFor(slot(2, 'pool')), 32 * MiB, 'the others keep their cap');
});

test('a budget the user chose is the limit for a test alone too', () => {
  const memory = memoryFor(64 * MiB, true, null);
  const lone = slot(1, 'isolated');
  memory.confine(lone, null);
  assert.equal(memory.capFor(lone), 64 * MiB);
});

test('a pool worker running a test over the budget: the lone cap while it runs, its own cap after', () => {
  const memory = memoryFor(64 * MiB, false, 32 * MiB);
  const worker = slot(1, 'pool');
  assert.equal(memory.capFor(worker), 32 * MiB);
  memory.makeLone(worker);
  assert.ok(memory.capFor(worker)! >= 64 * MiB);
  memory.releaseLone(worker);
  assert.equal(memory.capFor(worker), 32 * MiB);
});

test('the rlimit rung gives the lone cap to the worker through RLIMIT_DATA (twice the cap)', () => {
  const memory = memoryFor(64 * MiB, true, null);
  const { leaf, limits } = memory.confine(slot(1, 'isolated'), null);
  assert.equal(leaf, null);
  assert.deepEqual(limits, { cgroupPath: null, dataLimitBytes: 2 * 64 * MiB });
});
