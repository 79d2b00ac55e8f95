/**
 * One line from a worker's channel: decoded and validated (a bad line is a protocol violation),
 * the worker's own bookkeeping done here (handshake, heartbeat, collection reports, the end of its
 * session), and everything the run decides on handed to the run loop.
 */
import { isLockRequest, type AnyWorkerMessage, type Decoded, type LockRequest, type WorkerMessage } from '../adapters/messages.js';
import { assertNever } from '../model/assert-never.js';
import type { PhaseReport } from '../model/report.js';
import type { WorkerSlot } from './worker-slot.js';

type Message<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

export interface MessageHandlers {
  now(): number;
  /** The framework adapter's decoding of one line (its protocol version checked there). */
  decode(line: string): Decoded<AnyWorkerMessage>;
  violation(slot: WorkerSlot, detail: string): void;
  lock(slot: WorkerSlot, request: LockRequest): void;
  session(message: Message<'session'>): void;
  collected(slot: WorkerSlot, message: Message<'collected'>): void;
  started(slot: WorkerSlot, id: string): void;
  /** A phase report of the test the worker runs (`index`). */
  report(slot: WorkerSlot, index: number, report: PhaseReport): void;
  finished(slot: WorkerSlot, message: Message<'finished'>): void;
  warning(slot: WorkerSlot, warning: Message<'warning'>['warning']): void;
  stolen(slot: WorkerSlot, indices: number[]): void;
  internalError(slot: WorkerSlot, text: string): void;
}

export function routeWorkerLine(slot: WorkerSlot, line: string, on: MessageHandlers): void {
  if (slot.protocolViolation !== null) return;
  const decoded = on.decode(line);
  if (!decoded.ok) {
    on.violation(slot, decoded.error);
    return;
  }
  if (isLockRequest(decoded.message)) on.lock(slot, decoded.message);
  else routeMessage(slot, decoded.message, on);
}

function routeMessage(slot: WorkerSlot, message: WorkerMessage, on: MessageHandlers): void {
  switch (message.type) {
    case 'hello':
      slot.pid = message.pid;
      slot.state = 'collecting';
      return;
    case 'heartbeat':
      slot.lastHeartbeat = on.now();
      return;
    case 'session':
      on.session(message);
      return;
    case 'collect_error':
      slot.collectErrors.push(message.report);
      return;
    case 'collect_skip':
      slot.collectSkips.push(message.report);
      return;
    case 'collected':
      on.collected(slot, message);
      return;
    case 'started':
      on.started(slot, message.id);
      return;
    case 'report':
      if (slot.running === null) {
        on.violation(slot, `a report for ${message.report.testId} outside a test`);
        return;
      }
      on.report(slot, slot.running, message.report);
      return;
    case 'finished':
      on.finished(slot, message);
      return;
    case 'warning':
      on.warning(slot, message.warning);
      return;
    case 'stolen':
      on.stolen(slot, message.indices);
      return;
    case 'internal_error':
      on.internalError(slot, message.text);
      return;
    case 'protocol_error':
      // The worker could not read a command and is ending: its death is the violation it reported.
      on.violation(slot, message.detail);
      return;
    case 'done':
      slot.sessionDone = true;
      return;
    default:
      assertNever(message);
  }
}
