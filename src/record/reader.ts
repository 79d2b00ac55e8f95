/**
 * Reads a recording back: its header, then its events in order. Tolerant where a recording can
 * honestly be short or newer (a last line cut short by a kill is ignored; event types this
 * bulkhead does not know are skipped and counted), strict where it cannot be trusted (a file
 * that is not a recording, a corrupt line in the middle, a newer format version): those are one
 * line saying what and where.
 */
import { readFileSync } from 'node:fs';
import type { RunEvent } from '../model/event.js';
import { isKnownEventType, RECORDING_FORMAT, RECORDING_VERSION, type RecordingHeader } from './format.js';
import { describeFsError } from './run-folder.js';

export interface Recording {
  path: string;
  header: RecordingHeader;
  /** The events this bulkhead knows, in recorded order. */
  events: RunEvent[];
  /** Events of types this bulkhead does not know (a newer one wrote them), skipped: count by type. */
  skipped: Map<string, number>;
  /** The last line was cut short (the writer was killed while writing it) and was ignored. */
  truncatedLastLine: boolean;
}

export type ReadRecordingResult =
  | { ok: true; recording: Recording }
  /** `newer`: a format version this bulkhead cannot read; `unreadable`: missing, not a recording, or corrupt. */
  | { ok: false; kind: 'unreadable' | 'newer'; message: string };

export function readRecording(path: string): ReadRecordingResult {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a file' : describeFsError(error);
    return unreadable(`cannot read recording ${path}: ${what}`);
  }
  const lines = splitLines(data);
  const first = lines[0];
  if (first === undefined || first.text.trim() === '') return unreadable(`${path} is empty: not a bulkhead recording`);
  const header = parseHeader(first.text);
  if (typeof header === 'string') return unreadable(`${path}:1: not a bulkhead recording: ${header}`);
  if (header.version > RECORDING_VERSION) {
    return {
      ok: false,
      kind: 'newer',
      message:
        `${path} is a version ${header.version} recording (written by bulkhead ${header.bulkhead}); ` +
        `this bulkhead reads version ${RECORDING_VERSION}: replay it with bulkhead ${header.bulkhead} or later`,
    };
  }
  const recording: Recording = { path, header, events: [], skipped: new Map(), truncatedLastLine: false };
  let lastSeq = -1;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.text.trim() === '') continue;
    const event = parseEvent(line.text);
    if (typeof event === 'string') {
      // A kill in the middle of the last write leaves that line cut short, and only that one.
      if (index === lines.length - 1 && !line.complete) {
        recording.truncatedLastLine = true;
        break;
      }
      return unreadable(`${path}:${index + 1}: corrupt recording: ${event}`);
    }
    if (event.seq <= lastSeq) return unreadable(`${path}:${index + 1}: corrupt recording: event seq ${event.seq} after ${lastSeq}`);
    lastSeq = event.seq;
    if (isKnownEventType(event.type)) recording.events.push(event as RunEvent);
    else recording.skipped.set(event.type, (recording.skipped.get(event.type) ?? 0) + 1);
  }
  return { ok: true, recording };
}

function unreadable(message: string): ReadRecordingResult {
  return { ok: false, kind: 'unreadable', message };
}

/**
 * The file's lines, each decoded alone (a large recording never becomes one string) and marked
 * complete when its newline was written.
 */
function splitLines(data: Buffer): Array<{ text: string; complete: boolean }> {
  const lines: Array<{ text: string; complete: boolean }> = [];
  let start = 0;
  while (start < data.length) {
    const end = data.indexOf(0x0a, start);
    if (end < 0) {
      lines.push({ text: data.toString('utf8', start), complete: false });
      break;
    }
    lines.push({ text: data.toString('utf8', start, end), complete: true });
    start = end + 1;
  }
  return lines;
}

function parseHeader(text: string): RecordingHeader | string {
  const value = parseObject(text);
  if (typeof value === 'string') return value;
  if (value.format !== RECORDING_FORMAT) return `its first line has no format '${RECORDING_FORMAT}'`;
  if (!Number.isSafeInteger(value.version) || (value.version as number) < 1) return `its header has no valid version (${JSON.stringify(value.version)})`;
  return {
    format: RECORDING_FORMAT,
    version: value.version as number,
    runId: typeof value.runId === 'string' ? value.runId : '',
    bulkhead: typeof value.bulkhead === 'string' ? value.bulkhead : 'unknown',
    startedAt: typeof value.startedAt === 'string' ? value.startedAt : '',
    cwd: typeof value.cwd === 'string' ? value.cwd : '',
    argv: Array.isArray(value.argv) ? value.argv.filter((arg): arg is string => typeof arg === 'string') : [],
  };
}

/** An event's envelope (type, seq, t); its body is trusted as the writer's, reporters tolerate the rest. */
function parseEvent(text: string): { type: string; seq: number; t: number } | string {
  const value = parseObject(text);
  if (typeof value === 'string') return value;
  if (typeof value.type !== 'string' || value.type === '') return 'an event without a type';
  if (!Number.isSafeInteger(value.seq) || typeof value.t !== 'number') return `a ${value.type} event without its seq and t`;
  return value as { type: string; seq: number; t: number };
}

function parseObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}
