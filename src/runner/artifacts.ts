import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const KEEP_RUNS = 10;

/**
 * Creates `.bulkhead/runs/<time>-<pid>/` for this run's worker logs and keeps only the newest
 * few runs. Everything under `.bulkhead/` is safe to delete.
 */
export function createRunArtifactsDir(cwd: string, now: Date): string | null {
  const runs = join(cwd, '.bulkhead', 'runs');
  const name = `${now.toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  const dir = join(runs, name);
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return null; // a read-only project still runs; only the logs are lost
  }
  try {
    const old = readdirSync(runs).sort().slice(0, -KEEP_RUNS);
    for (const entry of old) rmSync(join(runs, entry), { recursive: true, force: true });
  } catch {
    // pruning is best effort
  }
  return dir;
}
