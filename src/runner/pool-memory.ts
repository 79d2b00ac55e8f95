/**
 * The memory rung of the resource ladder for a pool's workers, chosen once at start: the cgroup
 * v2 memory controller where the run's v2 subtree has it, else the cgroup v1 memory controller
 * where it is writable (either way a run cgroup capped at the budget and a leaf per worker with
 * its hard cap), else RLIMIT_DATA on each worker plus an RSS watchdog.
 */
import type { MemoryControl } from '../model/event.js';
import { MemoryCgroupTree, type CgroupLeaf, type CgroupTree, type MemoryCgroup } from '../supervisor/platform/index.js';
import { treeRssBytes } from '../supervisor/platform/process-tree.js';
import type { RunOptions } from './options.js';
import { sampleWorkerMemory } from './worker-exit.js';
import type { WorkerSlot } from './worker-slot.js';

export class PoolMemory {
  readonly control: MemoryControl;
  private readonly tree: MemoryCgroupTree | null;
  private sampledRunPeak: number | null = null;

  constructor(
    private readonly options: RunOptions,
    runName: string,
    /** The run's v2 cgroup (for cgroup.kill), with the memory controller where it could be enabled. */
    private readonly v2: CgroupTree | null,
  ) {
    const memory = options.memory;
    const v2Memory = v2?.memoryEnabled === true;
    this.tree = options.useCgroups && !memory.forceRlimit && !v2Memory ? MemoryCgroupTree.create(runName, memory.budgetBytes) : null;
    this.control = {
      mechanism: v2Memory ? 'cgroup-v2' : this.tree ? 'cgroup-v1' : 'rlimit-data+rss-watchdog',
      limitBytes: memory.limitBytes,
      limitSource: memory.limitSource,
      budgetBytes: memory.budgetBytes,
      workerMaxBytes: memory.workerMaxBytes,
    };
  }

  /** A worker's hard cap: --worker-memory-max, except a test retried alone, which gets the whole budget. */
  capFor(slot: WorkerSlot): number | null {
    if (slot.role === 'isolated') return this.options.memory.budgetBytes;
    return this.options.memory.workerMaxBytes;
  }

  /** Puts a worker about to start under its cap: its cgroup leaf (v2, else v1), or RLIMIT_DATA through its env. */
  confine(slot: WorkerSlot, env: Record<string, string | undefined>, killLeaf: CgroupLeaf | null): MemoryCgroup | null {
    const cap = this.capFor(slot);
    // v2: the worker's kill leaf is its memory cgroup too (a process is in one v2 cgroup only).
    const v2Leaf = killLeaf !== null ? (this.v2?.memoryLeaf(killLeaf, cap) ?? null) : null;
    if (v2Leaf) return v2Leaf;
    const leaf = this.tree?.leaf(`worker-${slot.id}`, cap) ?? null;
    if (leaf) env.BULKHEAD_MEMORY_CGROUP = leaf.path;
    // RLIMIT_DATA is a wide backstop only (the watchdog enforces the cap): twice the cap, since
    // the data segment counts reservations an RSS never touches.
    else if (cap !== null) env.BULKHEAD_RLIMIT_DATA = String(cap * 2);
    return leaf;
  }

  /**
   * Where no cgroup enforces the caps: the workers whose process tree grew past theirs. Also
   * keeps the run's peak, which no kernel counter keeps for us on this rung.
   */
  overCap(slots: Iterable<WorkerSlot>): Array<{ slot: WorkerSlot; capBytes: number; rssBytes: number }> {
    if (this.control.mechanism !== 'rlimit-data+rss-watchdog') return [];
    const sample = sampleWorkerMemory([...slots], (slot) => this.capFor(slot));
    this.sampledRunPeak = Math.max(this.sampledRunPeak ?? 0, sample.totalBytes);
    return sample.overCap;
  }

  /** A worker's resident memory now (its process tree's RSS), or 0 when unknown. */
  residentBytes(slot: WorkerSlot): number {
    return slot.pid !== null ? treeRssBytes(slot.pid) : 0;
  }

  runPeakBytes(): number | null {
    return this.v2?.memoryPeakBytes() ?? this.tree?.peakBytes() ?? this.sampledRunPeak;
  }

  dispose(): void {
    this.tree?.remove();
  }
}
