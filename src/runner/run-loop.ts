/**
 * The run loop: the only place where worker facts, the scheduler and the event stream meet.
 * Each fact from a worker becomes scheduler inputs; each scheduler command is carried out on a
 * worker; everything that happens is emitted as an event for the reporters.
 */
import { join } from 'node:path';
import { PROTOCOL_VERSION, decodeWorkerMessage, encodeCommand, type WorkerCommand, type WorkerMessage } from '../adapters/pytest/protocol.js';
import { workerLaunch } from '../adapters/pytest/worker-spec.js';

import type { RunEndReason, RunEventBody, SessionInfo } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import type { FinalOutcome } from '../model/outcome.js';
import type { CollectErrorReport, PhaseReport } from '../model/report.js';
import type { TestInfo } from '../model/test.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { SchedulerCommand, SchedulerInput } from '../scheduler/types.js';
import { classifyExit } from '../supervisor/classify-exit.js';
import { WorkerProcess, type WorkerExit } from '../supervisor/worker-process.js';
import { assertNever } from '../model/assert-never.js';
import { describeCollectionDiff } from './collection-diff.js';
import { countsAsFailure, outcomeFromReports } from './final-outcome.js';
import type { RunOptions } from './options.js';
import { WorkerSlot, type SlotState } from './worker-slot.js';

export interface RunLoopDeps {
  emit(event: RunEventBody): void;
  pythonDir: string;
  now(): number;
}

export class RunLoop {
  private readonly scheduler: Scheduler;
  private readonly slots = new Map<number, WorkerSlot>();
  private nextWorkerId = 1;
  private tests: TestInfo[] = [];
  private referenceSlot: WorkerSlot | null = null;
  private session: SessionInfo | null = null;
  private collectErrors: CollectErrorReport[] = [];
  private readonly reports = new Map<number, PhaseReport[]>();
  private readonly finished = new Set<number>();
  private failures = 0;
  private startupFailuresInARow = 0;
  private end: { reason: RunEndReason; exitCode: number } | null = null;
  private internalError = false;
  /** The worker whose pytest session ended during collection; its stderr explains why. */
  private pytestEndedSession: WorkerSlot | null = null;
  private resolveDone: (() => void) | null = null;
  private readonly startedAt: number;

  constructor(
    private readonly options: RunOptions,
    private readonly deps: RunLoopDeps,
  ) {
    this.scheduler = new Scheduler({ poolSize: options.workers });
    this.startedAt = deps.now();
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
    for (let i = 0; i < this.options.workers; i += 1) this.startWorker();
    return done.then(() => {
      const exitCode = this.finishRun();
      const reason = this.end?.reason;
      return { exitCode, abortDetail: reason?.kind === 'aborted' ? reason.detail : null };
    });
  }

  /** Stops scheduling; running tests finish, the rest are reported as not run. */
  interrupt(detail: string): void {
    this.stopRun({ kind: 'interrupted', detail }, ExitCode.INTERRUPTED);
  }

  /** Kills every worker at once (a second Ctrl-C). */
  killAll(reason: string): void {
    for (const slot of this.slots.values()) slot.process?.kill(reason, 'SIGKILL');
  }

  // -- workers ---------------------------------------------------------------------------------

  private startWorker(): void {
    const id = this.nextWorkerId++;
    const slot = new WorkerSlot(id, this.deps.now(), (s, from, to) => this.onTransition(s, from, to));
    this.slots.set(id, slot);
    const launch = workerLaunch({
      python: this.options.python,
      pythonDir: this.deps.pythonDir,
      pytestArgs: this.options.pytestArgs,
      baseEnv: process.env,
      color: this.options.color,
      columns: this.options.columns,
      supervisorPid: process.pid,
    });
    const proc = new WorkerProcess(
      {
        ...launch,
        cwd: this.options.cwd,
        logPath: this.options.artifactsDir ? join(this.options.artifactsDir, `worker-${id}.log`) : null,
      },
      {
        onLine: (line) => this.onLine(slot, line),
        onChannelOverflow: (bytes) => this.violation(slot, `a message line grew past ${bytes} bytes`),
        onExit: (exit) => this.onExit(slot, exit),
      },
    );
    slot.process = proc;
    slot.pid = proc.pid;
    this.deps.emit({ type: 'worker_started', worker: id, pid: proc.pid });
  }

  private onTransition(slot: WorkerSlot, _from: SlotState, to: SlotState): void {
    if (to === 'ready') {
      this.startupFailuresInARow = 0;
      this.deps.emit({ type: 'worker_ready', worker: slot.id, collectSeconds: (this.deps.now() - slot.startedAt) / 1000 });
    }
  }

  private send(slot: WorkerSlot, command: WorkerCommand): void {
    slot.process?.send(encodeCommand(command));
  }

  private violation(slot: WorkerSlot, detail: string): void {
    slot.protocolViolation ??= detail;
    slot.process?.kill(`protocol violation: ${detail}`);
  }

  // -- messages --------------------------------------------------------------------------------

  private onLine(slot: WorkerSlot, line: string): void {
    if (slot.protocolViolation !== null) return;
    const decoded = decodeWorkerMessage(line);
    if (!decoded.ok) {
      this.violation(slot, decoded.error);
      return;
    }
    this.onMessage(slot, decoded.message);
  }

  private onMessage(slot: WorkerSlot, message: WorkerMessage): void {
    switch (message.type) {
      case 'hello':
        if (message.protocol !== PROTOCOL_VERSION) {
          this.violation(slot, `protocol version ${message.protocol}, expected ${PROTOCOL_VERSION}`);
          return;
        }
        slot.pid = message.pid;
        slot.state = 'collecting';
        break;
      case 'session':
        if (this.session === null) {
          const { type: _type, ...info } = message;
          this.session = info;
          this.deps.emit({ type: 'session_info', info });
          if (info.xdistRequested !== null) {
            this.deps.emit({
              type: 'notice',
              message: `pytest-xdist's -n ${info.xdistRequested} is ignored: bulkhead runs its own workers (use --workers N)`,
            });
          }
        }
        break;
      case 'collect_error':
        slot.collectErrors.push(message.report);
        break;
      case 'collect_skip':
        slot.collectSkips.push(message.report);
        break;
      case 'collected':
        this.onCollected(slot, message.tests, message.deselected, message.interrupted, message.exitstatus);
        break;
      case 'started':
        this.onStarted(slot, message.id);
        break;
      case 'report':
        this.onReport(slot, message.report);
        break;
      case 'finished':
        this.onFinished(slot, message.id);
        break;
      case 'warning':
        // Warnings raised while collecting or configuring happen once in every worker: take the
        // reference worker's only, as one pytest process would have raised them once.
        if ((message.warning.when === 'collect' || message.warning.when === 'config') && slot !== this.referenceSlot) break;
        this.deps.emit({ type: 'warning', warning: message.warning });
        break;
      case 'stolen':
        this.removeAssigned(slot, message.indices);
        this.apply({ type: 'returned', worker: slot.id, indices: message.indices });
        break;
      case 'internal_error':
        slot.internalError = message.text;
        this.internalError = true;
        this.deps.emit({ type: 'notice', message: `INTERNALERROR in ${slot.name}:\n${message.text}` });
        break;
      case 'done':
        slot.sessionDone = true;
        break;
      default:
        assertNever(message);
    }
  }

  private onCollected(
    slot: WorkerSlot,
    tests: TestInfo[],
    deselected: number,
    interrupted: string | null,
    exitstatus: number | null,
  ): void {
    slot.collectedIds = tests.map((test) => test.id);
    if (this.referenceSlot === null && exitstatus !== null && ![0, 1, 5].includes(exitstatus)) {
      // pytest ended the session while collecting (a usage error such as a path that does not
      // exist, or an internal error): its exit code is the run's, its stderr the message.
      this.referenceSlot = slot;
      this.pytestEndedSession = slot;
      // Not killed with the others: it is ending by itself and is about to print why.
      slot.state = 'finishing';
      this.deps.emit({ type: 'collection_finished', tests: [], deselected, errors: slot.collectErrors, skips: slot.collectSkips });
      this.scheduler.handle({ type: 'collected', tests: [] });
      this.stopRun({ kind: 'aborted', detail: `pytest ended the session with exit code ${exitstatus}` }, exitstatus);
      return;
    }
    if (this.referenceSlot === null) {
      this.referenceSlot = slot;
      this.tests = tests;
      this.collectErrors = slot.collectErrors;
      this.deps.emit({ type: 'collection_finished', tests, deselected, errors: slot.collectErrors, skips: slot.collectSkips });
      const continueOnErrors = this.session?.continueOnCollectionErrors ?? false;
      if (this.collectErrors.length > 0 && (!continueOnErrors || interrupted !== null)) {
        const count = this.collectErrors.length;
        this.scheduler.handle({ type: 'collected', tests: [] });
        this.stopRun({ kind: 'collection_errors', errors: count }, ExitCode.INTERRUPTED);
        this.send(slot, { type: 'stop' });
        slot.state = 'finishing';
        return;
      }
      if (tests.length === 0) {
        this.scheduler.handle({ type: 'collected', tests: [] });
        this.stopRun({ kind: 'no_tests' }, ExitCode.NO_TESTS_COLLECTED);
        this.send(slot, { type: 'stop' });
        slot.state = 'finishing';
        return;
      }
      this.apply({ type: 'collected', tests });
    } else if (this.end === null) {
      const diff = describeCollectionDiff(
        this.referenceSlot.collectedIds ?? [],
        slot.collectedIds,
        this.referenceSlot.name,
        slot.name,
      );
      if (diff !== null) {
        this.stopRun({ kind: 'aborted', detail: diff }, ExitCode.INTERRUPTED);
        this.send(slot, { type: 'stop' });
        slot.state = 'finishing';
        return;
      }
    }
    if (this.end !== null) {
      this.send(slot, { type: 'stop' });
      slot.state = 'finishing';
      return;
    }
    slot.state = 'ready';
    this.apply({ type: 'worker_ready', worker: slot.id });
  }

  private onStarted(slot: WorkerSlot, id: string): void {
    const at = slot.assigned.findIndex((index) => this.tests[index]?.id === id);
    if (at < 0) {
      this.violation(slot, `started ${id}, which it was not given`);
      return;
    }
    const index = slot.assigned.splice(at, 1)[0]!;
    slot.running = index;
    this.deps.emit({ type: 'test_started', testId: id, worker: slot.id });
    this.apply({ type: 'test_started', worker: slot.id, index });
  }

  private onReport(slot: WorkerSlot, report: PhaseReport): void {
    if (slot.running === null) {
      this.violation(slot, `a report for ${report.testId} outside a test`);
      return;
    }
    let reports = this.reports.get(slot.running);
    if (!reports) {
      reports = [];
      this.reports.set(slot.running, reports);
    }
    reports.push(report);
    this.deps.emit({ type: 'test_report', worker: slot.id, report });
    if (countsAsFailure(report)) this.countFailure();
  }

  private onFinished(slot: WorkerSlot, id: string): void {
    const index = slot.running;
    if (index === null || this.tests[index]?.id !== id) {
      this.violation(slot, `finished ${id}, which was not running`);
      return;
    }
    slot.running = null;
    const reports = this.reports.get(index) ?? [];
    const duration = reports.reduce((sum, report) => sum + report.duration, 0);
    this.finishTest(index, slot.id, outcomeFromReports(reports), duration);
    this.apply({ type: 'test_finished', worker: slot.id, index });
  }

  private finishTest(index: number, worker: number, outcome: FinalOutcome, duration: number): void {
    if (this.finished.has(index)) return;
    this.finished.add(index);
    this.deps.emit({ type: 'test_finished', testId: this.tests[index]!.id, worker, outcome, duration });
  }

  private countFailure(): void {
    this.failures += 1;
    const maxfail = this.session?.maxfail ?? 0;
    if (maxfail > 0 && this.failures >= maxfail && this.end === null) {
      this.stopRun({ kind: 'maxfail', failures: this.failures }, ExitCode.TESTS_FAILED);
    }
  }

  private removeAssigned(slot: WorkerSlot, indices: readonly number[]): void {
    const given = new Set(indices);
    for (let i = slot.assigned.length - 1; i >= 0; i -= 1) {
      if (given.has(slot.assigned[i]!)) slot.assigned.splice(i, 1);
    }
  }

  // -- exits -----------------------------------------------------------------------------------

  private onExit(slot: WorkerSlot, exit: WorkerExit): void {
    const wasReady = slot.state === 'ready' || (slot.state === 'finishing' && slot.collectedIds !== null);
    slot.state = 'exited';
    // Whatever a test left in the worker's process group dies with the worker.
    slot.process?.reapGroup();
    const cause = classifyExit({ exit, sessionDone: slot.sessionDone, wasReady, protocolViolation: slot.protocolViolation });
    const running = slot.running;
    const testId = running !== null ? (this.tests[running]?.id ?? null) : null;
    this.deps.emit({ type: 'worker_exited', worker: slot.id, pid: slot.pid, cause, testId });
    if (cause.kind === 'startup_failure') this.onStartupFailure(slot, exit);
    if (slot === this.pytestEndedSession && this.end?.reason.kind === 'aborted') {
      const stderr = slot.process?.log.stderrTail.lastLines(30).trim();
      if (stderr) this.end.reason = { kind: 'aborted', detail: stderr };
    }
    if (running !== null && cause.kind !== 'finished') {
      const stderrTail = slot.process?.log.stderrTail.lastLines(40) ?? '';
      const outcome: FinalOutcome = { kind: 'crashed', worker: slot.id, pid: slot.pid, cause, stderrTail };
      slot.running = null;
      this.finishTest(running, slot.id, outcome, 0);
      this.countFailure();
    }
    // The scheduler re-queues what the worker held and blames the running test (done above).
    for (const command of this.scheduler.handle({ type: 'worker_lost', worker: slot.id })) {
      if (command.type !== 'blame') this.carryOut(command);
    }
    slot.assigned.length = 0;
    this.checkDone();
  }

  private onStartupFailure(slot: WorkerSlot, exit: WorkerExit): void {
    this.startupFailuresInARow += 1;
    const stderr = slot.process?.log.stderrTail.lastLines(30).trim() ?? '';
    if (exit.spawnError) {
      this.abort(`cannot start '${this.options.python}': ${exit.spawnError.message}`, ExitCode.USAGE_ERROR);
      return;
    }
    if (exit.code === ExitCode.USAGE_ERROR && stderr) {
      // pytest itself rejected the arguments or the ini: its own words are the message.
      this.abort(stderr, ExitCode.USAGE_ERROR);
      return;
    }
    if (exit.code === ExitCode.USAGE_ERROR || this.startupFailuresInARow >= this.options.startupFailureLimit) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const times = this.startupFailuresInARow > 1 ? ` (${this.startupFailuresInARow} workers in a row)` : '';
      const detail = `${slot.name} ${how} before it was ready${times}${stderr ? `:\n${stderr}` : ''}`;
      this.abort(detail, exit.code === ExitCode.USAGE_ERROR ? ExitCode.USAGE_ERROR : ExitCode.INTERNAL_ERROR);
    }
  }

  private abort(detail: string, exitCode: number): void {
    this.stopRun({ kind: 'aborted', detail }, exitCode);
  }

  // -- scheduling ------------------------------------------------------------------------------

  private apply(input: SchedulerInput): void {
    for (const command of this.scheduler.handle(input)) this.carryOut(command);
    this.checkDone();
  }

  private carryOut(command: SchedulerCommand): void {
    switch (command.type) {
      case 'assign': {
        const slot = this.slots.get(command.worker);
        if (!slot) return;
        slot.assigned.push(...command.indices);
        this.send(slot, { type: 'run', indices: command.indices });
        return;
      }
      case 'steal': {
        const slot = this.slots.get(command.worker);
        if (slot) this.send(slot, { type: 'steal', indices: command.indices });
        return;
      }
      case 'finish':
      case 'stop': {
        const slot = this.slots.get(command.worker);
        if (!slot || slot.state === 'exited') return;
        this.send(slot, { type: command.type });
        slot.state = 'finishing';
        return;
      }
      case 'blame':
        return; // handled where the exit is known, with its cause
      case 'start_worker': {
        const live = [...this.slots.values()].filter((slot) => slot.isLive).length;
        if (live < this.options.workers && this.end === null) this.startWorker();
        return;
      }
      default:
        assertNever(command);
    }
  }

  private stopRun(reason: RunEndReason, exitCode: number): void {
    if (this.end !== null) return;
    this.end = { reason, exitCode };
    for (const command of this.scheduler.handle({ type: 'stop' })) this.carryOut(command);
    // Workers still starting or collecting have nothing to finish: stop them now.
    for (const slot of this.slots.values()) {
      if (slot.state === 'starting' || slot.state === 'collecting') {
        this.send(slot, { type: 'stop' });
        slot.state = 'finishing';
        slot.process?.kill(`run stopped: ${reason.kind}`, 'SIGTERM');
      }
    }
    this.checkDone();
  }

  private checkDone(): void {
    if (this.resolveDone === null) return;
    const allExited = [...this.slots.values()].every((slot) => slot.state === 'exited');
    if (!allExited) return;
    if (this.end === null && !this.scheduler.isDone()) return;
    const resolve = this.resolveDone;
    this.resolveDone = null;
    resolve();
  }

  private finishRun(): number {
    const notRunReason = this.end ? describeEnd(this.end.reason) : 'the run ended before it was scheduled';
    for (const index of this.scheduler.notRun()) {
      this.finishTest(index, 0, { kind: 'not_run', reason: notRunReason }, 0);
    }
    // Any test that never got a final outcome (there should be none) is listed, never lost.
    this.tests.forEach((_, index) => this.finishTest(index, 0, { kind: 'not_run', reason: notRunReason }, 0));
    const exitCode = this.exitCode();
    this.deps.emit({
      type: 'run_finished',
      exitCode,
      reason: this.end?.reason ?? { kind: 'completed' },
      durationSeconds: (this.deps.now() - this.startedAt) / 1000,
    });
    return exitCode;
  }

  private exitCode(): number {
    if (this.end !== null && this.end.exitCode !== ExitCode.TESTS_FAILED) return this.end.exitCode;
    if (this.internalError) return ExitCode.INTERNAL_ERROR;
    if (this.failures > 0 || this.collectErrors.length > 0) return ExitCode.TESTS_FAILED;
    return ExitCode.OK;
  }
}

function describeEnd(reason: RunEndReason): string {
  switch (reason.kind) {
    case 'completed':
      return 'completed';
    case 'maxfail':
      return `stopping after ${reason.failures} failures`;
    case 'collection_errors':
      return `Interrupted: ${reason.errors} error${reason.errors === 1 ? '' : 's'} during collection`;
    case 'no_tests':
      return 'no tests collected';
    case 'interrupted':
      return reason.detail;
    case 'aborted':
      return `run aborted: ${reason.detail.split('\n')[0]}`;
    default:
      return assertNever(reason);
  }
}

