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
