/**
 * The pure scheduler: the one owner of "which test runs where". The run loop feeds it one fact at
 * a time (`handle`) and carries out the commands it returns. It never touches a process, a timer
 * or the clock, so it is unit-tested by feeding inputs and reading commands.
 *
 * Each worker keeps a small local queue: pytest runs a test only once it knows the next one
 * (`nextitem` decides which fixtures tear down), so a worker needs two unstarted tests to keep
 * going. When the central queue is empty, a hungry worker steals from another's local queue
 * (steal.ts); the victim answers with what it actually gave up.
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
 */
import type { TestInfo, WorkerId } from '../model/test.js';
import { Admission } from './admission.js';
import { fitsOn, holdOf, holdsExcept, scopeOrder } from './pool-view.js';
import { GROUP_PREFIX, pickChunk } from './chunk.js';
import { idleGate, planQueue, type ChunkGate, type QueuePlan } from './longest-first.js';
import { LOW_WATER, pickSteal, stealableOf, total } from './steal.js';
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
  private stealFrom: WorkerId | null = null;
  /** The worker a steal in flight is for, and what it asked for (with history). */
  private stealFor: WorkerId | null = null;
  private stealAsked: number[] = [];
  /** With history: the longest-first plan; null: today's order. */
  private plan: QueuePlan | null = null;
  /** Thieves handed stolen tests while handling the current input. */
  private readonly justHanded = new Set<WorkerId>();
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
    this.justHanded.clear();
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
    if (this.waitForTail(id, worker, out)) return;
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

  private requestSteal(thief: WorkerId, out: SchedulerCommand[]): boolean {
    const choice = pickSteal(thief, this.workers, this.demands, this.plan?.seconds ?? null, this.justHanded);
    if (choice === null) return false;
    // With history the answer goes straight to the thief (handOver): only ask for what it may take.
    if (this.plan !== null && !fitsOn(this.admission, this.workers, thief, choice.indices)) return false;
    this.stealFrom = choice.victim;
    this.stealFor = thief;
    this.stealAsked = choice.indices;
    out.push({ type: 'steal', worker: choice.victim, indices: choice.indices });
    return true;
  }

  /**
   * With history, a worker with nothing left to take does not end while another holds work it
   * could steal once it has run what it holds: its lone test runs alone (`flush`), and it asks
   * again when that test starts. Costs a teardown of its fixtures, so only for work worth it.
   */
  private waitForTail(id: WorkerId, worker: WorkerState, out: SchedulerCommand[]): boolean {
    const plan = this.plan;
    if (plan === null) return false;
    let behind = 0;
    for (const [other, state] of this.workers) {
      if (other !== id && state.phase === 'active') behind = Math.max(behind, total(stealableOf(state, this.demands, true), plan.seconds));
    }
    if (behind < plan.tailSeconds) return false;
    // Holding nothing, yet nothing could be asked for now (its holder is between two tests, or was
    // just handed it): fed again on the next input, when that has settled.
    if (worker.assigned.length === 0) {
      worker.blocked = true;
      return true;
    }
    if (worker.running === null && worker.assigned.length === 1 && !worker.flushing) {
      worker.flushing = true;
      out.push({ type: 'flush', worker: id });
    }
    return true;
  }

  // -- returns and losses ----------------------------------------------------------------------

  private takeBack(id: WorkerId, indices: readonly number[], out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    const given = new Set(indices);
    if (worker) worker.assigned = worker.assigned.filter((index) => !given.has(index));
    const thiefId = this.stealFrom === id ? this.stealFor : null;
    if (this.stealFrom === id) {
      if (worker && this.plan !== null) for (const index of this.stealAsked) if (!given.has(index)) worker.refused.add(index);
      this.stealFrom = null;
      this.stealFor = null;
    }
    if (this.stopped) {
      this.abandoned.push(...indices);
      return;
    }
    if (this.plan !== null && thiefId !== null && this.handOver(thiefId, indices, out)) {
      this.feedAll(out);
      return;
    }
    this.queue.pushFront(indices);
    this.feedAll(out);
    this.replenishPool(out);
  }

  /**
   * With history, what a steal brought goes to the thief that asked, not back to the queue: the
   * victim, now hungry too and holding one test, would be fed first and take them straight back.
   */
  private handOver(thiefId: WorkerId, indices: readonly number[], out: SchedulerCommand[]): boolean {
    const thief = this.workers.get(thiefId);
    // A thief that still holds a test stole as it does without history (the victim kept two): the
    // answer goes to the queue, for whoever is hungry.
    if (!thief || thief.phase !== 'active' || thief.assigned.length > 0 || indices.length === 0 || this.pressureHold) return false;
    if (!fitsOn(this.admission, this.workers, thiefId, indices)) return false;
    thief.assigned.push(...indices);
    this.justHanded.add(thiefId);
    out.push({ type: 'assign', worker: thiefId, indices: [...indices] });
    return true;
  }

  private loseWorker(id: WorkerId, out: SchedulerCommand[]): void {
    const worker = this.workers.get(id);
    if (!worker) {
      // Lost before it was ready: it held no tests. The pool may still need a replacement.
      this.replenishPool(out);
      return;
    }
    this.workers.delete(id);
    if (this.stealFrom === id || this.stealFor === id) this.stealFor = null;
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
