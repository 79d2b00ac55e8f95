/**
 * The seam between a run and a test framework: everything the runner needs to know about one,
 * and nothing more. How to check the interpreter (probe), which arguments are not a run at all
 * (handed to one plain process of the framework), how to start a worker (its command and
 * environment), what its channel lines mean (decoded into the neutral messages of messages.ts)
 * and how to say commands to it, and how to combine the coverage its workers measured.
 *
 * The runner reaches a framework only through this interface; pytest is its one implementation
 * (adapters/pytest/). An adapter starts no process: it names the commands and judges what they
 * said, and the runner (with supervisor/) runs them.
 */
import type { CoverageOutcome, CoverageSession } from '../model/coverage.js';
import type { AnyWorkerMessage, Decoded, WorkerCommand } from './messages.js';
import type { WorkerMemoryLimits } from '../model/memory-options.js';

export interface FrameworkAdapter {
  readonly name: string;
  /** The short command that asks an interpreter what it has (versions of itself and the framework). */
  probeCommand(interpreter: string): HelperCommand;
  /** Whether the run can go on with this interpreter; else one line that names the problem and the fix. */
  judgeProbe(interpreter: string, result: HelperResult): ProbeVerdict;
  /**
   * The option that makes the framework do something other than run tests (list them, show help,
   * debug one interactively), or null: then the run is handed to `plainRunCommand` as it is.
   */
  plainRunReason(args: readonly string[]): string | null;
  /** The framework run plainly with the user's arguments, the terminal attached. */
  plainRunCommand(interpreter: string, args: readonly string[]): { command: string; args: string[] };
  /** How to start one worker. */
  launch(request: WorkerLaunchRequest): WorkerLaunch;
  /** One line from a worker's channel: a neutral message, or why it breaks the protocol. */
  decodeLine(line: string): Decoded<AnyWorkerMessage>;
  /** One command as a channel line (newline included). */
  encodeCommand(command: WorkerCommand): string;
  /** The helper that combines the workers' coverage data and reports it once, at the end of the run. */
  coverageCommand(request: CoverageCombineRequest): HelperCommand;
  /** That helper's answer (its last stdout line). */
  decodeCoverageAnswer(line: string): Decoded<Extract<CoverageOutcome, { kind: 'reported' }>>;
}

/** A short helper process, run to completion within a bound. */
export interface HelperCommand {
  command: string;
  args: string[];
  /** Where it runs; absent: the run's own folder. */
  cwd?: string;
  timeoutMs: number;
}

/** How a helper process ended (supervisor/exec.ts's ExecResult is one). */
export type HelperResult =
  | { kind: 'exited'; code: number | null; signal: string | null; stdout: string; stderr: string }
  | { kind: 'spawn_failed'; error: { code?: string | undefined; message: string } }
  | { kind: 'timed_out'; stdout: string; stderr: string };

export type ProbeVerdict =
  | { ok: true; runtimeVersion: string; frameworkVersion: string; executable: string }
  | { ok: false; message: string };

export type MpStartMethod = 'fork' | 'spawn' | 'forkserver';

export type { WorkerMemoryLimits };

/** What the run decides about one worker; the adapter says how that reaches the process. */
export interface WorkerLaunchRequest {
  interpreter: string;
  /** The user's arguments for the framework, unchanged. */
  frameworkArgs: readonly string[];
  baseEnv: NodeJS.ProcessEnv;
  color: boolean;
  columns: number;
  supervisorPid: number;
  /** Where the worker's crash handler writes its stacks on a crash or on SIGUSR1. */
  crashFile: string;
  heartbeatSeconds: number;
  /**
   * Where the worker's watchdog thread dumps the running test's stacks, and how often: stacks
   * taken without a signal. Absent: none (stacks come by SIGUSR1).
   */
  stacks?: { file: string; everySeconds: number } | null;
  /**
   * Threads each native thread pool of a worker may start (OpenMP, BLAS and friends); a variable
   * the user's environment sets is left as it is. null or absent: no cap.
   */
  threadCap?: number | null;
  /** multiprocessing's start method in the worker, set before the framework imports; null or absent: the default. */
  mpStartMethod?: MpStartMethod | null;
  /** bulkhead's --junit: the worker renders every testcase for this file (the supervisor writes it). */
  junitPath?: string | null;
  /** Where the worker saves its coverage data file (`--cov`); absent: no coverage support. */
  coverageDir?: string | null;
  /** Who this worker is among the run's workers (pytest-xdist's terms); null or absent: nobody in particular. */
  identity?: WorkerIdentity | null;
  /** Past this resident size after a test, the worker stops taking more (--worker-recycle-memory); null or absent: never. */
  recycleBytes?: number | null;
  /** How its memory cap reaches the worker where the supervisor cannot enforce it alone; absent: no cap. */
  memory?: WorkerMemoryLimits | null;
  /**
   * Absolute paths of the only test files the worker collects (a fresh worker for an isolated
   * retry); null or absent: the whole suite.
   */
  collectOnly?: readonly string[] | null;
}

/** A worker's identity in pytest-xdist's terms, and the run's one random seed. */
export interface WorkerIdentity {
  /** `gw0`, `gw1`, ...: unique among live workers, reused by the replacement of a dead one. */
  workerId: string;
  /** The pool size (`-w`), as `len(specs)` is for xdist. */
  workerCount: number;
  /** One per run, shared by every worker: xdist's `testrun_uid`. */
  testRunUid: string;
  /** One per run: the seed pytest-randomly and pytest-random-order get when the user gives none. */
  seed: number;
}


export interface WorkerLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The environment variable that tells the worker which file descriptor its channel is on. */
  channelFdVariable: string;
  /** The one that tells it its journal's, where the worker writes its messages (none: on the channel). */
  journalFdVariable?: string;
}

export interface CoverageCombineRequest {
  interpreter: string;
  session: CoverageSession;
  /** Where the workers saved their data files. */
  dataDir: string;
  /** Whether any test failed or failed to collect (`--no-cov-on-fail` reads it). */
  testsFailed: boolean;
}
