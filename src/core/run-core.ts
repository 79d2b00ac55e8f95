/**
 * The run core: one synchronous reducer over everything that happens in a run. The shell puts
 * every source on one queue as a `RunInput`; `handle` takes one at a time and returns a `Step`:
 * the commands to carry out (start, send, kill, timers, questions) and the events for the
 * reporters, in order. No processes, no timers, no clock (each input carries its time), and no
 * callbacks between helpers: each fact has one owner (run-state.ts; README.md in this folder).
 *
 * The scheduler's own inputs are put on an inbox and drained in `pump`, so that carrying out one
 * of its commands (promoting a spare, say) never re-enters it while a command list is half done.
 */
import { isLockRequest, type AnyWorkerMessage, type WorkerMessage } from '../adapters/messages.js';
import { assertNever } from '../model/assert-never.js';
import type { CoverageOutcome } from '../model/coverage.js';
import type { MemoryControl } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { BesideLog } from './beside.js';
import { Collection } from './collection.js';
import { onExit } from './deaths.js';
import type { RunInput } from './inputs.js';
import { inSuiteTerms } from './index-map.js';
import { Ledger } from './ledger.js';
import { LockService } from './lock-service.js';
import type { RunOptions } from './options.js';
import { describeEnd, RunEnd } from './run-end.js';
import { stopRun, testId, type RunState } from './run-state.js';
import { makeReady, pump } from './scheduling.js';
import { Step } from './step.js';
import type { SuitePlan } from './suite-plan.js';
import { runCapacity } from './test-demands.js';
import { onFinished, onReport, onStarted, violation } from './test-flow.js';
import { Watch } from './watch.js';
import { killWorker, tellToEnd } from './worker-actions.js';
import type { WorkerRecord } from './worker-record.js';
import { WorkerTable } from './workers.js';

type Message<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;
type Tick = Extract<RunInput, { type: 'tick' }>;

export class RunCore {
  private readonly state: RunState;
  private readonly watch: Watch;
  private internalError = false;
  private phase: 'running' | 'wrapping_up' | 'over' = 'running';
  private startedAt = 0;
  private cancelDetail = '';
  /** The step being built: the ledger's and the lock service's sinks write into it. */
  private out = new Step();

  constructor(
    private readonly options: RunOptions,
    /** The memory rung the runtime put in force (it made the cgroups). */
    private readonly memoryControl: MemoryControl,
  ) {
    this.state = {
      options,
      scheduler: new Scheduler({ poolSize: options.workers, capacity: runCapacity(options.memory.budgetBytes, options.workers, options.resources) }),
      workers: new WorkerTable(options),
      ledger: new Ledger((event) => this.out.event(event), options),
      locks: new LockService({
        send: (worker, command) => this.out.command({ type: 'send', worker, command }),
        now: () => this.state.now,
        disagreement: (fact) => this.out.event({ type: 'lock_disagreement', ...fact }),
      }),
      collection: new Collection(),
      beside: new BesideLog(),
      end: new RunEnd(),
      inbox: [],
      recycled: new Set(),
      suite: { tests: [], settings: null, demands: [] },
      now: 0,
    };
    this.watch = new Watch(options);
  }

  handle(input: RunInput): Step {
    const out = new Step();
    this.out = out;
    this.state.now = input.now;
    if (this.phase === 'over') return out;
    switch (input.type) {
      case 'begin':
        this.begin(out);
        break;
      case 'spawned': {
        const record = this.state.workers.get(input.worker);
        if (record && input.pid !== null) record.pid = input.pid;
        out.event({ type: 'worker_started', worker: input.worker, pid: input.pid });
        break;
      }
      case 'message':
        this.onMessage(input.worker, input.message, input.residentBytes ?? null, out);
        break;
      case 'bad_line': {
        const record = this.state.workers.get(input.worker);
        if (record && !record.exited) violation(record, input.detail, out);
        break;
      }
      case 'exited':
        onExit(this.state, input.worker, input.exit, out);
        break;
      case 'suite_planned':
        this.onPlanned(input.plan, out);
        break;
      case 'tick':
        this.onTick(input, out);
        break;
      case 'stacks_read':
        out.event(this.watch.onStacks(input));
        break;
      case 'timer':
        this.onTimer(input.key, out);
        break;
      case 'lifeline_lost':
        out.event({ type: 'lifeline_lost', detail: input.detail });
        break;
      case 'signal':
        if (input.kind === 'interrupt') this.interrupt(input.detail, out);
        else {
          stopRun(this.state, { reason: { kind: 'interrupted', detail: input.detail }, exitCode: ExitCode.INTERRUPTED }, out);
          this.state.workers.killAllNow(input.detail, out);
        }
        break;
      case 'wrapped_up':
        this.finish(input.coverage, input.runPeakBytes, out);
        break;
      default:
        assertNever(input);
    }
    pump(this.state, out);
    if (out.hadInternalError) this.internalError = true;
    this.checkDone(out);
    return out;
  }

  // -- the run's start and end ------------------------------------------------------------------

  private begin(out: Step): void {
    this.startedAt = this.state.now;
    out.event({
      type: 'run_started',
      workers: this.options.workers,
      pytestArgs: this.options.pytestArgs,
      cwd: this.options.cwd,
      artifactsDir: this.options.artifactsDir ?? '',
    });
    out.event({ type: 'memory_control', control: this.memoryControl });
    this.state.workers.startInitial(this.state.now, out);
    if (this.options.runTimeoutSeconds !== null) out.command({ type: 'timer', key: 'run_deadline', ms: this.options.runTimeoutSeconds * 1000 });
  }

  /**
   * First Ctrl-C (or the run deadline): stop scheduling, let running tests finish within the
   * cancel grace period, then kill what still runs. Tests that did not start are listed as not run.
   */
  private interrupt(detail: string, out: Step): void {
    const first = !this.state.end.stopped || this.state.end.reason?.kind !== 'interrupted';
    stopRun(this.state, { reason: { kind: 'interrupted', detail }, exitCode: ExitCode.INTERRUPTED }, out);
    if (!first) return;
    this.cancelDetail = detail;
    out.command({ type: 'timer', key: 'cancel_grace', ms: this.options.cancelGraceSeconds * 1000 });
  }

  private onTimer(key: string, out: Step): void {
    if (key === 'run_deadline') this.interrupt(`run deadline of ${this.options.runTimeoutSeconds}s reached`, out);
    else if (key === 'cancel_grace') this.state.workers.terminateAll(this.cancelDetail, out);
    else this.state.workers.onTimer(key, this.hasWork(), this.state.now, out);
  }

  /** Whether a lost pool worker still needs replacing. */
  private hasWork(): boolean {
    return !this.state.end.stopped && (this.state.collection.reference === null || this.state.scheduler.queuedCount() > 0);
  }

  private checkDone(out: Step): void {
    const { end, scheduler, workers, ledger, suite, collection } = this.state;
    if (this.phase !== 'running') return;
    if (!end.stopped && scheduler.isDone()) workers.retireIdle(out);
    if (!workers.allExited()) return;
    if (!end.stopped && !scheduler.isDone()) return;
    this.phase = 'wrapping_up';
    const verdict = collection.stderrVerdict;
    if (verdict !== null) end.replaceDetail(verdict);
    const reason = end.reason;
    const notRunReason = reason !== null ? describeEnd(reason) : 'the run ended before it was scheduled';
    for (const index of scheduler.notRun()) ledger.notRun(index, notRunReason);
    // Any test that never got a final outcome (there should be none) is listed, never lost.
    suite.tests.forEach((_, index) => ledger.notRun(index, notRunReason));
    const coverage = collection.session?.coverage ?? null;
    out.command({ type: 'wrap_up', coverage: reason?.kind === 'aborted' ? null : coverage, testsFailed: this.failures() > 0 });
  }

  private finish(coverage: CoverageOutcome | null, runPeakBytes: number | null, out: Step): void {
    if (this.phase !== 'wrapping_up') return;
    this.phase = 'over';
    if (coverage !== null) out.event({ type: 'coverage', outcome: coverage });
    const exitCode = this.state.end.exitCode(this.internalError, this.failures(), coverage);
    out.event({ type: 'memory_summary', runPeakBytes, budgetBytes: this.options.memory.budgetBytes });
    const reason = this.state.end.reason ?? { kind: 'completed' as const };
    out.event({ type: 'run_finished', exitCode, reason, durationSeconds: (this.state.now - this.startedAt) / 1000 });
    out.command({ type: 'exit', exitCode, abortDetail: reason.kind === 'aborted' ? reason.detail : null });
  }

  private failures(): number {
    return this.state.ledger.failures + this.state.collection.collectErrors;
  }

  // -- messages -----------------------------------------------------------------------------------

  private onMessage(worker: number, message: AnyWorkerMessage, residentBytes: number | null, out: Step): void {
    const record = this.state.workers.get(worker);
    if (!record || record.exited || record.protocolViolation !== null) return;
    if (isLockRequest(message)) {
      this.state.locks.onMessage(worker, message);
      return;
    }
    switch (message.type) {
      case 'hello':
        // Its protocol version was checked where the line was decoded (the adapter).
        record.pid = message.pid;
        // A worker told to end before its hello was read (the run stopped) is late, not illegal;
        // a second hello from a worker that was ready is the core's to report.
        if (record.state !== 'finishing' || record.readyAt !== null) out.transition(record, 'collecting');
        return;
      case 'heartbeat':
        record.lastHeartbeat = this.state.now;
        return;
      case 'session':
        this.state.collection.onSession(message, out);
        return;
      case 'collect_error':
        record.collectErrors.push(message.report);
        return;
      case 'collect_skip':
        record.collectSkips.push(message.report);
        return;
      case 'collected':
        if (residentBytes !== null) record.baselineBytes = residentBytes;
        this.onCollected(record, message, out);
        return;
      case 'started':
        // A worker killed for its test is left alone with that test: its late reports, its
        // `finished`, and a successor it went on to start (which stays held, and is re-queued).
        if (!record.killedForItsTest) onStarted(this.state, record, message.id, out);
        return;
      case 'report':
        onReport(this.state, record, message.report, out);
        return;
      case 'finished':
        if (!record.killedForItsTest) onFinished(this.state, record, message, out);
        return;
      case 'warning':
        if (this.state.collection.takesWarning(record, message.warning.when)) out.event({ type: 'warning', warning: message.warning });
        return;
      case 'stolen': {
        const indices = inSuiteTerms(record.indexMap, message.indices);
        if (indices === null) violation(record, `gave back tests it never collected: ${message.indices.join(', ')}`, out);
        else this.state.inbox.push({ type: 'returned', worker, indices });
        return;
      }
      case 'internal_error':
        this.internalError = true;
        out.event({ type: 'internal_error', source: 'worker', worker, detail: `INTERNALERROR in ${record.name}:\n${message.text}` });
        return;
      case 'protocol_error':
        // The worker could not read a command and is ending: its death is the violation it reported.
        violation(record, message.detail, out);
        return;
      case 'done':
        record.sessionDone = true;
        return;
      default:
        assertNever(message);
    }
  }

  private onCollected(record: WorkerRecord, message: Message<'collected'>, out: Step): void {
    const judged = this.state.collection.onCollected(record, message, this.state.suite.tests, out);
    if (judged.defines) {
      this.state.suite = { ...this.state.suite, tests: judged.tests };
      this.state.ledger.setTests(judged.tests);
    }
    const verdict = judged.verdict;
    switch (verdict.kind) {
      case 'start':
        out.command({ type: 'plan_suite', tests: verdict.tests });
        makeReady(this.state, record, out);
        return;
      case 'join':
        if (this.state.end.stopped) tellToEnd(record, 'stop', out);
        else makeReady(this.state, record, out);
        return;
      case 'collect_all':
        this.state.workers.collectAllInstead(record, out);
        return;
      case 'end':
        // pytest ended this worker's session itself and is about to say why on stderr: it is not
        // killed with the others, and its words become the run's end (Collection.stderrVerdict).
        if (verdict.pytestEndedSession) out.transition(record, 'finishing');
        else tellToEnd(record, 'stop', out);
        if (judged.defines) this.state.inbox.push({ type: 'collected', tests: [] });
        stopRun(this.state, { reason: verdict.reason, exitCode: verdict.exitCode }, out);
        return;
      default:
        assertNever(verdict);
    }
  }

  /** The suite is known: each test's settings and expected needs are settled; scheduling starts. */
  private onPlanned(plan: SuitePlan, out: Step): void {
    const { state } = this;
    if (plan.kind === 'invalid') {
      // A bad @pytest.mark.bulkhead(...): nothing runs, every test is listed as not run.
      state.inbox.push({ type: 'collected', tests: [] });
      stopRun(state, { reason: { kind: 'aborted', detail: plan.errors.join('\n') }, exitCode: ExitCode.USAGE_ERROR }, out);
      return;
    }
    const settings = plan.settings;
    if (settings !== null) state.ledger.setRetries((index) => settings[index]?.retries ?? null);
    state.suite = { ...state.suite, settings };
    if (this.options.listOnly) {
      out.event({ type: 'test_plan', tests: plan.planned });
      state.inbox.push({ type: 'collected', tests: [] });
      stopRun(state, { reason: { kind: 'completed' }, exitCode: ExitCode.OK }, out);
      return;
    }
    state.suite = { ...state.suite, demands: plan.demands };
    const budgetBytes = this.options.memory.budgetBytes;
    plan.demands.forEach((demand, index) => {
      if (demand.memoryBytes > budgetBytes) out.event({ type: 'oversize_test', testId: testId(state, index), memoryBytes: demand.memoryBytes, budgetBytes });
    });
    state.inbox.push({ type: 'collected', tests: state.suite.tests, demands: plan.demands });
  }

  // -- the watchdog ------------------------------------------------------------------------------

  private onTick(tick: Tick, out: Step): void {
    const { workers, scheduler, end, locks } = this.state;
    const watched = workers.live().map((record) => {
      const index = scheduler.runningOn(record.id);
      return { record, running: index !== null ? { index, testId: testId(this.state, index) } : null };
    });
    const verdicts = this.watch.onTick(tick, watched, end.stopped ? null : scheduler.stallReport());
    for (const event of verdicts.events) out.event(event);
    for (const kill of verdicts.kills) {
      // Time in line for a lock counts towards a timeout: the kill says which lock, and who held it.
      const running = scheduler.runningOn(kill.record.id) !== null;
      killWorker(kill.record, locks.explainKill(kill.record.id, kill.reason), out, { dumpStacks: kill.dumpStacks, watchdogDump: running });
    }
    for (const slow of verdicts.slow) out.command({ type: 'read_stacks', worker: slow.record.id, slow: slow.pending });
    if (verdicts.pressure !== null) this.state.inbox.push({ type: 'pressure', hold: verdicts.pressure });
  }
}
