import type { ExitCause } from '../model/cause.js';
import type { WorkerExit } from './worker-process.js';

export interface ExitContext {
  exit: WorkerExit;
  /** The worker had reported the end of its session (`done`). */
  sessionDone: boolean;
  /** The worker had collected and become ready. */
  wasReady: boolean;
  /** A protocol violation seen on its channel, if any. */
  protocolViolation: string | null;
}

/** Turns one worker exit into its cause. A death we caused is never reported as a crash. */
export function classifyExit(context: ExitContext): ExitCause {
  const { exit } = context;
  if (context.protocolViolation !== null) return { kind: 'protocol_violation', detail: context.protocolViolation };
  if (exit.killReason !== null) return { kind: 'stopped', reason: exit.killReason };
  if (exit.spawnError) return { kind: 'startup_failure', code: null, signal: null };
  if (context.sessionDone && exit.signal === null) return { kind: 'finished' };
  if (!context.wasReady) return { kind: 'startup_failure', code: exit.code, signal: exit.signal };
  if (exit.signal !== null) return { kind: 'signal', signal: exit.signal };
  return { kind: 'exit_code', code: exit.code ?? -1 };
}
