/**
 * Tests queued and no worker running one for 30 s: the run says what each worker holds and why it
 * waits, once per stall. Nothing is changed; it makes a scheduling stall (or a hold that does not
 * lift) visible instead of a run that just seems slow.
 */
const STALL_MS = 30_000;

export class StallWatch {
  private since: number | null = null;
  private reported = false;

  constructor(
    private readonly now: () => number,
    private readonly notice: (message: string) => void,
  ) {}

  /** `report`: the scheduler's account of a stall right now, or null when work is moving. */
  check(report: string | null): void {
    if (report === null) {
      this.since = null;
      this.reported = false;
      return;
    }
    this.since ??= this.now();
    if (this.reported || this.now() - this.since < STALL_MS) return;
    this.reported = true;
    this.notice(`no test has started for ${STALL_MS / 1000}s while tests wait: ${report}`);
  }
}
