/**
 * Every worker of a run collects the same suite, so each sends the same `collected` line: 9 MB
 * for 50,000 tests. Decoding is a pure function of the line, so a long line that repeats the last
 * long one (same SHA-256) gets the decoded message already made: no second parse, and no second
 * copy of 50,000 test objects while the run holds the first (consumers never change a message).
 * Only the digest of the last long line is kept, never the line.
 */
import { createHash } from 'node:crypto';
import { TEXT_PIECE_CHARS } from '../util/text-pieces.js';

/** Shorter lines are decoded every time: hashing them would cost about what parsing does. */
export const LONG_LINE_CHARS = 64 * 1024;

export class RepeatedLineDecoder<T> {
  private last: { digest: string; decoded: T } | null = null;

  constructor(private readonly decode: (line: string) => T) {}

  decodeLine(line: string): T {
    if (line.length < LONG_LINE_CHARS) return this.decode(line);
    const hash = createHash('sha256');
    // In pieces (util/text-pieces.ts), as UTF-16 code units: a piece may end inside a surrogate
    // pair, which UTF-8 would turn into a replacement character (two different lines, one digest).
    for (let at = 0; at < line.length; at += TEXT_PIECE_CHARS) hash.update(line.slice(at, at + TEXT_PIECE_CHARS), 'utf16le');
    const digest = hash.digest('base64');
    if (this.last !== null && this.last.digest === digest) return this.last.decoded;
    const decoded = this.decode(line);
    this.last = { digest, decoded };
    return decoded;
  }
}
