/**
 * What one run's recording says about where its time went, for bench/stall-hunt.ts: the stall
 * events and every other unusual event, the phases (collection, first test, last test, end), the
 * longest stretch in which no test started or finished (and what was running then), how long
 * each worker sat without a test, and the slowest tests.
 */
import type { RunEvent } from '../src/model/event.js';
import { readRecording } from '../src/record/index.js';

/** Event types that a plain, healthy run does not have. */
const UNUSUAL_TYPES: ReadonlySet<RunEvent['type']> = new Set([
  'stall',
  'internal_error',
  'lifeline_lost',
  'memory_pressure',
  'memory_eviction',
  'worker_died_between_tests',
  'test_crashed',
  'test_slow',
  'standby_promoted',
  'worker_recycled',
  'lock_disagreement',
  'oversize_test',
]);
/** Final outcomes of a healthy run (whether the tests pass is the summary line's business). */
const PLAIN_OUTCOMES = new Set(['passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed']);
const UNUSUAL_LIMIT = 50;

export interface UnusualEvent {
  type: string;
  seconds: number;
  /** The event itself, its long fields cut short. */
  detail: string;
}

export interface RunAnalysis {
  runId: string;
  readable: boolean;
  /** Why the recording could not be read, when it could not. */
  problem: string | null;
  events: number;
  tests: number;
  outcomes: Record<string, number>;
  workersStarted: number;
  stalls: Array<{ seconds: number; detail: string }>;
  /** At most UNUSUAL_LIMIT, in order; `unusualCount` has them all. */
  unusual: UnusualEvent[];
  unusualCount: number;
  /** Seconds from the run's start. */
  collectionFinishedSeconds: number | null;
  firstTestStartSeconds: number | null;
  lastTestFinishSeconds: number | null;
  runFinishedSeconds: number | null;
  exitCode: number | null;
  /** The longest stretch between the first test's start and the last one's end with no test starting or finishing. */
  longestQuiet: { seconds: number; from: number; to: number; running: Record<string, string>; otherEvents: Record<string, number> } | null;
  /**
   * Seconds each worker had no test running between the first start and the last finish: the gaps
   * between its tests (pytest's own per-test work outside the phases, the messages) and any wait.
   */
  workerIdleSeconds: Record<string, number>;
  slowestTests: Array<{ testId: string; worker: number; seconds: number }>;
  /** Each worker's start, ready (collected) and exit, in seconds from the run's start, and its exit cause. */
  workers: Array<{ worker: number; started: number; ready: number | null; exited: number | null; cause: string | null }>;
}

const round = (ms: number): number => Math.round(ms) / 1000;

export function analyseRecording(path: string, runId: string): RunAnalysis {
  const result = readRecording(path);
  const analysis: RunAnalysis = {
    runId,
    readable: result.ok,
    problem: result.ok ? (result.recording.truncatedLastLine ? 'last line cut short' : null) : result.message,
    events: 0,
    tests: 0,
    outcomes: {},
    workersStarted: 0,
    stalls: [],
    unusual: [],
    unusualCount: 0,
    collectionFinishedSeconds: null,
    firstTestStartSeconds: null,
    lastTestFinishSeconds: null,
    runFinishedSeconds: null,
    exitCode: null,
    longestQuiet: null,
    workerIdleSeconds: {},
    slowestTests: [],
    workers: [],
  };
  if (!result.ok) return analysis;
  const events = result.recording.events;
  analysis.events = events.length;

  const running = new Map<number, string>();
  const idleSince = new Map<number, number>();
  const idle = new Map<number, number>();
  const durations: Array<{ testId: string; worker: number; seconds: number }> = [];
  let lastProgress: number | null = null;
  let quiet: RunAnalysis['longestQuiet'] = null;
  let between = new Map<string, number>();
  const unusual = (event: RunEvent): void => {
    analysis.unusualCount++;
    if (analysis.unusual.length < UNUSUAL_LIMIT) analysis.unusual.push({ type: event.type, seconds: round(event.t), detail: brief(event) });
  };
  const progressAt = (t: number): void => {
    if (lastProgress !== null && (quiet === null || t - lastProgress > quiet.seconds * 1000)) {
      quiet = {
        seconds: round(t - lastProgress),
        from: round(lastProgress),
        to: round(t),
        running: Object.fromEntries([...running].map(([worker, testId]) => [String(worker), testId])),
        otherEvents: Object.fromEntries(between),
      };
    }
    lastProgress = t;
    between = new Map();
  };

  for (const event of events) {
    if (UNUSUAL_TYPES.has(event.type)) unusual(event);
    switch (event.type) {
      case 'stall':
        analysis.stalls.push({ seconds: round(event.t), detail: event.detail });
        break;
      case 'collection_finished':
        analysis.tests = event.tests.length;
        analysis.collectionFinishedSeconds = round(event.t);
        break;
      case 'worker_started':
        analysis.workersStarted++;
        idleSince.set(event.worker, event.t);
        analysis.workers.push({ worker: event.worker, started: round(event.t), ready: null, exited: null, cause: null });
        break;
      case 'worker_ready': {
        const entry = analysis.workers.find((worker) => worker.worker === event.worker);
        if (entry) entry.ready = round(event.t);
        break;
      }
      case 'worker_exited': {
        if (event.cause.kind !== 'finished') unusual(event);
        running.delete(event.worker);
        const entry = analysis.workers.find((worker) => worker.worker === event.worker);
        if (entry) Object.assign(entry, { exited: round(event.t), cause: event.cause.kind });
        break;
      }
      case 'test_started': {
        analysis.firstTestStartSeconds ??= round(event.t);
        progressAt(event.t);
        running.set(event.worker, event.testId);
        const since = idleSince.get(event.worker);
        // Idle time counts from the first test's start: before it, every worker is collecting.
        const from = Math.max(since ?? event.t, (analysis.firstTestStartSeconds ?? 0) * 1000);
        idle.set(event.worker, (idle.get(event.worker) ?? 0) + Math.max(0, event.t - from));
        idleSince.delete(event.worker);
        break;
      }
      case 'test_finished':
        analysis.lastTestFinishSeconds = round(event.t);
        progressAt(event.t);
        running.delete(event.worker);
        idleSince.set(event.worker, event.t);
        analysis.outcomes[event.outcome.kind] = (analysis.outcomes[event.outcome.kind] ?? 0) + 1;
        if (!PLAIN_OUTCOMES.has(event.outcome.kind)) unusual(event);
        durations.push({ testId: event.testId, worker: event.worker, seconds: Math.round(event.duration * 1000) / 1000 });
        break;
      case 'run_finished':
        analysis.runFinishedSeconds = round(event.t);
        analysis.exitCode = event.exitCode;
        break;
      default:
        if (lastProgress !== null) between.set(event.type, (between.get(event.type) ?? 0) + 1);
    }
  }
  // A worker out of work before the last test finished idled until then.
  const lastFinish = (analysis.lastTestFinishSeconds ?? 0) * 1000;
  for (const [worker, since] of idleSince) {
    if (analysis.firstTestStartSeconds === null || !idle.has(worker)) continue;
    idle.set(worker, idle.get(worker)! + Math.max(0, lastFinish - since));
  }
  analysis.longestQuiet = quiet;
  analysis.workerIdleSeconds = Object.fromEntries([...idle].sort(([a], [b]) => a - b).map(([worker, ms]) => [String(worker), round(ms)]));
  analysis.slowestTests = durations.sort((a, b) => b.seconds - a.seconds).slice(0, 5);
  return analysis;
}

function brief(event: RunEvent): string {
  const text = JSON.stringify(event, (key, value: unknown) => (key === 'seq' || key === 't' ? undefined : value));
  return text.length > 600 ? `${text.slice(0, 600)}...` : text;
}
