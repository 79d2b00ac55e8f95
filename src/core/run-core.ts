/**
 * The run core: one synchronous reducer over everything that happens in a run. The shell puts
 * every source on one queue as a `RunInput`; `handle` takes one at a time and returns a `Step`:
 * the commands to carry out (start, send, kill, timers, questions) and the events for the
 * reporters, in order. No processes, no timers, no clock (each input carries its time), and no
 * callbacks between helpers: each fact has one owner here (see README.md in this folder).
 *
 * The scheduler's own inputs are put on an inbox and drained in `pump`, so that carrying out one
 * of its commands (promoting a spare, say) never re-enters it while a command list is half done.
 */
import type { AnyWorkerMessage, WorkerMessage } from '../adapters/pytest/protocol.js';
import { isLockRequest, PROTOCOL_VERSION } from '../adapters/pytest/protocol.js';
import { assertNever } from '../model/assert-never.js';
import { blamesTest } from '../model/cause.js';
import type { RunEndReason } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import type { MemoryControl } from '../model/event.js';
import type { TestSettings } from '../model/settings.js';
import type { TestInfo } from '../model/test.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { SchedulerCommand, SchedulerInput, TestDemand } from '../scheduler/types.js';
import { BesideLog } from './beside.js';
import { Collection } from './collection.js';
import { deathOf, lastLine } from './death.js';
import type { ExitFacts, RunInput } from './inputs.js';
import { Ledger } from './ledger.js';
import { LockService } from './lock-service.js';
import type { RunOptions } from './options.js';
import { describeEnd, RunEnd } from './run-end.js';
import { Step } from './step.js';
import { threadsFor, timeoutOf } from './suite-plan.js';
import { runCapacity } from './test-demands.js';
import { Watch } from './watch.js';
import { killWorker, tellToEnd } from './worker-actions.js';
import type { WorkerRecord } from './worker-record.js';
import { WorkerTable } from './workers.js';

type Message<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

export class RunCore {
  private readonly scheduler: Scheduler;
  private readonly workers: WorkerTable;
  private readonly ledger: Ledger;
  private readonly locks: LockService;
  private readonly collection = new Collection();
  private readonly watch: Watch;
  private readonly beside = new BesideLog();
  private readonly end = new RunEnd();
  private readonly inbox: SchedulerInput[] = [];
  private tests: TestInfo[] = [];
  /** Each test's resolved settings, by index; null: no resolver (every test has the defaults). */
  private settings: TestSettings[] | null = null;
  private demands: readonly TestDemand[] = [];
  private internalError = false;
  /** Workers already told to go for their size (recycling is announced once). */
  private readonly recycled = new Set<number>();
  private phase: 'running' | 'wrapping_up' | 'over' = 'running';
  private startedAt = 0;
  private now = 0;
  /** The step being built: the event and command sinks of the owners below write into it. */
  private out = new Step();

  constructor(
    private readonly options: RunOptions,
    /** The memory rung the runtime put in force (it made the cgroups). */
    private readonly memoryControl: MemoryControl,
  ) {
    this.scheduler = new Scheduler({
      poolSize: options.workers,
      capacity: runCapacity(options.memory.budgetBytes, options.workers, options.resources),
    });
    this.workers = new WorkerTable(options);
    this.ledger = new Ledger((event) => this.out.event(event), options);
    this.locks = new LockService({
      send: (worker, command) => this.out.command({ type: 'send', worker, command }),
      now: () => this.now,
      disagreement: (fact) => this.out.event({ type: 'lock_disagreement', ...fact }),
    });
    this.watch = new Watch(options);
  }

  handle(input: RunInput): Step {
    const out = new Step();
    this.out = out;
    this.now = input.now;
    if (this.phase === 'over') return out;
    switch (input.type) {
      case 'begin':
        this.begin(out);
        break;
      case 'spawned': {
        const record = this.workers.get(input.worker);
        if (record && input.pid !== null) record.pid = input.pid;
        out.event({ type: 'worker_started', worker: input.worker, pid: input.pid });
        break;
      }
      case 'message':
        this.onMessage(input.worker, input.message, input.residentBytes ?? null, out);
        break;
      case 'bad_line': {
        const record = this.workers.get(input.worker);
        if (record) this.violation(record, input.detail, out);
        break;
      }
      case 'exited':
        this.onExit(input.worker, input.exit, out);
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
      case 'signal':
        if (input.kind === 'interrupt') this.interrupt(input.detail, out);
        else {
          this.stopRun({ reason: { kind: 'interrupted', detail: input.detail }, exitCode: ExitCode.INTERRUPTED }, out);
          this.workers.killAllNow(input.detail, out);
        }
        break;
      case 'wrapped_up':
        this.finish(input.coverage, input.runPeakBytes, out);
        break;
      default:
        assertNever(input);
    }
    this.pump(out);
    if (out.hadInternalError) this.internalError = true;
    this.checkDone(out);
    return out;
  }

  // -- the run's start and end ------------------------------------------------------------------

  private begin(out: Step): void {
    this.startedAt = this.now;
    out.event({
      type: 'run_started',
      workers: this.options.workers,
      pytestArgs: this.options.pytestArgs,
      cwd: this.options.cwd,
      artifactsDir: this.options.artifactsDir ?? '',
    });
    out.event({ type: 'memory_control', control: this.memoryControl });
    this.workers.startInitial(this.now, out);
    if (this.options.runTimeoutSeconds !== null) out.command({ type: 'timer', key: 'run_deadline', ms: this.options.runTimeoutSeconds * 1000 });
  }

  /**
   * First Ctrl-C (or the run deadline): stop scheduling, let running tests finish within the
   * cancel grace period, then kill what still runs. Tests that did not start are listed as not run.
   */
  private interrupt(detail: string, out: Step): void {
    this.stopRun({ reason: { kind: 'interrupted', detail }, exitCode: ExitCode.INTERRUPTED }, out);
    this.cancelDetail = detail;
    out.command({ type: 'timer', key: 'cancel_grace', ms: this.options.cancelGraceSeconds * 1000 });
  }

  private cancelDetail = '';

  private onTimer(key: string, out: Step): void {
    if (key === 'run_deadline') {
      this.interrupt(`run deadline of ${this.options.runTimeoutSeconds}s reached`, out);
      return;
    }
    if (key === 'cancel_grace') {
      this.workers.terminateAll(this.cancelDetail, out);
      return;
    }
    this.workers.onTimer(key, this.hasWork(), this.now, out);
  }

  /** Whether a lost pool worker still needs replacing. */
  private hasWork(): boolean {
    return !this.end.stopped && (this.collection.reference === null || this.scheduler.queuedCount() > 0);
  }

  private stopRun(proposal: { reason: RunEndReason; exitCode: number }, out: Step): void {
    if (!this.end.propose(proposal)) return;
    this.inbox.push({ type: 'stop' });
    this.pump(out);
    this.workers.stopIdle(`run stopped: ${proposal.reason.kind}`, this.collection.endedByPytest, out);
  }

  private checkDone(out: Step): void {
    if (this.phase !== 'running') return;
    if (!this.end.stopped && this.scheduler.isDone()) this.workers.retireSpares(out);
    if (!this.workers.allExited()) return;
    if (!this.end.stopped && !this.scheduler.isDone()) return;
    this.phase = 'wrapping_up';
    const verdict = this.collection.stderrVerdict;
    if (verdict !== null) this.end.replaceDetail(verdict);
    const reason = this.end.reason;
    const notRunReason = reason !== null ? describeEnd(reason) : 'the run ended before it was scheduled';
    for (const index of this.scheduler.notRun()) this.ledger.notRun(index, notRunReason);
    // Any test that never got a final outcome (there should be none) is listed, never lost.
    this.tests.forEach((_, index) => this.ledger.notRun(index, notRunReason));
    const session = this.collection.session?.coverage ?? null;
    out.command({
      type: 'wrap_up',
      coverage: reason?.kind === 'aborted' ? null : session,
      testsFailed: this.failures() > 0,
    });
  }

  private finish(coverage: Parameters<RunEnd['exitCode']>[2], runPeakBytes: number | null, out: Step): void {
    if (this.phase !== 'wrapping_up') return;
    this.phase = 'over';
    if (coverage !== null) out.event({ type: 'coverage', outcome: coverage });
    const exitCode = this.end.exitCode(this.internalError, this.failures(), coverage);
    out.event({ type: 'memory_summary', runPeakBytes, budgetBytes: this.options.memory.budgetBytes });
    const reason = this.end.reason ?? { kind: 'completed' as const };
    out.event({ type: 'run_finished', exitCode, reason, durationSeconds: (this.now - this.startedAt) / 1000 });
    out.command({ type: 'exit', exitCode, abortDetail: reason.kind === 'aborted' ? reason.detail : null });
  }

  private failures(): number {
    return this.ledger.failures + this.collection.collectErrors;
  }

  // -- messages -----------------------------------------------------------------------------------

  private violation(record: WorkerRecord, detail: string, out: Step): void {
    record.protocolViolation ??= detail;
    killWorker(record, { kind: 'protocol_violation', detail }, out);
  }

  private onMessage(worker: number, message: AnyWorkerMessage, residentBytes: number | null, out: Step): void {
    const record = this.workers.get(worker);
    if (!record || record.exited || record.protocolViolation !== null) return;
    if (isLockRequest(message)) {
      this.locks.onMessage(worker, message);
      return;
    }
    switch (message.type) {
      case 'hello':
        if (message.protocol !== PROTOCOL_VERSION) {
          this.violation(record, `protocol version ${message.protocol}, expected ${PROTOCOL_VERSION}`, out);
          return;
        }
        record.pid = message.pid;
        out.transition(record, 'collecting');
        return;
      case 'heartbeat':
        record.lastHeartbeat = this.now;
        return;
      case 'session':
        this.collection.onSession(message, out);
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
        if (!record.killedForItsTest) this.onStarted(record, message.id, out);
        return;
      case 'report': {
        const running = this.scheduler.runningOn(worker);
        if (running === null) {
          this.violation(record, `a report for ${message.report.testId} outside a test`, out);
          return;
        }
        if (record.killedForItsTest) return;
        if (this.ledger.addReport(running, worker, message.report)) this.checkMaxfail(out);
        return;
      }
      case 'finished':
        if (!record.killedForItsTest) this.onFinished(record, message, out);
        return;
      case 'warning':
        if (this.collection.takesWarning(record, message.warning.when)) out.event({ type: 'warning', warning: message.warning });
        return;
      case 'stolen':
        this.inbox.push({ type: 'returned', worker, indices: message.indices });
        return;
      case 'internal_error':
        this.internalError = true;
        out.event({ type: 'internal_error', source: 'worker', worker, detail: `INTERNALERROR in ${record.name}:\n${message.text}` });
        return;
      case 'done':
        record.sessionDone = true;
        return;
      default:
        assertNever(message);
    }
  }

  private onCollected(record: WorkerRecord, message: Message<'collected'>, out: Step): void {
    const judged = this.collection.onCollected(record, message, out);
    if (judged.defines) {
      this.tests = judged.tests;
      this.ledger.setTests(judged.tests);
    }
    const verdict = judged.verdict;
    switch (verdict.kind) {
      case 'start':
        out.command({ type: 'plan_suite', tests: verdict.tests });
        this.makeReady(record, out);
        return;
      case 'join':
        if (this.end.stopped) tellToEnd(record, 'stop', out);
        else this.makeReady(record, out);
        return;
      case 'end':
        // pytest ended this worker's session itself and is about to say why on stderr: it is not
        // killed with the others, and its words become the run's end (Collection.stderrVerdict).
        if (verdict.pytestEndedSession) out.transition(record, 'finishing');
        else tellToEnd(record, 'stop', out);
        if (judged.defines) this.inbox.push({ type: 'collected', tests: [] });
        this.stopRun({ reason: verdict.reason, exitCode: verdict.exitCode }, out);
        return;
      default:
        assertNever(verdict);
    }
  }

  /** The suite is known: each test's settings and expected needs are settled; scheduling starts. */
  private onPlanned(plan: import('./suite-plan.js').SuitePlan, out: Step): void {
    if (plan.kind === 'invalid') {
      // A bad @pytest.mark.bulkhead(...): nothing runs, every test is listed as not run.
      this.inbox.push({ type: 'collected', tests: [] });
      this.stopRun({ reason: { kind: 'aborted', detail: plan.errors.join('\n') }, exitCode: ExitCode.USAGE_ERROR }, out);
      return;
    }
    const settings = plan.settings;
    this.settings = settings;
    if (settings !== null) this.ledger.setRetries((index) => settings[index]?.retries ?? null);
    if (this.options.listOnly) {
      out.event({ type: 'test_plan', tests: plan.planned });
      this.inbox.push({ type: 'collected', tests: [] });
      this.stopRun({ reason: { kind: 'completed' }, exitCode: ExitCode.OK }, out);
      return;
    }
    this.demands = plan.demands;
    const budgetBytes = this.options.memory.budgetBytes;
    plan.demands.forEach((demand, index) => {
      if (demand.memoryBytes > budgetBytes) out.event({ type: 'oversize_test', testId: this.testId(index), memoryBytes: demand.memoryBytes, budgetBytes });
    });
    this.inbox.push({ type: 'collected', tests: this.tests, demands: plan.demands });
  }

  /** A worker that collected the suite may take tests (a spare waits until it is promoted). */
  private makeReady(record: WorkerRecord, out: Step): void {
    if (this.workers.markReady(record, this.now, out)) this.takeTests(record);
  }

  private takeTests(record: WorkerRecord): void {
    if (record.role === 'isolated' && record.isolatedFor !== null) {
      this.ledger.beginAttempt(record.isolatedFor);
      this.inbox.push({ type: 'worker_ready', worker: record.id, isolatedFor: record.isolatedFor });
      return;
    }
    this.inbox.push({ type: 'worker_ready', worker: record.id, baselineBytes: record.baselineBytes ?? 0 });
  }

  private onStarted(record: WorkerRecord, id: string, out: Step): void {
    const index = this.scheduler.heldBy(record.id).find((held) => this.tests[held]?.id === id);
    if (index === undefined) {
      this.violation(record, `started ${id}, which it was not given`, out);
      return;
    }
    record.runningSince = this.now;
    record.runningTimeout = timeoutOf(this.settings, this.tests[index], index, this.options.timeoutSeconds, this.collection.session?.iniTimeout ?? null);
    record.nextBusyNotice = null;
    record.ranTests = true;
    // Predicted larger than the whole budget, it runs with nothing beside it (admission sees to
    // that): it may have all the memory a test alone has, as under plain pytest.
    if ((this.demands[index]?.memoryBytes ?? 0) > this.options.memory.budgetBytes && !record.lone) {
      record.lone = true;
      out.command({ type: 'set_lone', worker: record.id, lone: true, isolated: false });
    }
    this.workers.testRan();
    out.event({ type: 'test_started', testId: id, worker: record.id });
    this.inbox.push({ type: 'test_started', worker: record.id, index });
  }

  private onFinished(record: WorkerRecord, message: Message<'finished'>, out: Step): void {
    const { id, leaked, memory, locks } = message;
    const index = this.scheduler.runningOn(record.id);
    if (index === null || this.tests[index]?.id !== id) {
      this.violation(record, `finished ${id}, which was not running`, out);
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
    const again = this.ledger.finishNormally(index, record.id, leaked, memory, locks);
    // A test that crashed under load and now passed alone is settled: flaky, a failure only with --fail-on-flaky.
    this.checkMaxfail(out);
    // Recycling first: a worker being replaced must not be handed more tests by test_finished.
    this.maybeRecycle(record, id, memory?.residentBytes ?? null, out);
    this.inbox.push({ type: 'test_finished', worker: record.id, index, peakBytes: memory?.peakBytes ?? null, residentBytes: memory?.residentBytes ?? null });
    if (again) this.inbox.push({ type: 'retry', index });
  }

  /**
   * A suite that leaks: a worker whose idle memory grew past the limit is replaced between tests.
   * The worker makes the same comparison on the same number and stops by itself, giving back the
   * successor it already held (BULKHEAD_RECYCLE_BYTES); here the scheduler learns of it. Once.
   */
  private maybeRecycle(record: WorkerRecord, testId: string, resident: number | null, out: Step): void {
    const recycleAt = this.options.memory.recycleBytes;
    if (recycleAt === null || resident === null || resident <= recycleAt || record.role !== 'pool') return;
    // Once per worker; and a finishing worker with nothing left to run ends anyway.
    if (this.recycled.has(record.id) || (record.state === 'finishing' && this.scheduler.heldBy(record.id).length === 0)) return;
    this.recycled.add(record.id);
    out.event({ type: 'worker_recycled', worker: record.id, pid: record.pid, residentBytes: resident, limitBytes: recycleAt, afterTestId: testId });
    this.inbox.push({ type: 'recycle', worker: record.id });
  }

  private checkMaxfail(out: Step): void {
    const maxfail = this.collection.session?.maxfail ?? 0;
    if (maxfail > 0 && this.ledger.failuresForMaxfail >= maxfail && !this.end.stopped) {
      this.stopRun({ reason: { kind: 'maxfail', failures: this.ledger.failuresForMaxfail }, exitCode: ExitCode.TESTS_FAILED }, out);
    }
  }

  // -- deaths -------------------------------------------------------------------------------------

  private onExit(worker: number, exit: ExitFacts, out: Step): void {
    const record = this.workers.get(worker);
    if (!record || record.exited) return;
    out.command({ type: 'reap_leaked', worker, leaked: [...record.leaked] });
    this.workers.exited(record);
    const running = this.scheduler.runningOn(worker);
    out.transition(record, 'exited');
    const { cause, crash } = deathOf(record, exit, running !== null);
    out.event({ type: 'worker_exited', worker, pid: record.pid, cause, testId: running !== null ? this.testId(running) : null });
    this.collection.onExit(record, exit.stderrTail);
    const abort = this.workers.judgeRestart(
      record,
      cause,
      { spawnError: exit.spawnError, code: exit.code, stderr: exit.stderrTail.trim(), stacks: exit.crashStacks },
      this.now,
      out,
    );
    if (abort !== null) {
      this.stopRun({ reason: { kind: 'aborted', detail: abort.detail }, exitCode: abort.exitCode }, out);
    }
    // Its locks are released at once: the waiters go on.
    this.locks.workerGone(worker);
    if (running !== null) {
      const elsewhere = this.runningElsewhere(worker, exit);
      this.beside.recordDeath(crash, this.testId(running), cause, this.now, elsewhere);
    } else if (record.ranTests && blamesTest(cause)) {
      out.event({ type: 'worker_died_between_tests', worker, pid: record.pid, cause, stderrLastLine: lastLine(crash.stderrTail) });
    }
    // The scheduler re-queues what the worker held and names the test to blame.
    for (const command of this.scheduler.handle({ type: 'worker_lost', worker })) {
      if (command.type === 'blame') this.blame(command.index, cause, crash, out);
      else this.carryOut(command, out);
    }
    const adopted = this.workers.startIsolatedWhenAlone(this.now, out);
    if (adopted) this.takeTests(adopted);
  }

  private runningElsewhere(worker: number, exit: ExitFacts): Array<{ worker: number; testId: string; memoryBytes: number | null }> {
    const found: Array<{ worker: number; testId: string; memoryBytes: number | null }> = [];
    for (const other of this.workers.live()) {
      const index = this.scheduler.runningOn(other.id);
      if (other.id === worker || index === null) continue;
      const memoryBytes = exit.peers.find((peer) => peer.worker === other.id)?.memoryBytes ?? null;
      found.push({ worker: other.id, testId: this.testId(index), memoryBytes });
    }
    return found;
  }

  private blame(index: number, cause: import('../model/cause.js').ExitCause, crash: import('../model/outcome.js').CrashReport, out: Step): void {
    const settled = this.ledger.settleDeath(index, cause, crash);
    if (settled.countsAsFailure || settled.runAgainAlone) this.checkMaxfail(out);
    if (settled.runAgainAlone) this.inbox.push({ type: 'retry', index });
  }

  // -- the scheduler ------------------------------------------------------------------------------

  /** Feeds the scheduler its pending inputs, one at a time, and carries out what it decides. */
  private pump(out: Step): void {
    for (let input = this.inbox.shift(); input !== undefined; input = this.inbox.shift()) {
      for (const command of this.scheduler.handle(input)) this.carryOut(command, out);
    }
  }

  private carryOut(command: SchedulerCommand, out: Step): void {
    switch (command.type) {
      case 'assign': {
        const threads = this.options.threadCaps ? threadsFor(this.settings, command.indices, this.options.workers) : {};
        out.command({ type: 'send', worker: command.worker, command: { type: 'run', indices: command.indices, ...threads } });
        out.event({ type: 'test_assigned', worker: command.worker, testIds: command.indices.map((index) => this.testId(index)) });
        return;
      }
      case 'steal':
        out.command({ type: 'send', worker: command.worker, command: { type: 'steal', indices: command.indices } });
        return;
      case 'flush':
        out.command({ type: 'send', worker: command.worker, command: { type: 'flush' } });
        return;
      case 'finish':
      case 'stop': {
        const record = this.workers.get(command.worker);
        if (record) tellToEnd(record, command.type, out);
        return;
      }
      case 'blame':
        return; // only worker_lost names one, and onExit settles it with the death's cause
      case 'start_worker': {
        const promoted = this.workers.replenish(this.now, out);
        if (promoted) this.takeTests(promoted);
        return;
      }
      case 'start_isolated': {
        this.workers.requestIsolated(command.index);
        const adopted = this.workers.startIsolatedWhenAlone(this.now, out);
        if (adopted) this.takeTests(adopted);
        return;
      }
      default:
        assertNever(command);
    }
  }

  // -- the watchdog ------------------------------------------------------------------------------

  private onTick(tick: Extract<RunInput, { type: 'tick' }>, out: Step): void {
    const watched = this.workers.live().map((record) => {
      const index = this.scheduler.runningOn(record.id);
      return { record, running: index !== null ? { index, testId: this.testId(index) } : null };
    });
    const verdicts = this.watch.onTick(tick, watched, this.end.stopped ? null : this.scheduler.stallReport());
    for (const event of verdicts.events) out.event(event);
    for (const kill of verdicts.kills) {
      // Time in line for a lock counts towards a timeout: the kill says which lock, and who held it.
      const running = this.scheduler.runningOn(kill.record.id) !== null;
      killWorker(kill.record, this.locks.explainKill(kill.record.id, kill.reason), out, { dumpStacks: kill.dumpStacks, watchdogDump: running });
    }
    for (const slow of verdicts.slow) out.command({ type: 'read_stacks', worker: slow.record.id, slow: slow.pending });
    if (verdicts.pressure !== null) this.inbox.push({ type: 'pressure', hold: verdicts.pressure });
  }

  private testId(index: number): string {
    return this.tests[index]?.id ?? `#${index}`;
  }
}

