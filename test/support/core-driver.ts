/**
 * Drives the run core (src/core/run-core.ts) by hand, as the shell would, with no process, timer
 * or clock: every input is built here, the clock is a number the test moves, and every command and
 * event the core returns is kept. Workers are simulated by the messages a pytest worker sends.
 */
import type { AnyWorkerMessage } from '../../src/adapters/messages.js';
import type { RunCommand } from '../../src/core/commands.js';
import type { ExitFacts, RunInput, UntimedInput } from '../../src/core/inputs.js';
import type { RunOptions } from '../../src/core/options.js';
import { RunCore } from '../../src/core/run-core.js';
import { planSuite } from '../../src/core/suite-plan.js';
import { planDemands } from '../../src/core/test-demands.js';
import type { RunEventBody, SessionInfo } from '../../src/model/event.js';
import type { PhaseReport } from '../../src/model/report.js';
import type { TestInfo } from '../../src/model/test.js';
import { DEFAULT_RESTART_POLICY } from '../../src/scheduler/restart-policy.js';
import { samplePhaseReport, sampleSessionInfo } from './session-info.js';

const GiB = 1024 ** 3;

export function coreOptions(over: Partial<RunOptions> = {}): RunOptions {
  return {
    cwd: '/project',
    python: 'python3',
    workers: 2,
    standby: 0,
    pytestArgs: [],
    artifactsDir: null,
    scratchDir: '/scratch',
    color: false,
    columns: 80,
    timeoutSeconds: null,
    startupTimeoutSeconds: 60,
    heartbeatTimeoutSeconds: 30,
    heartbeatIntervalSeconds: 1,
    runTimeoutSeconds: null,
    killGraceSeconds: 5,
    cancelGraceSeconds: 10,
    retries: 1,
    failOnFlaky: false,
    restart: DEFAULT_RESTART_POLICY,
    useCgroups: false,
    memory: { limitBytes: 8 * GiB, limitSource: 'test', budgetBytes: 4 * GiB, workerMaxBytes: null, forceRlimit: false, recycleBytes: null },
    resources: {},
    mpStartMethod: null,
    threadCaps: false,
    xdistIdentity: true,
    ...over,
  };
}

export function testInfo(name: string, module = 'test_m'): TestInfo {
  return { id: `${module}.py::${name}`, file: `${module}.py`, line: 0, markers: [], scope: `${module}.py`, timeout: null, bulkheadMarker: null, xdistGroup: null };
}

export function phaseReport(testId: string, when: PhaseReport['when'], outcome: PhaseReport['outcome']): PhaseReport {
  return samplePhaseReport(testId, when, outcome, { duration: 0.01 });
}

export function exitFacts(over: Partial<ExitFacts> = {}): ExitFacts {
  return { code: 0, signal: null, spawnError: null, stderrTail: '', crashStacks: '', latestDump: '', oom: null, peers: [], ...over };
}

export class CoreDriver {
  readonly core: RunCore;
  readonly events: RunEventBody[] = [];
  readonly commands: RunCommand[] = [];
  now = 1_000;

  constructor(readonly options: RunOptions = coreOptions()) {
    this.core = new RunCore(options, { mechanism: 'rlimit-data+rss-watchdog', limitBytes: options.memory.limitBytes, limitSource: 'test', budgetBytes: options.memory.budgetBytes, workerMaxBytes: null });
  }

  /** Handles one input; answers the core's questions (`plan_suite`, `spawned` after `start`) as the shell would. */
  feed(input: UntimedInput): { events: RunEventBody[]; commands: RunCommand[] } {
    const step = this.core.handle({ ...input, now: this.now } as RunInput);
    this.events.push(...step.events);
    this.commands.push(...step.commands);
    const result = { events: [...step.events], commands: [...step.commands] };
    for (const command of step.commands) {
      if (command.type === 'start') {
        const more = this.feed({ type: 'spawned', worker: command.worker, pid: 10_000 + command.worker });
        result.events.push(...more.events);
        result.commands.push(...more.commands);
      }
      if (command.type === 'plan_suite') {
        const plan = planSuite(command.tests, {
          resolveSettings: null,
          history: null,
          demandsFor: (settings, peaks) => planDemands({ tests: command.tests, settings, peaks, budgetBytes: this.options.memory.budgetBytes, workers: this.options.workers }).demands,
        });
        const more = this.feed({ type: 'suite_planned', plan });
        result.events.push(...more.events);
        result.commands.push(...more.commands);
      }
    }
    return result;
  }

  message(worker: number, message: AnyWorkerMessage): { events: RunEventBody[]; commands: RunCommand[] } {
    return this.feed({ type: 'message', worker, message, ...(message.type === 'collected' ? { residentBytes: 50 * 1024 ** 2 } : {}) });
  }

  /** A worker says hello, reports its session and collects `tests`. */
  collect(worker: number, tests: TestInfo[], session: Partial<SessionInfo> = {}, errors = 0): void {
    this.message(worker, { type: 'hello', pid: 10_000 + worker });
    this.message(worker, { type: 'session', info: sampleSessionInfo(session) });
    this.message(worker, { type: 'collected', tests, deselected: 0, errors, interrupted: null, exitstatus: null });
  }

  /** A worker runs one test through: started, its reports, finished. */
  run(worker: number, testId: string, outcome: PhaseReport['outcome'] = 'passed'): void {
    this.message(worker, { type: 'started', id: testId });
    this.message(worker, { type: 'report', report: phaseReport(testId, 'setup', 'passed') });
    this.message(worker, { type: 'report', report: phaseReport(testId, 'call', outcome) });
    this.message(worker, { type: 'report', report: phaseReport(testId, 'teardown', 'passed') });
    this.message(worker, { type: 'finished', id: testId, leaked: [], memory: null, locks: [], plain: [] });
  }

  exit(worker: number, over: Partial<ExitFacts> = {}): { events: RunEventBody[]; commands: RunCommand[] } {
    return this.feed({ type: 'exited', worker, exit: exitFacts(over) });
  }

  /** Every test id sent to `worker` in `run` commands so far. */
  assigned(worker: number, tests: readonly TestInfo[]): string[] {
    return this.commands
      .filter((command): command is Extract<RunCommand, { type: 'send' }> => command.type === 'send' && command.worker === worker)
      .flatMap((command) => (command.command.type === 'run' ? command.command.indices.map((index) => tests[index]!.id) : []));
  }

  sent(worker: number, type: string): boolean {
    return this.commands.some((command) => command.type === 'send' && command.worker === worker && command.command.type === type);
  }

  finals(): Map<string, string> {
    const out = new Map<string, string>();
    for (const event of this.events) if (event.type === 'test_finished') out.set(event.testId, event.outcome.kind);
    return out;
  }

  /** The run's end, once every worker has exited: answers `wrap_up` and returns `run_finished`. */
  finishRun(): Extract<RunEventBody, { type: 'run_finished' }> {
    if (!this.commands.some((command) => command.type === 'wrap_up')) throw new Error('the core did not ask to wrap up');
    this.feed({ type: 'wrapped_up', coverage: null, runPeakBytes: null });
    const finished = this.events.find((event) => event.type === 'run_finished');
    if (!finished || finished.type !== 'run_finished') throw new Error('no run_finished');
    return finished;
  }
}
