/**
 * The memory rung of the resource ladder for a pool's workers, chosen once at start: the cgroup
 * v2 memory controller where the run's v2 subtree has it, else the cgroup v1 memory controller
 * where it is writable (either way a run cgroup capped at the budget and a leaf per worker with
 * its hard cap), else RLIMIT_DATA on each worker plus an RSS watchdog.
 */
import type { MemoryLimitKind } from '../model/cause.js';
import type { MemoryControl } from '../model/event.js';
import type { MemoryOptions, WorkerMemoryLimits } from '../model/memory-options.js';
import { availableMemory, MemoryCgroupTree, type CgroupLeaf, type CgroupTree, type MemoryCgroup } from './platform/index.js';
import { treeRssBytes } from './platform/process-tree.js';

/** What the memory rung needs to know of one worker process. */
export interface RungWorker {
  id: number;
  /** Started (or adopted) to retry one test alone. */
  isolated: boolean;
  pid: number | null;
  exited: boolean;
  terminating: boolean;
  /** Its memory cgroup (v2 leaf, or v1 leaf), where one enforces its cap. */
  leaf: MemoryCgroup | null;
}

const MiB = 1024 ** 2;
/** How recently a charge must have run into the run's limit for an OOM kill to be put down to it. */
const RUN_HIT_WINDOW_MS = 5_000;

/** What ran out when a worker was OOM-killed: the limit, its size, and the worker's peak. */
export interface OomFacts {
  limit: MemoryLimitKind;
  limitBytes: number | null;
  peakBytes: number | null;
}

export class MemoryRung {
  readonly control: MemoryControl;
  private readonly tree: MemoryCgroupTree | null;
  private sampledRunPeak: number | null = null;
  /** The cap of each worker running a test alone, fixed when it starts. */
  private readonly loneCaps = new Map<number, number>();
  /** The run's limit was raised for a test alone and is not back at the budget yet. */
  private runLimitRaised = false;
  private runHits = 0;
  private runHitAt = -Infinity;

  private readonly options: { memory: MemoryOptions };

  constructor(
    memory: MemoryOptions,
    useCgroups: boolean,
    runName: string,
    /** The run's v2 cgroup (for cgroup.kill), with the memory controller where it could be enabled. */
    private readonly v2: CgroupTree | null,
  ) {
    this.options = { memory };
    const v2Memory = v2?.memoryEnabled === true;
    this.tree = useCgroups && !memory.forceRlimit && !v2Memory ? MemoryCgroupTree.create(runName, memory.budgetBytes) : null;
    this.control = {
      mechanism: v2Memory ? 'cgroup-v2' : this.tree ? 'cgroup-v1' : 'rlimit-data+rss-watchdog',
      limitBytes: memory.limitBytes,
      limitSource: memory.limitSource,
      budgetBytes: memory.budgetBytes,
      workerMaxBytes: memory.workerMaxBytes,
    };
  }

  /**
   * A worker's hard cap: --worker-memory-max, except a test running alone (an isolated retry),
   * which may have what plain pytest would have had (see loneCap).
   */
  capFor(slot: RungWorker): number | null {
    const lone = this.loneCaps.get(slot.id);
    if (lone !== undefined) return lone;
    return slot.isolated ? this.options.memory.budgetBytes : this.options.memory.workerMaxBytes;
  }

  /**
   * The cap of a test about to run alone: all the memory that can be had now (MemAvailable, and
   * the room under every limited cgroup above bulkhead), less a small margin, and never less than
   * the budget. No other worker of ours is alive then, so this is what the test would have under
   * plain pytest; the budget's reserve exists to keep parallel workers from stampeding, and a test
   * that passes alone under pytest must not run out of memory alone under bulkhead. The run's own
   * cgroup is raised to match for as long as the test runs (see releaseLone). A budget the user
   * chose is a limit even for a test alone.
   */
  private loneCap(): number {
    const budget = this.options.memory.budgetBytes;
    if (this.options.memory.budgetChosen) return budget;
    const available = availableMemory();
    if (available === null) return budget;
    const margin = Math.max(64 * MiB, Math.floor(this.options.memory.limitBytes * 0.02));
    return Math.max(budget, available - margin);
  }

  /**
   * A worker that is about to run a test alone (a spare adopted for an isolated retry, or a pool
   * worker given a test predicted larger than the whole budget, which the scheduler runs with
   * nothing beside it): its cap, and the run's limit, go up to what a test alone may have.
   */
  makeLone(slot: RungWorker): void {
    this.reserveLone(slot);
    slot.leaf?.setCap(this.capFor(slot));
  }

  private reserveLone(slot: RungWorker): void {
    const lone = this.loneCap();
    this.loneCaps.set(slot.id, lone);
    this.raiseRunLimit(lone);
  }

  /** The run's cgroup limit goes back to the budget once the test that ran alone is over. */
  releaseLone(slot: RungWorker): void {
    if (!this.loneCaps.delete(slot.id)) return;
    if (!slot.isolated && !slot.exited) slot.leaf?.setCap(this.options.memory.workerMaxBytes);
    this.settleRunLimit();
  }

  /**
   * Puts the run's limit back at the budget once no test runs alone. The kernel refuses a limit
   * below what is in use, so a worker that still holds the memory of its lone test keeps it up
   * until its exit (the pool calls this on every exit).
   */
  settleRunLimit(): void {
    if (!this.runLimitRaised || this.loneCaps.size > 0) return;
    if (this.setRunLimit(this.options.memory.budgetBytes)) this.runLimitRaised = false;
  }

  private raiseRunLimit(bytes: number): void {
    if (this.setRunLimit(bytes)) this.runLimitRaised = true;
  }

  private setRunLimit(bytes: number): boolean {
    if (this.options.memory.forceRlimit) return false;
    if (this.v2?.memoryEnabled) return this.v2.setMemoryLimit(bytes);
    return this.tree?.setLimit(bytes) ?? false;
  }

  /**
   * What a worker the kernel's OOM killer took ran into: its own cap (its cgroup counted charges
   * against it since its test began), else the run's budget (charges ran into the run's limit just
   * now), else the machine or a cgroup above bulkhead.
   */
  oomFacts(slot: RungWorker, leaf: MemoryCgroup): OomFacts {
    const peakBytes = leaf.peakBytes();
    if (leaf.capBytes !== null && leaf.limitHits() > 0) {
      return { limit: slot.isolated ? 'lone_cap' : 'worker_cap', limitBytes: leaf.capBytes, peakBytes };
    }
    if (this.ranIntoRunLimit()) {
      const limitBytes = (this.v2?.memoryEnabled ? this.v2.memoryLimitBytes() : this.tree?.limitBytes()) ?? this.options.memory.budgetBytes;
      return { limit: 'run_budget', limitBytes, peakBytes };
    }
    return { limit: 'machine', limitBytes: this.options.memory.limitBytes, peakBytes };
  }

  private ranIntoRunLimit(): boolean {
    const hits = this.v2?.memoryEnabled ? this.v2.memoryLimitHits() : (this.tree?.limitHits() ?? 0);
    const now = Date.now();
    if (hits > this.runHits) {
      this.runHits = hits;
      this.runHitAt = now;
    }
    // Two workers killed by one OOM at the budget exit one after the other: both are its.
    return now - this.runHitAt <= RUN_HIT_WINDOW_MS;
  }

  /**
   * Puts a worker about to start under its cap: its cgroup leaf (v2, else v1), or RLIMIT_DATA.
   * `limits` is what the worker itself must be told (its v1 leaf, or the RLIMIT_DATA to set).
   */
  confine(slot: RungWorker, killLeaf: CgroupLeaf | null): { leaf: MemoryCgroup | null; limits: WorkerMemoryLimits } {
    if (slot.isolated) this.reserveLone(slot);
    const cap = this.capFor(slot);
    // v2: the worker's kill leaf is its memory cgroup too (a process is in one v2 cgroup only).
    const v2Leaf = killLeaf !== null ? (this.v2?.memoryLeaf(killLeaf, cap) ?? null) : null;
    if (v2Leaf) return { leaf: v2Leaf, limits: { cgroupPath: null, dataLimitBytes: null } };
    const leaf = this.tree?.leaf(`worker-${slot.id}`, cap) ?? null;
    if (leaf) return { leaf, limits: { cgroupPath: leaf.path, dataLimitBytes: null } };
    // RLIMIT_DATA is a wide backstop only (the watchdog enforces the cap): twice the cap, since
    // the data segment counts reservations an RSS never touches.
    return { leaf: null, limits: { cgroupPath: null, dataLimitBytes: cap !== null ? cap * 2 : null } };
  }

  /**
   * Where no cgroup enforces the caps: the workers whose process tree grew past theirs. Also
   * keeps the run's peak, which no kernel counter keeps for us on this rung.
   */
  overCap(slots: Iterable<RungWorker>): Array<{ slot: RungWorker; capBytes: number; rssBytes: number }> {
    if (this.control.mechanism !== 'rlimit-data+rss-watchdog') return [];
    let totalBytes = 0;
    const over: Array<{ slot: RungWorker; capBytes: number; rssBytes: number }> = [];
    for (const slot of slots) {
      if (slot.exited || slot.pid === null) continue;
      const rssBytes = treeRssBytes(slot.pid);
      totalBytes += rssBytes;
      const capBytes = this.capFor(slot);
      if (capBytes !== null && rssBytes > capBytes && !slot.terminating) over.push({ slot, capBytes, rssBytes });
    }
    this.sampledRunPeak = Math.max(this.sampledRunPeak ?? 0, totalBytes);
    return over;
  }

  /** A worker's resident memory now (its process tree's RSS), or 0 when unknown. */
  residentBytes(slot: RungWorker): number {
    return slot.pid !== null ? treeRssBytes(slot.pid) : 0;
  }

  /** A worker's peak since its current test began (its cgroup resets it per test), else its size now. */
  testPeakBytes(slot: RungWorker): number | null {
    const leaf = slot.leaf;
    if (leaf) return leaf.peakBytes();
    return slot.pid !== null ? treeRssBytes(slot.pid) : null;
  }

  /** The run's v1 memory cgroup folder, where that rung is in force. */
  get cgroupRoot(): string | null {
    return this.tree?.root ?? null;
  }

  runPeakBytes(): number | null {
    return this.v2?.memoryPeakBytes() ?? this.tree?.peakBytes() ?? this.sampledRunPeak;
  }

  dispose(): void {
    this.tree?.remove();
  }
}
