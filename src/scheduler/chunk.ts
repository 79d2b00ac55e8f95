/**
 * Which queued tests one worker takes next: the ones admission lets it take, from its own module
 * first, a few at a time.
 */
import type { Admission, Reservation, WorkerHold } from './admission.js';
import type { ScopeQueue } from './scope-queue.js';

/** Queue keys of xdist-style groups: a group is handed to one worker whole. */
export const GROUP_PREFIX = '\u0000group:';

export interface ChunkRequest {
  queue: ScopeQueue;
  admission: Admission;
  /** Scopes in the order to try them (the worker's own module first). */
  scopes: readonly string[];
  /** What the worker holds, and what every other worker holds. */
  hold: WorkerHold;
  others: readonly WorkerHold[];
  /** Tests it needs to keep running (a test runs once its successor is known). */
  need: number;
  /** Its fair share of the queue, taken at once to save round trips. */
  share: number;
  /** With history: whether a test may join this chunk now (long tests wait for an idle worker). */
  allow?: (index: number) => boolean;
  /** Told of each test the chunk takes, so that `allow` can depend on them. */
  onTake?: (index: number) => void;
}

export function pickChunk(request: ChunkRequest): { taken: number[]; scope: string | null } {
  const { queue, admission, others, need } = request;
  const want = Math.max(need, request.share);
  let hold = request.hold;
  const taken: number[] = [];
  let scope: string | null = null;
  const admit = (indices: readonly number[]): boolean => {
    if (!admission.fits(hold, others, indices)) return false;
    const grown = admission.add(hold.reservation, indices);
    // Past the tests a worker needs, a chunk takes only tests that cost it nothing more, so that
    // one heavy test is not held in reserve behind a long chunk.
    if (taken.length >= need && raises(hold.reservation, grown)) return false;
    hold = { baselineBytes: hold.baselineBytes, reservation: grown };
    return true;
  };
  for (const candidate of request.scopes) {
    if (candidate.startsWith(GROUP_PREFIX)) {
      // A group goes to one worker whole, as a chunk of its own.
      if (taken.length > 0) continue;
      const group = [...queue.peek(candidate)];
      if (!admit(group)) continue;
      taken.push(...queue.take(candidate, group.length));
      scope = candidate;
      break;
    }
    const part = queue.takeWhere(candidate, want - taken.length, (index) => {
      if (request.allow && !request.allow(index)) return false;
      if (!admit([index])) return false;
      request.onTake?.(index);
      return true;
    });
    if (part.length === 0) continue;
    taken.push(...part);
    scope = candidate;
    // Only cross into another module to reach the tests a worker needs to keep running.
    if (taken.length >= need) break;
  }
  return { taken, scope };
}

/** Whether `grown` asks for more of anything than `base`. */
function raises(base: Reservation, grown: Reservation): boolean {
  if (grown.memoryBytes > base.memoryBytes || grown.cpus > base.cpus) return true;
  for (const [name, amount] of grown.resources) if (amount > (base.resources.get(name) ?? 0)) return true;
  return grown.probing.size > base.probing.size;
}
