/**
 * `.bulkhead/runs/<id>/`: one folder per run, for its recording (events.ndjson) and its worker
 * logs. Only the newest few are kept. Everything under `.bulkhead/` is safe to delete.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function runsRoot(cwd: string): string {
  return join(cwd, '.bulkhead', 'runs');
}

/** `2026-12-02T10-11-12-345Z-4121`: the start time first, so names sort oldest to newest. */
export function runFolderName(startedAt: Date, pid: number): string {
  return `${startedAt.toISOString().replace(/[:.]/g, '-')}-${pid}`;
}

export type RunFolder = { kind: 'created'; id: string; dir: string } | { kind: 'failed'; dir: string; reason: string };

/** Creates this run's folder, then prunes the runs past the newest `keepRuns` (this one counts). */
export function createRunFolder(cwd: string, startedAt: Date, keepRuns: number): RunFolder {
  const root = runsRoot(cwd);
  const id = runFolderName(startedAt, process.pid);
  const dir = join(root, id);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    return { kind: 'failed', dir, reason: describeFsError(error) };
  }
  pruneRuns(root, keepRuns, id);
  return { kind: 'created', id, dir };
}

/**
 * Removes run folders past the newest `keep`. A folder whose run is still going (another
 * bulkhead in the same project, its pid alive) is never removed, even if it is old: deleting its
 * folder under it would lose its recording. A pid reused since is harmless: that folder is kept
 * one run longer. Best effort: a folder that cannot be removed stays.
 */
export function pruneRuns(root: string, keep: number, current: string): void {
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return;
  }
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    if (name === current || runIsAlive(name)) continue;
    try {
      rmSync(join(root, name), { recursive: true, force: true });
    } catch {
      // best effort: the next run tries again
    }
  }
}

function runIsAlive(name: string): boolean {
  const pid = Number(/-(\d+)$/.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the bulkhead that writes this recording is still running: the process named by the run
 * id's pid is alive here and has the command line the header recorded. The command line guards
 * against a pid reused since (or a recording made on another machine). Linux only (/proc);
 * elsewhere, false.
 */
export function recordingIsLive(runId: string, argv: readonly string[]): boolean {
  const pid = Number(/-(\d+)$/.exec(runId)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid || argv.length === 0) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline[cmdline.length - 1] === '') cmdline.pop();
    return cmdline.length === argv.length && cmdline.every((arg, index) => arg === argv[index]);
  } catch {
    return false;
  }
}

export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}
