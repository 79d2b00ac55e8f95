/**
 * A test's way through a worker, as its messages tell it: started (checked against what the worker
 * holds), its phase reports, finished (the ledger's verdict, a retry owed, recycling a worker that
 * grew), and --maxfail. The ledger owns the results; the scheduler hears each step.
 */
import type { WorkerMessage } from '../adapters/messages.js';
import type { PhaseReport } from '../model/report.js';
import { ExitCode } from '../model/exit-code.js';
import { stopRun, type RunState } from './run-state.js';
import type { Step } from './step.js';
import { timeoutOf } from './suite-plan.js';
import { killWorker } from './worker-actions.js';
import type { WorkerRecord } from './worker-record.js';

type Finished = Extract<WorkerMessage, { type: 'finished' }>;

/** The worker broke the protocol: it is killed, and nothing more it says is heard. */
export function violation(record: WorkerRecord, detail: string, out: Step): void {
  record.protocolViolation ??= detail;
  killWorker(record, { kind: 'protocol_violation', detail }, out);
}

export function onStarted(state: RunState, record: WorkerRecord, id: string, out: Step): void {
  const { tests, settings, demands } = state.suite;
  const index = state.scheduler.heldBy(record.id).find((held) => tests[held]?.id === id);
  if (index === undefined) {
    violation(record, `started ${id}, which it was not given`, out);
    return;
  }
  record.runningSince = state.now;
  record.runningTimeout = timeoutOf(settings, tests[index], index, state.options.timeoutSeconds, state.collection.session?.frameworkTimeout ?? null);
  record.nextBusyNotice = null;
  record.ranTests = true;
  // Predicted larger than the whole budget, it runs with nothing beside it (admission sees to
  // that): it may have all the memory a test alone has, as under plain pytest.
  if ((demands[index]?.memoryBytes ?? 0) > state.options.memory.budgetBytes && !record.lone) {
    record.lone = true;
    out.command({ type: 'set_lone', worker: record.id, lone: true, isolated: false });
  }
  state.workers.testRan();
  out.event({ type: 'test_started', testId: id, worker: record.id });
  state.inbox.push({ type: 'test_started', worker: record.id, index });
}

export function onReport(state: RunState, record: WorkerRecord, report: PhaseReport, out: Step): void {
  const running = state.scheduler.runningOn(record.id);
  if (running === null) {
    violation(record, `a report for ${report.testId} outside a test`, out);
    return;
  }
  if (record.killedForItsTest) return;
  if (state.ledger.addReport(running, record.id, report)) checkMaxfail(state, out);
}

export function onFinished(state: RunState, record: WorkerRecord, message: Finished, out: Step): void {
  const { id, leaked, memory, locks, plain } = message;
  const index = state.scheduler.runningOn(record.id);
  if (index === null || state.suite.tests[index]?.id !== id) {
    violation(record, `finished ${id}, which was not running`, out);
    return;
  }
  record.runningSince = null;
  record.leaked.push(...leaked);
  if (memory?.residentBytes !== null && memory?.residentBytes !== undefined) record.baselineBytes = memory.residentBytes;
  // An isolated worker keeps its raised cap to its end; the run's limit settles when it can.
  if (record.lone && record.role !== 'isolated') {
    record.lone = false;
    out.command({ type: 'set_lone', worker: record.id, lone: false, isolated: false });
  }
  const again = state.ledger.finishNormally(index, record.id, leaked, memory, locks, plain);
  // A test that crashed under load and now passed alone is settled: flaky, a failure only with --fail-on-flaky.
  checkMaxfail(state, out);
  // Recycling first: a worker being replaced must not be handed more tests by test_finished.
  maybeRecycle(state, record, id, memory?.residentBytes ?? null, out);
  state.inbox.push({ type: 'test_finished', worker: record.id, index, peakBytes: memory?.peakBytes ?? null, residentBytes: memory?.residentBytes ?? null });
  if (again) state.inbox.push({ type: 'retry', index });
}

/**
 * A suite that leaks: a worker whose idle memory grew past the limit is replaced between tests.
 * The worker makes the same comparison on the same number and stops by itself, giving back the
 * successor it already held (BULKHEAD_RECYCLE_BYTES); here the scheduler learns of it. Once.
 */
function maybeRecycle(state: RunState, record: WorkerRecord, testId: string, resident: number | null, out: Step): void {
  const recycleAt = state.options.memory.recycleBytes;
  if (recycleAt === null || resident === null || resident <= recycleAt || record.role !== 'pool') return;
  // Once per worker; and a finishing worker with nothing left to run ends anyway.
  if (state.recycled.has(record.id) || (record.state === 'finishing' && state.scheduler.heldBy(record.id).length === 0)) return;
  state.recycled.add(record.id);
  out.event({ type: 'worker_recycled', worker: record.id, pid: record.pid, residentBytes: resident, limitBytes: recycleAt, afterTestId: testId });
  state.inbox.push({ type: 'recycle', worker: record.id });
}

export function checkMaxfail(state: RunState, out: Step): void {
  const maxfail = state.collection.session?.maxfail ?? 0;
  const failures = state.ledger.failuresForMaxfail;
  if (maxfail > 0 && failures >= maxfail && !state.end.stopped) {
    stopRun(state, { reason: { kind: 'maxfail', failures }, exitCode: ExitCode.TESTS_FAILED }, out);
  }
}
