/**
 * Opening the SQLite file under `.bulkhead/`, where nothing may fail the run: a folder we cannot
 * write, a file from a newer bulkhead, or a file that is not a database each become a reason the
 * store is unavailable (a corrupt file is first moved aside and replaced by a new one).
 */
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrate.js';

export type OpenedDatabase =
  | { kind: 'open'; db: Database.Database; notice: string | null }
  | { kind: 'unavailable'; reason: string };

type Attempt = OpenedDatabase | { kind: 'corrupt'; reason: string; inode: number | null };

export interface OpenDatabaseOptions {
  /** How long a statement waits for another run's write lock before it fails. */
  busyTimeoutMs: number;
  now: () => Date;
}

/** `shown` is the path as messages name it (e.g. `.bulkhead/history.sqlite`). */
export function openDatabase(file: string, shown: string, options: OpenDatabaseOptions): OpenedDatabase {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    return { kind: 'unavailable', reason: `cannot create ${dirname(shown)}: ${describeError(error)}` };
  }
  const first = connect(file, options);
  if (first.kind !== 'corrupt') return first;

  // Two runs may find the same corrupt file at once. The one that comes second must not move
  // aside the new file the first one has just created: move it only if it is still the file we
  // found corrupt (same inode), else simply open what is there now.
  const aside = `${file}.corrupt-${options.now().toISOString().replace(/[:.]/g, '-')}`;
  if (first.inode !== null && inodeOf(file) === first.inode) {
    try {
      moveAside(file, aside);
    } catch (error) {
      return { kind: 'unavailable', reason: `${first.reason}; moving it aside failed: ${describeError(error)}` };
    }
  }
  const second = connect(file, options);
  if (second.kind === 'corrupt') return { kind: 'unavailable', reason: second.reason };
  if (second.kind === 'unavailable') return second;
  const moved = existsSync(aside) ? `moved it to ${basename(aside)} and started a new one` : 'another run replaced it';
  return { ...second, notice: `history store ${shown} was corrupt (${first.reason}); ${moved}` };
}

/** The page cache, in KiB. */
const CACHE_KIB = 2000;

function connect(file: string, options: OpenDatabaseOptions): Attempt {
  let db: Database.Database | null = null;
  try {
    db = new Database(file);
    // The busy timeout comes first: migrating and switching to WAL both need a lock that a
    // concurrent run may hold for a moment.
    db.pragma(`busy_timeout = ${Math.round(options.busyTimeoutMs)}`);
    // The version is checked before anything is changed: a newer bulkhead's file is left as it is.
    const migrated = migrate(db);
    if (migrated.kind === 'newer') {
      db.close();
      return {
        kind: 'unavailable',
        reason: `its schema version ${migrated.found} is newer than this bulkhead's ${migrated.known}; a newer bulkhead wrote it`,
      };
    }
    switchToWal(db, options.busyTimeoutMs);
    // NORMAL is safe from corruption in WAL; a power cut can only lose the last run's history.
    db.pragma('synchronous = NORMAL');
    // SQLite's own default page cache (2 MB), not better-sqlite3's 16 MB: a prediction of 50,000
    // tests reads most of the file once, in key order, and the cache then held 12 MB more of the
    // supervisor's memory to the end of the run for nothing (the kernel caches the file anyway).
    db.pragma(`cache_size = -${CACHE_KIB}`);
    return { kind: 'open', db, notice: null };
  } catch (error) {
    closeQuietly(db);
    if (isCorruption(error)) return { kind: 'corrupt', reason: describeError(error), inode: inodeOf(file) };
    return { kind: 'unavailable', reason: describeError(error) };
  }
}

/**
 * WAL: a run reading predictions never waits for another run writing its results. If the
 * filesystem cannot do WAL (no shared memory), SQLite keeps its rollback journal: fine too.
 *
 * The switch needs an exclusive lock, and SQLite answers SQLITE_BUSY at once, without its busy
 * handler, when runs that create the file at the same moment each hold a shared lock and want
 * it (waiting there could deadlock). Only a new file is switched (WAL is kept in the file), so
 * this retry loop runs at most once per project, for a few milliseconds.
 */
function switchToWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const busy = error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 20);
    }
  }
}

/** SQLITE_NOTADB: not a database at all; SQLITE_CORRUPT(_*): a database with broken pages. */
function isCorruption(error: unknown): boolean {
  if (!(error instanceof Database.SqliteError)) return false;
  return error.code === 'SQLITE_NOTADB' || error.code.startsWith('SQLITE_CORRUPT');
}

/** The WAL and shared-memory files belong to the corrupt file: a new database must not replay them. */
function moveAside(file: string, aside: string): void {
  renameSync(file, aside);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
}

function inodeOf(file: string): number | null {
  try {
    return statSync(file).ino;
  } catch {
    return null;
  }
}

function closeQuietly(db: Database.Database | null): void {
  try {
    db?.close();
  } catch {
    // Closing a connection that failed to open is best effort; the error that matters is reported.
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
