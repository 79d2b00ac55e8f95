/**
 * Every worker of a run collects the same suite, so each sends the same `collected` line: 9 MB
 * for 50,000 tests. Decoding is a pure function of the line, so a long line that repeats the last
 * long one (same SHA-256) gets the decoded message already made: no second parse, and no second
 * copy of 50,000 test objects while the run holds the first (consumers never change a message).
 * Only the digest of the last long line is kept, never the line.
 */
import { createHash } from 'node:crypto';

/** Shorter lines are decoded every time: hashing them would cost about what parsing does. */
export const LONG_LINE_CHARS = 64 * 1024;

export class RepeatedLineDecoder<T> {
  private last: { digest: string; decoded: T } | null = null;

  constructor(private readonly decode: (line: string) => T) {}

  decodeLine(line: string): T {
    if (line.length < LONG_LINE_CHARS) return this.decode(line);
    const digest = createHash('sha256').update(line).digest('base64');
    if (this.last !== null && this.last.digest === digest) return this.last.decoded;
    const decoded = this.decode(line);
    this.last = { digest, decoded };
    return decoded;
  }
}
