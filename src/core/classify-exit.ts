import type { ExitCause, KillReason, OomCause } from '../model/cause.js';
import { assertNever } from '../model/assert-never.js';

export interface ExitFacts {
  code: number | null;
  signal: string | null;
  /** Why we killed it, if we did: recorded before the first signal was sent. */
  killReason: KillReason | null;
  spawnError: string | null;
  /** The worker had reported the end of its session (`done`). */
  sessionDone: boolean;
  /** The worker had collected and become ready. */
  wasReady: boolean;
  /** Evidence that the kernel's OOM killer (or our memory watchdog) took it. */
  oom: Omit<OomCause, 'kind'> | null;
}

/**
 * Turns one worker exit into its cause. Our own reason for a kill wins over what the exit looks
 * like (a timeout kill arrives as SIGKILL but is a timeout, not a crash), and a death we caused
 * for no fault of the test is never reported as a crash.
 */
export function classifyExit(facts: ExitFacts): ExitCause {
  if (facts.killReason !== null) return causeOfKill(facts.killReason, facts);
  if (facts.spawnError !== null) return { kind: 'startup_failure', code: null, signal: null, detail: facts.spawnError };
  if (facts.oom !== null) return { kind: 'oom', ...facts.oom };
  if (facts.sessionDone && facts.signal === null) return { kind: 'finished' };
  if (!facts.wasReady) return { kind: 'startup_failure', code: facts.code, signal: facts.signal, detail: null };
  if (facts.signal !== null) return { kind: 'signal', signal: facts.signal };
  return { kind: 'exit_code', code: facts.code ?? -1 };
}

function causeOfKill(reason: KillReason, facts: ExitFacts): ExitCause {
  switch (reason.kind) {
    case 'timeout':
      return reason.waitingFor?.length
        ? { kind: 'timeout', limitSeconds: reason.limitSeconds, waitingFor: reason.waitingFor }
        : { kind: 'timeout', limitSeconds: reason.limitSeconds };
    case 'unresponsive':
      return { kind: 'unresponsive', silentSeconds: reason.silentSeconds, ...(reason.stopped !== undefined ? { stopped: reason.stopped } : {}) };
    case 'startup_timeout':
      return { kind: 'startup_failure', code: facts.code, signal: facts.signal, detail: `not ready after ${reason.limitSeconds}s` };
    case 'protocol_violation':
      return { kind: 'protocol_violation', detail: reason.detail };
    case 'interrupted':
      return { kind: 'interrupted', detail: reason.detail };
    case 'memory_pressure':
      return { kind: 'memory_pressure' };
    case 'memory_cap':
      return { kind: 'oom', limitBytes: reason.limitBytes, peakBytes: reason.rssBytes, limit: reason.limit };
    case 'shutdown':
      return facts.sessionDone ? { kind: 'finished' } : { kind: 'stopped', reason: reason.detail };
    default:
      return assertNever(reason);
  }
}
