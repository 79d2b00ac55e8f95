/**
 * What a worker tells the run and what the run tells a worker, whatever the framework: the
 * messages a framework adapter decodes its channel lines into, and the commands it encodes. The
 * run core handles these and nothing framework-specific; what only the framework's renderers read
 * travels inside them as its payload (src/model/pytest.ts).
 */
import type { LockWait, SessionInfo, TestMemory } from '../model/event.js';
import type { CollectErrorReport, CollectSkipReport, PhaseReport, PlainPhase, WarningRecord } from '../model/report.js';
import type { LeakedProcess, TestInfo } from '../model/test.js';

export type WorkerMessage =
  /** The worker is up (its protocol version already checked by the adapter). */
  | { type: 'hello'; pid: number }
  | { type: 'heartbeat' }
  | { type: 'session'; info: SessionInfo }
  | { type: 'collect_error'; report: CollectErrorReport }
  | { type: 'collect_skip'; report: CollectSkipReport }
  | {
      type: 'collected';
      tests: TestInfo[];
      deselected: number;
      errors: number;
      interrupted: string | null;
      /** Set when the framework ended the session during collection (e.g. 4: a path that does not exist). */
      exitstatus: number | null;
    }
  | { type: 'started'; id: string }
  | { type: 'report'; report: PhaseReport }
  | { type: 'finished'; id: string; leaked: LeakedProcess[]; memory: TestMemory | null; locks: LockWait[]; plain: PlainPhase[] }
  | { type: 'warning'; warning: WarningRecord }
  /** Tests (by index) the worker gave back: after a `steal`, a `stop`, or when it stopped itself. */
  | { type: 'stolen'; indices: number[] }
  | { type: 'internal_error'; text: string }
  /** The worker rejected a command it could not read, and is ending: `detail` says which and why. */
  | { type: 'protocol_error'; detail: string }
  | { type: 'done'; exitstatus: number };

/**
 * A test's thread asks for a lock and blocks until it is granted; it gives it back with its token.
 * `token` is unique within one worker; a release of a token that is queued withdraws the request,
 * and a release of an unknown token does nothing (releases are idempotent).
 */
export type LockRequest =
  | { type: 'lock_acquire'; name: string; permits: number; token: string }
  | { type: 'lock_release'; token: string };

/** Everything a worker may send: its session messages and its lock requests. */
export type AnyWorkerMessage = WorkerMessage | LockRequest;

export function isLockRequest(message: AnyWorkerMessage): message is LockRequest {
  return message.type === 'lock_acquire' || message.type === 'lock_release';
}

/** Commands the run sends to a worker. Tests are named by their index in the collection. */
export type WorkerCommand =
  /** `threads`: tests (by index) that reserve more than one CPU slot, and how many threads they get. */
  | { type: 'run'; indices: number[]; threads?: Record<string, number> }
  | { type: 'steal'; indices: number[] }
  | { type: 'finish' }
  /** Run the lone held test without a successor, then wait for more. */
  | { type: 'flush' }
  | { type: 'stop' }
  | { type: 'lock_granted'; token: string; waitedSeconds: number };

/** A decoded line: the message, or why the line breaks the protocol. */
export type Decoded<T> = { ok: true; message: T } | { ok: false; error: string };
