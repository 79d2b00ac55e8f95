import { assertNever } from './assert-never.js';

/**
 * Why a worker process ended. A closed union: every exit maps to exactly one of these, and a
 * death we caused (stop, cancel) is never reported as a crash.
 */
export type ExitCause =
  | { kind: 'finished' }
  | { kind: 'signal'; signal: string }
  | { kind: 'exit_code'; code: number }
  | { kind: 'startup_failure'; code: number | null; signal: string | null }
  | { kind: 'protocol_violation'; detail: string }
  | { kind: 'stopped'; reason: string };

export function describeCause(cause: ExitCause): string {
  switch (cause.kind) {
    case 'finished':
      return 'finished';
    case 'signal':
      return `was killed by ${cause.signal}`;
    case 'exit_code':
      return `exited with code ${cause.code}`;
    case 'startup_failure':
      return cause.signal
        ? `was killed by ${cause.signal} before it was ready`
        : `exited with code ${cause.code ?? '?'} before it was ready`;
    case 'protocol_violation':
      return `broke the worker protocol (${cause.detail})`;
    case 'stopped':
      return `was stopped (${cause.reason})`;
    default:
      return assertNever(cause);
  }
}
