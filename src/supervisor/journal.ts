/**
 * A worker's journal: a file the worker appends its messages to, read here when the worker rings
 * (a bare line on its channel), on each tick and at its exit. The file is unlinked as soon as it is
 * made, so it lives exactly as long as a descriptor to it: nothing to clean up, whoever dies. It
 * holds what the worker wrote whatever becomes of the worker, as a pipe's buffer does, but costs
 * the supervisor no wake-up per message (see python/bulkhead_pytest/channel.py).
 *
 * It lives in memory (/dev/shm) where it can, in the temporary directory otherwise; its pages are
 * charged to the worker that wrote them (a few hundred bytes a test).
 */
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SHM = '/dev/shm';
const READ_BYTES = 64 * 1024;

let where: string | null = null;

function journalDir(): string {
  if (where !== null) return where;
  try {
    accessSync(SHM, constants.W_OK);
    where = SHM;
  } catch {
    where = tmpdir();
  }
  return where;
}

export class Journal {
  /** The descriptor to hand the worker (opened for appending; reads here are positional). */
  readonly fd: number;
  private offset = 0;
  private closed = false;
  private readonly buffer = Buffer.allocUnsafe(READ_BYTES);

  constructor(dir = journalDir()) {
    const path = join(dir, `bulkhead-journal-${process.pid}-${randomBytes(6).toString('hex')}`);
    this.fd = openSync(path, 'ax+', 0o600);
    unlinkSync(path);
  }

  /** Hands each new chunk to `sink` (the buffer is reused: the sink copies what it keeps). */
  read(sink: (chunk: Buffer) => void): void {
    if (this.closed) return;
    for (;;) {
      const bytes = readSync(this.fd, this.buffer, 0, READ_BYTES, this.offset);
      if (bytes === 0) return;
      this.offset += bytes;
      sink(this.buffer.subarray(0, bytes));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
