/**
 * The pure scheduler: the one owner of "which test runs where". The run loop feeds it one fact at
 * a time (`handle`) and carries out the commands it returns. It never touches a process, a timer
 * or the clock, so it is unit-tested by feeding inputs and reading commands.
 *
 * Each worker keeps a small local queue: pytest runs a test only once it knows the next one
 * (`nextitem` decides which fixtures tear down), so a worker needs two unstarted tests to keep
 * going. When the central queue is empty, a hungry worker steals the back half of the longest
 * local queue; the victim answers with what it actually gave up.
 *
 * Admission (admission.ts) decides which queued tests a worker may take so that the tests that
 * can run at once fit the memory budget, the CPU slots and the resource tokens: a test that does
 * not fit waits and one that fits goes first. A worker that can take nothing waits (it is fed
 * again whenever anything changes); one holding a lone test that no successor can join is told
 * to run it on its own (`flush`), since pytest would otherwise wait for a successor forever.
 */
import type { TestInfo, WorkerId } from '../model/test.js';
import { Admission, type Reservation, type WorkerHold } from './admission.js';
import { GROUP_PREFIX, pickChunk } from './chunk.js';
import { describeStall, newWorker, type WorkerState } from './worker-state.js';
import { ScopeQueue } from './scope-queue.js';
import type { Capacity, SchedulerCommand, SchedulerInput, SchedulerOptions, TestDemand } from './types.js';
import { assertNever } from '../model/assert-never.js';
import { defaultDemand, learnPeak } from './demands.js';

/** A worker holding fewer unstarted tests than this is fed. */
const LOW_WATER = 2;

export class Scheduler {
  private readonly options: SchedulerOptions;
  private tests: readonly TestInfo[] = [];
  private queue = new ScopeQueue([]);
  private readonly workers = new Map<WorkerId, WorkerState>();
  private stealFrom: WorkerId | null = null;
  private stopped = false;
  private collected = false;
  /** Tests that will not run because the run stopped. */
  private readonly abandoned: number[] = [];
  /** Crashed tests waiting to run again alone; the one being retried now. */
  private readonly retries: number[] = [];
  private retrying: number | null = null;
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
    switch (input.type) {
      case 'collected':
        this.tests = input.tests;
        this.demands = input.tests.map((test, index) => ({ ...(input.demands?.[index] ?? defaultDemand(test.id)) }));
        this.admission = new Admission(this.capacity, this.demands);
        this.queue = new ScopeQueue(input.tests.map((test, index) => {
          const group = this.demands[index]!.group;
          return group !== null ? GROUP_PREFIX + group : test.scope;
        }));
        this.queue.pushBack(input.tests.map((_, index) => index));
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
        if (this.stopped) this.abandoned.push(input.index);
        else this.retries.push(input.index);
        break;
      case 'stop':
        this.stopped = true;
        this.abandoned.push(...this.queue.drain(), ...this.retries.splice(0));
        // A retry whose fresh worker is not ready yet will never run now.
        if (this.retrying !== null && ![...this.workers.values()].some((worker) => worker.isolatedFor === this.retrying)) {
          this.abandoned.push(this.retrying);
          this.retrying = null;
        }
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
    if (this.queue.size > 0 || this.stealFrom !== null) return false;
    if (this.retries.length > 0 || this.retrying !== null) return false;
    for (const worker of this.workers.values()) {
      if (worker.assigned.length > 0 || worker.running !== null) return false;
    }
    return true;
  }

  /** Tests that can no longer run because the run stopped, plus any still queued. */
  notRun(): number[] {
    const retrying = this.retrying !== null ? [this.retrying] : [];
    this.retrying = null;
    return [...this.abandoned, ...this.queue.drain(), ...this.retries.splice(0), ...retrying];
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
    return describeStall(this.queue.size, this.pressureHold, this.stealFrom, this.workers);
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
    if (this.stealFrom !== null) return; // wait for the answer; it may bring work
    if (this.requestSteal(id, out)) return;
    // Nothing left anywhere that this worker could get: let it run what it holds and end.
    worker.phase = 'finishing';
    out.push({ type: 'finish', worker: id });
  }

  private takeChunk(id: WorkerId, worker: WorkerState): number[] {
    if (this.queue.size === 0 || this.pressureHold) return [];
    const active = [...this.workers.values()].filter((w) => w.phase === 'active').length;
    const chunk = pickChunk({
      queue: this.queue,
      admission: this.admission,
      scopes: this.scopeOrder(worker),
      hold: { baselineBytes: worker.baselineBytes, reservation: this.reservationOf(worker) },
      others: this.holdsExcept(id),
      need: LOW_WATER - worker.assigned.length,
      share: Math.ceil(this.queue.size / (Math.max(1, active) * 4)),
    });
    if (chunk.scope !== null) worker.scope = chunk.scope;
    return chunk.taken;
  }

  /** The worker's own module, then modules no other worker is in, then the rest. */
  private scopeOrder(worker: WorkerState): string[] {
    const busy = this.busyScopes();
    const scopes = this.queue.scopes();
    const own = worker.scope !== null && this.queue.remaining(worker.scope) > 0 ? [worker.scope] : [];
    const free = scopes.filter((scope) => scope !== worker.scope && !busy.has(scope));
    const taken = scopes.filter((scope) => scope !== worker.scope && busy.has(scope));
    return [...own, ...free, ...taken];
  }

  private reservationOf(worker: WorkerState): Reservation {
    const held = worker.running !== null ? [worker.running, ...worker.assigned] : worker.assigned;
    return this.admission.reservationOf(held);
  }

  private holdsExcept(id: WorkerId): WorkerHold[] {
    const holds: WorkerHold[] = [];
    for (const [other, worker] of this.workers) {
      if (other !== id) holds.push({ baselineBytes: worker.baselineBytes, reservation: this.reservationOf(worker) });
    }
    return holds;
  }

  private busyScopes(): Set<string> {
    const busy = new Set<string>();
    for (const worker of this.workers.values()) {
      if (worker.phase === 'active' && worker.scope !== null) busy.add(worker.scope);
    }
    return busy;
  }

  private requestSteal(thief: WorkerId, out: SchedulerCommand[]): boolean {
    let victim: WorkerId | null = null;
    let candidates: number[] = [];
    for (const [id, worker] of this.workers) {
      if (id === thief || worker.phase === 'stopping') continue;
      // The head of a busy worker's queue may already be pytest's `nextitem`: never ask for it.
      // A group stays on the worker that took it.
      const stealable = worker.assigned.slice(1).filter((index) => this.demands[index]?.group == null);
      if (stealable.length > candidates.length) {
        candidates = stealable;
        victim = id;
      }
    }
    // A victim left with fewer than LOW_WATER would turn hungry and steal the same tests back,
    // forever (both workers stuck with one test each, the stolen ones bouncing between them).
    if (victim === null || candidates.length < LOW_WATER) return false;
    const count = Math.max(1, Math.floor(candidates.length / 2));
    this.stealFrom = victim;
    out.push({ type: 'steal', worker: victim, indices: candidates.slice(candidates.length - count) });
    return true;
  }

  // -- returns and losses ----------------------------------------------------------------------

  private takeBack(id: WorkerId, indices: readonly number[], out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    if (worker) {
      const given = new Set(indices);
      worker.assigned = worker.assigned.filter((index) => !given.has(index));
    }
    if (this.stealFrom === id) this.stealFrom = null;
    if (this.stopped) {
      this.abandoned.push(...indices);
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
    if (this.stealFrom === id) this.stealFrom = null;
    if (worker.isolatedFor !== null && worker.isolatedFor === this.retrying) {
      this.retrying = null;
      // Its worker died before the test started: the retry is still owed, alone, not in the pool.
      if (worker.running === null && worker.assigned.includes(worker.isolatedFor)) {
        if (this.stopped) this.abandoned.push(worker.isolatedFor);
        else this.retries.unshift(worker.isolatedFor);
        return;
      }
    }
    if (worker.running !== null) out.push({ type: 'blame', worker: id, index: worker.running });
    if (this.stopped) {
      this.abandoned.push(...worker.assigned);
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

  /**
   * A crashed test runs again only when nothing else runs, in a worker of its own, so that
   * "crashes on its own" and "crashed only under parallel load" can be told apart.
   */
  private maybeStartRetry(out: SchedulerCommand[]): void {
    if (this.stopped || this.retrying !== null || this.retries.length === 0 || !this.collected) return;
    // Alone means alone: every other worker has ended (its session teardown included).
    if (this.queue.size > 0 || this.stealFrom !== null || this.workers.size > 0) return;
    this.retrying = this.retries.shift()!;
    out.push({ type: 'start_isolated', index: this.retrying });
  }

  private startIsolated(id: WorkerId, index: number, out: SchedulerCommand[]): void {
    if (this.stopped || this.retrying !== index) {
      this.workers.set(id, newWorker('active', null));
      this.stopWorker(id, out);
      if (this.retrying === index) {
        this.abandoned.push(index);
        this.retrying = null;
      }
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
