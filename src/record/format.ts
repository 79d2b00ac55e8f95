/**
 * The recording format: `.bulkhead/runs/<id>/events.ndjson`, one JSON object per line. The first
 * line is a header that says what the file is and who wrote it; every line after it is one
 * `RunEvent` exactly as the reporters received it. Within a version, fields are only ever added
 * and event types only ever added (a reader skips types it does not know); a change of meaning
 * bumps `version`, and a reader refuses a version newer than its own.
 */
import type { RunEventBody } from '../model/event.js';

export const RECORDING_FORMAT = 'bulkhead-events';
export const RECORDING_VERSION = 2;
export const EVENTS_FILE = 'events.ndjson';

export interface RecordingHeader {
  format: typeof RECORDING_FORMAT;
  version: number;
  /** The run folder's name under `.bulkhead/runs`. */
  runId: string;
  /** The bulkhead that wrote it. */
  bulkhead: string;
  /** ISO 8601, UTC: the same instant as `run_started`'s origin. */
  startedAt: string;
  cwd: string;
  /** The command line, as `process.argv` had it. */
  argv: string[];
}

/**
 * Every event type this bulkhead knows. A `Record` over the union, so that adding a type to
 * `RunEventBody` without adding it here fails to compile: a type missing from this table would
 * be skipped on replay as if a newer bulkhead had written it.
 */
const KNOWN: Readonly<Record<RunEventBody['type'], true>> = {
  run_started: true,
  session_info: true,
  internal_error: true,
  framework_notice: true,
  oversize_test: true,
  test_assigned: true,
  standby_promoted: true,
  worker_recycled: true,
  memory_pressure: true,
  memory_eviction: true,
  memory_sample: true,
  lifeline_lost: true,
  stall: true,
  lock_disagreement: true,
  worker_died_between_tests: true,
  test_plan: true,
  collection_finished: true,
  worker_started: true,
  worker_ready: true,
  worker_exited: true,
  test_started: true,
  test_report: true,
  test_finished: true,
  test_slow: true,
  test_crashed: true,
  worker_state: true,
  memory_control: true,
  memory_summary: true,
  warning: true,
  coverage: true,
  run_finished: true,
};

export function isKnownEventType(type: string): type is RunEventBody['type'] {
  return Object.prototype.hasOwnProperty.call(KNOWN, type);
}
