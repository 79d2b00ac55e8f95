/**
 * Watching a running bulkhead CLI from the outside, through /proc (Linux): finding its pid (runCli
 * does not expose it: the CLI is the `node .../main.js` process whose cwd is the project copy),
 * sampling its resident memory, sending it signals, and finding processes a run left behind.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI_PATH } from './cli.js';

function pids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

/** argv of a process, or null if it is gone (or not readable). */
export function cmdlineOf(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return null;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

/** Whether the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pid of the bulkhead CLI running with `cwd` as its working directory, if there is one. */
export function findCliPid(cwd: string): number | null {
  for (const pid of pids()) {
    const argv = cmdlineOf(pid);
    if (!argv || !argv.includes(CLI_PATH)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) === cwd) return pid;
    } catch {
      continue;
    }
  }
  return null;
}

/** Waits (polling every 20 ms, at most `timeoutMs`) for the CLI started in `cwd`. */
export async function waitForCliPid(cwd: string, timeoutMs = 15_000): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const pid = findCliPid(cwd);
    if (pid !== null) return pid;
    await sleep(20);
  }
  return null;
}

/** VmRSS of a process in bytes, or null once it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Living processes whose argv is exactly `argv` and whose environment holds `envEntry` ("K=V"). */
export function findProcesses(argv: readonly string[], envEntry: string): number[] {
  const found: number[] = [];
  for (const pid of pids()) {
    const args = cmdlineOf(pid);
    if (!args || args.length !== argv.length || args.some((arg, i) => arg !== argv[i])) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (env.includes(envEntry) && isAlive(pid)) found.push(pid);
    } catch {
      continue;
    }
  }
  return found;
}

/** Sends a signal to a process group, ignoring one that is already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passed; returns its last value. */
export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(50);
  }
}
