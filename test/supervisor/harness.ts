/**
 * Starting tiny real processes under a WorkerProcess for supervisor-level tests, and making sure
 * none outlives its test: every spawned worker is remembered and its process group (and any pid a
 * test registers) is SIGKILLed by `reapAll()`, which each test file calls from `after`.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENV } from '../../src/model/environment.js';
import type { CgroupLeaf } from '../../src/supervisor/platform/index.js';
import { WorkerProcess, type WorkerExit } from '../../src/supervisor/worker-process.js';

export const PYTHON = process.env.BULKHEAD_TEST_PYTHON ?? 'python3';

export interface Spawned {
  proc: WorkerProcess;
  /** Resolves with the exit WorkerProcess reported (once, after stdout/stderr closed or were reaped). */
  exited: Promise<WorkerExit>;
  /** Channel lines (fd 3) in arrival order. */
  lines: string[];
  /** Resolves with the n-th channel line (1-based), or rejects after `timeoutMs`. */
  line(n: number, timeoutMs?: number): Promise<string>;
  overflows: number[];
}

const groups = new Set<number>();
const extraPids = new Set<number>();

export function spawnWorker(command: string, args: string[], options: { cgroup?: CgroupLeaf | null; logPath?: string | null; cwd?: string; env?: NodeJS.ProcessEnv; journal?: boolean } = {}): Spawned {
  const lines: string[] = [];
  const overflows: number[] = [];
  const waiters: Array<() => void> = [];
  let resolveExit!: (exit: WorkerExit) => void;
  const exited = new Promise<WorkerExit>((resolve) => (resolveExit = resolve));
  const proc = new WorkerProcess(
    {
      command,
      args,
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? process.env,
      channelFdVariable: ENV.channelFd.name,
      ...(options.journal ? { journalFdVariable: ENV.journalFd.name } : {}),
      logPath: options.logPath ?? null,
      cgroup: options.cgroup ?? null,
      memory: null,
    },
    {
      onLine: (line) => {
        lines.push(line);
        for (const wake of waiters.splice(0)) wake();
      },
      onChannelOverflow: (bytes) => overflows.push(bytes),
      onExit: (exit) => {
        resolveExit(exit);
        for (const wake of waiters.splice(0)) wake();
      },
    },
  );
  if (proc.pid !== null) groups.add(proc.pid);
  const line = async (n: number, timeoutMs = 10_000): Promise<string> => {
    const deadline = performance.now() + timeoutMs;
    while (lines.length < n) {
      if (proc.hasExited) throw new Error(`the process exited after ${lines.length} channel lines, waiting for line ${n}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no channel line ${n} within ${timeoutMs} ms (got ${JSON.stringify(lines)})`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), sleep(Math.min(left, 100))]);
    }
    return lines[n - 1]!;
  };
  return { proc, exited, lines, line, overflows };
}

/** The exit, or a rejection after `timeoutMs` (the process is then killed by reapAll). */
export async function exitWithin(spawned: Spawned, timeoutMs: number): Promise<WorkerExit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([spawned.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A pid the test must make sure is gone at the end (a child that escaped the process group). */
export function reapLater(pid: number): void {
  extraPids.add(pid);
}

export function reapAll(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  groups.clear();
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  extraPids.clear();
}

/** Alive and not a zombie (an escaped child reparented to a pid 1 that does not reap stays a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Polls (every 20 ms, at most `timeoutMs`) until `pid` is gone; returns whether it went. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(20);
  }
  return !isAlive(pid);
}
