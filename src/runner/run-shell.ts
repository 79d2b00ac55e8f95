/**
 * The imperative shell around the run core: one input queue, drained one input at a time into
 * `RunCore.handle`, whose events go to the reporters and whose commands are carried out here —
 * on the WorkerRuntime (processes), on timers, or by answering the core's questions (the suite's
 * plan, a stacks dump, the coverage step) with another input. Worker facts, the ticker, timers and
 * signals only ever enqueue; nothing here decides anything about the run.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FrameworkAdapter } from '../adapters/framework-adapter.js';
import { assertNever } from '../model/assert-never.js';
import type { RunEventBody } from '../model/event.js';
import type { RunCommand } from '../core/commands.js';
import type { RunInput, UntimedInput } from '../core/inputs.js';
import type { RunOptions, SettingsResolver } from '../core/options.js';
import { RunCore } from '../core/run-core.js';
import { planSuite, type Remembered } from '../core/suite-plan.js';
import { planDemands } from '../core/test-demands.js';
import { LocalWorkerRuntime } from '../supervisor/local-runtime.js';
import type { WorkerFact, WorkerRuntime } from '../supervisor/worker-runtime.js';
import { combineCoverage, coverageDataDir } from './coverage-step.js';
import { HeapKeeper } from './heap-keeper.js';
import { RepeatedLineDecoder } from './repeated-line.js';
import { launchFor, workerLogPath } from './worker-launch.js';
import { packageRoot } from '../util/package-root.js';

export interface RunShellDeps {
  emit(event: RunEventBody): void;
  /** The test framework: how to start its workers, what their lines mean, how to combine coverage. */
  framework: FrameworkAdapter;
  now(): number;
  /** What earlier runs say about these test ids (the history store): memory peaks and durations. */
  history?: (ids: readonly string[]) => ReadonlyMap<string, Remembered>;
  /** Per-test settings (config, overrides, markers, CLI); absent: every test gets the defaults. */
  resolveSettings?: SettingsResolver;
}

const TICK_MS = 200;
/** Every worker's resident size is read on every this-many ticks (about once a second). */
const MEMORY_EVERY_TICKS = 5;
/** A line this long (a collection of thousands of tests) has the heap checked as soon as it is handled. */
const BIG_LINE_CHARS = 1024 * 1024;

export class RunShell {
  private readonly core: RunCore;
  private readonly runtime: WorkerRuntime;
  private readonly queue: RunInput[] = [];
  private readonly lines: RepeatedLineDecoder<ReturnType<FrameworkAdapter['decodeLine']>>;
  private draining = false;
  private ticker: NodeJS.Timeout | null = null;
  private ticks = 0;
  private readonly heap = new HeapKeeper();
  private readonly checkHeap = (): void => void this.heap.check();
  private readonly timers = new Set<NodeJS.Timeout>();
  private resolveDone: ((result: { exitCode: number; abortDetail: string | null }) => void) | null = null;
  /** xdist's testrun_uid: one for the run, as xdist's controller draws it (uuid4().hex). */
  private readonly testRunUid = randomUUID().replaceAll('-', '');
  /**
   * The run's one random seed, drawn as pytest-randomly draws its own (32 bits): every worker
   * shuffles and reseeds with it unless the user gives one (--randomly-seed=N).
   */
  private readonly seed = randomInt(2 ** 32);

  constructor(
    private readonly options: RunOptions,
    private readonly deps: RunShellDeps,
  ) {
    this.runtime = new LocalWorkerRuntime(
      {
        cwd: options.cwd,
        memory: options.memory,
        useCgroups: options.useCgroups,
        killGraceSeconds: options.killGraceSeconds,
        python: options.python,
        reaperScript: join(packageRoot(), 'python', 'bulkhead-reaper.py'),
        // Straight to the reporters: a fact about the runtime, not about the run's state.
        // Reported from the reaper's own events, never while the shell is being built.
        onLifelineLost: (detail) => this.push({ type: 'lifeline_lost', detail }),
      },
      (fact) => this.onFact(fact),
    );
    this.core = new RunCore(options, this.runtime.memoryControl);
    this.lines = new RepeatedLineDecoder((line) => deps.framework.decodeLine(line));
  }

  /**
   * Runs the suite to the end; resolves once every worker has exited, with the exit code and,
   * when the run was aborted, why (the CLI prints it on stderr).
   */
  run(): Promise<{ exitCode: number; abortDetail: string | null }> {
    const done = new Promise<{ exitCode: number; abortDetail: string | null }>((resolve) => (this.resolveDone = resolve));
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.push({ type: 'begin' });
    return done;
  }

  /** First Ctrl-C (or SIGTERM): running tests may finish within the cancel grace period. */
  interrupt(detail: string): void {
    this.push({ type: 'signal', kind: 'interrupt', detail });
  }

  /** Second Ctrl-C: kill every worker now. */
  killAll(detail: string): void {
    this.push({ type: 'signal', kind: 'kill', detail });
  }

  private push(input: UntimedInput): void {
    this.queue.push({ ...input, now: this.deps.now() } as RunInput);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const step = this.core.handle(next);
        for (const event of step.events) this.deps.emit(event);
        for (const command of step.commands) this.carryOut(command);
      }
    } finally {
      this.draining = false;
    }
  }

  private tick(): void {
    const withMemory = this.ticks % MEMORY_EVERY_TICKS === 0;
    this.ticks += 1;
    const { samples, memory } = this.runtime.sample(withMemory);
    this.push({ type: 'tick', samples, memory });
    this.heap.check();
  }

  private onFact(fact: WorkerFact): void {
    switch (fact.type) {
      case 'spawned':
        this.push({ type: 'spawned', worker: fact.worker, pid: fact.pid });
        return;
      case 'line': {
        const decoded = this.lines.decodeLine(fact.line);
        if (!decoded.ok) {
          this.push({ type: 'bad_line', worker: fact.worker, detail: decoded.error });
          return;
        }
        // The worker's idle size once it has collected: its baseline for admission.
        const residentBytes = decoded.message.type === 'collected' ? this.runtime.residentBytes(fact.worker) : undefined;
        this.push({ type: 'message', worker: fact.worker, message: decoded.message, ...(residentBytes !== undefined ? { residentBytes } : {}) });
        // A line of megabytes (a collection) leaves its text, its parse and what it set off as
        // garbage at once: collected as soon as the reader that holds the line has returned (not
        // here, where the line is still alive), before the run's next tick.
        if (fact.line.length >= BIG_LINE_CHARS) setImmediate(this.checkHeap);
        return;
      }
      case 'overflow':
        this.push({ type: 'bad_line', worker: fact.worker, detail: `a message line grew past ${fact.bytes} bytes` });
        return;
      case 'exited':
        this.push({ type: 'exited', worker: fact.worker, exit: fact.exit });
        return;
      default:
        assertNever(fact);
    }
  }

  private carryOut(command: RunCommand): void {
    switch (command.type) {
      case 'start':
        this.start(command);
        return;
      case 'send':
        this.runtime.send(command.worker, this.deps.framework.encodeCommand(command.command));
        return;
      case 'kill':
        this.runtime.kill(command.worker, command.reason, command);
        return;
      case 'reap_leaked':
        this.runtime.reapLeaked(command.worker, command.leaked);
        return;
      case 'set_lone':
        this.runtime.setLone(command.worker, command.lone, command.isolated);
        return;
      case 'read_stacks':
        this.push({ type: 'stacks_read', worker: command.worker, ...this.runtime.readStacks(command.worker), slow: command.slow });
        return;
      case 'timer': {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.push({ type: 'timer', key: command.key });
        }, command.ms);
        this.timers.add(timer);
        return;
      }
      case 'plan_suite':
        // The collection just handled left its garbage (the line, its parse, its recording);
        // collected before planning adds its own (the history's rows, every test's settings).
        this.heap.check();
        this.push({ type: 'suite_planned', plan: this.plan(command.tests) });
        return;
      case 'wrap_up':
        void this.wrapUp(command);
        return;
      case 'exit':
        this.exit(command.exitCode, command.abortDetail);
        return;
      default:
        assertNever(command);
    }
  }

  private start(command: Extract<RunCommand, { type: 'start' }>): void {
    const crashFile = join(this.options.scratchDir, `worker-${command.worker}.crash`);
    const stacksFile = join(this.options.scratchDir, `worker-${command.worker}.stacks`);
    const identity = { role: command.role, xdistIndex: command.xdistIndex, crashFile, stacksFile, collect: command.collect };
    const run = { testRunUid: this.testRunUid, seed: this.seed };
    this.runtime.start({
      worker: command.worker,
      isolated: command.lone,
      launch: (limits) => launchFor(this.deps.framework, identity, this.options, run, limits),
      crashFile,
      stacksFile,
      logPath: workerLogPath(this.options, command.worker),
    });
  }

  private plan(tests: Extract<RunCommand, { type: 'plan_suite' }>['tests']): ReturnType<typeof planSuite> {
    return planSuite(tests, {
      resolveSettings: this.deps.resolveSettings ?? null,
      history: this.deps.history ?? null,
      demandsFor: (settings, peaks, durations) =>
        planDemands({ tests, settings, peaks, durations, budgetBytes: this.options.memory.budgetBytes, workers: this.options.workers }).demands,
    });
  }

  /**
   * pytest-cov's `--cov`: every worker has ended, so every data file is complete (a dead worker's
   * up to its last finished test); they are combined and reported once, as xdist's controller does.
   */
  private async wrapUp(command: Extract<RunCommand, { type: 'wrap_up' }>): Promise<void> {
    const coverage =
      command.coverage === null
        ? null
        : await combineCoverage(this.deps.framework, {
            interpreter: this.options.python,
            session: command.coverage,
            dataDir: coverageDataDir(this.options.scratchDir),
            testsFailed: command.testsFailed,
          });
    this.push({ type: 'wrapped_up', coverage, runPeakBytes: this.runtime.runPeakBytes() });
  }

  private exit(exitCode: number, abortDetail: string | null): void {
    if (this.ticker) clearInterval(this.ticker);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.runtime.dispose();
    const resolve = this.resolveDone;
    this.resolveDone = null;
    resolve?.({ exitCode, abortDetail });
  }
}
