/**
 * The pure scheduler: the one owner of "which test runs where". The run loop feeds it one fact at
 * a time (`handle`) and carries out the commands it returns. It never touches a process, a timer
 * or the clock, so it is unit-tested by feeding inputs and reading commands.
 *
 * Each worker keeps a small local queue: pytest runs a test only once it knows the next one
 * (`nextitem` decides which fixtures tear down), so a worker needs two unstarted tests to keep
 * going. When the central queue is empty, a hungry worker steals from another's local queue
 * (steal.ts); the victim answers with what it actually gave up (steal-flight.ts).
 *
 * With durations from history (longest-first.ts), the queue is ordered longest first, and a long
 * test is handed out only to a worker that runs nothing, so it starts at once (behind at most one
 * short test, its predecessor) on whichever worker is free first, as in an LPT schedule; a busy
 * worker takes nothing while a long test waits. In the tail, a worker that ran out waits for
 * stealable work instead of ending (its lone test runs alone, `flush`), and takes even the second
 * of two tests another worker holds. Without history, all of this is off: today's order and steals.
 *
 * Admission (admission.ts) decides which queued tests a worker may take so that the tests that
 * can run at once fit the memory budget, the CPU slots and the resource tokens: a test that does
 * not fit waits and one that fits goes first. A worker that can take nothing waits (it is fed
 * again whenever anything changes); one holding a lone test that no successor can join is told
 * to run it on its own (`flush`), since pytest would otherwise wait for a successor forever.
 *
 * A crashed test runs again alone once nothing else runs (retry-book.ts, which also keeps the
 * tests that will not run because the run stopped).
 */
import type { TestInfo, WorkerId } from '../model/test.js';
import { Admission } from './admission.js';
import { holdOf, holdsExcept, scopeOrder } from './pool-view.js';
import { GROUP_PREFIX, pickChunk } from './chunk.js';
import { idleGate, planQueue, type ChunkGate, type QueuePlan } from './longest-first.js';
import { RetryBook } from './retry-book.js';
import { LOW_WATER } from './steal.js';
import { StealFlight, waitForTail } from './steal-flight.js';
import { describeStall, newWorker, type WorkerState } from './worker-state.js';
import { ScopeQueue } from './scope-queue.js';
import type { Capacity, SchedulerCommand, SchedulerInput, SchedulerOptions, TestDemand } from './types.js';
import { assertNever } from '../model/assert-never.js';
import { defaultDemand, learnPeak } from './demands.js';

export class Scheduler {
  private readonly options: SchedulerOptions;
  private tests: readonly TestInfo[] = [];
  private queue = new ScopeQueue([]);
  private readonly workers = new Map<WorkerId, WorkerState>();
  private readonly steal = new StealFlight();
  /** With history: the longest-first plan; null: today's order. */
  private plan: QueuePlan | null = null;
  private stopped = false;
  private collected = false;
  private readonly retries = new RetryBook();
  private readonly capacity: Capacity;
  private demands: TestDemand[] = [];
  private admission: Admission;
  private pressureHold = false;

  constructor(options: SchedulerOptions) {
    this.options = options;
    this.capacity = options.capacity ?? { memoryBytes: null, cpus: options.poolSize, resources: {} };
    this.admission = new Admission(this.capacity, []);
  }

  handle(input: SchedulerInput): SchedulerCommand[] {
    const out: SchedulerCommand[] = [];
    this.steal.nextInput();
    switch (input.type) {
      case 'collected':
        this.tests = input.tests;
        this.demands = input.tests.map((test, index) => ({ ...(input.demands?.[index] ?? defaultDemand(test.id)) }));
        this.admission = new Admission(this.capacity, this.demands);
        const keys = input.tests.map((test, index) => {
          const group = this.demands[index]!.group;
          return group !== null ? GROUP_PREFIX + group : test.scope;
        });
        this.plan = planQueue(keys, this.demands.map((demand) => demand.durationSeconds ?? null), this.options.poolSize);
        this.queue = new ScopeQueue(this.plan?.keys ?? keys, this.plan?.long ?? []);
        this.queue.pushBack(this.plan?.order ?? input.tests.map((_, index) => index));
        this.collected = true;
        this.feedAll(out);
        break;
      case 'worker_ready':
        if (input.isolatedFor !== undefined) {
          this.startIsolated(input.worker, input.isolatedFor, out);
          break;
        }
        this.workers.set(input.worker, newWorker('active', null, input.baselineBytes));
        if (this.stopped) {
          this.stopWorker(input.worker, out);
        } else {
          this.feedAll(out);
        }
        break;
      case 'test_started': {
        const worker = this.workers.get(input.worker);
        if (!worker) break;
        const at = worker.assigned.indexOf(input.index);
        if (at >= 0) worker.assigned.splice(at, 1);
        worker.running = input.index;
        worker.flushing = false;
        this.feed(input.worker, out);
        break;
      }
      case 'test_finished': {
        const worker = this.workers.get(input.worker);
        if (!worker) break;
        if (worker.running === input.index) worker.running = null;
        if (input.residentBytes != null) worker.baselineBytes = input.residentBytes;
        if (input.peakBytes != null) learnPeak(this.demands, input.index, input.peakBytes);
        this.feed(input.worker, out);
        break;
      }
      case 'pressure':
        this.pressureHold = input.hold;
        break;
      case 'recycle': {
        // A finishing worker too: it was told no more work would come, yet it may still hold
        // several unstarted tests (its last chunk), and each would leak on top of the rest.
        const phase = this.workers.get(input.worker)?.phase;
        if (phase === 'active' || phase === 'finishing') {
          this.stopWorker(input.worker, out);
          this.replenishPool(out);
        }
        break;
      }
      case 'returned':
        this.takeBack(input.worker, input.indices, out);
        break;
      case 'worker_lost':
        this.loseWorker(input.worker, out);
        break;
      case 'retry':
        this.retries.add(input.index, this.stopped);
        break;
      case 'stop':
        this.stopped = true;
        this.retries.abandon(this.queue.drain());
        this.retries.stop(this.workers);
        for (const id of this.workers.keys()) this.stopWorker(id, out);
        break;
      default:
        assertNever(input);
    }
    this.feedBlocked(out);
    this.maybeStartRetry(out);
    return out;
  }

  /** Nothing queued, nothing held or running anywhere, no steal in flight. */
  isDone(): boolean {
    if (!this.collected) return false;
    if (this.queue.size > 0 || this.steal.victim !== null) return false;
    if (this.retries.owed) return false;
    for (const worker of this.workers.values()) {
      if (worker.assigned.length > 0 || worker.running !== null) return false;
    }
    return true;
  }

  /** Tests that can no longer run because the run stopped, plus any still queued. */
  notRun(): number[] {
    return this.retries.notRun(this.queue.drain());
  }

  queuedCount(): number {
    return this.queue.size;
  }

  /** The test a worker is running now, as the scheduler was told (`test_started`). */
  runningOn(worker: WorkerId): number | null {
    return this.workers.get(worker)?.running ?? null;
  }

  /** The tests handed to a worker and not started yet, in the order it will run them. */
  heldBy(worker: WorkerId): readonly number[] {
    return this.workers.get(worker)?.assigned ?? [];
  }

  /**
   * Tests are queued, workers are known, and none of them runs a test: nothing will start until
   * something changes. Returns what each worker holds and why it waits, for the run to report
   * when this lasts; null when work is moving.
   */
  stallReport(): string | null {
    if (!this.collected || this.stopped || this.queue.size === 0 || this.workers.size === 0) return null;
    for (const worker of this.workers.values()) if (worker.running !== null) return null;
    return describeStall(this.queue.size, this.pressureHold, this.steal.victim, this.workers);
  }

  // -- feeding ---------------------------------------------------------------------------------

  /** Workers holding one test first: a successor lets that test start. */
  private feedAll(out: SchedulerCommand[]): void {
    const ids = [...this.workers.keys()];
    ids.sort((a, b) => Number(this.workers.get(b)!.assigned.length === 1) - Number(this.workers.get(a)!.assigned.length === 1));
    for (const id of ids) this.feed(id, out);
  }

  /** Anything may have freed room (a test ended, a worker left, pressure eased): try again. */
  private feedBlocked(out: SchedulerCommand[]): void {
    for (const [id, worker] of this.workers) if (worker.blocked) this.feed(id, out);
  }

  private feed(id: WorkerId, out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    if (!worker) return;
    worker.blocked = false;
    if (worker.phase !== 'active' || !this.collected || this.stopped) return;
    if (worker.assigned.length >= LOW_WATER) return;
    const taken = this.takeChunk(id, worker);
    if (taken.length > 0) {
      worker.assigned.push(...taken);
      out.push({ type: 'assign', worker: id, indices: taken });
      // Still short of two, so the queue ran dry: a lone test never runs without a successor or
      // `finish`, and no later event may come for this worker. Steal or finish as below.
      if (worker.assigned.length >= LOW_WATER) return;
    }
    if (this.queue.size > 0) {
      // Tests remain but none may join this worker now: wait until something frees room.
      worker.blocked = true;
      if (worker.running === null && worker.assigned.length === 1 && !worker.flushing && !this.pressureHold) {
        // Its lone test was admitted, but without a successor pytest would wait forever.
        worker.flushing = true;
        out.push({ type: 'flush', worker: id });
      }
      return;
    }
    if (this.steal.victim !== null) return; // wait for the answer; it may bring work
    if (this.steal.request(id, this.workers, this.demands, this.plan, this.admission, out)) return;
    if (waitForTail(id, worker, this.workers, this.demands, this.plan, out)) return;
    // Nothing left anywhere that this worker could get: let it run what it holds and end.
    worker.phase = 'finishing';
    out.push({ type: 'finish', worker: id });
  }

  private takeChunk(id: WorkerId, worker: WorkerState): number[] {
    if (this.queue.size === 0 || this.pressureHold) return [];
    const long = this.plan?.long;
    if (!long) return this.pickFor(id, worker, []);
    const busy = worker.running !== null;
    // A long test goes to a worker that runs nothing (the next to finish a test takes it): one
    // given to a busy worker would wait behind its running test while another worker idles.
    if (busy && this.queue.markedCount > 0) return [];
    const taken = this.pickFor(id, worker, [], idleGate(long, worker.assigned, this.queue));
    if (busy || worker.assigned.length + taken.length >= LOW_WATER || this.queue.size === 0) return taken;
    // Only long tests are left to follow it: a second long one, rather than a worker that waits.
    return [...taken, ...this.pickFor(id, worker, taken)];
  }

  private pickFor(id: WorkerId, worker: WorkerState, extra: readonly number[], { first = [], ...gate }: Partial<ChunkGate> = {}): number[] {
    const active = [...this.workers.values()].filter((w) => w.phase === 'active').length;
    const scopes = scopeOrder(this.queue, this.workers, worker);
    const chunk = pickChunk({
      queue: this.queue,
      admission: this.admission,
      scopes: first.length > 0 ? [...new Set([...first, ...scopes])] : scopes,
      hold: holdOf(this.admission, worker, extra),
      others: holdsExcept(this.admission, this.workers, id),
      need: LOW_WATER - worker.assigned.length - extra.length,
      share: Math.ceil(this.queue.size / (Math.max(1, active) * 4)),
      ...gate,
    });
    if (chunk.scope !== null) worker.scope = chunk.scope;
    return chunk.taken;
  }

  // -- returns and losses ----------------------------------------------------------------------

  private takeBack(id: WorkerId, indices: readonly number[], out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    const given = new Set(indices);
    if (worker) worker.assigned = worker.assigned.filter((index) => !given.has(index));
    const thiefId = this.steal.answered(id, worker, given, this.plan !== null);
    if (this.stopped) {
      this.retries.abandon(indices);
      return;
    }
    if (this.plan !== null && thiefId !== null && this.steal.handOver(thiefId, indices, this.workers, this.admission, this.pressureHold, out)) {
      this.feedAll(out);
      return;
    }
    this.queue.pushFront(indices);
    this.feedAll(out);
    this.replenishPool(out);
  }

  private loseWorker(id: WorkerId, out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    if (!worker) {
      // Lost before it was ready: it held no tests. The pool may still need a replacement.
      this.replenishPool(out);
      return;
    }
    this.workers.delete(id);
    this.steal.lost(id);
    // A retry's worker that died before its test started: the retry is still owed, alone.
    if (this.retries.lost(worker, this.stopped)) return;
    if (worker.running !== null) out.push({ type: 'blame', worker: id, index: worker.running });
    if (this.stopped) {
      this.retries.abandon(worker.assigned);
      return;
    }
    this.queue.pushFront(worker.assigned);
    this.feedAll(out);
    this.replenishPool(out);
  }

  private replenishPool(out: SchedulerCommand[]): void {
    // Before collection the work is unknown, not done: a worker lost while collecting is replaced.
    if (this.stopped || (this.collected && this.queue.size === 0)) return;
    const active = [...this.workers.values()].filter((w) => w.phase === 'active').length;
    if (active === 0 || active < this.options.poolSize) out.push({ type: 'start_worker' });
  }

  // -- isolated retries ------------------------------------------------------------------------

  /** A crashed test runs again only when nothing else runs, in a worker of its own (retry-book.ts). */
  private maybeStartRetry(out: SchedulerCommand[]): void {
    if (this.stopped || !this.collected) return;
    // Alone means alone: every other worker has ended (its session teardown included).
    if (this.queue.size > 0 || this.steal.victim !== null || this.workers.size > 0) return;
    const index = this.retries.start();
    if (index !== null) out.push({ type: 'start_isolated', index });
  }

  private startIsolated(id: WorkerId, index: number, out: SchedulerCommand[]): void {
    if (!this.retries.ready(index, this.stopped)) {
      this.workers.set(id, newWorker('active', null));
      this.stopWorker(id, out);
      return;
    }
    this.workers.set(id, { ...newWorker('finishing', index), assigned: [index] });
    out.push({ type: 'assign', worker: id, indices: [index] }, { type: 'finish', worker: id });
  }

  private stopWorker(id: WorkerId, out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    if (!worker || worker.phase === 'stopping') return;
    worker.phase = 'stopping';
    out.push({ type: 'stop', worker: id });
  }
}
