/**
 * The first rung of the memory ladder: the cgroup v2 memory controller, where the v2 subtree
 * bulkhead runs in has it (delegated to us, or enabled by us as root). The run's cgroup gets
 * `memory.max` = the budget; each worker's leaf (the same leaf used for `cgroup.kill`) gets its
 * cap in `memory.max`, no swap, and `memory.oom.group` so an OOM kill takes the whole worker.
 * OOM kills are read from `memory.events`, peaks from `memory.peak` (kernel 5.19+).
 *
 * cgroup v2 forbids processes in a cgroup whose children have controllers enabled (the "no
 * internal processes" rule): the parent can only hand the controller down if bulkhead's own
 * cgroup has no other processes or already delegates it, so every step may fail, and then this
 * rung is simply not in force.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNumber, readWords, tryWrite } from './cgroup-files.js';

/** Enables the memory controller for the run's cgroup and its leaves; false where it cannot. */
export function enableMemoryController(parent: string, root: string, budgetBytes: number | null): boolean {
  const controllers = readWords(join(parent, 'cgroup.controllers'));
  if (!controllers.includes('memory')) return false;
  try {
    if (!readWords(join(parent, 'cgroup.subtree_control')).includes('memory')) writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory');
    if (budgetBytes !== null) writeFileSync(join(root, 'memory.max'), String(budgetBytes));
    writeFileSync(join(root, 'cgroup.subtree_control'), '+memory');
    return true;
  } catch {
    return false;
  }
}

/** A worker's leaf under the v2 memory controller: the same shape as the v1 leaf. */
export class V2MemoryLeaf {
  constructor(
    readonly path: string,
    private cap: number | null,
  ) {}

  get capBytes(): number | null {
    return this.cap;
  }

  /** A new cap (null: none), for a test that runs alone and after it; kept only if the kernel took it. */
  setCap(bytes: number | null): void {
    if (tryWrite(join(this.path, 'memory.max'), bytes === null ? 'max' : String(bytes))) this.cap = bytes;
  }

  /** Sets the cap; false when the kernel refused it (the caller then has no memory leaf). */
  apply(): boolean {
    try {
      if (this.capBytes !== null) writeFileSync(join(this.path, 'memory.max'), String(this.capBytes));
    } catch {
      return false;
    }
    // Best effort: not every kernel has these files.
    tryWrite(join(this.path, 'memory.swap.max'), '0');
    tryWrite(join(this.path, 'memory.oom.group'), '1');
    return true;
  }

  usageBytes(): number | null {
    return readNumber(join(this.path, 'memory.current'));
  }

  peakBytes(): number | null {
    return readNumber(join(this.path, 'memory.peak'));
  }

  /** How many times the OOM killer struck in this cgroup (`memory.events`' oom_kill). */
  oomKills(): number {
    return memoryEvent(this.path, 'oom_kill');
  }

  /** Times usage ran into this leaf's `memory.max` (`memory.events`' max): a cap hit. */
  limitHits(): number {
    return memoryEvent(this.path, 'max');
  }

  remove(): void {
    // The leaf is the kill leaf too: CgroupLeaf removes it.
  }
}

/** A counter of `memory.events` (oom_kill, max, ...), 0 where the file or the key is missing. */
export function memoryEvent(dir: string, key: string): number {
  try {
    const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(join(dir, 'memory.events'), 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export function v2RunPeak(root: string): number | null {
  return readNumber(join(root, 'memory.peak'));
}
