/**
 * Output for the terminal reporter, gathered per synchronous burst: the results of one read from
 * a worker arrive together, and writing each progress letter with its own write(2) (stdout is
 * synchronous on a pipe or a file) cost more than a tiny test. Text waits at most until the
 * current burst ends (a microtask); it goes out before anything is written to stderr, so the two
 * streams keep their order, and at exit.
 */
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
      queueMicrotask(this.flushQueued);
    }
  };

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.sink(text);
  }
}
