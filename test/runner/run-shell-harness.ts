/**
 * Running the run loop (src/runner/run-loop.ts) directly, as src/runner/run.ts does, on a tiny temp
 * pytest project, recording every event. `cleanUpRuns` (call it from `after`) kills the process
 * group of every worker a run started and removes the temp projects.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pytestAdapter } from '../../src/adapters/pytest/adapter.js';
import type { RunEventBody } from '../../src/model/event.js';
import type { RunOptions } from '../../src/core/options.js';
import { RunShell } from '../../src/runner/run-shell.js';
import { coreOptions } from '../support/core-driver.js';
import { PYTHON } from '../supervisor/harness.js';

const roots: string[] = [];
const workerPids = new Set<number>();

export function cleanUpRuns(): void {
  for (const pid of workerPids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const root of roots) rmSync(root, { recursive: true, force: true });
}

export function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'bulkhead-runloop-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

export interface Recorded {
  events: RunEventBody[];
  exitCode: number;
  /** Where the workers' crash files are (worker-<id>.crash). */
  scratchDir: string;
}

export async function runLoop(cwd: string, over: Partial<RunOptions> = {}): Promise<Recorded> {
  const scratchDir = join(cwd, '.scratch');
  mkdirSync(scratchDir);
  const options: RunOptions = coreOptions({
    cwd,
    python: PYTHON,
    pytestArgs: ['-p', 'no:cacheprovider'],
    scratchDir,
    // A net under the test: a stuck run is cancelled, and its workers killed shortly after.
    runTimeoutSeconds: 90,
    killGraceSeconds: 2,
    cancelGraceSeconds: 2,
    threadCaps: true,
    ...over,
  });
  const events: RunEventBody[] = [];
  const emit = (event: RunEventBody): void => {
    events.push(event);
    if (event.type === 'worker_started' && event.pid !== null) workerPids.add(event.pid);
  };
  const loop = new RunShell(options, { emit, framework: pytestAdapter, now: () => performance.now() });
  const { exitCode } = await loop.run();
  return { events, exitCode, scratchDir };
}

