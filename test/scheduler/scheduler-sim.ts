/**
 * A deterministic discrete-event simulation of the pure scheduler driving N fake pytest workers.
 *
 * The simulator plays both sides the scheduler sits between:
 *  - the run loop (src/runner/run-loop.ts): it feeds `collected` / `worker_ready` / `test_started` /
 *    `test_finished` / `returned` / `worker_lost` / `stop`, carries out every command, keeps its own
 *    view of what each worker holds and is running, and starts workers on `start_worker`;
 *  - the workers (python/bulkhead_pytest/run_queue.py + worker.py): each keeps its local queue
 *    exactly as RunQueue does. An item runs only when its successor is known or `finish` arrived;
 *    the successor handed to pytest as `nextitem` is "committed" and can no longer be stolen;
 *    `stop` drops everything queued and answers with what it dropped. Like the Python channel,
 *    it buffers `finished` lines and flushes them with the next `started` or `stolen`, or when
 *    the test loop is about to wait for work (and a killed worker loses what is buffered).
 *
 * Time is virtual. Messages in each direction travel over a FIFO channel per worker with a
 * seeded random latency, the test thread wakes up after a seeded random delay, and tests take
 * `duration(index)` units, so the interleaving of the reader thread, the test thread and the
 * supervisor is random but reproducible from the seed. No processes, no timers, no sleeps.
 *
 * Every invariant violation throws a SimError naming the seed, so a failing case is replayable.
 */
import type { TestInfo, WorkerId } from '../../src/model/test.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { Capacity, SchedulerCommand, SchedulerInput, TestDemand } from '../../src/scheduler/types.js';

// -- helpers ---------------------------------------------------------------------------------------

/** mulberry32: a small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tests for modules of the given sizes, in collection order: `suite([3, 2])` is m0 x3, m1 x2. */
export function suite(moduleSizes: readonly number[]): TestInfo[] {
  const tests: TestInfo[] = [];
  moduleSizes.forEach((size, m) => {
    for (let i = 0; i < size; i += 1) {
      const file = `tests/test_m${m}.py`;
      tests.push({ id: `${file}::test_${i}`, file, line: i, markers: [], scope: file, timeout: null, bulkheadMarker: null, xdistGroup: null });
    }
  });
  return tests;
}

/** Splits `total` tests into modules of seeded random sizes between 1 and `maxModule`. */
export function randomModuleSizes(total: number, maxModule: number, random: () => number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.min(left, 1 + Math.floor(random() * maxModule));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/**
 * Seeded heavy-tailed test durations: most tests are quick, one in ten is up to 30 times slower,
 * so some workers sit on long local queues while others run dry and steal.
 */
export function heavyTailedDurations(count: number, random: () => number): (index: number) => number {
  const durations = Array.from({ length: count }, () => (random() < 0.1 ? 1 + random() * 30 : 0.1 + random()));
  return (index) => durations[index]!;
}

export class SimError extends Error {}

// -- options and result ----------------------------------------------------------------------------

export interface SimOptions {
  seed: number;
  /** Pool size: workers started at the beginning, and the most alive at once. */
  workers: number;
  tests: readonly TestInfo[];
  /** Virtual run time of a test (default: seeded random in [0.5, 1.5)). */
  duration?: (index: number) => number;
  /** How much slower than `duration` a worker runs its tests (default 1: a loaded CPU is more). */
  slowdown?: (worker: WorkerId) => number;
  /** Largest one-way message latency and test-thread wake-up delay (default 0.05). */
  latency?: number;
  /** Largest latency of the messages from one worker (default `latency`): a worker whose lines
   *  reach the supervisor late is seen holding tests it has already run. */
  upLatency?: (worker: WorkerId) => number;
  /** Largest time a worker takes to start and collect (default 2). */
  startup?: number;
  /** Exact time worker `id` takes to start and collect (overrides `startup` where it returns a number). */
  startupOf?: (worker: WorkerId) => number | undefined;
  /** Kill the worker that sent the k-th `started` (1-based, as the supervisor sees them). */
  killAfterStarts?: readonly number[];
  /** Kill worker `worker` (by id) at virtual time `time`, whatever it is doing (even collecting). */
  killAt?: readonly { time: number; worker: WorkerId }[];
  /** Stop the run (maxfail, Ctrl-C) right after the supervisor sees the k-th `started`. */
  stopAfterStarts?: number;
  /** Give up (a livelock) after this many events (default 200_000). */
  maxEvents?: number;
  /**
   * Feed `retry` for each test blamed on a pool worker, before its `worker_lost` (as the run loop
   * does when the result book asks for an isolated retry), and carry out `start_isolated`.
   */
  retryBlamed?: boolean;
  /** Kill the isolated worker of this test once it has started it (the test crashes alone). */
  crashesAlone?: (index: number) => boolean;
  /** Admission: what running tests may use together, and what each test needs. */
  capacity?: Capacity;
  demands?: readonly TestDemand[];
  /** Idle memory of every worker (default 0). */
  baselineBytes?: number;
}

/** One isolated retry as it went: the fresh worker, and how its run of the test ended. */
export interface IsolatedRun {
  index: number;
  worker: WorkerId;
  /** passed: ran and finished; crashed: its worker died in it; not_started: stopped before it ran. */
  end: 'passed' | 'crashed' | 'not_started';
}

export interface PairRun {
  index: number;
  next: number | null;
}

export interface SimResult {
  /** How many times each test was started (pytest's logstart), by index. */
  startCount: number[];
  /** How many times each test finished, by index. */
  finishCount: number[];
  /** The worker that started each test (last one), by index; -1 when never started. */
  ranOn: WorkerId[];
  /** Per worker, the (item, nextitem) pairs its pytest ran, in order. */
  pairs: Map<WorkerId, PairRun[]>;
  blamed: { worker: WorkerId; index: number }[];
  notRun: number[];
  schedulerDone: boolean;
  stopped: boolean;
  /** Virtual time when the last worker exited. */
  makespan: number;
  /** How many commands of each type the scheduler issued. */
  commandCounts: Record<SchedulerCommand['type'], number>;
  /** Steals the victim answered with fewer tests than asked (they had started or were nextitem). */
  stealsAnsweredShort: number;
  /** Kills that hit a worker in the middle of a test (the others hit it between tests). */
  killsMidTest: number;
  /** Kills that lost a buffered `finished` line: the supervisor blames a test that had ended. */
  killsLosingFinished: number;
  /** Workers ever started. */
  workersStarted: number;
  events: number;
  /** Tests named by `start_isolated`, in order. */
  isolatedStarts: number[];
  /** Every isolated worker that was ready, and how its test ended. */
  isolatedRuns: IsolatedRun[];
  /** The most tests that ran at the same moment. */
  maxConcurrent: number;
  /** For each test start: which tests were running at that moment (itself included). */
  overlaps: number[][];
}

// -- the fake worker (python/bulkhead_pytest/run_queue.py + worker.py) ----------------------------

type WorkerCmd =
  | { type: 'run'; indices: number[] }
  | { type: 'steal'; indices: number[] }
  | { type: 'finish' }
  | { type: 'flush' }
  | { type: 'stop' };

type WorkerMsg =
  | { type: 'ready' }
  | { type: 'started'; index: number }
  | { type: 'finished'; index: number }
  | { type: 'stolen'; indices: number[] }
  | { type: 'exit' };

class FakeWorker {
  /** starting: collecting; alive: session running; ended: session over, exit sent; dead: killed. */
  process: 'starting' | 'alive' | 'ended' | 'dead' = 'starting';
  // RunQueue
  pending: number[] = [];
  committed: number | null = null;
  finishing = false;
  flushing = false;
  stopping = false;
  // the test loop: idle = waiting on the condition; woken = a next_pair() attempt is scheduled
  loop: 'idle' | 'woken' | 'testing' = 'idle';
  current: number | null = null;
  /** Lines written but not yet flushed to the channel (channel.py's `_pending`). */
  buffer: WorkerMsg[] = [];
  /** The test the supervisor has been told is running: `started` flushed, `finished` not. */
  reportedRunning: number | null = null;
  /** nextitem of the last item pytest ran (undefined before the first). */
  lastNext: number | null | undefined = undefined;
  pairs: PairRun[] = [];
  // channels
  downAt = 0;
  upAt = 0;

  constructor(readonly id: WorkerId) {}
}

/** The run loop's record of a worker (src/runner/worker-slot.ts). */
interface Slot {
  id: WorkerId;
  state: 'starting' | 'ready' | 'finishing' | 'exited';
  assigned: number[];
  running: number | null;
  /** When killed: the test the worker had said was running (its `started` out, `finished` not). */
  expectBlame: number | null | undefined;
  /** The test this fresh worker was started to retry alone, or null for a pool worker. */
  isolatedFor: number | null;
  /** An isolated worker's test: whether it started and whether it finished. */
  isolatedStarted: boolean;
  isolatedFinished: boolean;
  /** It sent `ready` (a worker killed while collecting never did). */
  readySeen: boolean;
}

interface Event {
  time: number;
  seq: number;
  run: () => void;
}

// -- the simulation --------------------------------------------------------------------------------

export function simulate(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly random: () => number;
  private readonly scheduler: Scheduler;
  private readonly tests: readonly TestInfo[];
  private readonly latency: number;
  private readonly startup: number;
  private readonly duration: (index: number) => number;
  private readonly events: Event[] = [];
  private seq = 0;
  private now = 0;
  private eventCount = 0;

  private readonly workers = new Map<WorkerId, FakeWorker>();
  private readonly slots = new Map<WorkerId, Slot>();
  private nextId = 1;
  private collected = false;
  private stopped = false;
  private startsSeen = 0;
  private lastExit = 0;

  /** Where each test is, as far as the scheduler's commands say: queue, held by a worker, or gone. */
  private readonly location: (string | WorkerId)[];
  private readonly startCount: number[];
  private readonly finishCount: number[];
  private readonly ranOn: WorkerId[];
  private readonly blamed: { worker: WorkerId; index: number }[] = [];
  private readonly abandoned = new Set<number>();
  private readonly commandCounts: Record<SchedulerCommand['type'], number> = {
    assign: 0,
    steal: 0,
    finish: 0,
    flush: 0,
    stop: 0,
    blame: 0,
    start_worker: 0,
    start_isolated: 0,
  };
  private readonly isolatedStarts: number[] = [];
  private readonly isolatedRuns: IsolatedRun[] = [];
  private stealInFlight: WorkerId | null = null;
  private stealAsked = 0;
  private stealsAnsweredShort = 0;
  private killsMidTest = 0;
  private killsLosingFinished = 0;

  constructor(private readonly options: SimOptions) {
    this.random = rng(options.seed);
    this.scheduler = new Scheduler({ poolSize: options.workers, capacity: options.capacity });
    this.tests = options.tests;
    this.latency = options.latency ?? 0.05;
    this.startup = options.startup ?? 2;
    const durations = options.tests.map(() => 0.5 + this.random());
    this.duration = options.duration ?? ((index) => durations[index]!);
    this.location = options.tests.map(() => 'queue');
    this.startCount = options.tests.map(() => 0);
    this.finishCount = options.tests.map(() => 0);
    this.ranOn = options.tests.map(() => -1);
  }

  run(): SimResult {
    for (let i = 0; i < this.options.workers; i += 1) this.startWorker();
    for (const kill of this.options.killAt ?? []) this.at(kill.time, () => this.kill(kill.worker));
    const maxEvents = this.options.maxEvents ?? 200_000;
    while (this.events.length > 0) {
      if (++this.eventCount > maxEvents) {
        this.fail(`no end after ${maxEvents} events (livelock?); ${this.describe()}`);
      }
      const event = this.popEvent();
      this.now = event.time;
      event.run();
    }
    // isDone() first: notRun() drains what is still queued.
    const schedulerDone = this.scheduler.isDone();
    const notRun = this.checkEnd();
    const pairs = new Map<WorkerId, PairRun[]>();
    for (const worker of this.workers.values()) pairs.set(worker.id, worker.pairs);
    return {
      startCount: this.startCount,
      finishCount: this.finishCount,
      ranOn: this.ranOn,
      pairs,
      blamed: this.blamed,
      notRun,
      schedulerDone,
      stopped: this.stopped,
      makespan: this.lastExit,
      commandCounts: this.commandCounts,
      stealsAnsweredShort: this.stealsAnsweredShort,
      killsMidTest: this.killsMidTest,
      killsLosingFinished: this.killsLosingFinished,
      workersStarted: this.nextId - 1,
      events: this.eventCount,
      isolatedStarts: this.isolatedStarts,
      isolatedRuns: this.isolatedRuns,
      maxConcurrent: this.maxConcurrent,
      overlaps: this.overlaps,
    };
  }

  // -- event queue ---------------------------------------------------------------------------------

  private at(time: number, run: () => void): void {
    const event = { time, seq: this.seq++, run };
    // Binary insertion keeps the queue sorted by (time, seq).
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.events[mid]!;
      if (other.time < time || (other.time === time && other.seq < event.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.events.splice(lo, 0, event);
  }

  private popEvent(): Event {
    return this.events.shift()!;
  }

  private jitter(): number {
    return this.random() * this.latency;
  }

  private maxConcurrent = 0;
  private readonly overlaps: number[][] = [];

  /**
   * At every test start, the tests running at once must fit the capacity by the demands the
   * scheduler was given: memory, CPU slots, tokens, exclusivity. One test alone always may run.
   */
  private checkAdmission(): void {
    const running = [...this.workers.values()].filter((w) => w.process === 'alive' && w.current !== null).map((w) => w.current!);
    this.maxConcurrent = Math.max(this.maxConcurrent, running.length);
    this.overlaps.push(running);
    const capacity = this.options.capacity;
    const demands = this.options.demands;
    if (!capacity || !demands || running.length < 2) return;
    const of = running.map((index) => demands[index]!);
    if (capacity.memoryBytes !== null) {
      const total = of.reduce((sum, d) => sum + d.memoryBytes + (this.options.baselineBytes ?? 0), 0);
      if (total > capacity.memoryBytes) this.fail(`running [${running.join(',')}] need ${total} bytes > budget ${capacity.memoryBytes}`);
    }
    const cpus = of.reduce((sum, d) => sum + (d.exclusive ? capacity.cpus : Math.min(d.cpus, capacity.cpus)), 0);
    if (cpus > capacity.cpus) this.fail(`running [${running.join(',')}] take ${cpus} CPU slots > ${capacity.cpus}`);
    const tokens = new Map<string, number>();
    for (const d of of) for (const [name, n] of Object.entries(d.resources)) tokens.set(name, (tokens.get(name) ?? 0) + n);
    for (const [name, n] of tokens) {
      if (n > (capacity.resources[name] ?? 1)) this.fail(`running [${running.join(',')}] hold ${n} of ${name} > ${capacity.resources[name]}`);
    }
  }

  private fail(message: string): never {
    throw new SimError(`[seed ${this.options.seed}, t=${this.now.toFixed(3)}] ${message}`);
  }

  private describe(): string {
    const parts: string[] = [];
    for (const w of this.workers.values()) {
      parts.push(
        `w${w.id}{${w.process} loop=${w.loop} pending=[${w.pending.join(',')}] committed=${w.committed} ` +
          `finishing=${w.finishing} stopping=${w.stopping} current=${w.current}}`,
      );
    }
    parts.push(`queued=${this.scheduler.queuedCount()} commands=${JSON.stringify(this.commandCounts)}`);
    return parts.join(' ');
  }

  // -- channels ------------------------------------------------------------------------------------

  /** Supervisor -> worker, FIFO per worker. */
  private sendDown(worker: FakeWorker, cmd: WorkerCmd): void {
    worker.downAt = Math.max(worker.downAt, this.now + this.jitter());
    this.at(worker.downAt, () => this.onCommand(worker, cmd));
  }

  /** channel.send(): buffered, and with `flush` everything buffered is written, in order. */
  private send(worker: FakeWorker, msg: WorkerMsg, flush = true): void {
    worker.buffer.push(msg);
    if (flush) this.flush(worker);
  }

  private flush(worker: FakeWorker): void {
    for (const msg of worker.buffer) {
      if (msg.type === 'started') worker.reportedRunning = msg.index;
      if (msg.type === 'finished') worker.reportedRunning = null;
      this.sendUp(worker, msg);
    }
    worker.buffer = [];
  }

  /** Worker -> supervisor, FIFO per worker. */
  private sendUp(worker: FakeWorker, msg: WorkerMsg): void {
    const latency = this.options.upLatency?.(worker.id) ?? this.latency;
    worker.upAt = Math.max(worker.upAt, this.now + this.random() * latency);
    this.at(worker.upAt, () => this.onMessage(worker.id, msg));
  }

  // -- worker side ---------------------------------------------------------------------------------

  private startWorker(isolatedFor: number | null = null): void {
    const id = this.nextId++;
    const worker = new FakeWorker(id);
    this.workers.set(id, worker);
    this.slots.set(id, {
      id,
      state: 'starting',
      assigned: [],
      running: null,
      expectBlame: undefined,
      isolatedFor,
      isolatedStarted: false,
      isolatedFinished: false,
      readySeen: false,
    });
    const startup = this.options.startupOf?.(id) ?? this.random() * this.startup;
    this.at(this.now + startup, () => {
      if (worker.process !== 'starting') return;
      worker.process = 'alive';
      this.send(worker, { type: 'ready' });
    });
  }

  /** The reader thread (WorkerSession._read_commands). */
  private onCommand(worker: FakeWorker, cmd: WorkerCmd): void {
    if (worker.process !== 'alive') return; // the process is gone (or going): nobody reads
    switch (cmd.type) {
      case 'run':
        worker.pending.push(...cmd.indices);
        this.wake(worker);
        return;
      case 'steal': {
        const wanted = new Set(cmd.indices);
        const given = worker.pending.filter((index) => wanted.has(index) && index !== worker.committed);
        worker.pending = worker.pending.filter((index) => !given.includes(index));
        this.send(worker, { type: 'stolen', indices: given });
        return;
      }
      case 'finish':
        worker.finishing = true;
        this.wake(worker);
        return;
      case 'flush':
        worker.flushing = true;
        this.wake(worker);
        return;
      case 'stop': {
        worker.stopping = true;
        const dropped = worker.pending;
        worker.pending = [];
        this.send(worker, { type: 'stolen', indices: dropped });
        this.wake(worker);
        return;
      }
    }
  }

  /** `self._cond.notify()`: the test thread, if it waits, tries next_pair() again a bit later. */
  private wake(worker: FakeWorker): void {
    if (worker.loop !== 'idle') return;
    worker.loop = 'woken';
    this.at(this.now + this.jitter(), () => this.nextPair(worker));
  }

  /** The test loop (pytest_runtestloop + RunQueue.next_pair), one attempt. */
  private nextPair(worker: FakeWorker): void {
    if (worker.process !== 'alive' || worker.loop !== 'woken') return;
    if (worker.stopping) return this.endSession(worker);
    if (worker.pending.length >= 2 || (worker.pending.length > 0 && (worker.finishing || worker.flushing))) {
      worker.flushing = false;
      const index = worker.pending.shift()!;
      const next = worker.pending[0] ?? null;
      worker.committed = next;
      if (worker.lastNext !== undefined && worker.lastNext !== null && worker.lastNext !== index) {
        this.fail(`w${worker.id} ran ${index} but told pytest the next item was ${worker.lastNext}`);
      }
      worker.lastNext = next;
      worker.pairs.push({ index, next });
      worker.current = index;
      this.checkAdmission();
      worker.loop = 'testing';
      // pytest_runtest_logstart comes a moment after the pop: the reader may act in between.
      this.at(this.now + this.jitter(), () => {
        if (worker.process !== 'alive') return;
        this.send(worker, { type: 'started', index });
        const slowdown = this.options.slowdown?.(worker.id) ?? 1;
        this.at(this.now + this.duration(index) * slowdown, () => {
          if (worker.process !== 'alive') return;
          this.send(worker, { type: 'finished', index }, false);
          worker.current = null;
          worker.loop = 'woken';
          this.at(this.now, () => this.nextPair(worker));
        });
      });
      return;
    }
    if (worker.pending.length === 0 && worker.finishing) return this.endSession(worker);
    this.flush(worker); // before_wait
    worker.loop = 'idle'; // cond.wait()
  }

  private endSession(worker: FakeWorker): void {
    if (!worker.stopping && worker.lastNext !== undefined && worker.lastNext !== null) {
      this.fail(`w${worker.id} ended its session, but pytest was told ${worker.lastNext} comes next`);
    }
    worker.process = 'ended';
    worker.loop = 'idle';
    this.send(worker, { type: 'exit' }); // 'done' flushes, then the process exits
  }

  private kill(id: WorkerId): void {
    const worker = this.workers.get(id);
    if (!worker || worker.process === 'ended' || worker.process === 'dead') return;
    const slot = this.slots.get(id)!;
    // The supervisor will see every line the worker wrote before it died, then the exit.
    slot.expectBlame = worker.reportedRunning;
    if (worker.current !== null && worker.current === worker.reportedRunning) this.killsMidTest += 1;
    if (worker.buffer.some((msg) => msg.type === 'finished')) this.killsLosingFinished += 1;
    worker.process = 'dead';
    worker.pending = [];
    worker.buffer = [];
    worker.upAt = Math.max(worker.upAt, this.now + this.jitter());
    this.at(worker.upAt, () => this.onMessage(id, { type: 'exit' }));
  }

  // -- supervisor side (the run loop) --------------------------------------------------------------

  private onMessage(id: WorkerId, msg: WorkerMsg): void {
    this.handleMessage(id, msg);
    // Like the worker pool, an isolated start waits until every other worker process has ended.
    if (msg.type === 'exit') this.startPendingIsolated();
  }

  private pendingIsolated: number | null = null;

  private startPendingIsolated(): void {
    const index = this.pendingIsolated;
    if (index === null || this.stopped) return;
    if ([...this.slots.values()].some((s) => s.state !== 'exited')) return;
    this.pendingIsolated = null;
    for (const worker of this.workers.values()) {
      if (worker.process === 'alive' || worker.process === 'starting') this.fail(`start_isolated while w${worker.id} is ${worker.process}`);
    }
    this.location[index] = 'retry_starting';
    this.isolatedStarts.push(index);
    this.startWorker(index);
  }

  private handleMessage(id: WorkerId, msg: WorkerMsg): void {
    const slot = this.slots.get(id)!;
    switch (msg.type) {
      case 'ready':
        if (!this.collected) {
          this.collected = true;
          this.apply({ type: 'collected', tests: this.tests, demands: this.options.demands });
        }
        if (this.stopped) {
          this.carryOut({ type: 'stop', worker: id });
          return;
        }
        slot.state = 'ready';
        slot.readySeen = true;
        if (slot.isolatedFor !== null) {
          this.apply({ type: 'worker_ready', worker: id, isolatedFor: slot.isolatedFor, baselineBytes: this.options.baselineBytes ?? 0 });
          return;
        }
        this.apply({ type: 'worker_ready', worker: id, baselineBytes: this.options.baselineBytes ?? 0 });
        return;
      case 'started': {
        const at = slot.assigned.indexOf(msg.index);
        if (at < 0) this.fail(`w${id} started ${msg.index}, which it was not given`);
        slot.assigned.splice(at, 1);
        slot.running = msg.index;
        if (slot.isolatedFor !== null) {
          // A retry alone: counted apart from the test's first run.
          if (msg.index !== slot.isolatedFor) this.fail(`isolated w${id} for ${slot.isolatedFor} started ${msg.index}`);
          if (slot.isolatedStarted) this.fail(`isolated w${id} started its test twice`);
          slot.isolatedStarted = true;
          this.location[msg.index] = 'retry_running';
          this.apply({ type: 'test_started', worker: id, index: msg.index });
          if (this.options.crashesAlone?.(msg.index)) this.kill(id);
          return;
        }
        this.startCount[msg.index]! += 1;
        if (this.startCount[msg.index]! > 1) this.fail(`test ${msg.index} started twice`);
        if (this.location[msg.index] !== id) this.fail(`w${id} started ${msg.index}, held by ${this.location[msg.index]}`);
        this.location[msg.index] = 'started';
        this.ranOn[msg.index] = id;
        this.startsSeen += 1;
        this.apply({ type: 'test_started', worker: id, index: msg.index });
        if (this.options.killAfterStarts?.includes(this.startsSeen)) this.kill(id);
        if (this.options.stopAfterStarts === this.startsSeen) this.stopRun();
        return;
      }
      case 'finished':
        if (slot.running !== msg.index) this.fail(`w${id} finished ${msg.index}, which was not running`);
        slot.running = null;
        if (slot.isolatedFor !== null) {
          slot.isolatedFinished = true;
          this.location[msg.index] = 'retried';
          this.apply({ type: 'test_finished', worker: id, index: msg.index });
          return;
        }
        this.finishCount[msg.index]! += 1;
        this.apply({ type: 'test_finished', worker: id, index: msg.index });
        return;
      case 'stolen':
        for (const index of msg.indices) {
          const at = slot.assigned.indexOf(index);
          if (at < 0) this.fail(`w${id} gave back ${index}, which it did not hold`);
          slot.assigned.splice(at, 1);
          this.location[index] = this.stopped ? 'abandoned' : 'queue';
          if (this.stopped) this.abandoned.add(index);
        }
        if (this.stealInFlight === id) {
          this.stealInFlight = null;
          if (msg.indices.length < this.stealAsked) this.stealsAnsweredShort += 1;
        }
        this.apply({ type: 'returned', worker: id, indices: msg.indices });
        return;
      case 'exit': {
        slot.state = 'exited';
        this.lastExit = Math.max(this.lastExit, this.now);
        const running = slot.running;
        if (slot.expectBlame !== undefined && slot.expectBlame !== running) {
          this.fail(`w${id} died in ${slot.expectBlame}, but the supervisor thinks ${running} was running`);
        }
        if (slot.expectBlame === undefined && running !== null) {
          this.fail(`w${id} ended its session normally while ${running} was running`);
        }
        if (this.stealInFlight === id) this.stealInFlight = null;
        if (slot.isolatedFor !== null) return this.isolatedExit(slot, running);
        if (running !== null && this.options.retryBlamed) {
          // The run loop settles the blame first: the book asks for a retry, then the loss is fed.
          const early = this.scheduler.handle({ type: 'retry', index: running });
          if (early.length > 0) this.fail(`retry of ${running} while w${id} is not yet lost: ${JSON.stringify(early)}`);
        }
        const commands = this.scheduler.handle({ type: 'worker_lost', worker: id });
        const blames = commands.filter((c) => c.type === 'blame');
        if (running !== null) {
          if (blames.length !== 1 || blames[0]!.index !== running || blames[0]!.worker !== id) {
            this.fail(`w${id} was lost running ${running}; the scheduler blamed ${JSON.stringify(blames)}`);
          }
          this.blamed.push({ worker: id, index: running });
          this.location[running] = this.options.retryBlamed ? (this.stopped ? 'abandoned' : 'retry_pending') : 'blamed';
          if (this.options.retryBlamed && this.stopped) this.abandoned.add(running);
          slot.running = null;
        } else if (blames.length > 0) {
          this.fail(`w${id} was lost running nothing; the scheduler blamed ${JSON.stringify(blames)}`);
        }
        for (const index of slot.assigned) {
          this.location[index] = this.stopped ? 'abandoned' : 'queue';
          if (this.stopped) this.abandoned.add(index);
        }
        slot.assigned = [];
        for (const command of commands) if (command.type !== 'blame') this.carryOut(command);
        return;
      }
    }
  }

  /** An isolated worker is gone: its test crashed alone, passed, or never ran. */
  private isolatedExit(slot: Slot, running: number | null): void {
    const index = slot.isolatedFor!;
    const commands = this.scheduler.handle({ type: 'worker_lost', worker: slot.id });
    const blames = commands.filter((c) => c.type === 'blame');
    if (running !== null) {
      if (blames.length !== 1 || blames[0]!.index !== running || blames[0]!.worker !== slot.id) {
        this.fail(`isolated w${slot.id} was lost running ${running}; the scheduler blamed ${JSON.stringify(blames)}`);
      }
      // The result book settles it (crashes alone): no further retry.
      this.location[running] = 'crashed_alone';
      this.isolatedRuns.push({ index, worker: slot.id, end: 'crashed' });
      slot.running = null;
    } else {
      if (blames.length > 0) this.fail(`isolated w${slot.id} was lost running nothing; the scheduler blamed ${JSON.stringify(blames)}`);
      if (slot.readySeen) this.isolatedRuns.push({ index, worker: slot.id, end: slot.isolatedFinished ? 'passed' : 'not_started' });
    }
    if (!slot.isolatedStarted && this.location[index] === slot.id) {
      // It died holding its test unstarted: the retry is still owed, alone, unless the run stopped.
      if (this.stopped) {
        this.location[index] = 'abandoned';
        this.abandoned.add(index);
      } else {
        this.location[index] = 'retry_pending';
      }
    }
    slot.assigned = [];
    for (const command of commands) if (command.type !== 'blame') this.carryOut(command);
    if (!slot.readySeen && !this.stopped && this.location[index] === 'retry_starting') {
      // Like the pool: an isolated worker that never got ready is started again for the same test.
      this.startWorker(index);
    }
  }

  private stopRun(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (let i = 0; i < this.location.length; i += 1) {
      if (this.location[i] === 'queue' || this.location[i] === 'retry_pending' || this.location[i] === 'retry_starting') {
        this.location[i] = 'abandoned';
        this.abandoned.add(i);
      }
    }
    this.apply({ type: 'stop' });
    // Workers still collecting have nothing to finish: the run loop stops and kills them.
    for (const slot of this.slots.values()) {
      if (slot.state === 'starting') this.kill(slot.id);
    }
  }

  private apply(input: SchedulerInput): void {
    const commands = this.scheduler.handle(input);
    this.checkBatch(commands);
    for (const command of commands) this.carryOut(command);
  }

  /** Properties of one handle() answer. */
  private checkBatch(commands: readonly SchedulerCommand[]): void {
    const assigned = new Map<number, WorkerId>();
    for (const command of commands) {
      if (command.type === 'assign') for (const index of command.indices) assigned.set(index, command.worker);
      if (command.type === 'steal') {
        for (const index of command.indices) {
          if (assigned.get(index) === command.worker) {
            this.fail(`one answer both assigns ${index} to w${command.worker} and steals it back`);
          }
        }
      }
    }
  }

  private carryOut(command: SchedulerCommand): void {
    this.commandCounts[command.type] += 1;
    switch (command.type) {
      case 'assign': {
        const slot = this.slots.get(command.worker);
        if (!slot || slot.state !== 'ready') this.fail(`assign to w${command.worker} in state ${slot?.state}`);
        if (this.stopped) this.fail('assign after stop');
        if (command.indices.length === 0) this.fail('empty assign');
        for (const index of command.indices) {
          const from = slot.isolatedFor !== null ? 'retry_starting' : 'queue';
          if (slot.isolatedFor !== null && index !== slot.isolatedFor) this.fail(`isolated w${command.worker} for ${slot.isolatedFor} assigned ${index}`);
          if (this.location[index] !== from) {
            this.fail(`assign of ${index} to w${command.worker}, but it is at ${this.location[index]}`);
          }
          this.location[index] = command.worker;
        }
        slot.assigned.push(...command.indices);
        this.sendDown(this.workers.get(command.worker)!, { type: 'run', indices: command.indices });
        return;
      }
      case 'steal': {
        const slot = this.slots.get(command.worker);
        if (!slot || slot.state === 'exited') this.fail(`steal from w${command.worker} in state ${slot?.state}`);
        if (this.stealInFlight !== null) this.fail(`steal from w${command.worker} while one is in flight`);
        if (command.indices.length === 0) this.fail('empty steal');
        for (const index of command.indices) {
          if (this.location[index] !== command.worker) this.fail(`steal of ${index}, held by ${this.location[index]}`);
        }
        // Never the head: it may be running already, or be pytest's nextitem.
        if (command.indices.includes(slot.assigned[0]!)) {
          this.fail(`steal of w${command.worker}'s head ${slot.assigned[0]} (holds [${slot.assigned.join(',')}])`);
        }
        // The victim keeps two, so that it does not turn hungry and steal them straight back; with
        // history, an empty thief may take the second of two (it holds nothing to steal back).
        const keep = this.options.demands?.some((demand) => demand.durationSeconds != null) ? 1 : 2;
        if (slot.assigned.length - command.indices.length < keep) {
          this.fail(`steal of ${command.indices.length} from w${command.worker} holding [${slot.assigned.join(',')}]`);
        }
        this.stealInFlight = command.worker;
        this.stealAsked = command.indices.length;
        this.sendDown(this.workers.get(command.worker)!, { type: 'steal', indices: command.indices });
        return;
      }
      case 'finish':
      case 'stop': {
        const slot = this.slots.get(command.worker);
        if (!slot || slot.state === 'exited') return;
        if (command.type === 'finish' && slot.state !== 'ready') this.fail(`finish to w${command.worker} in ${slot.state}`);
        slot.state = 'finishing';
        this.sendDown(this.workers.get(command.worker)!, { type: command.type });
        return;
      }
      case 'flush': {
        const slot = this.slots.get(command.worker);
        if (!slot || slot.state !== 'ready') this.fail(`flush to w${command.worker} in state ${slot?.state}`);
        if (slot.running !== null || slot.assigned.length !== 1) {
          this.fail(`flush to w${command.worker} running ${slot.running} holding [${slot.assigned.join(',')}]`);
        }
        this.sendDown(this.workers.get(command.worker)!, { type: 'flush' });
        return;
      }
      case 'blame':
        this.fail(`blame outside a loss: ${JSON.stringify(command)}`);
        return;
      case 'start_worker': {
        const live = [...this.slots.values()].filter((s) => s.state === 'starting' || s.state === 'ready').length;
        if (live < this.options.workers && !this.stopped) this.startWorker();
        return;
      }
      case 'start_isolated': {
        if (!this.options.retryBlamed) this.fail(`start_isolated of ${command.index} without any retry`);
        if (this.stopped) this.fail(`start_isolated of ${command.index} after stop`);
        if (this.scheduler.queuedCount() > 0) this.fail(`start_isolated with ${this.scheduler.queuedCount()} queued`);
        if (this.location[command.index] !== 'retry_pending') this.fail(`start_isolated of ${command.index}, which is at ${this.location[command.index]}`);
        if (this.pendingIsolated !== null) this.fail(`start_isolated of ${command.index} while ${this.pendingIsolated} waits to start`);
        this.pendingIsolated = command.index;
        this.startPendingIsolated();
        return;
      }
    }
  }

  // -- the end -------------------------------------------------------------------------------------

  private checkEnd(): number[] {
    for (const worker of this.workers.values()) {
      if (worker.process === 'alive') this.fail(`w${worker.id} waits forever: ${this.describe()}`);
    }
    if (!this.stopped && !this.scheduler.isDone()) this.fail(`all workers exited but the scheduler is not done: ${this.describe()}`);
    if (this.stealInFlight !== null) this.fail(`a steal from w${this.stealInFlight} was never answered`);
    for (let i = 0; i < this.tests.length; i += 1) {
      const where = this.location[i];
      if (where !== 'started' && where !== 'blamed' && where !== 'abandoned' && where !== 'retried' && where !== 'crashed_alone') {
        this.fail(`test ${i} ended at ${where}`);
      }
      if (where === 'started' && this.finishCount[i] !== 1) this.fail(`test ${i} started but never finished`);
    }
    const notRun = this.scheduler.notRun();
    const sorted = [...notRun].sort((a, b) => a - b);
    const expected = [...this.abandoned].sort((a, b) => a - b);
    if (JSON.stringify(sorted) !== JSON.stringify(expected)) {
      this.fail(`notRun() is [${sorted.join(',')}], expected [${expected.join(',')}]`);
    }
    return notRun;
  }
}
