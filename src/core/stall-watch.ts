/**
 * Tests queued and no worker running one for 30 s: the run says what each worker holds and why it
 * waits, once per stall. Nothing is changed; it makes a scheduling stall (or a hold that does not
 * lift) visible instead of a run that just seems slow.
 */
const STALL_MS = 30_000;

export class StallWatch {
  private since: number | null = null;
  private reported = false;

  /**
   * `report`: the scheduler's account of a stall right now, or null when work is moving. Returns
   * the stall to announce, once per stall.
   */
  check(report: string | null, now: number): { seconds: number; detail: string } | null {
    if (report === null) {
      this.since = null;
      this.reported = false;
      return null;
    }
    this.since ??= now;
    if (this.reported || now - this.since < STALL_MS) return null;
    this.reported = true;
    return { seconds: STALL_MS / 1000, detail: report };
  }
}
