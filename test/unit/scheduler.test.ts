import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestInfo, WorkerId } from '../../src/model/test.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { SchedulerCommand, SchedulerInput } from '../../src/scheduler/types.js';
import { randomModuleSizes, rng, simulate, suite, type SimOptions, type SimResult } from './scheduler-sim.js';

// -- helpers ---------------------------------------------------------------------------------------

/** Indices of the tests in 0..n-1 as an array. */
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i += 1) out.push(i);
  return out;
}

/**
 * Plays the run loop by hand: feeds inputs, keeps what each worker holds from the commands, and
 * lets a test start the head of a worker's queue.
 */
class Driver {
  readonly scheduler: Scheduler;
  readonly held = new Map<WorkerId, number[]>();
  readonly running = new Map<WorkerId, number>();

  constructor(poolSize: number, readonly tests: readonly TestInfo[]) {
    this.scheduler = new Scheduler({ poolSize });
  }

  handle(input: SchedulerInput): SchedulerCommand[] {
    const commands = this.scheduler.handle(input);
    for (const command of commands) {
      if (command.type === 'assign') this.holding(command.worker).push(...command.indices);
    }
    return commands;
  }

  collect(): SchedulerCommand[] {
    return this.handle({ type: 'collected', tests: this.tests });
  }

  ready(worker: WorkerId): SchedulerCommand[] {
    return this.handle({ type: 'worker_ready', worker });
  }

  holding(worker: WorkerId): number[] {
    let held = this.held.get(worker);
    if (!held) {
      held = [];
      this.held.set(worker, held);
    }
    return held;
  }

  /** The worker starts the head of its queue. */
  start(worker: WorkerId): SchedulerCommand[] {
    const index = this.holding(worker).shift();
    assert.notEqual(index, undefined, `worker ${worker} holds nothing to start`);
    this.running.set(worker, index!);
    return this.handle({ type: 'test_started', worker, index: index! });
  }

  finish(worker: WorkerId): SchedulerCommand[] {
    const index = this.running.get(worker);
    assert.notEqual(index, undefined, `worker ${worker} runs nothing`);
    this.running.delete(worker);
    return this.handle({ type: 'test_finished', worker, index: index! });
  }

  /** The worker gives back exactly these (its answer to a steal or a stop). */
  giveBack(worker: WorkerId, indices: number[]): SchedulerCommand[] {
    const held = this.holding(worker);
    for (const index of indices) held.splice(held.indexOf(index), 1);
    return this.handle({ type: 'returned', worker, indices });
  }

  lose(worker: WorkerId): SchedulerCommand[] {
    this.held.delete(worker);
    this.running.delete(worker);
    return this.handle({ type: 'worker_lost', worker });
  }
}

function ofType<T extends SchedulerCommand['type']>(
  commands: readonly SchedulerCommand[],
  type: T,
): Extract<SchedulerCommand, { type: T }>[] {
  return commands.filter((c): c is Extract<SchedulerCommand, { type: T }> => c.type === type);
}

/** Every test ran exactly once and finished; nothing blamed, nothing left over. */
function assertCleanRun(result: SimResult, tests: number, label: string): void {
  assert.deepEqual(result.startCount, new Array(tests).fill(1), `${label}: start counts`);
  assert.deepEqual(result.finishCount, new Array(tests).fill(1), `${label}: finish counts`);
  assert.deepEqual(result.blamed, [], `${label}: blamed`);
  assert.deepEqual(result.notRun, [], `${label}: notRun`);
  assert.equal(result.schedulerDone, true, `${label}: isDone()`);
  assertHonestNextitem(result, label);
}

/** Each pytest nextitem is the item that worker ran next, and the last one is none. */
function assertHonestNextitem(result: SimResult, label: string, allowDroppedLast = false): void {
  for (const [worker, pairs] of result.pairs) {
    pairs.forEach((pair, i) => {
      const following = pairs[i + 1];
      if (following) {
        assert.equal(pair.next, following.index, `${label}: w${worker} ran ${pair.index} with nextitem ${pair.next}, then ${following.index}`);
      } else if (!allowDroppedLast) {
        assert.equal(pair.next, null, `${label}: w${worker}'s last test ${pair.index} had nextitem ${pair.next}`);
      }
    });
  }
}

/** How many workers ran tests of each module. */
function workersPerModule(tests: readonly TestInfo[], result: SimResult): Map<string, Set<WorkerId>> {
  const byModule = new Map<string, Set<WorkerId>>();
  tests.forEach((t, index) => {
    let workers = byModule.get(t.scope);
    if (!workers) byModule.set(t.scope, (workers = new Set()));
    workers.add(result.ranOn[index]!);
  });
  return byModule;
}

// -- simulation: invariants over many seeds and shapes ---------------------------------------------

const SIZES = [0, 1, 2, 3, 4, 5, 7, 10, 31, 64, 200];
const SHAPES: { name: string; sizes: (n: number, random: () => number) => number[] }[] = [
  { name: 'one module', sizes: (n) => (n > 0 ? [n] : []) },
  { name: 'one test per module', sizes: (n) => new Array(n).fill(1) },
  { name: 'modules of 1..12', sizes: (n, random) => randomModuleSizes(n, 12, random) },
  { name: 'modules of 1..60', sizes: (n, random) => randomModuleSizes(n, 60, random) },
];

test('simulation: every test runs exactly once, no worker stalls, nextitem is honest', () => {
  let runs = 0;
  for (let workers = 1; workers <= 4; workers += 1) {
    for (const size of SIZES) {
      for (const shape of SHAPES) {
        for (let s = 0; s < 6; s += 1) {
          const seed = workers * 100_000 + size * 100 + s * 7 + shape.name.length;
          const tests = suite(shape.sizes(size, rng(seed ^ 0x5eed)));
          const label = `${workers} workers, ${size} tests, ${shape.name}, seed ${seed}`;
          // Vary the speed of messages against the speed of tests: from instant to slower than a test.
          const latency = [0, 0.01, 0.2, 2][s % 4]!;
          const result = simulate({ seed, workers, tests, latency });
          assertCleanRun(result, size, label);
          assert.equal(result.workersStarted, workers, `${label}: no replacement worker without a loss`);
          runs += 1;
        }
      }
    }
  }
  assert.ok(runs > 1000);
});

test('simulation: a steal never bounces a test between two workers', () => {
  // Each steal moves tests towards an idle worker; if stolen tests came straight back, the count
  // of steals would grow without bound (and the run would spin instead of ending).
  for (let seed = 1; seed <= 200; seed += 1) {
    const random = rng(seed);
    const workers = 2 + (seed % 3);
    const tests = suite(randomModuleSizes(5 + Math.floor(random() * 60), 10, random));
    const result = simulate({ seed, workers, tests, latency: [0, 0.05, 1][seed % 3]! });
    assertCleanRun(result, tests.length, `seed ${seed}`);
    assert.ok(result.commandCounts.steal <= tests.length, `seed ${seed}: ${result.commandCounts.steal} steals for ${tests.length} tests`);
  }
});

test('simulation: modules stay together on one worker', () => {
  let together = 0;
  let modules = 0;
  for (let seed = 1; seed <= 30; seed += 1) {
    const tests = suite(new Array(10).fill(10));
    const result = simulate({ seed, workers: 2, tests });
    assertCleanRun(result, tests.length, `seed ${seed}`);
    for (const workers of workersPerModule(tests, result).values()) {
      modules += 1;
      if (workers.size === 1) together += 1;
    }
  }
  // Only the tail of the run (stealing, the last shared module) may split a module.
  assert.ok(together / modules >= 0.8, `${together} of ${modules} modules ran on one worker`);
});

test('simulation: work stealing balances one big slow module against many small ones', () => {
  for (let seed = 1; seed <= 20; seed += 1) {
    const sizes = [100, ...new Array(50).fill(4)];
    const tests = suite(sizes);
    const duration = (index: number): number => (index < 100 ? 5 : 1);
    const workers = 4;
    const result = simulate({ seed, workers, tests, duration, startup: 1 });
    assertCleanRun(result, tests.length, `seed ${seed}`);
    const total = 100 * 5 + 200 * 1;
    const ideal = total / workers;
    // One worker on the whole big module would need 500; a balanced run needs about 175.
    assert.ok(result.makespan <= ideal * 1.15 + 5 + 1, `seed ${seed}: makespan ${result.makespan.toFixed(1)} vs ideal ${ideal}`);
    const bigModuleWorkers = workersPerModule(tests, result).get(tests[0]!.scope)!;
    assert.equal(bigModuleWorkers.size, workers, `seed ${seed}: the big module ran on ${bigModuleWorkers.size} workers`);
  }
});

test('simulation: worker_lost mid-run blames exactly the running test; all others run once', () => {
  let cases = 0;
  for (let workers = 1; workers <= 4; workers += 1) {
    for (const size of [1, 2, 5, 20, 120]) {
      for (let s = 0; s < 8; s += 1) {
        const seed = 7_000 + workers * 1000 + size * 10 + s;
        const random = rng(seed);
        const tests = suite(randomModuleSizes(size, 15, random));
        const kills = [1 + Math.floor(random() * size)];
        if (s % 2 === 1 && size > 3) kills.push(1 + Math.floor(random() * size));
        const label = `${workers} workers, ${size} tests, kills after starts ${kills}, seed ${seed}`;
        const result = simulate({ seed, workers, tests, killAfterStarts: kills, latency: [0, 0.05, 0.5][s % 3]! });
        const blamed = new Set(result.blamed.map((b) => b.index));
        assert.ok(result.blamed.length >= 1 && result.blamed.length <= kills.length, `${label}: blamed ${JSON.stringify(result.blamed)}`);
        assert.equal(blamed.size, result.blamed.length, `${label}: one blame per test`);
        for (let index = 0; index < size; index += 1) {
          assert.equal(result.startCount[index], 1, `${label}: test ${index} started ${result.startCount[index]} times`);
          assert.equal(result.finishCount[index], blamed.has(index) ? 0 : 1, `${label}: test ${index} finished ${result.finishCount[index]} times`);
        }
        assert.deepEqual(result.notRun, [], `${label}: notRun`);
        assert.equal(result.schedulerDone, true, `${label}: isDone()`);
        cases += 1;
      }
    }
  }
  assert.ok(cases > 100);
});

test('simulation: a worker lost while it collects is replaced', () => {
  for (let seed = 1; seed <= 40; seed += 1) {
    const workers = 1 + (seed % 3);
    const tests = suite([3, 4, 5]);
    // Worker 1 dies at once: before it is ready, so before the scheduler has anything.
    const options: SimOptions = { seed, workers, tests, killAt: [{ time: 0, worker: 1 }] };
    const result = simulate(options);
    assertCleanRun(result, tests.length, `seed ${seed}`);
    assert.equal(result.workersStarted, workers + 1, `seed ${seed}: a replacement was started`);
  }
});

test('simulation: stop mid-run lets running tests finish; the rest are notRun; nothing runs twice', () => {
  for (let workers = 1; workers <= 4; workers += 1) {
    for (const size of [1, 3, 10, 60, 200]) {
      for (let s = 0; s < 6; s += 1) {
        const seed = 9_000 + workers * 1000 + size * 10 + s;
        const random = rng(seed);
        const tests = suite(randomModuleSizes(size, 20, random));
        const stopAfter = 1 + Math.floor(random() * size);
        const killAfterStarts = s % 3 === 2 ? [Math.max(1, stopAfter - 1)] : [];
        const label = `${workers} workers, ${size} tests, stop after ${stopAfter}, kills ${killAfterStarts}, seed ${seed}`;
        const result = simulate({ seed, workers, tests, stopAfterStarts: stopAfter, killAfterStarts, latency: [0, 0.05, 0.5][s % 3]! });
        const notRun = new Set(result.notRun);
        const blamed = new Set(result.blamed.map((b) => b.index));
        assert.equal(notRun.size, result.notRun.length, `${label}: notRun has duplicates`);
        for (let index = 0; index < size; index += 1) {
          const started = result.startCount[index]!;
          assert.ok(started <= 1, `${label}: test ${index} started ${started} times`);
          assert.equal(started === 1, !notRun.has(index), `${label}: test ${index} started=${started}, notRun=${notRun.has(index)}`);
          if (started === 1) assert.equal(result.finishCount[index], blamed.has(index) ? 0 : 1, `${label}: test ${index} did not finish`);
        }
        assert.ok(result.startCount.filter((c) => c === 1).length >= stopAfter, `${label}: fewer tests ran than were started before the stop`);
        assertHonestNextitem(result, label, true);
      }
    }
  }
});
