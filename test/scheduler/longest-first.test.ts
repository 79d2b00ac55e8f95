import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestInfo } from '../../src/model/test.js';
import { defaultDemand } from '../../src/scheduler/demands.js';
import { planQueue, PIECE_SEPARATOR } from '../../src/scheduler/longest-first.js';
import type { SchedulerCommand, TestDemand } from '../../src/scheduler/types.js';
import { Driver } from './driver.js';
import { heavyTailedDurations, randomModuleSizes, rng, simulate, suite, type SimResult } from './scheduler-sim.js';

// -- helpers ---------------------------------------------------------------------------------------

/** Demands that carry these predicted durations (null: history does not know the test). */
function withDurations(tests: readonly TestInfo[], durations: readonly (number | null)[]): TestDemand[] {
  return tests.map((t, index) => ({ ...defaultDemand(t.id), durationSeconds: durations[index] ?? null }));
}


function assertCleanRun(result: SimResult, tests: number, label: string): void {
  assert.deepEqual(result.startCount, new Array(tests).fill(1), `${label}: start counts`);
  assert.deepEqual(result.finishCount, new Array(tests).fill(1), `${label}: finish counts`);
  assert.deepEqual(result.notRun, [], `${label}: notRun`);
  assert.equal(result.schedulerDone, true, `${label}: isDone()`);
  // A nextitem is the test the worker ran next, or none (a flush: pytest tears everything down).
  for (const [worker, pairs] of result.pairs) {
    pairs.forEach((pair, i) => {
      if (pair.next !== null) assert.equal(pair.next, pairs[i + 1]?.index, `${label}: w${worker}'s nextitem after ${pair.index}`);
    });
    assert.equal(pairs.at(-1)?.next ?? null, null, `${label}: w${worker}'s last test has no nextitem`);
  }
}

/** Makespan of LPT on `workers` machines: each test, longest first, to the least loaded. */
function lpt(durations: readonly number[], workers: number): number {
  const loads = new Array<number>(workers).fill(0);
  for (const d of [...durations].sort((a, b) => b - a)) {
    const least = loads.indexOf(Math.min(...loads));
    loads[least]! += d;
  }
  return Math.max(...loads);
}

/** The benchmark's shape (bench/skewed.ts): five modules of short tests, then one ending in the four longest. */
function skewedSuite(): { tests: TestInfo[]; durations: number[] } {
  const tests = suite([10, 10, 10, 10, 10, 10]);
  const durations = tests.map((_, index) => (index >= 56 ? index - 52 : 0.1 + ((index * 7) % 8) * 0.05));
  return { tests, durations };
}

// -- the plan --------------------------------------------------------------------------------------

test('plan: none without a known duration (the queue keeps collection order)', () => {
  const tests = suite([3, 2]);
  assert.equal(planQueue(tests.map((t) => t.scope), [null, null, null, null, null], 2), null);
  assert.equal(planQueue([], [], 2), null);
});

test('plan: modules heaviest first, each in collection order; an unknown test counts as a typical one', () => {
  // m0: 3 x 0.1 = 0.3; m1: 0.4 + an unknown (the median of the known, 0.25) = 0.65; m2: 0.45 + 0.45.
  const tests = suite([3, 2, 2]);
  const plan = planQueue(tests.map((t) => t.scope), [0.1, 0.1, 0.1, 0.4, null, 0.45, 0.45], 2)!;
  assert.deepEqual(plan.order, [5, 6, 3, 4, 0, 1, 2]);
  assert.deepEqual(plan.split, []);
  assert.equal(plan.seconds[4], 0.25);
});

test('plan: a long module is split: its long tests queue on their own, longest first; its short ones stay together', () => {
  const { tests, durations } = skewedSuite();
  const plan = planQueue(tests.map((t) => t.scope), durations, 2)!;
  assert.deepEqual([...plan.split].sort(), [56, 57, 58, 59]);
  for (const index of plan.split) assert.equal(plan.keys[index], `${tests[index]!.scope}${PIECE_SEPARATOR}${index}`);
  // 7 s, 6 s, 5 s, 4 s, then the short modules.
  assert.deepEqual(plan.order.slice(0, 4), [59, 58, 57, 56]);
  assert.deepEqual(plan.long.flatMap((long, index) => (long ? [index] : [])), [56, 57, 58, 59]);
  // The short tests of the slow module stay one queue key, in collection order.
  const rest = plan.order.filter((index) => index >= 50 && index < 56);
  assert.deepEqual(rest, [50, 51, 52, 53, 54, 55]);
  assert.ok(rest.every((index) => plan.keys[index] === tests[index]!.scope));
});

test('plan: no split where the module set-up is large against its long tests, nor of a light module, nor of a group', () => {
  // 4 workers; a module of 100 tests of 1.5 s, and a slow one: a first test, six of 0.3 s, then 4, 5, 6, 7 s.
  const tests = suite([100, 11]);
  const slow = (first: number): number[] => tests.map((_, index) => (index < 100 ? 1.5 : index === 100 ? first : index < 107 ? 0.3 : index - 103));
  // Its first test takes 1.8 s more than its short siblings: the module's fixtures, set up once.
  // Each long test would pay that again apart from the module: 7 s < 4 x 1.8 s, so none is split.
  const costly = planQueue(tests.map((t) => t.scope), slow(2.1), 4)!;
  assert.deepEqual(costly.split, []);
  // The module whole is one unit (25.9 s; the other weighs 150 s), in collection order.
  assert.deepEqual(costly.order.slice(100), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110]);
  // With a cheap set-up the same module is split.
  assert.deepEqual(planQueue(tests.map((t) => t.scope), slow(0.3), 4)!.split, [107, 108, 109, 110]);

  // A long test (0.6 s) in a module that is light against a worker's share (1.1 s of 3.55 s).
  const light = suite([10, 10, 6]);
  const lightPlan = planQueue(light.map((t) => t.scope), light.map((_, index) => (index < 20 ? 0.3 : index === 25 ? 0.6 : 0.1)), 2)!;
  assert.deepEqual(lightPlan.long.flatMap((long, index) => (long ? [index] : [])), [25]);
  assert.deepEqual(lightPlan.split, []);

  const grouped = skewedSuite();
  const keys = grouped.tests.map((t, index) => (index >= 50 ? '\u0000group:slow' : t.scope));
  assert.deepEqual(planQueue(keys, grouped.durations, 2)!.split, []);
});

// -- the scheduler ---------------------------------------------------------------------------------

test('cold: without durations the order and every command are today\'s (demands without a duration change nothing)', () => {
  for (let seed = 1; seed <= 20; seed += 1) {
    const random = rng(seed);
    const tests = suite(randomModuleSizes(10 + Math.floor(random() * 80), 15, random));
    const duration = heavyTailedDurations(tests.length, random);
    const plain = simulate({ seed, workers: 2 + (seed % 2), tests, duration });
    const unknown = simulate({ seed, workers: 2 + (seed % 2), tests, duration, demands: withDurations(tests, []) });
    assert.deepEqual([...unknown.pairs], [...plain.pairs], `seed ${seed}: same (item, nextitem) pairs on each worker`);
    assert.deepEqual(unknown.commandCounts, plain.commandCounts, `seed ${seed}`);
  }
  // And the first hand-out is collection order.
  const d = new Driver(2, suite([12, 12]), withDurations(suite([12, 12]), []));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1, 2, 3, 4, 5] }]);
});

test('history: the long module goes first, to the first idle worker, and a short test follows the long one', () => {
  const tests = suite([6, 6, 2]);
  // m2 holds a 6 s test and a 0.1 s one; everything else is 0.3 s.
  const durations = tests.map((_, index) => (index === 12 ? 6 : index === 13 ? 0.1 : 0.3));
  const d = new Driver(2, tests, withDurations(tests, durations));
  d.collect();
  const first = d.ready(1);
  assert.equal(first.length, 1);
  const assigned = first[0]!;
  assert.equal(assigned.type, 'assign');
  // The 6 s test first, then short ones (its nextitem must be cheap to commit to).
  assert.deepEqual((assigned as Extract<SchedulerCommand, { type: 'assign' }>).indices.slice(0, 2), [12, 13]);
  // Cold, the same suite starts with module m0.
  const cold = new Driver(2, tests);
  cold.collect();
  assert.deepEqual(cold.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1, 2, 3] }]);
});

test('history: a busy worker takes nothing while a long test is queued; the next worker to finish a test takes it', () => {
  // One module of short tests, then three long ones (split off: the module is heavy).
  const tests = suite([8, 3]);
  const durations = tests.map((_, index) => (index >= 8 ? 5 + index - 8 : 0.2));
  const d = new Driver(2, tests, withDurations(tests, durations));
  d.collect();
  // The 7 s test, then short ones behind it; the 6 s test, then a short one.
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [10, 0, 1] }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [9, 2] }]);
  // Worker 1 starts its 7 s test: the 5 s one is still queued, so it is not given to a busy worker.
  assert.deepEqual(d.start(1), []);
  assert.deepEqual(d.start(2), []);
  // Worker 2 ends its 6 s test first: now it runs nothing, and it takes the 5 s test behind its short one.
  assert.deepEqual(d.finish(2), [{ type: 'assign', worker: 2, indices: [8] }]);
  // With no long test queued, a busy worker takes short ones again, a chunk at a time.
  const next = d.start(2);
  assert.equal(next.length, 1);
  assert.equal(next[0]!.type, 'assign');
});

test('history: the tail: an empty worker steals the second of the two tests another holds, and that one runs its first', () => {
  // Six equal short tests in one module: no test is long, the order is collection order.
  const tests = suite([6]);
  const durations = new Array(6).fill(0.2);
  const steps = (d: Driver): SchedulerCommand[][] => {
    d.collect();
    assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
    assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [2, 3] }]);
    assert.deepEqual(d.start(1), [{ type: 'assign', worker: 1, indices: [4] }]);
    assert.deepEqual(d.start(2), [{ type: 'assign', worker: 2, indices: [5] }]);
    d.finish(1);
    // Worker 1 starts its second test and holds one more (its nextitem); worker 2 runs 2, holds 3 and 5.
    return [d.start(1), d.finish(1)];
  };
  // Cold: worker 1 is told to finish as soon as it is down to one; worker 2 keeps both of its own.
  const cold = new Driver(2, tests);
  assert.deepEqual(steps(cold), [[{ type: 'finish', worker: 1 }], []]);

  const d = new Driver(2, tests, withDurations(tests, durations));
  // With history it waits instead: once its test ends it runs its lone test alone (flush)...
  assert.deepEqual(steps(d), [[], [{ type: 'flush', worker: 1 }]]);
  // ...and, holding nothing once that starts, asks worker 2 for its second test (2 runs, 3 is nextitem).
  assert.deepEqual(d.start(1), [{ type: 'steal', worker: 2, indices: [5] }]);
  // The answer goes to the thief, not back to the queue (the victim, hungry too, would take it back).
  // The victim runs its nextitem and ends; the thief runs the stolen test and ends.
  assert.deepEqual(d.giveBack(2, [5]), [
    { type: 'assign', worker: 1, indices: [5] },
    { type: 'finish', worker: 1 },
    { type: 'finish', worker: 2 },
  ]);
  for (const worker of [1, 2]) {
    d.finish(worker);
    d.start(worker);
    d.finish(worker);
  }
  assert.equal(d.scheduler.isDone(), true);
});

test('history: a steal answered empty (the test was already nextitem) is not asked again', () => {
  const tests = suite([6]);
  const d = new Driver(2, tests, withDurations(tests, new Array(6).fill(0.2)));
  d.collect();
  d.ready(1);
  d.ready(2);
  d.start(1);
  d.start(2);
  d.finish(1);
  d.start(1);
  d.finish(1);
  assert.deepEqual(d.start(1), [{ type: 'steal', worker: 2, indices: [5] }]);
  // Worker 2 moved on meanwhile (2 ended, 3 started with 5 as its nextitem), but its lines are
  // still on the way: the scheduler still sees it hold 3 and 5. Asking again would only bring
  // the same answer, round trip after round trip, until those lines arrive: worker 1 ends.
  assert.deepEqual(d.giveBack(2, []), [{ type: 'finish', worker: 1 }]);
  assert.deepEqual(d.scheduler.heldBy(2), [3, 5]);
});

// -- simulation ------------------------------------------------------------------------------------

test('simulation, history: every test runs exactly once with honest nextitems, and steals do not bounce', () => {
  let steals = 0;
  let flushes = 0;
  for (let seed = 1; seed <= 150; seed += 1) {
    const random = rng(seed);
    const workers = 1 + (seed % 4);
    const tests = suite(randomModuleSizes(1 + Math.floor(random() * 120), 1 + Math.floor(random() * 30), random));
    const duration = heavyTailedDurations(tests.length, random);
    // Predictions off by up to +-50%, a few tests unknown: history is a guide, not the truth.
    const predicted = tests.map((_, index) => (random() < 0.1 ? null : duration(index) * (0.5 + random())));
    const latency = [0, 0.01, 0.2, 2][seed % 4]!;
    const result = simulate({ seed, workers, tests, duration, latency, demands: withDurations(tests, predicted) });
    assertCleanRun(result, tests.length, `seed ${seed}`);
    assert.ok(result.commandCounts.steal <= tests.length, `seed ${seed}: ${result.commandCounts.steal} steals for ${tests.length} tests`);
    steals += result.commandCounts.steal;
    flushes += result.commandCounts.flush;
  }
  // The tail paths were taken.
  assert.ok(steals > 10, `only ${steals} steals`);
  assert.ok(flushes > 10, `only ${flushes} flushes`);
});

test('simulation, history: the skewed suite ends within 5% of the LPT makespan; cold it does not', () => {
  const { tests, durations } = skewedSuite();
  const bound = lpt(durations, 2);
  for (let seed = 1; seed <= 10; seed += 1) {
    const options = { seed, workers: 2, tests, duration: (index: number) => durations[index]!, latency: 0.002, startup: 0.01 };
    const warm = simulate({ ...options, demands: withDurations(tests, durations) });
    const cold = simulate(options);
    assertCleanRun(warm, tests.length, `seed ${seed}`);
    assert.ok(warm.makespan <= bound * 1.05, `seed ${seed}: ${warm.makespan.toFixed(2)} against LPT ${bound.toFixed(2)}`);
    assert.ok(cold.makespan > bound * 1.05, `seed ${seed}: cold ${cold.makespan.toFixed(2)} (the case is not skewed enough to tell)`);
  }
});

test('simulation, history: on heavy-tailed suites the makespan is closer to LPT than cold, on average', () => {
  let warmSum = 0;
  let coldSum = 0;
  let runs = 0;
  for (let seed = 1; seed <= 40; seed += 1) {
    const random = rng(seed);
    const workers = 2 + (seed % 3);
    const tests = suite(randomModuleSizes(20 + Math.floor(random() * 150), 1 + Math.floor(random() * 30), random));
    const duration = heavyTailedDurations(tests.length, random);
    const durations = tests.map((_, index) => duration(index));
    const bound = lpt(durations, workers);
    const options = { seed, workers, tests, duration, latency: 0.002, startup: 0.01 };
    warmSum += simulate({ ...options, demands: withDurations(tests, durations) }).makespan / bound;
    coldSum += simulate(options).makespan / bound;
    runs += 1;
  }
  assert.ok(warmSum / runs < coldSum / runs, `history ${(warmSum / runs).toFixed(3)} vs cold ${(coldSum / runs).toFixed(3)} of LPT`);
  assert.ok(warmSum / runs < 1.05, `history ${(warmSum / runs).toFixed(3)} of LPT`);
});
