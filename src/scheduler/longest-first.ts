/**
 * Longest-first from history: the order the central queue hands tests out in when past runs
 * predict their durations (LPT, longest processing time first, on modules and on long tests).
 *
 * Modules stay the unit of the queue (a module handed to one worker sets its fixtures up once),
 * heaviest module first. A module is split only where history says it pays: the module alone
 * weighs a good part of a worker's ideal share of the run (so keeping it whole would leave the
 * other workers idle at the end), and a test in it is long, both against that share and against
 * the module's set-up as far as the durations show it. Each such test becomes a queue key of its
 * own and is ordered by its own weight; the rest of the module stays together, in collection order.
 *
 * Without any known duration there is no plan, and the queue keeps today's order exactly.
 */
import { GROUP_PREFIX } from './chunk.js';
import type { ScopeQueue } from './scope-queue.js';

/** What the scheduler orders its queue and times its hand-outs by. */
export interface QueuePlan {
  /** The queue key of each test: its scope, or a piece of a split module. */
  keys: string[];
  /** Every test index once, in the order to queue them (heaviest key first). */
  order: number[];
  /** Predicted seconds per test; a test history does not know counts as a typical one (the median). */
  seconds: number[];
  /**
   * Long tests are handed out only to a worker that runs nothing (so that the test starts at once,
   * behind at most one short test), never queued behind another long one; see the scheduler. One
   * that stays in its module (not split) is taken by a worker that is in the module or enters it.
   */
  long: boolean[];
  /** Tests split off their module, for diagnostics and tests. */
  split: number[];
  /**
   * In the tail, a worker waits (rather than ends) for stealable work worth at least this much
   * predicted time elsewhere: running its lone test alone costs a teardown of its fixtures.
   */
  tailSeconds: number;
}

/** A test is long from this fraction of a worker's ideal share of the run... */
const LONG_SHARE = 1 / 20;
/** ...and never below this many seconds (a hand-out round trip costs about a millisecond). */
const MIN_LONG_SECONDS = 0.5;
/** A module heavier than this fraction of a worker's share may be split. */
const SPLIT_SHARE = 0.5;
/** A test split off its module must take this many times the module's set-up (estimated). */
const SETUP_FACTOR = 4;
/** Queue keys of split-off tests: the module's key, then this, then the test's index. */
export const PIECE_SEPARATOR = '\u0000piece:';

/** How a chunk is picked for a worker: which tests it may take, and which queue keys it tries first. */
export interface ChunkGate {
  allow: (index: number) => boolean;
  onTake: (index: number) => void;
  first: readonly string[];
}

/**
 * What a worker that runs nothing may take (the queue holds long tests, marked in `queue`): one
 * long test at most, and short ones behind it if any are left, since the test behind becomes
 * pytest's nextitem, which can no longer be given to anyone else. It takes the first long one in
 * queue order (the heaviest) before the rest of its own module: what is short can wait, and
 * fills in at the end. (A long test that stayed in its module may so run apart from it: one more
 * set-up of the module, against a long test started late.) The short test behind a split-off
 * long one comes from the rest of its module if any: the fixtures set up for the long test serve it.
 */
export function idleGate(long: readonly boolean[], held: readonly number[], queue: ScopeQueue): ChunkGate {
  let tookLong = held.some((index) => long[index]);
  const first = tookLong ? [] : queue.markedScopes().flatMap((scope) => [scope, pieceParent(scope)]);
  const wantLong = first.length > 0;
  return {
    allow: (index) => (long[index] ? !tookLong : tookLong || !wantLong),
    onTake: (index) => {
      tookLong ||= long[index]!;
    },
    first,
  };
}

/** The module a split-off test's queue key belongs to (the key itself when it is no piece). */
export function pieceParent(key: string): string {
  const at = key.indexOf(PIECE_SEPARATOR);
  return at < 0 ? key : key.slice(0, at);
}

/**
 * @param keys each test's queue key (scope, or an xdist group's key), index-aligned
 * @param durations predicted seconds per test (null: unknown)
 */
export function planQueue(keys: readonly string[], durations: readonly (number | null)[], poolSize: number): QueuePlan | null {
  const known = durations.filter((value): value is number => value !== null && Number.isFinite(value) && value >= 0);
  if (known.length === 0 || keys.length === 0) return null;
  const typical = median(known);
  const seconds = keys.map((_, index) => {
    const value = durations[index];
    return value !== null && value !== undefined && Number.isFinite(value) && value >= 0 ? value : typical;
  });
  const total = seconds.reduce((sum, value) => sum + value, 0);
  const share = total / Math.max(1, poolSize);
  const cut = Math.max(MIN_LONG_SECONDS, share * LONG_SHARE);
  const long = keys.map((_, index) => durations[index] != null && seconds[index]! >= cut);

  const members = new Map<string, number[]>();
  keys.forEach((key, index) => {
    let list = members.get(key);
    if (!list) members.set(key, (list = []));
    list.push(index);
  });

  const planned = [...keys];
  const split: number[] = [];
  for (const [key, indices] of members) {
    // A group runs on one worker by the user's own choice: never split.
    if (key.startsWith(GROUP_PREFIX)) continue;
    if (indices.length < 2) continue;
    const weight = sum(indices, seconds);
    if (weight <= share * SPLIT_SHARE) continue;
    const setup = setupEstimate(indices, long, durations);
    // Set-up unknown (the first test is long itself): split only a module that cannot fit in one
    // worker's share anyway.
    if (setup === null && weight <= share) continue;
    const pieces = indices.filter((index) => long[index] && seconds[index]! >= SETUP_FACTOR * (setup ?? 0));
    // Splitting every test off leaves nothing to share the set-up with anyway: keep the last one.
    if (pieces.length === indices.length) pieces.pop();
    for (const index of pieces) {
      planned[index] = `${key}${PIECE_SEPARATOR}${index}`;
      split.push(index);
    }
  }

  // LPT over queue keys: the heaviest first; equal weights keep collection order.
  const units = new Map<string, { first: number; weight: number; indices: number[] }>();
  planned.forEach((key, index) => {
    let unit = units.get(key);
    if (!unit) units.set(key, (unit = { first: index, weight: 0, indices: [] }));
    unit.weight += seconds[index]!;
    unit.indices.push(index);
  });
  const ordered = [...units.values()].sort((a, b) => b.weight - a.weight || a.first - b.first);
  return { keys: planned, order: ordered.flatMap((unit) => unit.indices), seconds, long, split, tailSeconds: cut / 4 };
}

/**
 * The module's set-up, as far as total durations show it: its first test (in collection order,
 * which is how a whole module runs) carries the module's fixtures, so it takes longer than its
 * short siblings by about that much. 0 when the module has no short test to compare with; null
 * when the first test is long itself (its time cannot be told from a set-up).
 */
function setupEstimate(indices: readonly number[], long: readonly boolean[], durations: readonly (number | null)[]): number | null {
  const first = durations[indices[0]!];
  const shorts = indices.slice(1).filter((index) => !long[index] && durations[index] != null);
  if (first == null || shorts.length === 0) return 0;
  if (long[indices[0]!]) return null;
  return Math.max(0, first - median(shorts.map((index) => durations[index]!)));
}

function sum(indices: readonly number[], seconds: readonly number[]): number {
  return indices.reduce((total, index) => total + seconds[index]!, 0);
}

/** Sorted as a Float64Array: numeric without a comparator, and without the boxing and work arrays that cost Array.prototype.sort 11 MB over 500 modules. */
function median(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
