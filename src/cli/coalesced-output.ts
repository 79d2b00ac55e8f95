/**
 * Output for the terminal reporter, gathered for up to 20 ms: in a fast suite results arrive one
 * channel read at a time, and writing each progress letter with its own write(2) (stdout is
 * synchronous on a pipe or a file) cost more than a tiny test. Text goes out after 20 ms at the
 * latest, at once before anything is written to stderr (so the two streams keep their order),
 * and at exit.
 */
const WAIT_MS = 20;

export class CoalescedOutput {
  private pending = '';
  private queued = false;
  private readonly flushQueued = (): void => {
    this.queued = false;
    this.flush();
  };

  constructor(private readonly sink: (text: string) => void) {
    process.on('exit', () => this.flush());
  }

  readonly write = (text: string): void => {
    this.pending += text;
    if (!this.queued) {
      this.queued = true;
      setTimeout(this.flushQueued, WAIT_MS).unref();
    }
  };

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.sink(text);
  }
}
