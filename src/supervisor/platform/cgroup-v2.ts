/**
 * A cgroup v2 folder per worker, where one can be made: every process a test starts, including
 * one that escaped with setsid, stays in its worker's cgroup, so `cgroup.kill` ends them all.
 * Used where a cgroup v2 hierarchy is writable (on the hybrid layout of our machines it is
 * mounted at /sys/fs/cgroup/unified, without controllers, and `cgroup.kill` works there).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';

import { enableMemoryController, memoryEvent, V2MemoryLeaf, v2RunPeak } from './cgroup-v2-memory.js';
import { sweepStaleRuns } from './stale-runs.js';
import { readNumber, removeQuietly, tryWrite } from './cgroup-files.js';

const CANDIDATE_MOUNTS = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

export class CgroupTree {
  /** The v2 memory controller is enabled for the run and its leaves (the ladder's first rung). */
  memoryEnabled = false;

  private constructor(readonly root: string) {}

  /**
   * The run's own cgroup under the first writable v2 hierarchy with cgroup.kill, or null. With
   * `memory`, the memory controller is enabled for it where the hierarchy allows, capped at the budget.
   */
  static create(runName: string, memory: { budgetBytes: number | null } | null = null, mounts: readonly string[] = CANDIDATE_MOUNTS): CgroupTree | null {
    for (const mount of mounts) {
      if (!existsSync(join(mount, 'cgroup.procs')) || !existsSync(join(mount, 'cgroup.controllers'))) continue;
      const own = ownCgroup();
      const parent = own !== null && existsSync(join(mount, own)) ? join(mount, own) : mount;
      const root = join(parent, runName);
      try {
        accessSync(parent, constants.W_OK);
        sweepStaleRuns(parent);
        mkdirSync(root);
        if (!existsSync(join(root, 'cgroup.kill'))) {
          rmdirSync(root);
          continue;
        }
        const tree = new CgroupTree(root);
        if (memory !== null) tree.memoryEnabled = enableMemoryController(parent, root, memory.budgetBytes);
        return tree;
      } catch {
        continue;
      }
    }
    return null;
  }

  /** A worker's leaf under the v2 memory controller with its cap, or null where it is not enabled. */
  memoryLeaf(leaf: CgroupLeaf, capBytes: number | null): V2MemoryLeaf | null {
    if (!this.memoryEnabled) return null;
    const memory = new V2MemoryLeaf(leaf.path, capBytes);
    return memory.apply() ? memory : null;
  }

  /** The run's memory peak, where the v2 controller keeps it. */
  memoryPeakBytes(): number | null {
    return this.memoryEnabled ? v2RunPeak(this.root) : null;
  }

  /** The run's `memory.max` now, where the controller is enabled ("max": no limit, null). */
  memoryLimitBytes(): number | null {
    return this.memoryEnabled ? readNumber(join(this.root, 'memory.max')) : null;
  }

  /** Changes the run's `memory.max` (raised for a test alone, lowered back after it). */
  setMemoryLimit(bytes: number): boolean {
    return this.memoryEnabled && tryWrite(join(this.root, 'memory.max'), String(bytes));
  }

  /** Times usage ran into the run's own `memory.max`: an OOM at the budget, not at a worker's cap. */
  memoryLimitHits(): number {
    return this.memoryEnabled ? memoryEvent(this.root, 'max') : 0;
  }

  leaf(name: string): CgroupLeaf | null {
    const path = join(this.root, name);
    try {
      mkdirSync(path);
      return new CgroupLeaf(path);
    } catch {
      return null;
    }
  }

  /** Removes the run's cgroup, with any worker leaf not removed yet (their processes are dead). */
  remove(): void {
    try {
      for (const entry of readdirSync(this.root, { withFileTypes: true })) {
        if (entry.isDirectory()) {
          const leaf = new CgroupLeaf(join(this.root, entry.name));
          leaf.kill();
          leaf.remove();
        }
      }
    } catch {
      // already gone
    }
    removeQuietly(this.root);
  }
}

export class CgroupLeaf {
  constructor(readonly path: string) {}


  pids(): number[] {
    try {
      return readFileSync(join(this.path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** SIGKILLs every process in the cgroup at once. */
  kill(): void {
    try {
      writeFileSync(join(this.path, 'cgroup.kill'), '1');
    } catch {
      // already removed or never populated
    }
  }

  remove(): void {
    removeQuietly(this.path);
  }
}

function ownCgroup(): string | null {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((entry) => entry.startsWith('0::'));
    return line ? line.slice(3) : null;
  } catch {
    return null;
  }
}

/**
 * Wraps a command so the process enters every given cgroup folder before it execs: no process it
 * forks can escape the cgroups by racing the supervisor.
 */
export function wrapInCgroups(dirs: readonly string[], command: string, args: readonly string[]): { command: string; args: string[] } {
  if (dirs.length === 0) return { command, args: [...args] };
  const script = 'while [ "$1" != "--" ]; do echo $$ > "$1/cgroup.procs" || exit 126; shift; done; shift; exec "$@"';
  return { command: '/bin/sh', args: ['-c', script, 'bulkhead-worker', ...dirs, '--', command, ...args] };
}
