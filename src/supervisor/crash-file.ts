import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

/** Stacks dumps can be long (every thread of a big suite); the report keeps the end. */
const MAX_STACKS_BYTES = 64 * 1024;

/** The Python stacks faulthandler wrote into a worker's crash file, or '' when there are none. */
export function readCrashStacks(path: string | null): string {
  if (path === null) return '';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '';
  }
  return keepEnd(text.trim());
}

/** faulthandler's watchdog starts each dump with this line: `Timeout (0:00:05)!`. */
const DUMP_HEADER = /^Timeout \(\d+:\d\d:\d\d(?:\.\d+)?\)!$/gm;

/**
 * The newest of the dumps faulthandler's watchdog thread wrote while the current test ran (the
 * worker empties the file when a test starts), without its header; '' when there is none yet.
 * Taken without a signal: a signal would interrupt the test's own system call (a `sleep` in C
 * returns early) and change what it does.
 */
export function readLatestDump(path: string | null): string {
  if (path === null) return '';
  const text = readTail(path, 4 * MAX_STACKS_BYTES);
  let start = -1;
  let headerEnd = 0;
  for (const match of text.matchAll(DUMP_HEADER)) {
    start = match.index;
    headerEnd = match.index + match[0].length;
  }
  if (start < 0) return '';
  return keepEnd(text.slice(headerEnd).trim());
}

/**
 * "test_x at tests/test_x.py:12": the innermost frame of the last thread in a dump, which is the
 * main thread (faulthandler lists the newest thread first), or null when there is none.
 */
export function innermostFrame(dump: string): string | null {
  const blocks = dump.split(/^(?=(?:Current thread|Thread) 0x)/m);
  const last = blocks[blocks.length - 1] ?? '';
  const frame = /^\s+File "([^"]+)", line (\d+) in (.+)$/m.exec(last);
  return frame ? `${frame[3]} at ${frame[1]}:${frame[2]}` : null;
}

function keepEnd(text: string): string {
  return text.length > MAX_STACKS_BYTES ? `...\n${text.slice(text.length - MAX_STACKS_BYTES)}` : text;
}

/** The last `bytes` of a file (a long test's dumps add up), or '' when it cannot be read. */
function readTail(path: string, bytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, size - length);
    return buffer.subarray(0, read).toString('utf8');
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}
