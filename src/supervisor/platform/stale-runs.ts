/**
 * Cgroups left by runs that died without cleaning up (bulkhead itself SIGKILLed, a CI job
 * cancelled): a run's cgroup is named `bulkhead-<pid>-<ms>`, so at start any sibling whose
 * bulkhead process is gone and which holds no process is removed, leaves first.
 */
import { readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const RUN_NAME = /^bulkhead-(\d+)-\d+$/;

export function sweepStaleRuns(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of entries) {
    const match = RUN_NAME.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    removeIfEmpty(join(parent, name));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Depth first; a cgroup that still holds a process is left alone (and so are its ancestors). */
function removeIfEmpty(path: string): boolean {
  let empty = true;
  try {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory() && !removeIfEmpty(join(path, entry.name))) empty = false;
    }
    if (readFileSync(join(path, 'cgroup.procs'), 'utf8').trim() !== '') return false;
    if (!empty) return false;
    rmdirSync(path);
    return true;
  } catch {
    return false;
  }
}
