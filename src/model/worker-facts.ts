/**
 * What a worker runtime reads off its processes for the run core: the facts of an exit, and the
 * readings taken on a tick. Plain data, so a remote runtime can send them as they are.
 */
import type { MemoryLimitKind } from './cause.js';
import type { WorkerId } from './test.js';

/** What the runtime read off a worker process when it exited (the core classifies it). */
export interface ExitFacts {
  code: number | null;
  signal: string | null;
  /** The process could not be started at all (e.g. ENOENT), with the system's words. */
  spawnError: { code: string | null; message: string } | null;
  /** The last lines it wrote on stderr. */
  stderrTail: string;
  /** What faulthandler wrote at a fatal signal (or on SIGUSR1). */
  crashStacks: string;
  /** The newest dump faulthandler's watchdog took of the running test. */
  latestDump: string;
  /** The kernel's OOM killer took it: which limit, its size, the worker's peak. */
  oom: { limit: MemoryLimitKind; limitBytes: number | null; peakBytes: number | null } | null;
  /** The memory of the other live workers at this moment (their peak since their test began). */
  peers: ReadonlyArray<{ worker: WorkerId; memoryBytes: number | null }>;
}

/** One reading of one live worker, taken on a tick. */
export interface WorkerSample {
  worker: WorkerId;
  /** Its CPU time in USER_HZ ticks, and whether it is stopped; null when /proc could not be read. */
  cpuTicks: number | null;
  stopped: boolean;
  /** Its resident memory (process tree, or cgroup), where read on this tick. */
  residentBytes: number | null;
  /** On the last memory rung only: its tree is over its cap (the RSS watchdog). */
  overCap: { capBytes: number; rssBytes: number; limit: MemoryLimitKind } | null;
}

export interface MemoryReading {
  availableBytes: number | null;
  stallPercent: number | null;
}

