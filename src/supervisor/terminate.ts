/**
 * Killing a worker in stages, against its whole tree: (optionally) ask faulthandler for the
 * Python stacks, SIGTERM to the process group, a grace period, then SIGKILL to the group and
 * `cgroup.kill`. A test that ignores SIGTERM still dies. The reason is recorded before the first
 * signal, and every timer holds the exact process it was started for, so a late timer can never
 * kill a replacement.
 */
import type { KillReason } from '../model/cause.js';
import type { WorkerProcess } from './worker-process.js';

export interface TerminateOptions {
  /** Send SIGUSR1 first and wait this long for faulthandler's dump; 0 skips the dump. */
  dumpStacksMs: number;
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
}

export function terminateWorker(proc: WorkerProcess, reason: KillReason, options: TerminateOptions): void {
  if (proc.hasExited || proc.terminating) return;
  proc.recordKillReason(reason);
  proc.terminating = true;
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, action: () => void): void => {
    const timer = setTimeout(() => {
      if (!proc.hasExited) action();
    }, ms);
    timer.unref();
    timers.push(timer);
  };
  proc.onceExited(() => timers.forEach(clearTimeout));
  const term = (): void => {
    proc.signalGroup('SIGTERM');
    later(options.graceMs, () => proc.killHard());
  };
  if (options.dumpStacksMs > 0) {
    proc.signalMain('SIGUSR1');
    later(options.dumpStacksMs, term);
  } else {
    term();
  }
}
