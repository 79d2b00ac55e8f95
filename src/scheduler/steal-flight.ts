/**
 * The steal in flight (at most one): which worker was asked to give up tests, for which hungry
 * worker, and what it was asked for, until the victim answers with what it actually gave up.
 * With history, the answer goes straight to the thief that asked (`handOver`), and in the tail a
 * worker with nothing left to take waits for stealable work rather than ending (`waitForTail`).
 * Which tests to ask for is steal.ts.
 */
import type { WorkerId } from '../model/test.js';
import type { Admission } from './admission.js';
import type { QueuePlan } from './longest-first.js';
import { fitsOn } from './pool-view.js';
import { pickSteal, stealableOf, total } from './steal.js';
import type { SchedulerCommand, TestDemand } from './types.js';
import type { WorkerState } from './worker-state.js';

export class StealFlight {
  private from: WorkerId | null = null;
  /** The worker a steal in flight is for, and what it asked for (with history). */
  private thief: WorkerId | null = null;
  private asked: number[] = [];
  /** Thieves handed stolen tests while handling the current input. */
  private readonly justHanded = new Set<WorkerId>();

  /** The worker asked to give up tests, while its answer is awaited; null when none is. */
  get victim(): WorkerId | null {
    return this.from;
  }

  /** A new input is handled: tests handed over before it no longer shield their thief. */
  nextInput(): void {
    this.justHanded.clear();
  }

  request(
    thief: WorkerId,
    workers: ReadonlyMap<WorkerId, WorkerState>,
    demands: readonly TestDemand[],
    plan: QueuePlan | null,
    admission: Admission,
    out: SchedulerCommand[],
  ): boolean {
    const choice = pickSteal(thief, workers, demands, plan?.seconds ?? null, this.justHanded);
    if (choice === null) return false;
    // With history the answer goes straight to the thief (handOver): only ask for what it may take.
    if (plan !== null && !fitsOn(admission, workers, thief, choice.indices)) return false;
    this.from = choice.victim;
    this.thief = thief;
    this.asked = choice.indices;
    out.push({ type: 'steal', worker: choice.victim, indices: choice.indices });
    return true;
  }

  /**
   * Worker `id` gave up `given`. If that answers the steal in flight, the steal is over (with
   * history, what the victim kept is never asked for again); returns the thief it was for, or null.
   */
  answered(id: WorkerId, worker: WorkerState | undefined, given: ReadonlySet<number>, withPlan: boolean): WorkerId | null {
    const thief = this.from === id ? this.thief : null;
    if (this.from === id) {
      if (worker && withPlan) for (const index of this.asked) if (!given.has(index)) worker.refused.add(index);
      this.from = null;
      this.thief = null;
    }
    return thief;
  }

  /**
   * With history, what a steal brought goes to the thief that asked, not back to the queue: the
   * victim, now hungry too and holding one test, would be fed first and take them straight back.
   */
  handOver(
    thiefId: WorkerId,
    indices: readonly number[],
    workers: ReadonlyMap<WorkerId, WorkerState>,
    admission: Admission,
    pressureHold: boolean,
    out: SchedulerCommand[],
  ): boolean {
    const thief = workers.get(thiefId);
    // A thief that still holds a test stole as it does without history (the victim kept two): the
    // answer goes to the queue, for whoever is hungry.
    if (!thief || thief.phase !== 'active' || thief.assigned.length > 0 || indices.length === 0 || pressureHold) return false;
    if (!fitsOn(admission, workers, thiefId, indices)) return false;
    thief.assigned.push(...indices);
    this.justHanded.add(thiefId);
    out.push({ type: 'assign', worker: thiefId, indices: [...indices] });
    return true;
  }

  /** Worker `id` is gone: a steal it was asked for or was for is no longer awaited for it. */
  lost(id: WorkerId): void {
    if (this.from === id || this.thief === id) this.thief = null;
    if (this.from === id) this.from = null;
  }
}

/**
 * With history, a worker with nothing left to take does not end while another holds work it
 * could steal once it has run what it holds: its lone test runs alone (`flush`), and it asks
 * again when that test starts. Costs a teardown of its fixtures, so only for work worth it.
 */
export function waitForTail(
  id: WorkerId,
  worker: WorkerState,
  workers: ReadonlyMap<WorkerId, WorkerState>,
  demands: readonly TestDemand[],
  plan: QueuePlan | null,
  out: SchedulerCommand[],
): boolean {
  if (plan === null) return false;
  let behind = 0;
  for (const [other, state] of workers) {
    if (other !== id && state.phase === 'active') behind = Math.max(behind, total(stealableOf(state, demands, true), plan.seconds));
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
