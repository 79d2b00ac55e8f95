/**
 * Keeps the last `limit` bytes written to it, whatever the total: the memory it holds is bounded
 * by the limit, so a test that writes 200 MB to a worker's stderr costs us only the tail.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (chunk.length >= this.limit) {
      this.chunks = [Buffer.from(chunk.subarray(chunk.length - this.limit))];
      this.bytes = this.limit;
      return;
    }
    this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
    while (this.bytes - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.bytes -= this.chunks.shift()!.length;
    }
  }

  /** Total bytes ever written. */
  get written(): number {
    return this.total;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    const start = Math.max(0, all.length - this.limit);
    return all.subarray(start).toString('utf8');
  }

  /** The last `count` lines of the tail. */
  lastLines(count: number): string {
    const lines = this.text().replace(/\s+$/, '').split('\n');
    return lines.slice(-count).join('\n');
  }
}
