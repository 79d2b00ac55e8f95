/**
 * The two things the core does to a worker, whoever decides them: tell it to end (after what it
 * holds, or at once), and kill it. The reason for a kill is recorded before the command goes out
 * (the first reason wins), so its exit is classified from it and never reported as a crash.
 */
import type { KillReason } from '../model/cause.js';
import type { Step } from './step.js';
import type { WorkerRecord } from './worker-record.js';

/** `finish`: run what you hold, then end; `stop`: end after the running test, give back the rest. */
export function tellToEnd(record: WorkerRecord, how: 'finish' | 'stop', out: Step): void {
  if (record.exited) return;
  out.command({ type: 'send', worker: record.id, command: { type: how } });
  out.transition(record, 'finishing');
}

export interface KillOptions {
  /** Ask for the Python stacks before the kill (the watchdog's dump is used where it has one). */
  dumpStacks?: boolean;
  /** SIGKILL the tree now, even if a staged kill is under way. */
  hard?: boolean;
  /** It runs a test: the stacks faulthandler's watchdog already dumped of it will do, if any. */
  watchdogDump?: boolean;
}

export function killWorker(record: WorkerRecord, reason: KillReason, out: Step, options: KillOptions = {}): void {
  if (record.exited) return;
  const hard = options.hard ?? false;
  if (record.terminating && !hard) return;
  record.killReason ??= reason;
  record.terminating = true;
  out.command({ type: 'kill', worker: record.id, reason: record.killReason, dumpStacks: options.dumpStacks ?? false, watchdogDump: options.watchdogDump ?? false, hard });
}
