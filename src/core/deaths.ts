/**
 * A worker's exit: what its tests left behind is reaped, its xdist id freed, its cause classified,
 * its restart judged (backoff, or the crash-loop breaker's abort), its locks released, and its
 * running test blamed with the cause and what ran beside it — named by the scheduler, which also
 * re-queues what the worker held. A death between tests blames no test, and says so.
 */
import { blamesTest, type ExitCause } from '../model/cause.js';
import type { CrashReport } from '../model/outcome.js';
import type { ExitFacts } from './inputs.js';
import { deathOf, lastLine } from './exit-cause.js';
import { stopRun, testId, type RunState } from './run-state.js';
import { carryOut, pump, startIsolatedIfAlone } from './scheduling.js';
import type { Step } from './step.js';
import { checkMaxfail } from './test-flow.js';

export function onExit(state: RunState, worker: number, exit: ExitFacts, out: Step): void {
  const record = state.workers.get(worker);
  if (!record || record.exited) return;
  out.command({ type: 'reap_leaked', worker, leaked: [...record.leaked] });
  state.workers.exited(record);
  const running = state.scheduler.runningOn(worker);
  out.transition(record, 'exited');
  const { cause, crash } = deathOf(record, exit, running !== null);
  out.event({ type: 'worker_exited', worker, pid: record.pid, cause, testId: running !== null ? testId(state, running) : null });
  state.collection.onExit(record, exit.stderrTail);
  const facts = { spawnError: exit.spawnError, code: exit.code, stderr: exit.stderrTail.trim(), stacks: exit.crashStacks };
  const abort = state.workers.judgeRestart(record, cause, facts, state.now, out);
  if (abort !== null) stopRun(state, { reason: { kind: 'aborted', detail: abort.detail }, exitCode: abort.exitCode }, out);
  // Its locks are released at once: the waiters go on.
  state.locks.workerGone(worker);
  if (running !== null) {
    state.beside.recordDeath(crash, testId(state, running), cause, state.now, runningElsewhere(state, worker, exit));
  } else if (record.ranTests && blamesTest(cause)) {
    out.event({ type: 'worker_died_between_tests', worker, pid: record.pid, cause, stderrLastLine: lastLine(crash.stderrTail) });
  }
  // The scheduler re-queues what the worker held and names the test to blame (after what it was
  // already told, such as a stop the abort above decided).
  pump(state, out);
  for (const command of state.scheduler.handle({ type: 'worker_lost', worker })) {
    if (command.type === 'blame') blame(state, command.index, cause, crash, out);
    else carryOut(state, command, out);
  }
  startIsolatedIfAlone(state, out);
}

/** The tests running on other workers at a death, with their workers' memory then. */
function runningElsewhere(state: RunState, worker: number, exit: ExitFacts): Array<{ worker: number; testId: string; memoryBytes: number | null }> {
  const found: Array<{ worker: number; testId: string; memoryBytes: number | null }> = [];
  for (const other of state.workers.live()) {
    const index = state.scheduler.runningOn(other.id);
    if (other.id === worker || index === null) continue;
    const memoryBytes = exit.peers.find((peer) => peer.worker === other.id)?.memoryBytes ?? null;
    found.push({ worker: other.id, testId: testId(state, index), memoryBytes });
  }
  return found;
}

function blame(state: RunState, index: number, cause: ExitCause, crash: CrashReport, out: Step): void {
  const settled = state.ledger.settleDeath(index, cause, crash);
  if (settled.countsAsFailure || settled.runAgainAlone) checkMaxfail(state, out);
  if (settled.runAgainAlone) state.inbox.push({ type: 'retry', index });
}
