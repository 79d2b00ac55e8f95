import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestInfo, WorkerId } from '../../src/model/test.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { SchedulerCommand } from '../../src/scheduler/types.js';
import { Driver } from './driver.js';
import { heavyTailedDurations, randomModuleSizes, rng, simulate, suite, type SimOptions, type SimResult } from './scheduler-sim.js';

// -- helpers ---------------------------------------------------------------------------------------

/** The numbers from..to-1. */
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i += 1) out.push(i);
  return out;
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
  let steals = 0;
  let stealsAnsweredShort = 0;
  for (let workers = 1; workers <= 4; workers += 1) {
    for (const size of SIZES) {
      for (const shape of SHAPES) {
        for (let s = 0; s < 6; s += 1) {
          const seed = workers * 100_000 + size * 100 + s * 7 + shape.name.length;
          const tests = suite(shape.sizes(size, rng(seed ^ 0x5eed)));
          const label = `${workers} workers, ${size} tests, ${shape.name}, seed ${seed}`;
          // Vary the speed of messages against the speed of tests: from instant to slower than a test.
          const latency = [0, 0.01, 0.2, 2][s % 4]!;
          // Half the runs have heavy-tailed durations: workers run dry at different times and steal.
          const duration = s % 2 === 1 ? heavyTailedDurations(size, rng(seed)) : undefined;
          const result = simulate({ seed, workers, tests, latency, ...(duration ? { duration } : {}) });
          assertCleanRun(result, size, label);
          assert.equal(result.workersStarted, workers, `${label}: no replacement worker without a loss`);
          runs += 1;
          steals += result.commandCounts.steal;
          stealsAnsweredShort += result.stealsAnsweredShort;
        }
      }
    }
  }
  assert.ok(runs > 1000);
  // The cases above really went through the paths they are meant to cover.
  assert.ok(steals > 30, `only ${steals} steals`);
  assert.ok(stealsAnsweredShort >= 1, `only ${stealsAnsweredShort} steals answered short`);
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
  let midTest = 0;
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
        assertHonestNextitem(result, label, true);
        cases += 1;
        midTest += result.killsMidTest;
      }
    }
  }
  assert.ok(cases > 100);
  assert.ok(midTest > 100, `only ${midTest} kills hit a running test`);
});

test('simulation: workers killed at random moments (collecting, between tests, in a test)', () => {
  let midTest = 0;
  let losingFinished = 0;
  for (let seed = 1; seed <= 300; seed += 1) {
    const random = rng(seed);
    const workers = 1 + (seed % 4);
    const size = Math.floor(random() * 80);
    const tests = suite(randomModuleSizes(size, 15, random));
    // Runs last about size / workers + startup: kill one to three workers somewhere in there.
    const span = size / workers + 2;
    const killAt = Array.from({ length: 1 + (seed % 3) }, () => ({
      time: random() * span,
      worker: 1 + Math.floor(random() * (workers + 1)),
    }));
    const label = `${workers} workers, ${size} tests, kills ${JSON.stringify(killAt)}, seed ${seed}`;
    const result = simulate({ seed, workers, tests, killAt, latency: [0, 0.05, 0.5][seed % 3]! });
    const blamed = new Set(result.blamed.map((b) => b.index));
    assert.equal(blamed.size, result.blamed.length, `${label}: one blame per test`);
    for (let index = 0; index < size; index += 1) {
      assert.equal(result.startCount[index], 1, `${label}: test ${index} started ${result.startCount[index]} times`);
      assert.equal(result.finishCount[index], blamed.has(index) ? 0 : 1, `${label}: test ${index}`);
    }
    assert.deepEqual(result.notRun, [], `${label}: notRun`);
    assert.equal(result.schedulerDone, true, `${label}: isDone()`);
    assertHonestNextitem(result, label, true);
    midTest += result.killsMidTest;
    losingFinished += result.killsLosingFinished;
  }
  assert.ok(midTest > 50, `only ${midTest} kills hit a running test`);
  // The worker buffers `finished` until its next `started` (or until it waits for work), so a kill
  // in between loses that line and the supervisor, like the scheduler, takes the test that had
  // ended for the running one. The blame checks above hold for those too; this only makes sure
  // that the window is exercised.
  assert.ok(losingFinished > 0, 'no kill landed between a test and the next');
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
        assert.equal(result.schedulerDone, true, `${label}: isDone() once every worker is gone`);
        assertHonestNextitem(result, label, true);
      }
    }
  }
});

test('simulation: steals answered short (the victim already ran them) still run everything once', () => {
  // Worker 1's lines reach the supervisor late, so the scheduler sees it holding tests it has
  // already run and asks for some of them; the answer is short or empty.
  let short = 0;
  for (let seed = 1; seed <= 60; seed += 1) {
    const workers = 2 + (seed % 3);
    const tests = suite([[64, 200][seed % 2]!]);
    const label = `${workers} workers, seed ${seed}`;
    const result = simulate({ seed, workers, tests, latency: 0.02, upLatency: (id) => (id === 1 ? 10 : 0.02), duration: () => 0.2 });
    assertCleanRun(result, tests.length, label);
    short += result.stealsAnsweredShort;
  }
  assert.ok(short >= 20, `only ${short} short answers: the race is not exercised`);
});

// -- focused cases, one command at a time ----------------------------------------------------------

test('collected / worker_ready: nothing is assigned before both; then the first worker gets a share of a module', () => {
  const d = new Driver(2, suite([3]));
  assert.equal(d.scheduler.isDone(), false, 'not done before collection');
  assert.deepEqual(d.ready(1), []);
  assert.deepEqual(d.collect(), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.equal(d.scheduler.queuedCount(), 1);

  const alone = new Driver(1, suite([40]));
  assert.deepEqual(alone.collect(), [], 'no worker yet');
  // Alone, a worker takes a quarter of the queue, within its module.
  assert.deepEqual(alone.ready(1), [{ type: 'assign', worker: 1, indices: range(0, 10) }]);
});

test('assign: a worker gets a module no other worker is in, and stays in its module', () => {
  const d = new Driver(2, suite([4, 4]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [4, 5] }], 'worker 2 starts the other module');
  // Worker 1 drops below two unstarted tests: it gets more of its own module.
  assert.deepEqual(d.start(1), [{ type: 'assign', worker: 1, indices: [2] }]);
  assert.deepEqual(d.start(2), [{ type: 'assign', worker: 2, indices: [6] }]);
  assert.deepEqual(d.finish(1), [], 'a worker holding two is not fed');
});

test('assign: crosses into another module only to reach the two tests a worker needs', () => {
  const d = new Driver(1, suite([1, 5]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
});

test('finish: a worker is told when no more work can come, so it runs its last test', () => {
  const d = new Driver(1, suite([3]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(d.start(1), [{ type: 'assign', worker: 1, indices: [2] }]);
  assert.deepEqual(d.finish(1), []);
  assert.deepEqual(d.start(1), [{ type: 'finish', worker: 1 }]);
  assert.deepEqual(d.finish(1), []);
  assert.deepEqual(d.start(1), [], 'finish is sent once');
  assert.equal(d.scheduler.isDone(), false, 'a test is still running');
  assert.deepEqual(d.finish(1), []);
  assert.equal(d.scheduler.isDone(), true);
  assert.deepEqual(d.scheduler.notRun(), []);
});

test('finish: sent together with a last lone test (regression: one test, one worker hung)', () => {
  // pytest runs a test only once it knows the next one, or is told that none will come. The
  // scheduler used to assign the lone test and say nothing more: the run never ended.
  const one = new Driver(1, suite([1]));
  one.collect();
  assert.deepEqual(one.ready(1), [
    { type: 'assign', worker: 1, indices: [0] },
    { type: 'finish', worker: 1 },
  ]);

  const three = new Driver(2, suite([3]));
  three.collect();
  assert.deepEqual(three.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(three.ready(2), [
    { type: 'assign', worker: 2, indices: [2] },
    { type: 'finish', worker: 2 },
  ]);
});

test('finish: a worker that is ready when everything is handed out, and an empty suite', () => {
  const d = new Driver(2, suite([2]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(d.ready(2), [{ type: 'finish', worker: 2 }]);

  const empty = new Driver(2, []);
  assert.deepEqual(empty.collect(), []);
  assert.equal(empty.scheduler.isDone(), true);
  assert.deepEqual(empty.ready(1), [{ type: 'finish', worker: 1 }]);
  assert.equal(empty.scheduler.isDone(), true);
});

test('steal: the back half of the longest queue, never its head; one at a time; the answer is handed out', () => {
  const d = new Driver(2, suite([40]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: range(0, 10) }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [10, 11, 12, 13] }]);
  // Worker 2 runs the rest of the queue while worker 1 sits on its ten.
  let commands: SchedulerCommand[] = [];
  while (d.holding(2)[0] !== 38) {
    commands = [...d.start(2), ...d.finish(2)];
    assert.deepEqual(ofType(commands, 'steal'), []);
    assert.deepEqual(ofType(commands, 'finish'), []);
  }
  assert.equal(d.scheduler.queuedCount(), 0);
  // Worker 2 is down to one unstarted test and the queue is empty: it steals 4 of worker 1's 9
  // non-head tests, from the back.
  assert.deepEqual(d.start(2), [{ type: 'steal', worker: 1, indices: [6, 7, 8, 9] }]);
  // While that steal is in flight, nothing else is stolen and nobody is told to finish.
  assert.deepEqual(d.finish(2), []);
  assert.deepEqual(d.start(2), []);
  assert.equal(d.scheduler.isDone(), false, 'a steal is in flight');
  // The answer goes to the central queue and on to the hungry worker.
  assert.deepEqual(d.giveBack(1, [6, 7, 8, 9]), [{ type: 'assign', worker: 2, indices: [6, 7] }]);
  assert.equal(d.scheduler.queuedCount(), 2);
});

test('steal: a short or empty answer (the victim ran them meanwhile) ends in finish, not a retry loop', () => {
  const d = new Driver(2, suite([40]));
  d.collect();
  d.ready(1);
  d.ready(2);
  while (d.holding(2)[0] !== 38) {
    d.start(2);
    d.finish(2);
  }
  assert.deepEqual(d.start(2), [{ type: 'steal', worker: 1, indices: [6, 7, 8, 9] }]);
  // Before the steal reached it, worker 1 ran 0..7 and started 8 (which made 9 its nextitem);
  // those lines arrive before its answer, which is empty.
  for (let i = 0; i < 8; i += 1) {
    assert.deepEqual(d.start(1), []);
    assert.deepEqual(d.finish(1), []);
  }
  assert.deepEqual(d.start(1), [], 'hungry, but a steal is in flight: wait for the answer');
  assert.deepEqual(d.giveBack(1, []), [
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

test('steal: never from a worker that holds only two (regression: the tests bounced forever)', () => {
  // Stealing worker 1's second test left it with one: it turned hungry and stole it back, and each
  // answer both assigned the test to a worker and asked that worker to give it up again.
  const d = new Driver(2, suite([4]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [2, 3] }]);
  assert.deepEqual(d.start(2), [{ type: 'finish', worker: 2 }]);
  assert.deepEqual(d.start(1), [{ type: 'finish', worker: 1 }]);

  // With three, the victim keeps two and gives one.
  const three = new Driver(2, suite([12]));
  three.collect();
  assert.deepEqual(three.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1, 2] }]);
  assert.deepEqual(three.ready(2), [{ type: 'assign', worker: 2, indices: [3, 4] }]);
  let steal: SchedulerCommand[] = [];
  for (let guard = 0; steal.length === 0 && guard < 20; guard += 1) {
    steal = ofType([...three.start(2), ...three.finish(2)], 'steal');
  }
  assert.deepEqual(steal, [{ type: 'steal', worker: 1, indices: [2] }]);
});

test('worker_lost: blames the running test, re-queues the unstarted ones first, asks for a worker', () => {
  const d = new Driver(2, suite([10]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1, 2] }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [3, 4] }]);
  assert.deepEqual(d.start(1), []);
  assert.deepEqual(d.lose(1), [{ type: 'blame', worker: 1, index: 0 }, { type: 'start_worker' }]);
  assert.equal(d.scheduler.queuedCount(), 7);
  assert.deepEqual(d.ready(3), [{ type: 'assign', worker: 3, indices: [1, 2] }], 're-queued tests go first');
  // Worker 3 is lost between tests: no blame.
  assert.deepEqual(d.lose(3), [{ type: 'start_worker' }]);
  assert.deepEqual(d.scheduler.notRun().sort((a, b) => a - b), [1, 2, 5, 6, 7, 8, 9]);
});

test('worker_lost: only the blame when the lost worker held nothing unstarted', () => {
  const d = new Driver(2, suite([3]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [2] }, { type: 'finish', worker: 2 }]);
  assert.deepEqual(d.start(2), []);
  assert.deepEqual(d.lose(2), [{ type: 'blame', worker: 2, index: 2 }], 'nothing to re-queue, no replacement');
  assert.deepEqual(d.start(1), [{ type: 'finish', worker: 1 }]);
  d.finish(1);
  d.start(1);
  d.finish(1);
  assert.equal(d.scheduler.isDone(), true);
  assert.deepEqual(d.scheduler.notRun(), []);
});

test('worker_lost: the victim of a steal in flight dies; its tests go back and the thief is fed', () => {
  const d = new Driver(2, suite([40]));
  d.collect();
  d.ready(1);
  d.ready(2);
  while (d.holding(2)[0] !== 38) {
    d.start(2);
    d.finish(2);
  }
  assert.deepEqual(d.start(2), [{ type: 'steal', worker: 1, indices: [6, 7, 8, 9] }]);
  assert.deepEqual(d.lose(1), [{ type: 'assign', worker: 2, indices: [0, 1, 2] }, { type: 'start_worker' }]);
  assert.equal(d.scheduler.queuedCount(), 7);
  assert.equal(d.scheduler.isDone(), false);
  // The steal is forgotten: the next hungry moment may steal again.
  assert.deepEqual(d.ready(3), [{ type: 'assign', worker: 3, indices: [3, 4] }]);
});

test('worker_lost before ready: replaced, also before collection (regression: the run hung)', () => {
  // Before collection nothing is queued yet, which the scheduler took for "no work left": a pool
  // of one whose worker died while collecting was never replaced, and the run waited forever.
  const early = new Scheduler({ poolSize: 1 });
  assert.deepEqual(early.handle({ type: 'worker_lost', worker: 1 }), [{ type: 'start_worker' }]);
  assert.equal(early.isDone(), false);

  const queued = new Driver(2, suite([10]));
  queued.collect();
  queued.ready(1);
  assert.deepEqual(queued.lose(2), [{ type: 'start_worker' }], 'work is queued');

  const drained = new Driver(2, suite([2]));
  drained.collect();
  drained.ready(1);
  assert.deepEqual(drained.lose(2), [], 'nothing queued: no replacement');

  const stopped = new Scheduler({ poolSize: 1 });
  stopped.handle({ type: 'stop' });
  assert.deepEqual(stopped.handle({ type: 'worker_lost', worker: 1 }), [], 'no replacement after stop');
});

test('start_worker: not asked for while the pool is full', () => {
  const d = new Driver(2, suite([100]));
  d.collect();
  const all = [...d.ready(1), ...d.ready(2)];
  for (let i = 0; i < 20; i += 1) all.push(...d.start(1), ...d.finish(1), ...d.start(2), ...d.finish(2));
  assert.deepEqual(ofType(all, 'start_worker'), []);
});

test('stop: every worker is stopped, the queue is not run, running tests finish, nothing new starts', () => {
  const d = new Driver(2, suite([10]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1, 2] }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [3, 4] }]);
  assert.deepEqual(d.start(1), []);
  assert.deepEqual(d.start(2), [{ type: 'assign', worker: 2, indices: [5] }]);
  assert.deepEqual(d.handle({ type: 'stop' }), [
    { type: 'stop', worker: 1 },
    { type: 'stop', worker: 2 },
  ]);
  assert.deepEqual(d.handle({ type: 'stop' }), [], 'a second stop changes nothing');
  // Each worker answers with what it dropped; a late worker is stopped at once.
  assert.deepEqual(d.giveBack(1, [1, 2]), []);
  assert.deepEqual(d.ready(3), [{ type: 'stop', worker: 3 }]);
  assert.deepEqual(d.giveBack(3, []), []);
  assert.equal(d.scheduler.isDone(), false, 'worker 2 has not answered');
  assert.deepEqual(d.giveBack(2, [4, 5]), []);
  assert.equal(d.scheduler.isDone(), false, 'tests 0 and 3 are still running');
  assert.deepEqual(d.finish(1), [], 'no feeding after stop');
  assert.deepEqual(d.finish(2), []);
  assert.equal(d.scheduler.isDone(), true);
  assert.deepEqual(d.lose(1), []);
  assert.deepEqual(d.scheduler.notRun().sort((a, b) => a - b), [1, 2, 4, 5, 6, 7, 8, 9]);
});

test('stop: a worker lost after the stop is blamed for its running test; its queue is not run', () => {
  const d = new Driver(2, suite([10]));
  d.collect();
  d.ready(1);
  d.ready(2);
  d.start(1);
  d.handle({ type: 'stop' });
  // Worker 1 dies in test 0 before answering the stop.
  assert.deepEqual(d.lose(1), [{ type: 'blame', worker: 1, index: 0 }], 'no re-queue, no replacement');
  assert.deepEqual(d.giveBack(2, [3, 4]), []);
  assert.equal(d.scheduler.isDone(), true);
  assert.deepEqual(d.scheduler.notRun().sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('stop: a steal answered after the stop is not run, and clears the steal in flight', () => {
  const d = new Driver(2, suite([40]));
  d.collect();
  d.ready(1);
  d.ready(2);
  while (d.holding(2)[0] !== 38) {
    d.start(2);
    d.finish(2);
  }
  assert.deepEqual(d.start(2), [{ type: 'steal', worker: 1, indices: [6, 7, 8, 9] }]);
  d.handle({ type: 'stop' });
  assert.deepEqual(d.giveBack(1, [6, 7, 8, 9]), [], 'the answer to the steal');
  assert.deepEqual(d.giveBack(1, range(0, 6)), [], 'the answer to the stop');
  assert.deepEqual(d.giveBack(2, [39]), []);
  assert.equal(d.scheduler.isDone(), false, 'test 38 is running');
  d.finish(2);
  assert.equal(d.scheduler.isDone(), true);
  assert.deepEqual(d.scheduler.notRun().sort((a, b) => a - b), [...range(0, 10), 39]);
});

test('test_started / test_finished from an unknown worker are ignored', () => {
  const d = new Driver(1, suite([3]));
  d.collect();
  d.ready(1);
  assert.deepEqual(d.handle({ type: 'test_started', worker: 9, index: 2 }), []);
  assert.deepEqual(d.handle({ type: 'test_finished', worker: 9, index: 2 }), []);
  assert.deepEqual(d.handle({ type: 'returned', worker: 9, indices: [] }), []);
});

// -- isolated retries -------------------------------------------------------------------------------

/** A worker that was started for an isolated retry of `index` is ready. */
function readyIsolated(d: Driver, worker: WorkerId, index: number): SchedulerCommand[] {
  return d.handle({ type: 'worker_ready', worker, isolatedFor: index });
}

/** Runs everything worker `worker` holds to the end (start, finish, ...), collecting the commands. */
function drain(d: Driver, worker: WorkerId): SchedulerCommand[] {
  const out: SchedulerCommand[] = [];
  for (let guard = 0; d.holding(worker).length > 0 && guard < 100; guard += 1) out.push(...d.start(worker), ...d.finish(worker));
  return out;
}

test('retry: start_isolated only once every other worker is lost and the queue is empty', () => {
  const d = new Driver(2, suite([3]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(d.ready(2), [{ type: 'assign', worker: 2, indices: [2] }, { type: 'finish', worker: 2 }]);
  d.start(2);
  // Worker 2 dies in test 2: the run loop settles the blame (the book asks for a retry) and then
  // feeds the loss.
  assert.deepEqual(d.handle({ type: 'retry', index: 2 }), [], 'worker 2 is not even lost yet');
  assert.deepEqual(d.lose(2), [{ type: 'blame', worker: 2, index: 2 }], 'worker 1 still runs: no retry yet');
  assert.equal(d.scheduler.isDone(), false);
  // Worker 1 runs its two tests and is told to finish; it is not gone until it is lost.
  const during = [...d.start(1), ...d.finish(1), ...d.start(1), ...d.finish(1)];
  assert.deepEqual(during, [{ type: 'finish', worker: 1 }]);
  assert.equal(d.scheduler.isDone(), false, 'a retry is pending, though nothing is held or running');
  assert.deepEqual(d.scheduler.notRun(), [2], 'notRun() names the pending retry (and drains it)');
});

test('retry: starts when the last other worker is lost, not when it is told to finish', () => {
  const d = new Driver(2, suite([3]));
  d.collect();
  d.ready(1);
  d.ready(2);
  d.start(2);
  d.handle({ type: 'retry', index: 2 });
  d.lose(2);
  const beforeLoss = drain(d, 1);
  assert.deepEqual(ofType(beforeLoss, 'start_isolated'), [], 'worker 1 is ending its session (teardown still runs)');
  assert.deepEqual(d.lose(1), [{ type: 'start_isolated', index: 2 }]);
  assert.equal(d.scheduler.isDone(), false, 'the retry is under way');
});

test('retry: not while tests are queued (a replacement worker runs them first)', () => {
  const d = new Driver(1, suite([5]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  // The only worker is lost: nothing else runs, but three tests (and 1) are still to run.
  assert.deepEqual(d.lose(1), [{ type: 'blame', worker: 1, index: 0 }, { type: 'start_worker' }]);
  const all = [...d.ready(2)];
  all.push(...drain(d, 2));
  assert.deepEqual(ofType(all, 'start_isolated'), [], 'worker 2 is still alive');
  assert.equal(d.scheduler.queuedCount(), 0);
  assert.deepEqual(d.lose(2), [{ type: 'start_isolated', index: 0 }]);
});

test('retry: the isolated worker gets exactly its test plus finish, and nothing else', () => {
  const d = new Driver(2, suite([4]));
  d.collect();
  d.ready(1);
  d.ready(2);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  d.lose(1);
  drain(d, 2);
  // Worker 2 took over the re-queued test 1 and ran everything.
  assert.deepEqual(d.lose(2), [{ type: 'start_isolated', index: 0 }]);
  assert.deepEqual(readyIsolated(d, 3, 0), [
    { type: 'assign', worker: 3, indices: [0] },
    { type: 'finish', worker: 3 },
  ]);
  assert.deepEqual(d.start(3), [], 'no feeding of an isolated worker');
  assert.equal(d.scheduler.isDone(), false);
  assert.deepEqual(d.finish(3), []);
  assert.equal(d.scheduler.isDone(), false, 'the isolated worker has not ended yet');
  assert.deepEqual(d.lose(3), [], 'nothing more to do');
  assert.equal(d.scheduler.isDone(), true);
  assert.deepEqual(d.scheduler.notRun(), []);
});

test('retry: the isolated worker dies in its test: blamed, and no second retry unless asked', () => {
  const d = new Driver(1, suite([1]));
  d.collect();
  d.ready(1);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  assert.deepEqual(d.lose(1), [{ type: 'blame', worker: 1, index: 0 }, { type: 'start_isolated', index: 0 }]);
  readyIsolated(d, 2, 0);
  d.start(2);
  assert.deepEqual(d.lose(2), [{ type: 'blame', worker: 2, index: 0 }], 'crashes alone: blamed, not started again');
  assert.equal(d.scheduler.isDone(), true);
});

test('retry: one at a time, in the order asked; a second retry of the same test (retries=2) waits too', () => {
  const d = new Driver(2, suite([2]));
  d.collect();
  assert.deepEqual(d.ready(1), [{ type: 'assign', worker: 1, indices: [0, 1] }]);
  assert.deepEqual(d.ready(2), [{ type: 'finish', worker: 2 }]);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  assert.deepEqual(d.lose(1), [{ type: 'blame', worker: 1, index: 0 }, { type: 'start_worker' }]);
  d.ready(3);
  d.start(3);
  d.handle({ type: 'retry', index: 1 });
  assert.deepEqual(d.lose(3), [{ type: 'blame', worker: 3, index: 1 }], 'worker 2 is still ending');
  assert.deepEqual(d.lose(2), [{ type: 'start_isolated', index: 0 }], 'the first retry only');
  readyIsolated(d, 4, 0);
  d.start(4);
  d.finish(4);
  // With retries=2, the book asks for test 0 again after its first pass.
  assert.deepEqual(d.handle({ type: 'retry', index: 0 }), [], 'worker 4 is still alive');
  assert.deepEqual(d.lose(4), [{ type: 'start_isolated', index: 1 }], 'then the next in line');
  assert.deepEqual(readyIsolated(d, 5, 1), [
    { type: 'assign', worker: 5, indices: [1] },
    { type: 'finish', worker: 5 },
  ]);
  d.start(5);
  d.finish(5);
  assert.equal(d.scheduler.isDone(), false, 'test 0 is due again');
  assert.deepEqual(d.lose(5), [{ type: 'start_isolated', index: 0 }]);
  readyIsolated(d, 6, 0);
  d.start(6);
  d.finish(6);
  assert.deepEqual(d.lose(6), []);
  assert.equal(d.scheduler.isDone(), true);
});

test('retry: a worker ready for a retry that is not the current one is stopped, and gets nothing', () => {
  const d = new Driver(1, suite([1]));
  d.collect();
  d.ready(1);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  d.lose(1);
  assert.deepEqual(readyIsolated(d, 7, 5), [{ type: 'stop', worker: 7 }]);
  assert.deepEqual(readyIsolated(d, 2, 0), [
    { type: 'assign', worker: 2, indices: [0] },
    { type: 'finish', worker: 2 },
  ]);
});

test('retry: the isolated worker dies before it was ready: the retry stays owed (the pool starts another)', () => {
  const d = new Driver(1, suite([1]));
  d.collect();
  d.ready(1);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  d.lose(1);
  // Worker 2 was started for the retry and died while collecting: the scheduler never knew it.
  assert.deepEqual(d.lose(2), [], 'nothing to replenish: the queue is empty');
  assert.equal(d.scheduler.isDone(), false, 'the retry is still owed');
  assert.deepEqual(readyIsolated(d, 3, 0), [
    { type: 'assign', worker: 3, indices: [0] },
    { type: 'finish', worker: 3 },
  ]);
});

test('retry: an isolated worker lost after ready but before its test started gets the retry started alone again', () => {
  // The test must not go to the central queue: a pool worker (ready without isolatedFor) would
  // run it, and the run loop, which begins a retry attempt only on an isolated worker's ready,
  // would judge the retry on the crashed attempt's reports mixed with the new ones.
  const d = new Driver(1, suite([1]));
  d.collect();
  d.ready(1);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  d.lose(1);
  readyIsolated(d, 2, 0);
  assert.deepEqual(d.lose(2), [{ type: 'start_isolated', index: 0 }]);
});

test('retry: stop abandons queued retries into notRun(), and the retry under way once its worker is gone', () => {
  const d = new Driver(2, suite([2]));
  d.collect();
  d.ready(1);
  d.ready(2);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  d.lose(1);
  d.ready(3);
  d.start(3);
  d.handle({ type: 'retry', index: 1 });
  d.lose(3);
  assert.deepEqual(d.lose(2), [{ type: 'start_isolated', index: 0 }]);
  // The run stops (maxfail, Ctrl-C) while the retry of 0 is starting and 1 waits.
  assert.deepEqual(d.handle({ type: 'stop' }), [], 'the isolated worker is not known yet');
  // Its ready comes in after the stop: stopped at once, given nothing.
  assert.deepEqual(readyIsolated(d, 4, 0), [{ type: 'stop', worker: 4 }]);
  assert.deepEqual(d.lose(4), []);
  assert.deepEqual(d.scheduler.notRun().sort((a, b) => a - b), [0, 1], 'the queued retry and the one that never ran');
});

test('retry: after a stop, isDone() once every worker is gone, also when the retry under way never ran', () => {
  // As for ordinary tests after a stop (the simulation checks isDone() then): nothing runs and
  // nothing will, so the scheduler is done; notRun() lists the retry.
  const d = new Driver(1, suite([1]));
  d.collect();
  d.ready(1);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  assert.deepEqual(d.lose(1), [{ type: 'blame', worker: 1, index: 0 }, { type: 'start_isolated', index: 0 }]);
  d.handle({ type: 'stop' });
  // The run loop kills the isolated worker while it collects: the scheduler never hears of it.
  assert.deepEqual(d.lose(2), []);
  assert.equal(d.scheduler.isDone(), true, 'no worker left, nothing can run');
  assert.deepEqual(d.scheduler.notRun(), [0]);
});

test('retry: a retry asked after the stop (a retries=2 pass) is not started, and listed once', () => {
  const d = new Driver(1, suite([1]));
  d.collect();
  d.ready(1);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  d.lose(1);
  readyIsolated(d, 2, 0);
  d.start(2);
  d.handle({ type: 'stop' });
  d.finish(2);
  assert.deepEqual(d.handle({ type: 'retry', index: 0 }), [], 'not started after the stop');
  assert.deepEqual(d.lose(2), []);
  assert.deepEqual(d.scheduler.notRun(), [0]);
});

test('retry: stop while the isolated worker runs its test: it finishes; only the queued retries are not run', () => {
  const d = new Driver(2, suite([2]));
  d.collect();
  d.ready(1);
  d.ready(2);
  d.start(1);
  d.handle({ type: 'retry', index: 0 });
  d.lose(1);
  d.ready(3);
  d.start(3);
  d.handle({ type: 'retry', index: 1 });
  d.lose(3);
  d.lose(2);
  readyIsolated(d, 4, 0);
  d.start(4);
  assert.deepEqual(d.handle({ type: 'stop' }), [{ type: 'stop', worker: 4 }]);
  assert.equal(d.scheduler.isDone(), false, 'test 0 is running alone');
  d.finish(4);
  assert.deepEqual(d.lose(4), [], 'no next retry after a stop');
  assert.equal(d.scheduler.isDone(), true);
  assert.deepEqual(d.scheduler.notRun(), [1]);
});

// -- isolated retries in the simulation -------------------------------------------------------------

test('simulation: a retry does not start while another pool worker is still collecting', () => {
  // Worker 1 collects at once, takes both tests and dies in the second; worker 2 is still
  // collecting. The scheduler hears of a worker only once it is ready, so it sees no other worker
  // and asks for the isolated retry at once: the retry runs next to worker 2's collection (and its
  // session start and end), not alone.
  for (let seed = 1; seed <= 5; seed += 1) {
    const result = simulate({
      seed,
      workers: 2,
      tests: suite([2]),
      startupOf: (id) => (id === 1 ? 0 : id === 2 ? 50 : 0),
      duration: () => 1,
      killAfterStarts: [2],
      retryBlamed: true,
    });
    assert.deepEqual(result.isolatedStarts, [1], `seed ${seed}`);
  }
});

test('simulation: crashed tests are retried alone, one at a time, after every other worker ended', () => {
  // Workers collect instantly here (startup 0); a worker still collecting when the retry is due is
  // the next test's case.
  let retried = 0;
  let crashedAlone = 0;
  for (let seed = 1; seed <= 150; seed += 1) {
    const random = rng(seed ^ 0xbeef);
    const workers = 1 + (seed % 4);
    const size = 1 + Math.floor(random() * 60);
    const tests = suite(randomModuleSizes(size, 12, random));
    const kills = Array.from({ length: 1 + (seed % 3) }, () => 1 + Math.floor(random() * size));
    const label = `${workers} workers, ${size} tests, kills after starts ${kills}, seed ${seed}`;
    const result = simulate({
      seed,
      workers,
      tests,
      killAfterStarts: kills,
      latency: [0, 0.05, 0.5][seed % 3]!,
      startup: 0,
      retryBlamed: true,
      // Every third test crashes again alone.
      crashesAlone: (index) => index % 3 === 0,
    });
    const blamed = result.blamed.filter((b) => !result.isolatedRuns.some((r) => r.worker === b.worker)).map((b) => b.index);
    assert.deepEqual([...result.isolatedStarts].sort((a, b) => a - b), [...blamed].sort((a, b) => a - b), `${label}: each crash retried once`);
    for (const run of result.isolatedRuns) {
      assert.equal(run.end, run.index % 3 === 0 ? 'crashed' : 'passed', `${label}: isolated run of ${run.index}`);
    }
    assert.equal(result.isolatedRuns.length, blamed.length, `${label}: one isolated worker per retry`);
    for (let index = 0; index < size; index += 1) {
      assert.equal(result.startCount[index], 1, `${label}: test ${index} started ${result.startCount[index]} times outside retries`);
    }
    assert.deepEqual(result.notRun, [], `${label}: notRun`);
    assert.equal(result.schedulerDone, true, `${label}: isDone()`);
    assert.equal(result.commandCounts.start_isolated, blamed.length, `${label}: start_isolated count`);
    retried += result.isolatedRuns.length;
    crashedAlone += result.isolatedRuns.filter((r) => r.end === 'crashed').length;
  }
  assert.ok(retried > 100, `only ${retried} retries`);
  assert.ok(crashedAlone > 20, `only ${crashedAlone} crashed alone`);
});

test('simulation: a stop with retries pending lists them as not run, and never starts one after', () => {
  let abandonedRetries = 0;
  for (let seed = 1; seed <= 150; seed += 1) {
    const random = rng(seed ^ 0x5107);
    const workers = 1 + (seed % 3);
    const size = 4 + Math.floor(random() * 40);
    const tests = suite(randomModuleSizes(size, 10, random));
    const kills = [1 + Math.floor(random() * (size / 2)), 1 + Math.floor(random() * size)];
    const stopAfter = 1 + Math.floor(random() * size);
    const label = `${workers} workers, ${size} tests, kills ${kills}, stop after ${stopAfter}, seed ${seed}`;
    const result = simulate({ seed, workers, tests, killAfterStarts: kills, stopAfterStarts: stopAfter, retryBlamed: true, latency: [0, 0.05, 0.5][seed % 3]! });
    // checkEnd inside simulate() matched notRun() against the tests the stop abandoned; here: no
    // test is both retried and listed, and no duplicates.
    const notRun = new Set(result.notRun);
    assert.equal(notRun.size, result.notRun.length, `${label}: notRun duplicates ${result.notRun}`);
    for (const run of result.isolatedRuns) {
      if (run.end !== 'not_started') assert.equal(notRun.has(run.index), false, `${label}: ${run.index} ran alone and is listed not run`);
    }
    const blamedPool = result.blamed.filter((b) => !result.isolatedRuns.some((r) => r.worker === b.worker)).map((b) => b.index);
    abandonedRetries += blamedPool.filter((index) => notRun.has(index)).length;
  }
  assert.ok(abandonedRetries > 10, `only ${abandonedRetries} retries abandoned by a stop`);
});
