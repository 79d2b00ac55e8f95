/**
 * Reading and writing the small files of /proc and cgroupfs, where a file that is missing or
 * unreadable (a kernel without it, a cgroup just removed) means "unknown", never an error.
 */
import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';

/** A number file; null when missing, unreadable or "max" (no limit). */
export function readNumber(path: string): number | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text === 'max') return null;
    const value = Number(text);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** Non-empty lines; none when the file cannot be read. */
export function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Space-separated words (cgroup.controllers, cgroup.subtree_control). */
export function readWords(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** An optional knob: false when the kernel has no such file or refused the value. */
export function tryWrite(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
  }
}

/** Removes an empty cgroup; one still populated (a process in uninterruptible sleep) or gone is left. */
export function removeQuietly(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // still populated, or already gone
  }
}
