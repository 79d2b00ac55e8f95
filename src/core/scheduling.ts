/**
 * The core's side of the scheduler: feeding it the inputs decided while one input was handled, in
 * order, and carrying out what it decides — a command to a worker, a test assignment (an event),
 * a worker to start or promote, an isolated retry's fresh worker.
 */
import type { WorkerCommand } from '../adapters/messages.js';
import { assertNever } from '../model/assert-never.js';
import type { SchedulerCommand } from '../scheduler/types.js';
import { testId, type RunState } from './run-state.js';
import type { Step } from './step.js';
import { threadsFor } from './suite-plan.js';
import { inWorkerTerms } from './index-map.js';
import { isolatedScope } from './targeted-collection.js';
import { killWorker, tellToEnd } from './worker-actions.js';
import type { WorkerRecord } from './worker-record.js';

/** Feeds the scheduler its pending inputs, one at a time, and carries out what it decides. */
export function pump(state: RunState, out: Step): void {
  for (let input = state.inbox.shift(); input !== undefined; input = state.inbox.shift()) {
    for (const command of state.scheduler.handle(input)) carryOut(state, command, out);
  }
}

export function carryOut(state: RunState, command: SchedulerCommand, out: Step): void {
  switch (command.type) {
    case 'assign': {
      const threads = state.options.threadCaps ? threadsFor(state.suite.settings, command.indices, state.options.workers) : {};
      send(state, command.worker, { type: 'run', indices: command.indices, ...threads }, out);
      out.event({ type: 'test_assigned', worker: command.worker, testIds: command.indices.map((index) => testId(state, index)) });
      return;
    }
    case 'steal':
      send(state, command.worker, { type: 'steal', indices: command.indices }, out);
      return;
    case 'flush':
      out.command({ type: 'send', worker: command.worker, command: { type: 'flush' } });
      return;
    case 'finish':
    case 'stop': {
      const record = state.workers.get(command.worker);
      if (record) tellToEnd(record, command.type, out);
      return;
    }
    case 'blame':
      return; // only worker_lost names one, and the death's handler settles it with the cause
    case 'start_worker': {
      const promoted = state.workers.replenish(state.now, out);
      if (promoted) takeTests(state, promoted);
      return;
    }
    case 'start_isolated':
      state.workers.requestIsolated(command.index, isolatedScope(state.suite.tests, state.collection.session?.rootdir ?? null, command.index));
      startIsolatedIfAlone(state, out);
      return;
    default:
      assertNever(command);
  }
}

/**
 * A command that names tests by suite index, as its worker numbers them (a worker that collected
 * part of the suite has its own numbering: index-map.ts). One it cannot be told (a test it never
 * collected) is the core's own error: reported, and the worker is ended so its tests are not held.
 */
function send(state: RunState, worker: number, command: WorkerCommand, out: Step): void {
  const record = state.workers.get(worker);
  const translated = inWorkerTerms(record?.indexMap ?? null, command);
  if (translated !== null) {
    out.command({ type: 'send', worker, command: translated });
    return;
  }
  const detail = `${record?.name ?? `worker ${worker}`} was to be sent tests it did not collect (${command.type})`;
  out.internalError(detail);
  if (record) killWorker(record, { kind: 'shutdown', detail }, out);
}

/** The pending isolated retry starts once nothing else is alive; a ready spare is adopted for it. */
export function startIsolatedIfAlone(state: RunState, out: Step): void {
  const adopted = state.workers.startIsolatedWhenAlone(state.now, out);
  if (adopted) takeTests(state, adopted);
}

/** A worker that collected the suite may take tests (a spare waits until it is promoted). */
export function makeReady(state: RunState, record: WorkerRecord, out: Step): void {
  if (state.workers.markReady(record, state.now, out)) takeTests(state, record);
}

/** The scheduler hears of a worker that may take tests: the isolated one gets its one test. */
export function takeTests(state: RunState, record: WorkerRecord): void {
  if (record.role === 'isolated' && record.isolatedFor !== null) {
    state.ledger.beginAttempt(record.isolatedFor);
    state.inbox.push({ type: 'worker_ready', worker: record.id, isolatedFor: record.isolatedFor });
    return;
  }
  state.inbox.push({ type: 'worker_ready', worker: record.id, baselineBytes: record.baselineBytes ?? 0 });
}
