/**
 * What the scheduler reads off its workers to pick a chunk: which modules they are in, and what
 * each holds against the run's budget.
 */
import type { WorkerId } from '../model/test.js';
import type { Admission, WorkerHold } from './admission.js';
import type { ScopeQueue } from './scope-queue.js';
import type { WorkerState } from './worker-state.js';

/** The worker's own module, then modules no other worker is in, then the rest. */
export function scopeOrder(queue: ScopeQueue, workers: ReadonlyMap<WorkerId, WorkerState>, worker: WorkerState): string[] {
  const busy = busyScopes(workers);
  const scopes = queue.scopes();
  const own = worker.scope !== null && queue.remaining(worker.scope) > 0 ? [worker.scope] : [];
  const free = scopes.filter((scope) => scope !== worker.scope && !busy.has(scope));
  const taken = scopes.filter((scope) => scope !== worker.scope && busy.has(scope));
  return [...own, ...free, ...taken];
}

/** What a worker holds (its running test and its unstarted ones), plus `extra` it is about to take. */
export function holdOf(admission: Admission, worker: WorkerState, extra: readonly number[] = []): WorkerHold {
  const held = [...(worker.running !== null ? [worker.running] : []), ...worker.assigned, ...extra];
  return { baselineBytes: worker.baselineBytes, reservation: admission.reservationOf(held) };
}

export function holdsExcept(admission: Admission, workers: ReadonlyMap<WorkerId, WorkerState>, id: WorkerId): WorkerHold[] {
  const holds: WorkerHold[] = [];
  for (const [other, worker] of workers) if (other !== id) holds.push(holdOf(admission, worker));
  return holds;
}

/** Whether these tests may join worker `id` now. */
export function fitsOn(admission: Admission, workers: ReadonlyMap<WorkerId, WorkerState>, id: WorkerId, indices: readonly number[]): boolean {
  const worker = workers.get(id);
  return worker !== undefined && admission.fits(holdOf(admission, worker), holdsExcept(admission, workers, id), indices);
}

function busyScopes(workers: ReadonlyMap<WorkerId, WorkerState>): Set<string> {
  const busy = new Set<string>();
  for (const worker of workers.values()) {
    if (worker.phase === 'active' && worker.scope !== null) busy.add(worker.scope);
  }
  return busy;
}
