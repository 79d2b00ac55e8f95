/**
 * The recorder: a reporter that appends every event of the run to its `events.ndjson` as it
 * happens, so that any report can be rebuilt later (`bulkhead report`) and a bulkhead killed
 * mid-run loses nothing that had finished.
 *
 * Durability without cost: each event is serialized the moment it arrives (a later change to an
 * object the runner still holds cannot leak into the record) and kept as a whole line in memory;
 * the lines are written with one synchronous `writeSync` within 20 ms of a test's result (a
 * timer started by the first result not yet written, so that the results of a fast suite, which
 * come one channel read at a time, are one write, not a write each: that write cost a tiny test
 * as much as its run), when the run finishes, every 250 ms (an unref'd timer, which never keeps
 * the process alive), past 256 KiB pending, at close, and at process exit. A bulkhead killed
 * outright loses at most the last 20 ms of results. A synchronous write of whole lines means that
 * whenever the process dies (kill -9 included) the file holds complete lines, at most the last
 * one cut short (a kill during the write itself), which the reader ignores. Not fsync'd: the
 * kernel keeps what was written when the process dies; only a machine crash could lose it.
 *
 * It never fails the run: a write that fails is one warning line, and the recording stops there.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { RunEvent } from '../model/event.js';
import type { Reporter } from '../reporters/reporter.js';
import { RECORDING_FORMAT, RECORDING_VERSION, type RecordingHeader } from './format.js';
import { describeFsError } from './run-folder.js';
import { TEXT_PIECE_CHARS } from '../util/text-pieces.js';

const FLUSH_EVERY_MS = 250;
/** A result waits at most this long to be written. */
const RESULT_FLUSH_MS = 20;
const FLUSH_PAST_BYTES = 256 * 1024;

export type RecorderHeader = Omit<RecordingHeader, 'format' | 'version'>;

export class EventRecorder implements Reporter {
  readonly name = 'recorder';
  private fd: number | null;
  /** Whole lines not written yet (a string built by appending: V8 keeps it as a rope until written). */
  private pending = '';
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.flush();
  /** A result is pending and its write is queued (RESULT_FLUSH_MS), once for all the results in that time. */
  private flushQueued = false;
  private readonly flushNow = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  private constructor(
    readonly path: string,
    fd: number,
    private readonly warn: (line: string) => void,
  ) {
    this.fd = fd;
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
    // An exception that ends the process, or a process.exit elsewhere, still writes what is pending.
    process.on('exit', this.onExit);
  }

  /** Creates the file and writes its header; on failure, returns why (the run goes on unrecorded). */
  static create(path: string, header: RecorderHeader, warn: (line: string) => void): EventRecorder | { failed: string } {
    const full: RecordingHeader = { format: RECORDING_FORMAT, version: RECORDING_VERSION, ...header };
    let fd: number | null = null;
    try {
      fd = openSync(path, 'wx');
      writeWhole(fd, `${JSON.stringify(full)}\n`);
    } catch (error) {
      if (fd !== null) closeQuietly(fd);
      return { failed: describeFsError(error) };
    }
    return new EventRecorder(path, fd, warn);
  }

  onEvent(event: RunEvent): void {
    if (this.fd === null) return;
    this.pending += `${JSON.stringify(event)}\n`;
    // Length in UTF-16 units: a bound on bytes within 3x, and free to read.
    if (this.pending.length >= FLUSH_PAST_BYTES || event.type === 'run_finished') {
      this.flush();
    } else if (event.type === 'test_finished' && !this.flushQueued) {
      this.flushQueued = true;
      setTimeout(this.flushNow, RESULT_FLUSH_MS).unref();
    }
  }

  async close(): Promise<void> {
    this.flush();
    clearInterval(this.timer);
    process.off('exit', this.onExit);
    if (this.fd !== null) closeQuietly(this.fd);
    this.fd = null;
  }

  /** Writes every pending line, synchronously and whole. */
  private flush(): void {
    if (this.fd === null || this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    try {
      writeWhole(this.fd, text);
    } catch (error) {
      this.warn(`bulkhead: warning: recording ${this.path} stopped (${describeFsError(error)}); the run goes on, its report will be partial`);
      closeQuietly(this.fd);
      this.fd = null;
    }
  }
}

/** Longer text is encoded into this one buffer, a piece at a time. */
const CHUNK = new Uint8Array(64 * 1024);
const encoder = new TextEncoder();

/**
 * Writes `text` whole, in one write(2) in the usual case. A short write (a disk filling up) must
 * not leave half a line before the next one, so the rest is written at once; if that fails, the
 * caller stops the recording there (a reader ignores a cut last line, never one in the middle).
 *
 * A text longer than a piece (util/text-pieces.ts; a collection of 50,000 tests is one 9 MB line)
 * is encoded piece by piece into one reused 64 KiB buffer, never into one block of its size.
 */
function writeWhole(fd: number, text: string): void {
  if (text.length <= TEXT_PIECE_CHARS) {
    const written = writeSync(fd, text);
    const bytes = Buffer.byteLength(text);
    if (written < bytes) writeBytes(fd, Buffer.from(text), written);
    return;
  }
  for (let at = 0; at < text.length; ) {
    const { read, written } = encoder.encodeInto(at === 0 ? text : text.slice(at), CHUNK);
    writeBytes(fd, CHUNK.subarray(0, written), 0);
    at += read;
  }
}

function writeBytes(fd: number, data: Uint8Array, from: number): void {
  for (let offset = from; offset < data.length; ) offset += writeSync(fd, data, offset, data.length - offset);
}

/** Every line was written or the recording has already failed: a close error adds nothing. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // see above
  }
}
