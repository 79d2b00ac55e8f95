/**
 * Which recording `bulkhead report [RUN|latest]` means: `latest` (the default) is the newest run
 * folder under `.bulkhead/runs` that holds a recording; otherwise RUN is a path to an events file
 * or a run folder, or the name of a run folder under `.bulkhead/runs`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENTS_FILE } from './format.js';
import { runsRoot } from './run-folder.js';

export type Located = { ok: true; path: string } | { ok: false; message: string };

export function locateRecording(cwd: string, run: string | undefined): Located {
  const root = runsRoot(cwd);
  if (run === undefined || run === 'latest') return latest(root);
  const asPath = resolve(cwd, run);
  if (existsSync(asPath)) {
    return isFolder(asPath) ? { ok: true, path: join(asPath, EVENTS_FILE) } : { ok: true, path: asPath };
  }
  const named = join(root, run);
  if (!run.includes('/') && existsSync(named)) return { ok: true, path: join(named, EVENTS_FILE) };
  return { ok: false, message: `no recording '${run}': not a file or folder, nor a run under ${root}` };
}

/**
 * The newest recording. A run still going (another bulkhead in this project) counts: its report
 * is what it has recorded so far, read as a recording that ends there.
 */
function latest(root: string): Located {
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    names = [];
  }
  for (const name of names.reverse()) {
    const path = join(root, name, EVENTS_FILE);
    if (existsSync(path)) return { ok: true, path };
  }
  return { ok: false, message: `no recorded run in ${root} (runs are recorded unless --no-record or record = false)` };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
