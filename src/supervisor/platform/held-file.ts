/**
 * Small kernel files read many times a second (/proc/meminfo, PSI, cgroup counters), kept open
 * and read in place from offset 0: an open, read and close costs several times one pread, and
 * the supervisor reads these on every 200 ms tick for the whole run. A file that cannot be read
 * (a cgroup removed, a kernel without it) reads as null and is closed; it is tried afresh next time.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const SIZE = 16 * 1024;
const open = new Map<string, number>();
let buffer: Buffer | null = null;

/** The file's text, or null when it cannot be read. */
export function readHeld(path: string): string | null {
  let fd = open.get(path);
  try {
    if (fd === undefined) {
      fd = openSync(path, 'r');
      open.set(path, fd);
    }
    buffer ??= Buffer.alloc(SIZE);
    const bytes = readSync(fd, buffer, 0, SIZE, 0);
    return buffer.toString('utf8', 0, bytes);
  } catch {
    if (fd !== undefined) {
      open.delete(path);
      try {
        closeSync(fd);
      } catch {
        // already gone: nothing held
      }
    }
    return null;
  }
}

/** A number file held open; null when missing, unreadable or "max" (no limit). */
export function readHeldNumber(path: string): number | null {
  const text = readHeld(path)?.trim();
  if (text === undefined || text === 'max') return null;
  const value = Number(text);
  return text !== '' && Number.isFinite(value) ? value : null;
}
