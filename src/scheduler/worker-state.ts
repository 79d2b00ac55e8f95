/**
 * What the scheduler knows of one worker: its phase, what it holds and runs, its idle memory,
 * and whether it waits for room.
 */
import type { WorkerId } from '../model/test.js';

export type WorkerPhase = 'active' | 'finishing' | 'stopping';

export interface WorkerState {
  phase: WorkerPhase;
  /** The test this worker was started to retry alone, if it was. */
  isolatedFor: number | null;
  /** Handed to the worker, not started yet, in the order the worker will run them. */
  assigned: number[];
  running: number | null;
  scope: string | null;
  /** Its resident memory, idle (updated after every test). */
  baselineBytes: number;
  /** Fed, and could take nothing the budget admits: fed again whenever anything changes. */
  blocked: boolean;
  /** Told to run its lone test alone; not again until that test starts. */
  flushing: boolean;
  /** Tests it kept when asked to give them up (already its nextitem, or started): never asked again. */
  refused: Set<number>;
}

export function newWorker(phase: WorkerPhase, isolatedFor: number | null, baselineBytes = 0): WorkerState {
  return { phase, isolatedFor, assigned: [], running: null, scope: null, baselineBytes, blocked: false, flushing: false, refused: new Set() };
}

/** A stall in words: what is queued, and what each worker holds and why it waits. */
export function describeStall(queued: number, pressureHold: boolean, stealFrom: WorkerId | null, workers: ReadonlyMap<WorkerId, WorkerState>): string {
  const lines = [...workers].map(
    ([id, w]) =>
      `worker ${id}: ${w.phase}, holds [${w.assigned.join(', ')}]${w.blocked ? ', waits for room' : ''}${w.flushing ? ', told to flush' : ''}` +
      `, baseline ${Math.round(w.baselineBytes / 1024 ** 2)} MiB`,
  );
  const held = pressureHold ? '; memory pressure holds admission' : '';
  return `${queued} tests queued${held}${stealFrom !== null ? `; a steal from worker ${stealFrom} is unanswered` : ''}; ${lines.join('; ')}`;
}
