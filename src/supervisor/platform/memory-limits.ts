/**
 * How much memory this run may really use: the smallest limit of bulkhead's own cgroup and its
 * ancestors (cgroup v2 `memory.max` and v1 `memory.limit_in_bytes`), and MemAvailable — never the
 * host's total, which a container or a CI runner's cgroup makes a lie.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readLines, readNumber } from './cgroup-files.js';
import { readHeld, readHeldNumber } from './held-file.js';

/** v1 reports "no limit" as a huge page-aligned number. */
const UNLIMITED = 2 ** 62;

export interface MemoryLimit {
  bytes: number;
  /** Where the binding limit comes from, for the start-of-run line and the reports. */
  source: string;
}

export function effectiveMemoryLimit(): MemoryLimit {
  const candidates: MemoryLimit[] = [];
  const available = memAvailable();
  if (available !== null) candidates.push({ bytes: available, source: 'MemAvailable' });
  for (const line of readLines('/proc/self/cgroup')) {
    const [, controllers, path] = line.split(':', 3) as [string, string, string];
    if (controllers === '' && path !== undefined) {
      collect(candidates, '/sys/fs/cgroup', path, 'memory.max', 'cgroup v2 memory.max');
      collect(candidates, '/sys/fs/cgroup/unified', path, 'memory.max', 'cgroup v2 memory.max');
    } else if (controllers?.split(',').includes('memory') && path !== undefined) {
      collect(candidates, '/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes', 'cgroup v1 memory.limit_in_bytes');
    }
  }
  if (candidates.length === 0) return { bytes: Number.MAX_SAFE_INTEGER, source: 'unknown' };
  return candidates.reduce((smallest, candidate) => (candidate.bytes < smallest.bytes ? candidate : smallest));
}

function collect(into: MemoryLimit[], mount: string, path: string, file: string, label: string): void {
  let dir = join(mount, path);
  if (!existsSync(dir)) return;
  for (;;) {
    const value = readNumber(join(dir, file));
    if (value !== null && value < UNLIMITED) into.push({ bytes: value, source: `${label} of ${dir}` });
    if (dir === mount || dir === '/') break;
    dir = dirname(dir);
  }
}

/**
 * Memory that can still be had right now: MemAvailable, and for every cgroup above us with a
 * limit, that limit minus what the cgroup uses (less its inactive page cache, which the kernel
 * reclaims before it kills anyone). The smallest wins.
 */
export function availableMemory(): number | null {
  const candidates: number[] = [];
  const available = memAvailable();
  if (available !== null) candidates.push(available);
  // Read on every tick: bulkhead does not move itself between cgroups, so its membership is read once.
  ownCgroups ??= readLines('/proc/self/cgroup');
  for (const line of ownCgroups) {
    const [, controllers, path] = line.split(':', 3) as [string, string, string];
    if (path === undefined) continue;
    if (controllers === '') {
      room(candidates, '/sys/fs/cgroup', path, 'memory.max', 'memory.current', 'inactive_file');
      room(candidates, '/sys/fs/cgroup/unified', path, 'memory.max', 'memory.current', 'inactive_file');
    } else if (controllers?.split(',').includes('memory')) {
      room(candidates, '/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes', 'memory.usage_in_bytes', 'total_inactive_file');
    }
  }
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

let ownCgroups: string[] | null = null;

function room(into: number[], mount: string, path: string, limitFile: string, usageFile: string, inactiveKey: string): void {
  let dir = join(mount, path);
  if (!existsSync(dir)) return;
  for (;;) {
    const limit = readHeldNumber(join(dir, limitFile));
    // Only a cgroup with a limit has room to measure: its usage and stat (which the kernel
    // computes on each read) are read for it alone.
    const usage = limit !== null && limit < UNLIMITED ? readHeldNumber(join(dir, usageFile)) : null;
    if (limit !== null && limit < UNLIMITED && usage !== null) {
      const inactive = statValue(join(dir, 'memory.stat'), inactiveKey) ?? 0;
      into.push(Math.max(0, limit - (usage - inactive)));
    }
    if (dir === mount || dir === '/') break;
    dir = dirname(dir);
  }
}

function statValue(path: string, key: string): number | null {
  const line = heldLines(path).find((entry) => entry.startsWith(`${key} `));
  const value = line ? Number(line.split(' ')[1]) : NaN;
  return Number.isFinite(value) ? value : null;
}

export function memAvailable(): number | null {
  const line = heldLines('/proc/meminfo').find((entry) => entry.startsWith('MemAvailable:'));
  const kib = line ? Number(line.split(/\s+/)[1]) : NaN;
  return Number.isFinite(kib) ? kib * 1024 : null;
}

/** PSI `some avg10` for memory (percent of time stalled), or null where the kernel has no PSI. */
export function memoryPressure(): number | null {
  const line = heldLines('/proc/pressure/memory').find((entry) => entry.startsWith('some'));
  const match = line ? /avg10=([\d.]+)/.exec(line) : null;
  return match ? Number(match[1]) : null;
}

function heldLines(path: string): string[] {
  return (readHeld(path) ?? '').split('\n').filter(Boolean);
}
