/** Splits a byte stream into complete lines; a partial line waits for the rest of its bytes. */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    /** A line longer than this is a broken stream, not a message: reported through onOverflow. */
    private readonly maxLineBytes: number,
    private readonly onOverflow: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      const part = chunk.subarray(start, newline);
      if (this.pendingBytes > 0) {
        this.pending.push(part);
        const line = Buffer.concat(this.pending).toString('utf8');
        this.pending = [];
        this.pendingBytes = 0;
        this.onLine(line);
      } else {
        this.onLine(part.toString('utf8'));
      }
      start = newline + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) {
        const bytes = this.pendingBytes;
        this.pending = [];
        this.pendingBytes = 0;
        this.onOverflow(bytes);
      }
    }
  }
}
