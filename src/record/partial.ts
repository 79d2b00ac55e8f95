/**
 * A recording that ends without `run_finished` (bulkhead was killed, or the machine went down) is
 * replayed as a run that was cut short where the recording ends: every collected test without a
 * final outcome gets one, and the run gets an end reason that says where the recording stops.
 *
 * - A test that never finished is `not_run`, with a reason naming the end of the recording (and
 *   the worker it was running on, if it had started): there is no result for it.
 * - A test that had crashed its worker and was waiting for its isolated retry keeps its crash, as
 *   the runner itself settles it when a run stops (result-book.ts `notRun`): `crashed`, with the
 *   retry not run. A death is a result; the recording has it.
 * - The run ends `interrupted` (so reports count and list the tests not run) with exit code 2,
 *   pytest's for a session that was cut short: whatever failed before, the run did not finish.
 *
 * Pure: the synthesized events follow the last recorded one (next seq, same `t`).
 */
import type { RunEvent, RunEventBody, RunOrigin } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import type { CrashReport } from '../model/outcome.js';

export interface CompletedRecording {
  events: RunEvent[];
  /** Null for a recording that has its `run_finished`; else why and where it ends, in words. */
  cutShort: string | null;
}

/** Why a recording has no end, as the caller knows it. */
export const STOPPED = 'bulkhead stopped before the run finished';

/**
 * @param why what the caller knows of why the recording ends: by default that bulkhead stopped;
 *   the CLI says instead that the run is still going when its process is alive.
 */
export function completeRecording(events: readonly RunEvent[], why: string = STOPPED): CompletedRecording {
  if (events.some((event) => event.type === 'run_finished')) return { events: [...events], cutShort: null };
  const last = events[events.length - 1];
  const detail = describeEnd(events, why);
  const state = unfinishedTests(events);
  const bodies: RunEventBody[] = [];
  for (const id of state.collected) {
    if (state.finished.has(id)) continue;
    const crashed = state.crashed.get(id);
    if (crashed) {
      const retry = crashed.willRetry ? { verdict: 'not_run' as const, reason: `the ${detail}` } : null;
      bodies.push(finished(id, crashed.crash.worker, { kind: 'crashed', crash: crashed.crash, retry }));
      continue;
    }
    const worker = state.running.get(id);
    const reason = worker !== undefined ? `it was running on worker ${worker} when the ${detail}` : `the ${detail}`;
    bodies.push(finished(id, 0, { kind: 'not_run', reason }));
  }
  const t = last?.t ?? 0;
  bodies.push({ type: 'run_finished', exitCode: ExitCode.INTERRUPTED, reason: { kind: 'interrupted', detail: `the ${detail}` }, durationSeconds: t / 1000 });
  let seq = (last?.seq ?? -1) + 1;
  const synthesized = bodies.map((body) => ({ ...body, seq: seq++, t }) as RunEvent);
  return { events: [...events, ...synthesized], cutShort: `the ${detail}` };
}

/** "recording ends after event 57 (test_finished of t.py::test_x), 12.35s into the run (2026-...Z): bulkhead stopped before the run finished" */
function describeEnd(events: readonly RunEvent[], why: string): string {
  const last = events[events.length - 1];
  if (last === undefined) return `recording ends before the run started: ${why}`;
  const origin = events.find((event): event is Extract<RunEvent, { type: 'run_started' }> => event.type === 'run_started')?.origin;
  const testId = 'testId' in last && typeof last.testId === 'string' ? ` of ${last.testId}` : '';
  const seconds = (last.t / 1000).toFixed(2);
  const at = wallTime(origin, last.t);
  return `recording ends after event ${last.seq} (${last.type}${testId}), ${seconds}s into the run${at}: ${why}`;
}

function wallTime(origin: RunOrigin | undefined, t: number): string {
  const start = origin ? Date.parse(origin.startedAt) : Number.NaN;
  return Number.isFinite(start) ? ` (${new Date(start + Math.round(t)).toISOString()})` : '';
}

interface TestStates {
  /** Every collected test, in collection order. */
  collected: string[];
  finished: Set<string>;
  /** Tests started and not finished, with their worker. */
  running: Map<string, number>;
  /** Tests whose worker died under them, waiting for their isolated retry. */
  crashed: Map<string, { crash: CrashReport; willRetry: boolean }>;
}

function unfinishedTests(events: readonly RunEvent[]): TestStates {
  const states: TestStates = { collected: [], finished: new Set(), running: new Map(), crashed: new Map() };
  const seen = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case 'collection_finished':
        for (const test of event.tests) {
          if (seen.has(test.id)) continue;
          seen.add(test.id);
          states.collected.push(test.id);
        }
        break;
      case 'test_started':
        states.running.set(event.testId, event.worker);
        break;
      case 'test_crashed':
        states.running.delete(event.testId);
        states.crashed.set(event.testId, { crash: event.crash, willRetry: event.willRetry });
        break;
      case 'test_finished':
        states.finished.add(event.testId);
        states.running.delete(event.testId);
        states.crashed.delete(event.testId);
        break;
      default:
        break;
    }
  }
  return states;
}

function finished(testId: string, worker: number, outcome: Extract<RunEventBody, { type: 'test_finished' }>['outcome']): RunEventBody {
  return { type: 'test_finished', testId, worker, outcome, duration: 0, leaked: [], memory: null, locks: [] };
}
