/**
 * The pure scheduler: the one owner of "which test runs where". The run loop feeds it one fact at
 * a time (`handle`) and carries out the commands it returns. It never touches a process, a timer
 * or the clock, so it is unit-tested by feeding inputs and reading commands.
 *
 * Each worker keeps a small local queue: pytest runs a test only once it knows the next one
 * (`nextitem` decides which fixtures tear down), so a worker needs two unstarted tests to keep
 * going. When the central queue is empty, a hungry worker steals the back half of the longest
 * local queue; the victim answers with what it actually gave up.
 */
import type { TestInfo, WorkerId } from '../model/test.js';
import { ScopeQueue } from './scope-queue.js';
import type { SchedulerCommand, SchedulerInput, SchedulerOptions } from './types.js';
import { assertNever } from '../model/assert-never.js';

/** A worker holding fewer unstarted tests than this is fed. */
const LOW_WATER = 2;

type WorkerPhase = 'active' | 'finishing' | 'stopping';

interface WorkerState {
  phase: WorkerPhase;
  /** The test this worker was started to retry alone, if it was. */
  isolatedFor: number | null;
  /** Handed to the worker, not started yet, in the order the worker will run them. */
  assigned: number[];
  running: number | null;
  scope: string | null;
}

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

  constructor(options: SchedulerOptions) {
    this.options = options;
  }

  handle(input: SchedulerInput): SchedulerCommand[] {
    const out: SchedulerCommand[] = [];
    switch (input.type) {
      case 'collected':
        this.tests = input.tests;
        this.queue = new ScopeQueue(input.tests.map((test) => test.scope));
        this.queue.pushBack(input.tests.map((_, index) => index));
        this.collected = true;
        this.feedAll(out);
        break;
      case 'worker_ready':
        if (input.isolatedFor !== undefined) {
          this.startIsolated(input.worker, input.isolatedFor, out);
          break;
        }
        this.workers.set(input.worker, { phase: 'active', isolatedFor: null, assigned: [], running: null, scope: null });
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
        this.feed(input.worker, out);
        break;
      }
      case 'test_finished': {
        const worker = this.workers.get(input.worker);
        if (!worker) break;
        if (worker.running === input.index) worker.running = null;
        this.feed(input.worker, out);
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

  // -- feeding ---------------------------------------------------------------------------------

  private feedAll(out: SchedulerCommand[]): void {
    for (const id of [...this.workers.keys()]) this.feed(id, out);
  }

  private feed(id: WorkerId, out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    if (!worker || worker.phase !== 'active' || !this.collected || this.stopped) return;
    if (worker.assigned.length >= LOW_WATER) return;
    const taken = this.takeChunk(worker);
    if (taken.length > 0) {
      worker.assigned.push(...taken);
      out.push({ type: 'assign', worker: id, indices: taken });
      // Still short of two, so the queue ran dry: a lone test never runs without a successor or
      // `finish`, and no later event may come for this worker. Steal or finish as below.
      if (worker.assigned.length >= LOW_WATER) return;
    }
    if (this.stealFrom !== null) return; // wait for the answer; it may bring work
    if (this.requestSteal(id, out)) return;
    // Nothing left anywhere that this worker could get: let it run what it holds and end.
    if (worker.running === null || worker.assigned.length === 0 || this.queue.size === 0) {
      worker.phase = 'finishing';
      out.push({ type: 'finish', worker: id });
    }
  }

  private takeChunk(worker: WorkerState): number[] {
    if (this.queue.size === 0) return [];
    const active = [...this.workers.values()].filter((w) => w.phase === 'active').length;
    const share = Math.ceil(this.queue.size / (Math.max(1, active) * 4));
    const want = Math.max(LOW_WATER - worker.assigned.length, share);
    const taken: number[] = [];
    // Stay in the worker's module while it has tests left (its fixtures are set up already),
    // then move to a module no other worker is in.
    let scope = worker.scope !== null && this.queue.remaining(worker.scope) > 0 ? worker.scope : null;
    while (taken.length < want) {
      scope ??= this.queue.pickScope(this.busyScopes());
      if (scope === null) break;
      const part = this.queue.take(scope, want - taken.length);
      taken.push(...part);
      worker.scope = scope;
      // Only cross into another module to reach the two tests a worker needs to keep running.
      if (taken.length >= LOW_WATER - worker.assigned.length) break;
      scope = null;
    }
    return taken;
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
    let most = 0;
    for (const [id, worker] of this.workers) {
      if (id === thief || worker.phase === 'stopping') continue;
      // The head of a busy worker's queue may already be pytest's `nextitem`: never ask for it.
      const stealable = worker.assigned.length - 1;
      if (stealable > most) {
        most = stealable;
        victim = id;
      }
    }
    // A victim left with fewer than LOW_WATER would turn hungry and steal the same tests back,
    // forever (both workers stuck with one test each, the stolen ones bouncing between them).
    if (victim === null || most < LOW_WATER) return false;
    const assigned = this.workers.get(victim)!.assigned;
    const count = Math.max(1, Math.floor(most / 2));
    this.stealFrom = victim;
    out.push({ type: 'steal', worker: victim, indices: assigned.slice(assigned.length - count) });
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
      this.workers.set(id, { phase: 'active', isolatedFor: null, assigned: [], running: null, scope: null });
      this.stopWorker(id, out);
      if (this.retrying === index) {
        this.abandoned.push(index);
        this.retrying = null;
      }
      return;
    }
    this.workers.set(id, { phase: 'finishing', isolatedFor: index, assigned: [index], running: null, scope: null });
    out.push({ type: 'assign', worker: id, indices: [index] }, { type: 'finish', worker: id });
  }

  private stopWorker(id: WorkerId, out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    if (!worker || worker.phase === 'stopping') return;
    worker.phase = 'stopping';
    out.push({ type: 'stop', worker: id });
  }
}
