/**
 * Splits a byte stream into complete lines; a partial line waits for the rest of its bytes.
 *
 * A partial line is kept as decoded text, not as copies of the chunks: a 9 MB line (a worker's
 * collection of 50,000 tests) arrives in 64 KiB reads, and copying each into a Buffer, then
 * concatenating them, cost 18 MB of malloc'd memory per line that the allocator kept after the
 * line was gone. UTF-8 never has a newline inside a character, so a line's end also ends the
 * decoder's character.
 */
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly decoder = new StringDecoder('utf8');

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
        this.pending.push(this.decoder.end(part));
        const line = this.pending.join('');
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
      this.pending.push(this.decoder.write(rest));
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) {
        const bytes = this.pendingBytes;
        this.pending = [];
        this.pendingBytes = 0;
        this.decoder.end();
        this.onOverflow(bytes);
      }
    }
  }
}
