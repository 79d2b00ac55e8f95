import { readFileSync } from 'node:fs';
/**
 * Linux process control. Everything the supervisor does to the OS that is not portable lives in
 * this folder, so another platform is a sibling file, not an edit to the scheduler or runner.
 */

/** Signals a whole process group (the worker and every descendant that did not leave it). */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Workers start in their own session and process group so one kill reaches their whole tree. */
export const SPAWN_DETACHED = true;

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The kernel's start time of a process (clock ticks since boot), to tell it from a pid reuse. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/**
 * What the kernel says a process is doing: the CPU time it has used (user + system, every thread,
 * in clock ticks) and whether it is stopped (SIGSTOP, or a tracer's stop). A worker whose
 * heartbeat is silent is busy while this CPU time grows, hung while it does not.
 */
export interface ProcessProgress {
  cpuTicks: number;
  stopped: boolean;
}

export function processProgress(pid: number): ProcessProgress | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export function parseProcStat(stat: string): ProcessProgress | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // proc(5): state is field 3, utime 14, stime 15 (1-based, counting pid and comm).
  const state = fields[0];
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (state === undefined || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { cpuTicks: utime + stime, stopped: state === 'T' || state === 't' };
}
