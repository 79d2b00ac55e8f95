/**
 * Isolated retries, and the tests that will not run. A crashed test runs again only when nothing
 * else runs, in a worker of its own, so that "crashes on its own" and "crashed only under
 * parallel load" can be told apart: retries wait here, and one at a time is under way. Once the
 * run stops, every test that can no longer run (queued, held, owed a retry) is kept here for
 * `notRun`. When a retry may start (nothing else left) is the scheduler's call.
 */
import type { WorkerId } from '../model/test.js';
import type { WorkerState } from './worker-state.js';

export class RetryBook {
  /** Tests that will not run because the run stopped. */
  private readonly abandoned: number[] = [];
  /** Crashed tests waiting to run again alone; the one being retried now. */
  private readonly waiting: number[] = [];
  private current: number | null = null;

  /** A retry waits or is under way: the run is not done. */
  get owed(): boolean {
    return this.waiting.length > 0 || this.current !== null;
  }

  /** Tests that will not run because the run stopped. */
  abandon(indices: readonly number[]): void {
    this.abandoned.push(...indices);
  }

  /** A test crashed: it runs again alone later, unless the run stopped. */
  add(index: number, stopped: boolean): void {
    if (stopped) this.abandoned.push(index);
    else this.waiting.push(index);
  }

  /** The run stopped: waiting retries will not run. */
  stop(workers: ReadonlyMap<WorkerId, WorkerState>): void {
    this.abandoned.push(...this.waiting.splice(0));
    // A retry whose fresh worker is not ready yet will never run now.
    if (this.current !== null && ![...workers.values()].some((worker) => worker.isolatedFor === this.current)) {
      this.abandoned.push(this.current);
      this.current = null;
    }
  }

  /** The retry to start now (it is under way from here), or null: one is under way, or none waits. */
  start(): number | null {
    if (this.current !== null || this.waiting.length === 0) return null;
    this.current = this.waiting.shift()!;
    return this.current;
  }

  /**
   * A worker started to retry test `index` is ready: whether it runs it. Not once the run
   * stopped (the retry is then abandoned), nor for a retry no longer under way.
   */
  ready(index: number, stopped: boolean): boolean {
    if (!stopped && this.current === index) return true;
    if (this.current === index) {
      this.abandoned.push(index);
      this.current = null;
    }
    return false;
  }

  /**
   * A worker was lost. If it was the retry's, the retry is no longer under way; true when it died
   * before the test started: the retry is still owed, alone, not in the pool (or abandoned, if the
   * run stopped), and the worker's tests need nothing more.
   */
  lost(worker: WorkerState, stopped: boolean): boolean {
    if (worker.isolatedFor === null || worker.isolatedFor !== this.current) return false;
    this.current = null;
    if (worker.running !== null || !worker.assigned.includes(worker.isolatedFor)) return false;
    if (stopped) this.abandoned.push(worker.isolatedFor);
    else this.waiting.unshift(worker.isolatedFor);
    return true;
  }

  /** Every test that did not run: the abandoned ones, then `queued`, then the retries still owed. */
  notRun(queued: readonly number[]): number[] {
    const retrying = this.current !== null ? [this.current] : [];
    this.current = null;
    return [...this.abandoned, ...queued, ...this.waiting.splice(0), ...retrying];
  }
}
