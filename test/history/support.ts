/** Shared helpers of the history store tests: a temp project, a store, runs and events. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent, RunEventBody } from '../../src/model/event.js';
import type { CrashReport } from '../../src/model/outcome.js';
import type { ExitCause } from '../../src/model/cause.js';
import { HistoryStore, type HistoryOpenOptions, type RunRecord, type TestRecord } from '../../src/history/index.js';

/** A fresh project directory, removed when the test ends. */
export function tempProject(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function historyFile(project: string): string {
  return join(project, '.bulkhead', 'history.sqlite');
}

/** Opens the project's store (which must open), closed when the test ends. */
export function openStore(t: TestContext, project: string, options: HistoryOpenOptions = {}): HistoryStore {
  const opened = HistoryStore.open(project, { displayFrom: project, ...options });
  assert.equal(opened.kind, 'open', opened.kind === 'unavailable' ? opened.message : '');
  if (opened.kind !== 'open') throw new Error('unreachable');
  t.after(() => opened.store.close());
  return opened.store;
}

export function result(testId: string, over: Partial<TestRecord> = {}): TestRecord {
  return { testId, outcome: 'passed', durationSeconds: 1, peakBytes: null, baselineBytes: null, ...over };
}

export function runRecord(tests: readonly TestRecord[], over: Partial<RunRecord> = {}): RunRecord {
  return {
    startedAt: new Date('2025-01-01T10:00:00Z'),
    finishedAt: new Date('2025-01-01T10:01:00Z'),
    durationSeconds: 60,
    exitCode: 0,
    endReason: 'completed',
    workers: 2,
    memory: null,
    tests,
    ...over,
  };
}

let seq = 0;
export function event(body: RunEventBody): RunEvent {
  seq += 1;
  return { ...body, seq, t: seq };
}

export function crash(cause: ExitCause): CrashReport {
  return { worker: 1, pid: 4121, cause, stderrTail: '', stacks: '' };
}
