/**
 * A pytest worker's channel line, decoded: parsed, validated against the wire schemas
 * (protocol.ts), its protocol version checked, and turned into the neutral messages the run
 * handles (src/adapters/messages.ts). What only pytest's renderers read goes into the `pytest`
 * payload; what the run decides on (outcome, xfail, skip reason, duration) is lifted out of it.
 * A line that does not decode is a protocol violation by that worker, never a crash of ours.
 */
import type { AnyWorkerMessage, Decoded, WorkerCommand } from '../messages.js';
import type { SessionInfo } from '../../model/event.js';
import type { CollectErrorReport, CollectSkipReport, PhaseReport } from '../../model/report.js';
import { anyWorkerMessage, PROTOCOL_VERSION, type AnyWireMessage } from './protocol.js';
import type { z } from 'zod';
import { fastDecode } from './fast-decode.js';

type Wire<T extends AnyWireMessage['type']> = Extract<AnyWireMessage, { type: T }>;

export function decodeWorkerLine(line: string): Decoded<AnyWorkerMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${preview(line)}` };
  }
  // Every test's own messages are checked by hand (fast-decode.ts); the rest, and anything the
  // hand check does not accept, by the schema.
  const hot = fastDecode(raw);
  if (hot !== null) return { ok: true, message: hot };
  const parsed = checkWith(anyWorkerMessage, raw, line);
  if (!parsed.ok) return parsed;
  return toNeutral(parsed.message);
}

export function encodeCommand(command: WorkerCommand): string {
  return `${JSON.stringify(command)}\n`;
}

/** A parsed line checked against one schema: the message, or where it first breaks it. */
function checkWith<T>(schema: z.ZodType<T>, raw: unknown, line: string): Decoded<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(message)'}: ${issue.message}` : 'invalid';
    return { ok: false, error: `invalid message (${where}): ${preview(line)}` };
  }
  return { ok: true, message: parsed.data };
}

function toNeutral(message: AnyWireMessage): Decoded<AnyWorkerMessage> {
  switch (message.type) {
    case 'hello':
      if (message.protocol !== PROTOCOL_VERSION) return { ok: false, error: `protocol version ${message.protocol}, expected ${PROTOCOL_VERSION}` };
      return ok({ type: 'hello', pid: message.pid });
    case 'session':
      return ok({ type: 'session', info: sessionInfo(message) });
    case 'collect_error':
      return ok({ type: 'collect_error', report: collectError(message.report) });
    case 'collect_skip':
      return ok({ type: 'collect_skip', report: collectSkip(message.report) });
    case 'report':
      return ok({ type: 'report', report: phaseReport(message.report) });
    case 'protocol_error':
      return ok({ type: 'protocol_error', detail: `it rejected a command (${message.error}): ${preview(message.command)}` });
    default:
      // The rest are neutral as they are on the wire.
      return ok(message);
  }
}

function ok(message: AnyWorkerMessage): Decoded<AnyWorkerMessage> {
  return { ok: true, message };
}

function sessionInfo(message: Wire<'session'>): SessionInfo {
  const { xdistRequested } = message;
  return {
    rootdir: message.rootdir,
    maxfail: message.maxfail,
    continueOnCollectionErrors: message.continueOnCollectionErrors,
    frameworkTimeout: message.iniTimeout,
    notices: xdistRequested === null ? [] : [`pytest-xdist's -n ${xdistRequested} is ignored: bulkhead runs its own workers (use --workers N)`],
    pythonVersion: message.pythonVersion,
    pytestVersion: message.pytestVersion,
    coverage: message.coverage,
    pytest: {
      headerLines: message.headerLines,
      verbosity: message.verbosity,
      color: message.color,
      reportChars: message.reportChars,
      durations: message.durations,
      durationsMin: message.durationsMin,
      tbStyle: message.tbStyle,
      showCapture: message.showCapture,
      xdistRequested,
      junit: message.junit,
    },
  };
}

function phaseReport(wire: Wire<'report'>['report']): PhaseReport {
  return {
    testId: wire.testId,
    when: wire.when,
    outcome: wire.outcome,
    duration: wire.duration,
    xfailReason: wire.wasxfail,
    skipReason: wire.skip === null ? null : stripSkipped(wire.skip.reason),
    sections: wire.sections,
    userProperties: wire.userProperties,
    pytest: {
      category: wire.category,
      letter: wire.letter,
      word: wire.word,
      longrepr: wire.longrepr,
      longreprTerminal: wire.longreprTerminal,
      crashMessage: wire.crashMessage,
      skip: wire.skip,
      headLine: wire.headLine,
      summaryLine: wire.summaryLine,
      location: wire.location,
      junit: wire.junit,
    },
  };
}

function collectError(wire: Wire<'collect_error'>['report']): CollectErrorReport {
  const { nodeid, ...pytest } = wire;
  return { nodeid, pytest };
}

function collectSkip(wire: Wire<'collect_skip'>['report']): CollectSkipReport {
  return { nodeid: wire.nodeid, reason: stripSkipped(wire.skip.reason), pytest: { longrepr: wire.longrepr, skip: wire.skip, junit: wire.junit } };
}

/** pytest's raw skip reason is "Skipped: why"; reports show just "why" (as -rs and JUnit do). */
export function stripSkipped(reason: string): string {
  if (reason.startsWith('Skipped: ')) return reason.slice('Skipped: '.length);
  return reason === 'Skipped' ? '' : reason;
}

function preview(line: string): string {
  return line.length > 120 ? `${line.slice(0, 120)}...` : line;
}
