/**
 * One bulkhead run of the `scheduling` fixture project, with a fresh folder for the spans its
 * tests record (BULKHEAD_SCHED_DIR), read back once the run is over.
 */
import { readdirSync } from 'node:fs';
import { runCli, tempDir, type CliResult, type JsonResults, type JsonTest } from './cli.js';
import { readSpans, type Span } from './spans.js';

/** The --json test entry with the fields the scheduling tests assert on. */
export interface ScheduledTest extends Omit<JsonTest, 'outcome'> {
  outcome: string;
  isolatedRetry: string | null;
  locks: Array<{ name: string; waitedSeconds: number }>;
}

export interface ScheduledRun {
  result: CliResult;
  spans: Span[];
  /** --json tests by id. */
  tests: Map<string, ScheduledTest>;
  /** Every file the tests left in BULKHEAD_SCHED_DIR (spans, meeting points, flags). */
  files: string[];
}

export interface ScheduledRunOptions {
  cwd: string;
  workers: number;
  pytestArgs: string[];
  /** bulkhead options besides --workers, --json and --junit. */
  options?: string[];
  /** Seconds a `record.meet(group)` waits for a partner (see the fixture's conftest); default 0. */
  meetSeconds?: number;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export async function runScheduled(options: ScheduledRunOptions): Promise<ScheduledRun> {
  const spansDir = tempDir('sched-spans');
  try {
    const result = await runCli({
      cwd: options.cwd,
      workers: options.workers,
      pytestArgs: options.pytestArgs,
      options: options.options ?? [],
      junit: false,
      env: {
        BULKHEAD_SCHED_DIR: spansDir.dir,
        SCHED_MEET_SECONDS: String(options.meetSeconds ?? 0),
        ...options.env,
      },
      timeoutMs: options.timeoutMs ?? 90_000,
    });
    const spans = readSpans(spansDir.dir);
    const files = readdirSync(spansDir.dir);
    const tests = new Map(((result.json as JsonResults | null)?.tests ?? []).map((test) => [test.id, test as unknown as ScheduledTest]));
    return { result, spans, tests, files };
  } finally {
    spansDir.cleanup();
  }
}
