/**
 * The supervisor's own heap over a long run. Every test leaves a little promoted garbage in V8's
 * old generation (messages and events that outlived two young collections), and V8 collects it
 * only when the heap reaches a limit it sets far above the live size: on 50,000 trivial tests the
 * heap grew from 34 to 132 MB before its next full collection, of which 48 MB were live. A full
 * collection forced whenever the heap has grown by half since the last one (and is past a floor
 * below which it does not matter) keeps the resident size near what the run really holds: V8
 * grows the heap's reserved size with the garbage and seldom gives it back. Doubling was too
 * loose: on 50,000 tests the reserve still grew from 81 to 117 MiB before the second collection;
 * growing by half, each collection (20-40 ms at 40-60 MiB live) comes every few thousand tests.
 * The shell checks on every tick, before planning the suite (the collection's garbage) and after a
 * line of megabytes; V8 itself grows the old generation by half at most (main.ts's #! line).
 *
 * Needs node's --expose-gc (main.ts's #! line); without it (node started otherwise) it does nothing.
 */
import { getHeapStatistics } from 'node:v8';

export const HEAP_FLOOR_BYTES = 48 * 1024 * 1024;
/** The heap collected again once it holds this many times what the last collection left. */
const GROWTH = 1.5;

export class HeapKeeper {
  /** Live bytes after the last forced collection (0 before the first). */
  private live = 0;
  collections = 0;

  constructor(
    private readonly collect: (() => void) | null = exposedGc(),
    private readonly usedBytes: () => number = () => getHeapStatistics().used_heap_size,
    private readonly floorBytes = HEAP_FLOOR_BYTES,
  ) {}

  /** Called on the run's tick: collects when the heap has grown by half since the last collection. Returns whether it did. */
  check(): boolean {
    if (this.collect === null) return false;
    const used = this.usedBytes();
    if (used < Math.max(this.floorBytes, GROWTH * this.live)) return false;
    this.collect();
    this.collections += 1;
    this.live = this.usedBytes();
    return true;
  }
}

function exposedGc(): (() => void) | null {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? () => (gc as () => void)() : null;
}
