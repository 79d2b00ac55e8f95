/**
 * Which tests a hungry worker asks another for, once the central queue is empty.
 *
 * The head of a worker's local queue may already be pytest's `nextitem` (pytest prepared its
 * teardown for it): it is never asked for. A group stays on the worker that took it.
 *
 * Without history: the back half of the longest local queue, and only from a worker left with
 * at least two (a victim left with one would turn hungry and steal the same tests back, forever).
 *
 * With history (predicted seconds per test), a thief that holds nothing may also take a victim's
 * second test: it holds nothing, so nothing it gets can be stolen back before it has run
 * something; each steal is progress. It takes from the worker with the most predicted work
 * behind its head, from the back, about half of that worker's predicted unstarted time.
 */
import type { WorkerId } from '../model/test.js';
import type { TestDemand } from './types.js';
import type { WorkerState } from './worker-state.js';

/** A worker holding fewer unstarted tests than this is fed. */
export const LOW_WATER = 2;

export interface StealChoice {
  victim: WorkerId;
  indices: number[];
}

export function pickSteal(
  thief: WorkerId,
  workers: ReadonlyMap<WorkerId, WorkerState>,
  demands: readonly TestDemand[],
  seconds: readonly number[] | null,
  /** Workers handed stolen tests in this very step: not asked for them again at once. */
  justHanded: ReadonlySet<WorkerId> = new Set(),
): StealChoice | null {
  const hungryAndEmpty = (workers.get(thief)?.assigned.length ?? 0) === 0;
  if (seconds !== null && hungryAndEmpty) return pickByTime(thief, workers, demands, seconds, justHanded);
  let victim: WorkerId | null = null;
  let candidates: number[] = [];
  for (const [id, worker] of workers) {
    if (id === thief || worker.phase === 'stopping' || justHanded.has(id)) continue;
    const stealable = stealableOf(worker, demands, seconds !== null);
    if (stealable.length > candidates.length) {
      candidates = stealable;
      victim = id;
    }
  }
  if (victim === null || candidates.length < LOW_WATER) return null;
  const count = Math.max(1, Math.floor(candidates.length / 2));
  return { victim, indices: candidates.slice(candidates.length - count) };
}

function pickByTime(
  thief: WorkerId,
  workers: ReadonlyMap<WorkerId, WorkerState>,
  demands: readonly TestDemand[],
  seconds: readonly number[],
  justHanded: ReadonlySet<WorkerId>,
): StealChoice | null {
  let best: { victim: WorkerId; stealable: number[]; held: number; behind: number } | null = null;
  for (const [id, worker] of workers) {
    // A worker that runs nothing is about to start its head with the next test as its nextitem
    // (or was just handed these by a steal): asking it would mostly be refused, or bounce.
    if (id === thief || worker.phase === 'stopping' || worker.running === null || justHanded.has(id)) continue;
    const stealable = stealableOf(worker, demands, true);
    if (stealable.length === 0) continue;
    const behind = total(stealable, seconds);
    if (best === null || behind > best.behind) best = { victim: id, stealable, held: total(worker.assigned, seconds), behind };
  }
  if (best === null) return null;
  const indices: number[] = [];
  let taken = 0;
  for (let at = best.stealable.length - 1; at >= 0; at -= 1) {
    const index = best.stealable[at]!;
    // At least one; then no more than leaves the thief with half of the victim's unstarted time.
    if (indices.length > 0 && taken + seconds[index]! > best.held / 2) break;
    indices.unshift(index);
    taken += seconds[index]!;
  }
  return { victim: best.victim, indices };
}

/** A worker's unstarted tests that may be asked for: not its head, no group, none it kept before. */
export function stealableOf(worker: WorkerState, demands: readonly TestDemand[], skipRefused: boolean): number[] {
  return worker.assigned
    .slice(1)
    .filter((index) => demands[index]?.group == null && !(skipRefused && worker.refused.has(index)));
}

export function total(indices: readonly number[], seconds: readonly number[]): number {
  return indices.reduce((sum, index) => sum + (seconds[index] ?? 0), 0);
}
