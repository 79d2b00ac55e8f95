/**
 * Is a worker making progress? Fed its CPU time on every tick, it says when the worker last used
 * a real share of a CPU. Pure: readings and times in, a time out.
 *
 * A share, not any growth at all: a process deadlocked while holding the GIL still gains a little
 * CPU time, because its other threads wake every 5 ms to ask for the GIL (CPython's switch
 * interval) and go back to waiting. That is well under 1% of a CPU; a computing worker uses most
 * of one, and still a good part of one on a machine loaded twice over.
 */

/** Linux reports CPU time in USER_HZ ticks, 100 a second on every architecture Node runs on. */
const TICK_MS = 10;
/** Shares are judged over windows at least this long, so a tick of rounding does not decide. */
const WINDOW_MS = 1_000;
/** At least this share of one CPU over a window counts as progress. */
const BUSY_SHARE = 0.1;

export class ProgressMeter {
  private anchor: { at: number; cpuTicks: number } | null = null;
  private progressAt: number | null = null;
  private progressFrom: number | null = null;
  private stoppedNow = false;
  private shareNow: number | null = null;

  /** One reading of the process's CPU time (ticks) and state, taken at `now`. */
  sample(now: number, cpuTicks: number, stopped: boolean): void {
    this.stoppedNow = stopped;
    if (this.anchor === null || cpuTicks < this.anchor.cpuTicks) {
      this.anchor = { at: now, cpuTicks };
      return;
    }
    const elapsed = now - this.anchor.at;
    if (elapsed < WINDOW_MS) return;
    const share = ((cpuTicks - this.anchor.cpuTicks) * TICK_MS) / elapsed;
    this.shareNow = share;
    if (share >= BUSY_SHARE && !stopped) {
      this.progressFrom = this.anchor.at;
      this.progressAt = now;
    }
    this.anchor = { at: now, cpuTicks };
  }

  /** When the process last used a real share of a CPU, or null when it never did. */
  get lastProgress(): number | null {
    return this.progressAt;
  }

  /** When the window that showed the last progress began (it may reach back before a silence). */
  get lastProgressFrom(): number | null {
    return this.progressFrom;
  }

  get stopped(): boolean {
    return this.stoppedNow;
  }

  /** Its share of one CPU over the last full window (1.0 = one whole CPU), or null before one. */
  get cpuShare(): number | null {
    return this.shareNow;
  }
}
