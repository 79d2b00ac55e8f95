/**
 * Capped cgroup v1 memory cgroups for the tests (and the benchmark) that let real memory be eaten:
 * one is made under this process's own memory cgroup with `memory.limit_in_bytes`, the command
 * under test is started inside it, and whatever happens in there (bulkhead, pytest-xdist, a hog)
 * the shared machine never sees more than the cap. The kernel keeps the evidence:
 * `memory.max_usage_in_bytes` (the peak) and `oom_kill` in `memory.oom_control` (counted where
 * the limit that was hit is: a worker's own cap counts in the worker's leaf, not here).
 *
 * `remove()` kills anything still inside (descendant cgroups included), then removes the tree.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MOUNT = '/sys/fs/cgroup/memory';

/** This process's own v1 memory cgroup, where it is writable; null elsewhere. */
export function ownMemoryCgroup(): string | null {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((entry) => entry.split(':')[1]?.split(',').includes('memory'));
  } catch {
    return null;
  }
  const path = line?.split(':')[2];
  if (path === undefined) return null;
  const dir = join(MOUNT, path);
  return existsSync(join(dir, 'memory.limit_in_bytes')) ? dir : null;
}

/** Why capped cgroups cannot be made here, or null when they can (for `skip`). */
export function cgroupSkipReason(): string | null {
  if (ownMemoryCgroup() === null) return 'no writable cgroup v1 memory controller';
  if (process.getuid?.() !== 0) return 'making memory cgroups needs root';
  return null;
}

export class CappedCgroup {
  private constructor(
    readonly path: string,
    readonly limitBytes: number | null,
  ) {}

  /** A new cgroup under our own memory cgroup, capped at `limitBytes`. Throws where that is impossible. */
  static create(name: string, limitBytes: number): CappedCgroup {
    const parent = ownMemoryCgroup();
    if (parent === null) throw new Error('no writable cgroup v1 memory controller for this process');
    return CappedCgroup.make(join(parent, name), limitBytes);
  }

  private static make(path: string, limitBytes: number | null): CappedCgroup {
    mkdirSync(path);
    const cgroup = new CappedCgroup(path, limitBytes);
    try {
      if (limitBytes !== null) writeFileSync(join(path, 'memory.limit_in_bytes'), String(limitBytes));
      const written = cgroup.read('memory.limit_in_bytes');
      if (limitBytes !== null && (written === null || written > limitBytes)) throw new Error(`${path}: limit not in force (reads ${written})`);
    } catch (error) {
      cgroup.remove();
      throw error;
    }
    return cgroup;
  }

  /** A cgroup inside this one (its usage counts here too), with a cap of its own or none. */
  child(name: string, limitBytes: number | null = null): CappedCgroup {
    return CappedCgroup.make(join(this.path, name), limitBytes);
  }

  /**
   * `command args` started inside this cgroup: a shell moves itself in, then execs the command
   * (same pid, so whoever spawned it still owns it and its exit).
   */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'sh', args: ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.path, command, ...args] };
  }

  /** The most the cgroup (with everything below it) ever used since it was made or last reset. */
  peakBytes(): number {
    return this.read('memory.max_usage_in_bytes') ?? 0;
  }

  usageBytes(): number {
    return this.read('memory.usage_in_bytes') ?? 0;
  }

  resetPeak(): void {
    writeFileSync(join(this.path, 'memory.max_usage_in_bytes'), '0');
  }

  /** Times the kernel's OOM killer struck because this cgroup's own limit was reached. */
  oomKills(): number {
    try {
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(join(this.path, 'memory.oom_control'), 'utf8'));
      return match ? Number(match[1]) : 0;
    } catch {
      return 0;
    }
  }

  /** Pids in this cgroup and every cgroup below it. */
  pids(): number[] {
    const found: number[] = [];
    const walk = (dir: string): void => {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) found.push(Number(line));
        for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
      } catch {
        // gone meanwhile
      }
    };
    walk(this.path);
    return found;
  }

  /** Kills what is left inside (bounded: 5 s), then removes this cgroup and every one below it. */
  remove(): void {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const pids = this.pids();
      if (pids.length === 0 || Date.now() > deadline) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    removeTree(this.path);
  }

  private read(name: string): number | null {
    try {
      const value = Number(readFileSync(join(this.path, name), 'utf8').trim());
      return Number.isFinite(value) ? value : null;
    } catch {
      return null;
    }
  }
}

/** Depth first: a v1 cgroup with children (or tasks) cannot be removed. */
function removeTree(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(join(dir, entry.name));
    rmdirSync(dir);
  } catch {
    // already gone, or a task we could not kill (reported by the caller's leftovers check)
  }
}
