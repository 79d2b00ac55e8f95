import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { TailBuffer } from '../util/tail-buffer.js';

/**
 * Where a worker's stdout and stderr go: output that bypassed pytest's capture. All of it is kept
 * in the worker's log file; only a bounded tail is kept in memory, for crash reports.
 */
export class OutputLog {
  readonly stderrTail = new TailBuffer(64 * 1024);
  readonly stdoutTail = new TailBuffer(16 * 1024);
  private readonly file: WriteStream | null;

  constructor(path: string | null) {
    this.file = path ? createWriteStream(path, { flags: 'a' }) : null;
    this.file?.on('error', () => {
      // A full disk or removed folder must not take the run down; the in-memory tail remains.
    });
  }

  attach(stream: Readable, tail: TailBuffer): void {
    stream.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      if (!this.file) return;
      const ok = this.file.write(chunk);
      if (!ok) {
        // The disk is slower than the worker writes: stop reading until it drains, so the pipe
        // fills and the worker waits, instead of our memory growing.
        stream.pause();
        this.file.once('drain', () => stream.resume());
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.file) return resolve();
      this.file.end(() => resolve());
    });
  }
}
