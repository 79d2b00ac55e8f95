import { assertNever } from './assert-never.js';
import { formatBytes } from './format-bytes.js';

/**
 * Why a worker process ended. A closed union: every exit maps to exactly one of these, and a
 * death we caused for no fault of the test (the end of the run) is never reported as a crash.
 */
export type ExitCause =
  | { kind: 'finished' }
  | { kind: 'signal'; signal: string }
  | { kind: 'exit_code'; code: number }
  | { kind: 'timeout'; limitSeconds: number; waitingFor?: LockWaitState[] }
  /** Silent and making no progress (no CPU time gained, or stopped): a deadlock or a SIGSTOP. */
  | { kind: 'unresponsive'; silentSeconds: number; stopped?: boolean }
  | OomCause
  | { kind: 'memory_pressure' }
  | { kind: 'startup_failure'; code: number | null; signal: string | null; detail: string | null }
  | { kind: 'protocol_violation'; detail: string }
  | { kind: 'interrupted'; detail: string }
  | { kind: 'stopped'; reason: string };

/**
 * Which limit a worker ran into when it ran out of memory:
 * - `worker_cap`: its own cap (--worker-memory-max, or a config override);
 * - `lone_cap`: the cap of a test running alone (an isolated retry), all the memory there was;
 * - `run_budget`: the run's budget, shared by every worker (the tests beside it count);
 * - `machine`: the kernel's OOM killer outside bulkhead's limits (the machine, or a cgroup above).
 */
export type MemoryLimitKind = 'worker_cap' | 'lone_cap' | 'run_budget' | 'machine';

export interface OomCause {
  kind: 'oom';
  /** The limit that was exceeded, where known. */
  limitBytes: number | null;
  /** The worker's peak (its baseline included), where measured. */
  peakBytes: number | null;
  /** Which limit it was; absent where it could not be told. */
  limit?: MemoryLimitKind;
  /** The worker's size when the test began (what the peak includes besides the test). */
  baselineBytes?: number | null;
}

/**
 * A cross-worker lock a test was still waiting for when it was killed, and the workers that held
 * it then: a timeout spent in line for a lock is the holder's story as much as the test's.
 */
export interface LockWaitState {
  name: string;
  heldBy: number[];
}

/** Why we kill a worker, recorded before the signal is sent (the first reason wins). */
export type KillReason =
  | { kind: 'timeout'; limitSeconds: number; waitingFor?: LockWaitState[] }
  | { kind: 'unresponsive'; silentSeconds: number; stopped?: boolean }
  | { kind: 'startup_timeout'; limitSeconds: number }
  | { kind: 'protocol_violation'; detail: string }
  | { kind: 'interrupted'; detail: string }
  | { kind: 'memory_pressure' }
  /** Over its cap, seen by our RSS watchdog (where no cgroup can enforce the cap). */
  | { kind: 'memory_cap'; limitBytes: number; rssBytes: number; limit: MemoryLimitKind }
  | { kind: 'shutdown'; detail: string };

/** Causes for which the running test is to blame (and may be retried alone). */
export function blamesTest(cause: ExitCause): boolean {
  switch (cause.kind) {
    case 'signal':
    case 'exit_code':
    case 'timeout':
    case 'unresponsive':
    case 'oom':
    case 'protocol_violation':
      return true;
    case 'finished':
    case 'memory_pressure':
    case 'startup_failure':
    case 'interrupted':
    case 'stopped':
      return false;
    default:
      return assertNever(cause);
  }
}

/** The word reports use for a test whose worker died of this cause. */
export function causeLabel(cause: ExitCause): string {
  switch (cause.kind) {
    case 'timeout':
      return 'TIMEOUT';
    case 'unresponsive':
      return 'UNRESPONSIVE';
    case 'oom':
      return 'OOM';
    default:
      return 'CRASHED';
  }
}

export function describeCause(cause: ExitCause): string {
  switch (cause.kind) {
    case 'finished':
      return 'finished';
    case 'signal':
      return `was killed by ${cause.signal}`;
    case 'exit_code':
      return `exited with code ${cause.code}`;
    case 'timeout':
      return `was killed after the test passed its timeout of ${cause.limitSeconds}s${describeLockWaits(cause.waitingFor ?? [])}`;
    case 'unresponsive':
      return cause.stopped
        ? `was stopped (SIGSTOP or a debugger) with no heartbeat for ${cause.silentSeconds.toFixed(1)}s, and was killed`
        : `was unresponsive (no heartbeat and no CPU time used for ${cause.silentSeconds.toFixed(1)}s: a deadlock?) and was killed`;
    case 'oom':
      return describeOom(cause);
    case 'memory_pressure':
      return 'was killed to relieve memory pressure';
    case 'startup_failure':
      if (cause.detail) return `failed to start (${cause.detail})`;
      return cause.signal
        ? `was killed by ${cause.signal} before it was ready`
        : `exited with code ${cause.code ?? '?'} before it was ready`;
    case 'protocol_violation':
      return `broke the worker protocol (${cause.detail})`;
    case 'interrupted':
      return `was interrupted (${cause.detail})`;
    case 'stopped':
      return `was stopped (${cause.reason})`;
    default:
      return assertNever(cause);
  }
}

/** ` (waiting for lock 'model-init', held by worker 3)`, or nothing when it waited for none. */
function describeLockWaits(waits: readonly LockWaitState[]): string {
  if (waits.length === 0) return '';
  const each = waits.map(({ name, heldBy }) => {
    const holders = heldBy.length === 0 ? '' : `, held by worker${heldBy.length === 1 ? '' : 's'} ${heldBy.join(', ')}`;
    return `lock '${name}'${holders}`;
  });
  return ` (waiting for ${each.join('; ')})`;
}

/** The limit's name, and what to say after its size. */
const LIMIT_WORDS: Record<MemoryLimitKind, [string, string]> = {
  worker_cap: ['its worker cap', ''],
  lone_cap: ['all the memory a test alone could have', ''],
  run_budget: ["the run's memory budget", ', shared with the tests beside it'],
  machine: ["the machine's memory", ", outside bulkhead's limits"],
};

/** "ran out of memory: over the run's memory budget of 20.5 GiB, shared with ... (peak 6.2 GiB, 1.1 GiB of it the worker's baseline)" */
function describeOom(cause: OomCause): string {
  const [name, after] = cause.limit !== undefined ? LIMIT_WORDS[cause.limit] : ['its limit', ''];
  const over = cause.limitBytes !== null ? `: over ${name} of ${formatBytes(cause.limitBytes)}${after}` : cause.limit !== undefined ? `: over ${name}${after}` : '';
  const numbers: string[] = [];
  if (cause.peakBytes !== null) numbers.push(`peak ${formatBytes(cause.peakBytes)}`);
  if (cause.baselineBytes) numbers.push(`${formatBytes(cause.baselineBytes)} of it the worker's baseline`);
  return `ran out of memory${over}${numbers.length > 0 ? ` (${numbers.join(', ')})` : ''}`;
}

/** How a worker died, in a few words (for a death that blames no test, or a crash loop). */
export function describeDeath(cause: ExitCause): string {
  if (cause.kind === 'startup_failure') {
    if (cause.detail) return `failed to start (${cause.detail})`;
    return cause.signal ? `was killed by ${cause.signal}` : `exited with code ${cause.code ?? '?'}`;
  }
  if (cause.kind === 'signal') return `was killed by ${cause.signal}`;
  if (cause.kind === 'exit_code') return `exited with code ${cause.code}`;
  return cause.kind;
}
