/**
 * Admission control: unit tests of the fit rule with injected numbers, then the scheduler driving
 * simulated workers under a memory budget, CPU slots, tokens, exclusive tests and groups, checked
 * at every test start against what was running at that moment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission, emptyReservation, type WorkerHold } from '../../src/scheduler/admission.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { Capacity, SchedulerCommand, TestDemand } from '../../src/scheduler/types.js';
import { heavyTailedDurations, randomModuleSizes, rng, simulate, suite, type SimResult } from './scheduler-sim.js';

const G = 1024 ** 3;
const M = 1024 ** 2;

function demand(memoryBytes: number, extra: Partial<TestDemand> = {}): TestDemand {
  return { memoryBytes, cpus: 1, resources: {}, exclusive: false, group: null, family: `f${Math.random()}`, measured: true, ...extra };
}

function hold(admission: Admission, baselineBytes: number, indices: number[]): WorkerHold {
  return { baselineBytes, reservation: admission.reservationOf(indices) };
}

const capacity: Capacity = { memoryBytes: 4 * G, cpus: 4, resources: { gpu: 1 } };

test('fits: the baselines plus the largest test each worker holds must fit the budget', () => {
  const demands = [demand(1.5 * G), demand(1.5 * G), demand(1.5 * G), demand(100 * M)];
  const admission = new Admission(capacity, demands);
  const idle = hold(admission, 30 * M, []);
  const withOne = hold(admission, 30 * M, [0]);
  // 30M + 1.5G (this one) + 30M + 1.5G (the other) + 2 idle workers: fits in 4G.
  assert.equal(admission.fits(idle, [withOne, idle, idle], [1]), true);
  // A third 1.5G test on a third worker does not.
  assert.equal(admission.fits(idle, [withOne, hold(admission, 30 * M, [1]), idle], [2]), false);
  // ...but a small one does, and on the worker that holds a big one a second big one is free.
  assert.equal(admission.fits(idle, [withOne, hold(admission, 30 * M, [1]), idle], [3]), true);
  assert.equal(admission.fits(withOne, [hold(admission, 30 * M, [1]), idle, idle], [2]), true);
});

test('fits: baselines count (a worker that leaked), and a test larger than the budget runs only alone', () => {
  const demands = [demand(1 * G), demand(5 * G)];
  const admission = new Admission(capacity, demands);
  const leaky = hold(admission, 2.5 * G, [0]);
  assert.equal(admission.fits(hold(admission, 0, []), [leaky], [0]), false);
  const empty = hold(admission, 100 * M, []);
  assert.equal(admission.fits(empty, [empty, empty], [1]), true, 'alone: the others hold nothing');
  assert.equal(admission.fits(empty, [hold(admission, 100 * M, [0])], [1]), false);
});

test('fits: CPU slots, exclusive tests and tokens', () => {
  const demands = [demand(0), demand(0, { cpus: 2 }), demand(0, { exclusive: true }), demand(0, { resources: { gpu: 1 } }), demand(0, { cpus: 9 })];
  const admission = new Admission(capacity, demands);
  const idle = hold(admission, 0, []);
  assert.equal(admission.fits(idle, [hold(admission, 0, [1]), hold(admission, 0, [0])], [0]), true, '2 + 1 + 1 slots');
  assert.equal(admission.fits(idle, [hold(admission, 0, [1]), hold(admission, 0, [1])], [0]), false, '2 + 2 + 1 slots');
  assert.equal(admission.fits(idle, [hold(admission, 0, [0])], [2]), false, 'exclusive needs every slot');
  assert.equal(admission.fits(idle, [hold(admission, 0, [3])], [3]), false, 'one gpu');
  assert.equal(admission.fits(idle, [hold(admission, 0, [0])], [3]), true);
  assert.equal(admission.cpusOf(4), 4, 'more slots than there are: all of them');
});

test('fits: an unmeasured family runs one test at a time across workers until it is measured', () => {
  const guess = { measured: false, family: 'tests/test_m.py::test_big' };
  const demands = [demand(0, guess), demand(0, guess), demand(0)];
  const admission = new Admission({ memoryBytes: null, cpus: 4, resources: {} }, demands);
  const probing = hold(admission, 0, [0]);
  const idle: WorkerHold = { baselineBytes: 0, reservation: emptyReservation() };
  assert.equal(admission.fits(idle, [probing], [1]), false);
  assert.equal(admission.fits(idle, [probing], [2]), true);
  assert.equal(admission.fits(probing, [idle], [1]), true, 'on the same worker the sibling runs after it');
});

// -- the scheduler with admission ----------------------------------------------------------------

test('scheduler: eight 1.5 GiB tests in a 4 GiB budget on 4 workers run two at a time, in four rounds', () => {
  const tests = suite([8]);
  const demands = tests.map(() => demand(1.5 * G, { family: 'big' }));
  const result = simulate({ seed: 7, workers: 4, tests, demands, baselineBytes: 30 * M, latency: 0.01, duration: () => 1, capacity: { memoryBytes: 4 * G, cpus: 4, resources: {} } });
  assertAllRanOnce(result, tests.length, 'stampede');
  assert.equal(result.maxConcurrent, 2);
  assert.ok(result.makespan < 4 * 1 + 2 + 1, `makespan ${result.makespan}: four rounds of two plus startup`);
});

test('scheduler: unknown siblings wait for the first measurement, then pack by it', () => {
  const tests = suite([6]);
  const demands = tests.map(() => demand(0, { family: 'big', measured: false }));
  const scheduler = new Scheduler({ poolSize: 3, capacity: { memoryBytes: 4 * G, cpus: 3, resources: {} } });
  scheduler.handle({ type: 'collected', tests, demands });
  const first = scheduler.handle({ type: 'worker_ready', worker: 1, baselineBytes: 0 });
  const second = scheduler.handle({ type: 'worker_ready', worker: 2, baselineBytes: 0 });
  assert.deepEqual(assigned(first), [0, 1], 'the first worker probes the family (its own successor is free)');
  assert.deepEqual(assigned(second), [], 'the second waits for the measurement');
  scheduler.handle({ type: 'worker_ready', worker: 3, baselineBytes: 0 });
  scheduler.handle({ type: 'test_started', worker: 1, index: 0 });
  const learned = scheduler.handle({ type: 'test_finished', worker: 1, index: 0, peakBytes: 1.5 * G, residentBytes: 0 });
  // Measured at 1.5G: worker 1 holds test 1 (1.5G), so exactly one other worker gets room.
  const others = learned.filter((c) => c.type === 'assign' && c.worker !== 1);
  assert.equal(new Set(others.map((c) => c.type === 'assign' && c.worker)).size, 1, JSON.stringify(learned));
});

test('scheduler: a lone admitted test that no successor can join is flushed, not left waiting', () => {
  const tests = suite([1, 1, 1, 1]);
  const demands = [demand(2 * G), demand(2 * G), demand(2 * G), demand(3 * G)];
  const scheduler = new Scheduler({ poolSize: 2, capacity: { memoryBytes: 4 * G, cpus: 2, resources: {} } });
  scheduler.handle({ type: 'collected', tests, demands });
  assert.deepEqual(assigned(scheduler.handle({ type: 'worker_ready', worker: 1, baselineBytes: 0 })), [0, 1], 'alone, anything fits');
  // Worker 2 gets test 2 (2G + 2G fit), but test 3 (3G) cannot join it while worker 1 holds 2G.
  const out = scheduler.handle({ type: 'worker_ready', worker: 2, baselineBytes: 0 });
  assert.deepEqual(out, [
    { type: 'assign', worker: 2, indices: [2] },
    { type: 'flush', worker: 2 },
  ]);
  // Once worker 1 holds nothing more, test 3 may follow on worker 2 (alone, it fits).
  scheduler.handle({ type: 'test_started', worker: 1, index: 0 });
  scheduler.handle({ type: 'test_finished', worker: 1, index: 0 });
  scheduler.handle({ type: 'test_started', worker: 1, index: 1 });
  scheduler.handle({ type: 'test_started', worker: 2, index: 2 });
  const after = scheduler.handle({ type: 'test_finished', worker: 1, index: 1 });
  assert.ok(after.some((c) => c.type === 'assign' && c.indices.includes(3)), JSON.stringify(after));
});

test('scheduler: a recycled worker is stopped and replaced; its tests go back', () => {
  const tests = suite([6]);
  const scheduler = new Scheduler({ poolSize: 1 });
  scheduler.handle({ type: 'collected', tests });
  scheduler.handle({ type: 'worker_ready', worker: 1 });
  const out = scheduler.handle({ type: 'recycle', worker: 1 });
  assert.deepEqual(out.map((c) => c.type), ['stop', 'start_worker']);
});

test('scheduler: a worker told to finish is recycled too; what it gives back runs on its replacement', () => {
  const tests = suite([2]);
  const scheduler = new Scheduler({ poolSize: 1 });
  scheduler.handle({ type: 'collected', tests });
  assert.deepEqual(assigned(scheduler.handle({ type: 'worker_ready', worker: 1 })), [0, 1]);
  // Test 0 starts: nothing is left to queue, so worker 1 is told to finish while it holds test 1.
  assert.deepEqual(scheduler.handle({ type: 'test_started', worker: 1, index: 0 }), [{ type: 'finish', worker: 1 }]);
  // Its idle memory after test 0 is past --worker-recycle-memory: it must not run test 1.
  assert.deepEqual(scheduler.handle({ type: 'recycle', worker: 1 }), [{ type: 'stop', worker: 1 }]);
  scheduler.handle({ type: 'test_finished', worker: 1, index: 0 });
  assert.deepEqual(scheduler.handle({ type: 'returned', worker: 1, indices: [1] }), [{ type: 'start_worker' }]);
  scheduler.handle({ type: 'worker_lost', worker: 1 });
  assert.deepEqual(scheduler.handle({ type: 'worker_ready', worker: 2 }), [
    { type: 'assign', worker: 2, indices: [1] },
    { type: 'finish', worker: 2 },
  ]);
  scheduler.handle({ type: 'test_started', worker: 2, index: 1 });
  scheduler.handle({ type: 'test_finished', worker: 2, index: 1 });
  assert.equal(scheduler.isDone(), true);
});

test('scheduler: under memory pressure nothing new is admitted until it clears', () => {
  const tests = suite([4]);
  const scheduler = new Scheduler({ poolSize: 2 });
  scheduler.handle({ type: 'collected', tests });
  scheduler.handle({ type: 'pressure', hold: true });
  assert.deepEqual(assigned(scheduler.handle({ type: 'worker_ready', worker: 1 })), []);
  assert.deepEqual(assigned(scheduler.handle({ type: 'pressure', hold: false })), [0, 1, 2, 3].slice(0, 2));
});

test('stallReport: queued tests and nobody running one, with why each worker waits; null while work moves', () => {
  const tests = suite([3]);
  const scheduler = new Scheduler({ poolSize: 1 });
  scheduler.handle({ type: 'collected', tests });
  scheduler.handle({ type: 'pressure', hold: true });
  scheduler.handle({ type: 'worker_ready', worker: 1, baselineBytes: 64 * M });
  assert.equal(scheduler.stallReport(), '3 tests queued; memory pressure holds admission; worker 1: active, holds [], waits for room, baseline 64 MiB');
  scheduler.handle({ type: 'pressure', hold: false });
  scheduler.handle({ type: 'test_started', worker: 1, index: 0 });
  assert.equal(scheduler.stallReport(), null);
});

// -- randomized: every constraint at once --------------------------------------------------------

function randomDemands(count: number, random: () => number, budget: number): TestDemand[] {
  const groups = ['g1', 'g2'];
  return Array.from({ length: count }, (_, i) => {
    const r = random();
    return demand(r < 0.05 ? budget * 1.5 : r < 0.3 ? budget * (0.2 + random() * 0.5) : budget * random() * 0.05, {
      cpus: random() < 0.15 ? 2 + Math.floor(random() * 3) : 1,
      exclusive: random() < 0.04,
      resources: random() < 0.1 ? { gpu: 1 } : random() < 0.1 ? { model: 1 + Math.floor(random() * 2) } : {},
      group: random() < 0.1 ? groups[Math.floor(random() * groups.length)]! : null,
      family: `f${i % 7}`,
    });
  });
}

test('simulation: random demands never overcommit, and every test runs once, with and without kills', () => {
  let runs = 0;
  let flushes = 0;
  for (let seed = 1; seed <= 400; seed += 1) {
    const random = rng(seed);
    const workers = 1 + (seed % 4);
    const count = 5 + Math.floor(random() * 60);
    const tests = suite(randomModuleSizes(count, 1 + (seed % 9), random));
    const budget = 4 * G;
    const demands = randomDemands(count, random, budget);
    const capacity: Capacity = { memoryBytes: budget, cpus: workers, resources: { gpu: 1, model: 2 } };
    const latency = [0, 0.01, 0.2, 2][seed % 4]!;
    const kills = seed % 5 === 0 ? { killAfterStarts: [3, 11], retryBlamed: true } : {};
    const duration = seed % 2 ? heavyTailedDurations(count, random) : undefined;
    const label = `seed ${seed}, ${workers} workers, ${count} tests`;
    const result = simulate({ seed, workers, tests, demands, capacity, latency, baselineBytes: 50 * M, ...kills, ...(duration ? { duration } : {}) });
    if (!kills.killAfterStarts) assertAllRanOnce(result, count, label);
    else assert.equal(result.schedulerDone, true, label);
    for (const group of ['g1', 'g2']) {
      if (kills.killAfterStarts) break;
      const ranOn = new Set(demands.flatMap((d, i) => (d.group === group ? [result.ranOn[i]] : [])));
      assert.ok(ranOn.size <= 1, `${label}: group ${group} ran on workers ${[...ranOn].join(',')}`);
    }
    runs += 1;
    flushes += result.commandCounts.flush;
  }
  assert.ok(runs === 400 && flushes > 10, `${flushes} flushes`);
});

function assigned(commands: SchedulerCommand[]): number[] {
  return commands.flatMap((c) => (c.type === 'assign' ? c.indices : []));
}

function assertAllRanOnce(result: SimResult, count: number, label: string): void {
  assert.deepEqual(result.startCount, new Array(count).fill(1), `${label}: start counts`);
  assert.deepEqual(result.notRun, [], `${label}: notRun`);
  assert.equal(result.schedulerDone, true, `${label}: isDone()`);
}
