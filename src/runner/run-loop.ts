/**
 * The run loop: the only place where worker facts, the scheduler and the event stream meet.
 * Each fact from a worker becomes scheduler inputs; each scheduler command is carried out on a
 * worker; everything that happens is emitted as an event for the reporters. Worker processes,
 * their lifecycle and their deaths are handled in worker-pool.ts.
 */
import type { FrameworkAdapter } from '../adapters/framework-adapter.js';
import type { WorkerMessage } from '../adapters/messages.js';
import { blamesTest, type ExitCause } from '../model/cause.js';
import { betweenTestsNotice } from './worker-exit.js';
import type { RunEndReason, RunEventBody } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import type { TestInfo } from '../model/test.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { SchedulerInput, TestDemand } from '../scheduler/types.js';
import { CollectionPhase } from './collection-phase.js';
import { LockService } from './lock-service.js';
import { routeWorkerLine, type MessageHandlers } from './worker-messages.js';
import { StallWatch } from './stall-watch.js';
import { RunMemory } from './run-memory.js';
import { runCapacity } from './test-demands.js';
import { describeEnd, runExitCode } from './run-end.js';
import type { RunOptions, SettingsResolver } from './options.js';
import type { TestSettings } from '../model/settings.js';
import { planSuite, timeoutOf } from './suite-plan.js';
import { WorkerCommands } from './worker-commands.js';
import { ResultBook } from './result-book.js';
import { WorkerPool, type WorkerDeath } from './worker-pool.js';
import type { WorkerSlot } from './worker-slot.js';
import { BesideLog, runningTests } from './beside.js';
import { enforceDeadlines } from './deadlines.js';
import { combineCoverage, coverageDataDir, exitCodeAfterCoverage } from './coverage-step.js';

export interface RunLoopDeps {
  emit(event: RunEventBody): void;
  /** The test framework: how to start its workers, what their lines mean, how to combine coverage. */
  framework: FrameworkAdapter;
  now(): number;
  /** Memory peaks remembered from earlier runs (the history store), for these test ids. */
  peaks?: (ids: readonly string[]) => ReadonlyMap<string, number>;
  /** Per-test settings (config, overrides, markers, CLI); absent: every test gets the defaults. */
  resolveSettings?: SettingsResolver;
}

const TICK_MS = 200;

export class RunLoop {
  private readonly scheduler: Scheduler;
  private readonly pool: WorkerPool;
  private readonly book: ResultBook;
  private tests: TestInfo[] = [];
  private readonly collection: CollectionPhase;
  private readonly memory: RunMemory;
  private readonly locks: LockService;
  private readonly stall: StallWatch;
  private readonly beside = new BesideLog();
  private readonly commands: WorkerCommands;
  /** Each test's resolved settings, by index; null: no resolver (every test has the defaults). */
  private settings: TestSettings[] | null = null;
  /** What each test is expected to need, by index, as admission sees it. */
  private demands: readonly TestDemand[] = [];
  private end: { reason: RunEndReason; exitCode: number } | null = null;
  private internalError = false;
  private resolveDone: (() => void) | null = null;
  private readonly startedAt: number;
  private ticker: NodeJS.Timeout | null = null;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly options: RunOptions,
    private readonly deps: RunLoopDeps,
  ) {
    this.scheduler = new Scheduler({
      poolSize: options.workers,
      capacity: runCapacity(options.memory.budgetBytes, options.workers, options.resources),
    });
    this.stall = new StallWatch(deps.now, (message) => deps.emit({ type: 'notice', message }));
    this.locks = new LockService({
      send: (worker, command) => {
        const slot = this.pool.get(worker);
        if (slot) this.commands.send(slot, command);
      },
      now: deps.now,
      notice: (message) => deps.emit({ type: 'notice', message }),
    });
    this.memory = new RunMemory(options, { emit: deps.emit, now: deps.now, apply: (input) => this.apply(input) });
    this.book = new ResultBook(deps.emit, options);
    this.pool = new WorkerPool(options, {
      emit: deps.emit,
      now: deps.now,
      framework: deps.framework,
      onLine: (slot, line) => this.onLine(slot, line),
      onReady: (slot) => this.onReady(slot),
      onDeath: (death) => this.onDeath(death),
      onAbort: (detail, exitCode) => this.stopRun({ kind: 'aborted', detail }, exitCode),
      hasWork: () => this.end === null && (this.collection.referenceSlot === null || this.scheduler.queuedCount() > 0),
      onStartDropped: () => this.checkDone(),
    });
    this.commands = new WorkerCommands(this.pool, options, () => this.settings, (command) => deps.framework.encodeCommand(command));
    this.startedAt = deps.now();
    this.collection = new CollectionPhase({
      emit: deps.emit,
      runEnded: () => this.end !== null,
      startSuite: (tests) => {
        this.tests = tests;
        this.book.setTests(tests);
      },
      schedule: (tests) => this.schedule(tests),
      ready: (slot) => this.pool.markReady(slot),
      stop: (slot) => this.commands.finishWorker(slot, 'stop'),
      endedByPytest: (slot) => {
        // Not killed with the others: it is ending by itself and is about to print why.
        this.pool.expectStderrVerdict(slot);
        slot.state = 'finishing';
      },
      endRun: (reason, exitCode) => this.stopRun(reason, exitCode),
    });
  }

  /**
   * Runs the suite to the end; resolves once every worker has exited, with the exit code and,
   * when the run was aborted, why (the CLI prints it on stderr).
   */
  run(): Promise<{ exitCode: number; abortDetail: string | null }> {
    this.deps.emit({
      type: 'run_started',
      workers: this.options.workers,
      pytestArgs: this.options.pytestArgs,
      cwd: this.options.cwd,
      artifactsDir: this.options.artifactsDir ?? '',
    });
    const done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    this.pool.startInitial();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    if (this.options.runTimeoutSeconds !== null) {
      const seconds = this.options.runTimeoutSeconds;
      this.later(seconds * 1000, () => this.interrupt(`run deadline of ${seconds}s reached`));
    }
    return done.then(async () => {
      if (this.ticker) clearInterval(this.ticker);
      this.timers.forEach(clearTimeout);
      const exitCode = await this.finishRun();
      this.pool.dispose();
      const reason = this.end?.reason;
      return { exitCode, abortDetail: reason?.kind === 'aborted' ? reason.detail : null };
    });
  }

  /**
   * First Ctrl-C (or the run deadline): stop scheduling, let running tests finish within the
   * cancel grace period, then kill what still runs. Tests that did not start are listed as not run.
   */
  interrupt(detail: string): void {
    this.stopRun({ kind: 'interrupted', detail }, ExitCode.INTERRUPTED);
    this.later(this.options.cancelGraceSeconds * 1000, () => this.pool.terminateAll({ kind: 'interrupted', detail }, false));
  }

  /** Second Ctrl-C: kill every worker now. */
  killAll(detail: string): void {
    this.stopRun({ kind: 'interrupted', detail }, ExitCode.INTERRUPTED);
    this.pool.killAllNow({ kind: 'interrupted', detail });
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(action, ms);
    timer.unref();
    this.timers.push(timer);
  }

  // -- deadlines ------------------------------------------------------------------------------

  private tick(): void {
    enforceDeadlines(this.pool, this.locks, this.options, this.deps.now(), (index) => this.testId(index), this.deps.emit);
    this.stall.check(this.end === null ? this.scheduler.stallReport() : null);
    this.memory.checkPressure(this.pool, (index) => this.testId(index));
  }

  // -- messages --------------------------------------------------------------------------------

  private violation(slot: WorkerSlot, detail: string): void {
    slot.protocolViolation ??= detail;
    this.pool.terminate(slot.id, { kind: 'protocol_violation', detail }, false);
  }

  private onLine(slot: WorkerSlot, line: string): void {
    routeWorkerLine(slot, line, this.messageHandlers);
  }

  private readonly messageHandlers: MessageHandlers = {
    now: () => this.deps.now(),
    decode: (line) => this.deps.framework.decodeLine(line),
    violation: (slot, detail) => this.violation(slot, detail),
    lock: (slot, request) => this.locks.onMessage(slot.id, request),
    session: (message) => this.collection.onSession(message),
    collected: (slot, message) => this.collection.onCollected(slot, message),
    // A worker killed for its test is left alone with that test: its late reports, its `finished`,
    // and a successor it went on to start (which stays held, and is re-queued when it dies).
    started: (slot, id) => {
      if (!slot.killedForItsTest) this.onStarted(slot, id);
    },
    report: (slot, index, report) => {
      if (slot.killedForItsTest) return;
      if (this.book.addReport(index, slot.id, report)) this.checkMaxfail();
    },
    finished: (slot, message) => {
      if (!slot.killedForItsTest) this.onFinished(slot, message);
    },
    warning: (slot, warning) => {
      if (this.collection.takesWarning(slot, warning.when)) this.deps.emit({ type: 'warning', warning });
    },
    stolen: (slot, indices) => {
      slot.dropAssigned(indices);
      this.apply({ type: 'returned', worker: slot.id, indices });
    },
    internalError: (slot, text) => {
      this.internalError = true;
      this.deps.emit({ type: 'notice', message: `INTERNALERROR in ${slot.name}:\n${text}` });
    },
  };

  /** The suite is known: settle each test's settings and expected needs, and start scheduling. */
  private schedule(tests: TestInfo[]): void {
    const plan = planSuite(tests, {
      resolveSettings: this.deps.resolveSettings ?? null,
      peaks: this.deps.peaks ?? null,
      demandsFor: (settings, peaks) => this.memory.demandsFor(tests, settings, peaks),
    });
    if (plan.kind === 'invalid') {
      // A bad @pytest.mark.bulkhead(...): nothing runs, every test is listed as not run.
      this.apply({ type: 'collected', tests: [] });
      this.stopRun({ kind: 'aborted', detail: plan.errors.join('\n') }, ExitCode.USAGE_ERROR);
      return;
    }
    const settings = plan.settings;
    this.settings = settings;
    if (settings !== null) this.book.setRetries((index) => settings[index]?.retries ?? null);
    if (this.options.listOnly) {
      this.deps.emit({ type: 'test_plan', tests: plan.planned });
      this.apply({ type: 'collected', tests: [] });
      this.stopRun({ kind: 'completed' }, ExitCode.OK);
      return;
    }
    this.demands = plan.demands;
    this.apply({ type: 'collected', tests, demands: plan.demands });
  }

  /** Called by the pool once a worker may take tests (a standby only when it is promoted). */
  private onReady(slot: WorkerSlot): void {
    slot.baselineBytes = this.pool.memory.residentBytes(slot);
    if (slot.role === 'isolated' && slot.isolatedFor !== null) {
      this.book.beginAttempt(slot.isolatedFor);
      this.apply({ type: 'worker_ready', worker: slot.id, isolatedFor: slot.isolatedFor });
      return;
    }
    this.apply({ type: 'worker_ready', worker: slot.id, baselineBytes: slot.baselineBytes });
  }

  private onStarted(slot: WorkerSlot, id: string): void {
    const at = slot.assigned.findIndex((index) => this.tests[index]?.id === id);
    if (at < 0) {
      this.violation(slot, `started ${id}, which it was not given`);
      return;
    }
    const index = slot.assigned.splice(at, 1)[0]!;
    slot.running = index;
    slot.runningSince = this.deps.now();
    slot.runningTimeout = timeoutOf(this.settings, this.tests[index], index, this.options.timeoutSeconds, this.collection.session?.frameworkTimeout ?? null);
    slot.nextBusyNotice = null;
    slot.ranTests = true;
    // Predicted larger than the whole budget, it runs with nothing beside it (admission sees to
    // that): it may have all the memory a test alone has, as under plain pytest.
    if ((this.demands[index]?.memoryBytes ?? 0) > this.options.memory.budgetBytes) this.pool.memory.makeLone(slot);
    this.pool.testRan();
    this.deps.emit({ type: 'test_started', testId: id, worker: slot.id });
    this.apply({ type: 'test_started', worker: slot.id, index });
  }

  private onFinished(slot: WorkerSlot, message: Extract<WorkerMessage, { type: 'finished' }>): void {
    const { id, leaked, memory, locks } = message;
    const index = slot.running;
    if (index === null || this.tests[index]?.id !== id) {
      this.violation(slot, `finished ${id}, which was not running`);
      return;
    }
    slot.running = null;
    slot.runningSince = null;
    slot.leaked.push(...leaked);
    if (memory?.residentBytes !== null && memory?.residentBytes !== undefined) slot.baselineBytes = memory.residentBytes;
    this.pool.memory.releaseLone(slot);
    const again = this.book.finishNormally(index, slot.id, leaked, memory, locks);
    // A test that crashed under load and now passed alone is settled: flaky, a failure only with --fail-on-flaky.
    this.checkMaxfail();
    // Recycling first: a worker being replaced must not be handed more tests by test_finished.
    this.memory.afterTest(slot, id, memory);
    this.apply({ type: 'test_finished', worker: slot.id, index, peakBytes: memory?.peakBytes ?? null, residentBytes: memory?.residentBytes ?? null });
    if (again) this.apply({ type: 'retry', index });
  }

  private checkMaxfail(): void {
    const maxfail = this.collection.session?.maxfail ?? 0;
    if (maxfail > 0 && this.book.failuresForMaxfail >= maxfail && this.end === null) {
      this.stopRun({ kind: 'maxfail', failures: this.book.failuresForMaxfail }, ExitCode.TESTS_FAILED);
    }
  }

  // -- deaths ----------------------------------------------------------------------------------

  private onDeath(death: WorkerDeath): void {
    const { slot, cause, crash } = death;
    // Its locks are released at once: the waiters go on.
    this.locks.workerGone(slot.id);
    const running = slot.running;
    slot.running = null;
    if (running !== null) {
      const elsewhere = runningTests(this.pool.live(), (index) => this.testId(index), (other) => this.pool.memory.testPeakBytes(other));
      this.beside.recordDeath(crash, this.testId(running), cause, this.deps.now(), elsewhere);
      this.blame(running, cause, crash);
    } else if (slot.ranTests && blamesTest(cause)) {
      this.deps.emit({ type: 'notice', message: betweenTestsNotice(slot, cause, crash.stderrTail) });
    }
    // The scheduler re-queues what the worker held (the blame was settled above, with its cause).
    for (const command of this.scheduler.handle({ type: 'worker_lost', worker: slot.id })) {
      if (command.type !== 'blame') this.commands.carryOut(command);
    }
    slot.assigned.length = 0;
    this.checkDone();
  }

  private testId(index: number): string {
    return this.tests[index]?.id ?? `#${index}`;
  }

  private blame(index: number, cause: ExitCause, crash: WorkerDeath['crash']): void {
    const settled = this.book.settleDeath(index, cause, crash);
    if (settled.countsAsFailure || settled.runAgainAlone) this.checkMaxfail();
    if (settled.runAgainAlone) this.apply({ type: 'retry', index });
  }

  // -- scheduling ------------------------------------------------------------------------------

  private apply(input: SchedulerInput): void {
    for (const command of this.scheduler.handle(input)) this.commands.carryOut(command);
    this.checkDone();
  }

  private stopRun(reason: RunEndReason, exitCode: number): void {
    if (this.end !== null) return;
    this.end = { reason, exitCode };
    for (const command of this.scheduler.handle({ type: 'stop' })) this.commands.carryOut(command);
    this.pool.stopIdle(`run stopped: ${reason.kind}`, (slot) => this.commands.finishWorker(slot, 'stop'));
    this.checkDone();
  }

  private checkDone(): void {
    if (this.resolveDone === null) return;
    if (this.end === null && this.scheduler.isDone()) this.pool.retireSpares((slot) => this.commands.finishWorker(slot, 'stop'));
    if (!this.pool.allExited()) return;
    if (this.end === null && !this.scheduler.isDone()) return;
    const resolve = this.resolveDone;
    this.resolveDone = null;
    resolve();
  }

  private async finishRun(): Promise<number> {
    const reason = this.pool.stderrVerdict() ?? this.end?.reason ?? { kind: 'completed' as const };
    if (this.end !== null) this.end.reason = reason;
    const notRunReason = this.end ? describeEnd(this.end.reason) : 'the run ended before it was scheduled';
    for (const index of this.scheduler.notRun()) this.book.notRun(index, notRunReason);
    // Any test that never got a final outcome (there should be none) is listed, never lost.
    this.tests.forEach((_, index) => this.book.notRun(index, notRunReason));
    const exitCode = await this.reportCoverage(runExitCode(this.end, this.internalError, this.book.failures + this.collection.collectErrors));
    this.deps.emit({ type: 'memory_summary', runPeakBytes: this.pool.memory.runPeakBytes(), budgetBytes: this.options.memory.budgetBytes });
    this.deps.emit({
      type: 'run_finished',
      exitCode,
      reason,
      durationSeconds: (this.deps.now() - this.startedAt) / 1000,
    });
    return exitCode;
  }

  /**
   * pytest-cov's `--cov`: every worker has ended, so every data file is complete (a dead worker's
   * up to its last finished test); they are combined and reported once, as xdist's controller does.
   */
  private async reportCoverage(exitCode: number): Promise<number> {
    const session = this.collection.session?.coverage ?? null;
    if (session === null || this.end?.reason.kind === 'aborted') return exitCode;
    const outcome = await combineCoverage(this.deps.framework, {
      interpreter: this.options.python,
      session,
      dataDir: coverageDataDir(this.options.scratchDir),
      testsFailed: this.book.failures + this.collection.collectErrors > 0,
    });
    this.deps.emit({ type: 'coverage', outcome });
    return exitCodeAfterCoverage(exitCode, outcome);
  }
}
