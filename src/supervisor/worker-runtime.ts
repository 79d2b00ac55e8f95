/**
 * The seam between the run core and the processes that run tests. A runtime starts a worker from a
 * spec, says a command to it, kills it with a reason, and reports facts out (started, a channel
 * line, an exit with what was read off it). Local processes (local-runtime.ts) are the one
 * implementation today; a runtime whose workers are fed from a Redis stream is the next.
 */
import type { KillReason } from '../model/cause.js';
import type { MemoryControl } from '../model/event.js';
import type { LeakedProcess, WorkerId } from '../model/test.js';
import type { ExitFacts, MemoryReading, WorkerSample } from '../model/worker-facts.js';
import type { WorkerMemoryLimits } from '../model/memory-options.js';

/** How to start one worker process. */
export interface WorkerSpec {
  worker: WorkerId;
  /** Started to retry one test alone: its cap is the lone cap from the start. */
  isolated: boolean;
  /**
   * The process to start, once the runtime has put the worker under its memory rung: what the
   * worker itself must apply (its v1 leaf, a data limit) reaches it through its launch.
   */
  launch(limits: WorkerMemoryLimits): { command: string; args: string[]; env: NodeJS.ProcessEnv; channelFdVariable: string; journalFdVariable?: string };
  /** Where faulthandler writes at a fatal signal, and where its watchdog keeps the running test's stacks. */
  crashFile: string;
  stacksFile: string;
  /** Its log of what it wrote outside pytest's capture; null keeps none. */
  logPath: string | null;
}

export type WorkerFact =
  | { type: 'spawned'; worker: WorkerId; pid: number | null }
  | { type: 'line'; worker: WorkerId; line: string }
  /** A channel line grew past the limit: the channel is corrupt. */
  | { type: 'overflow'; worker: WorkerId; bytes: number }
  | { type: 'exited'; worker: WorkerId; exit: ExitFacts };

export interface KillHow {
  /** Ask faulthandler for the stacks first (SIGUSR1), unless `watchdogDump` finds a dump already. */
  dumpStacks: boolean;
  watchdogDump: boolean;
  /** SIGKILL the whole tree now. */
  hard: boolean;
}

export interface WorkerRuntime {
  /** The memory rung in force, chosen when the runtime was made. */
  readonly memoryControl: MemoryControl;
  start(spec: WorkerSpec): void;
  send(worker: WorkerId, text: string): void;
  kill(worker: WorkerId, reason: KillReason, how: KillHow): void;
  /** Kills what a dead worker's tests left running outside its process group and cgroup. */
  reapLeaked(worker: WorkerId, leaked: readonly LeakedProcess[]): void;
  /** A test alone: its worker's cap and the run's limit go up to what a test alone may have, or back. */
  setLone(worker: WorkerId, lone: boolean, isolated: boolean): void;
  /** Where a worker's running test is now, from faulthandler's newest watchdog dump. */
  readStacks(worker: WorkerId): { where: string | null; stacksFile: string | null };
  /** One reading of every live worker (its resident size only when `withMemory`), and of the machine. */
  sample(withMemory: boolean): { samples: WorkerSample[]; memory: MemoryReading };
  /** A worker's resident memory now (its process tree), 0 when unknown. */
  residentBytes(worker: WorkerId): number;
  runPeakBytes(): number | null;
  /** Removes what the runtime made (cgroups); every worker has exited. */
  dispose(): void;
}
