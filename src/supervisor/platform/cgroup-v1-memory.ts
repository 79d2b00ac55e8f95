/**
 * Memory control through the cgroup v1 memory controller, where it is writable (the hybrid
 * layout of our machines): a run cgroup capped at the budget, one leaf per worker with its hard
 * cap, per-test peaks from `memory.max_usage_in_bytes`, and OOM kills from `memory.oom_control`.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { sweepStaleRuns } from './stale-runs.js';
import { readNumber, removeQuietly, tryWrite } from './cgroup-files.js';

const MOUNT = '/sys/fs/cgroup/memory';

export class MemoryCgroupTree {
  private constructor(readonly root: string) {}

  /** The run's memory cgroup under bulkhead's own, capped at `limitBytes`; null where v1 is not writable. */
  static create(runName: string, limitBytes: number | null): MemoryCgroupTree | null {
    const own = ownV1MemoryPath();
    if (own === null) return null;
    const parent = join(MOUNT, own);
    if (!existsSync(join(parent, 'memory.limit_in_bytes'))) return null;
    const root = join(parent, runName);
    sweepStaleRuns(parent);
    try {
      mkdirSync(root);
      if (limitBytes !== null) writeFileSync(join(root, 'memory.limit_in_bytes'), String(limitBytes));
      return new MemoryCgroupTree(root);
    } catch {
      removeQuietly(root);
      return null;
    }
  }

  leaf(name: string, capBytes: number | null): MemoryLeaf | null {
    const path = join(this.root, name);
    try {
      mkdirSync(path);
      if (capBytes !== null) writeFileSync(join(path, 'memory.limit_in_bytes'), String(capBytes));
      return new MemoryLeaf(path, capBytes);
    } catch {
      removeQuietly(path);
      return null;
    }
  }

  /** Peak memory of the whole run (all workers together). */
  peakBytes(): number | null {
    return readNumber(join(this.root, 'memory.max_usage_in_bytes'));
  }

  /** The run's limit now. */
  limitBytes(): number | null {
    return readNumber(join(this.root, 'memory.limit_in_bytes'));
  }

  /**
   * Changes the run's limit: raised for a test that runs alone (it may have all there is), lowered
   * back once it is over. False when the kernel refused (lowering below what is in use).
   */
  setLimit(bytes: number): boolean {
    return tryWrite(join(this.root, 'memory.limit_in_bytes'), String(bytes));
  }

  /**
   * Times a charge ran into the run's own limit (`memory.failcnt`, counted only at the level whose
   * limit was hit): how an OOM kill at the run's budget is told from one at a worker's cap.
   */
  limitHits(): number {
    return readNumber(join(this.root, 'memory.failcnt')) ?? 0;
  }

  /** Removes the run's cgroup, with any worker leaf not removed yet (their processes are dead). */
  remove(): void {
    try {
      for (const entry of readdirSync(this.root, { withFileTypes: true })) {
        if (entry.isDirectory()) removeQuietly(join(this.root, entry.name));
      }
    } catch {
      // already gone
    }
    removeQuietly(this.root);
  }
}

export class MemoryLeaf {
  constructor(
    readonly path: string,
    private cap: number | null,
  ) {}

  get capBytes(): number | null {
    return this.cap;
  }

  /** A new cap (null: none), for a test that runs alone and after it; kept only if the kernel took it. */
  setCap(bytes: number | null): void {
    if (tryWrite(join(this.path, 'memory.limit_in_bytes'), bytes === null ? '-1' : String(bytes))) this.cap = bytes;
  }

  usageBytes(): number | null {
    return readNumber(join(this.path, 'memory.usage_in_bytes'));
  }

  peakBytes(): number | null {
    return readNumber(join(this.path, 'memory.max_usage_in_bytes'));
  }

  /** How many times the kernel's OOM killer struck in this cgroup. */
  oomKills(): number {
    try {
      const text = readFileSync(join(this.path, 'memory.oom_control'), 'utf8');
      const match = /^oom_kill (\d+)$/m.exec(text);
      if (match) return Number(match[1]);
      return 0;
    } catch {
      return 0;
    }
  }

  /**
   * Times a charge ran into this leaf's own cap since the worker's current test began (the worker
   * resets `memory.failcnt` with the peak): a cap hit, as opposed to the run's budget above it.
   */
  limitHits(): number {
    return readNumber(join(this.path, 'memory.failcnt')) ?? 0;
  }

  remove(): void {
    removeQuietly(this.path);
  }
}

function ownV1MemoryPath(): string | null {
  try {
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, controllers, path] = line.split(':', 3);
      if (controllers?.split(',').includes('memory') && path !== undefined) return path;
    }
  } catch {
    // not Linux
  }
  return null;
}
