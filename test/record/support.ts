/** Small recordings written by hand, for the reader's and the replay's unit tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { RunEvent, RunEventBody } from '../../src/model/event.js';
import type { TestInfo } from '../../src/model/test.js';

export const HEADER = {
  format: 'bulkhead-events',
  version: 1,
  runId: '2026-12-02T10-00-00-000Z-4121',
  bulkhead: '0.1.0',
  startedAt: '2026-12-02T10:00:00.000Z',
  cwd: '/p',
  argv: ['node', 'bulkhead', 'run'],
};

export function tempFolder(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Events numbered as a run numbers them: seq from 0, t in ms (100 apart unless given). */
export function numbered(bodies: ReadonlyArray<RunEventBody & { t?: number }>): RunEvent[] {
  return bodies.map((body, seq) => ({ ...body, seq, t: body.t ?? seq * 100 }) as RunEvent);
}

export function lines(values: readonly unknown[]): string {
  return values.map((value) => `${typeof value === 'string' ? value : JSON.stringify(value)}\n`).join('');
}

export function writeRecording(dir: string, text: string, name = 'events.ndjson'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export function testInfo(id: string): TestInfo {
  return { id, file: id.split('::')[0]!, line: 0, markers: [], scope: id.split('::')[0]!, timeout: null, bulkheadMarker: null, xdistGroup: null };
}

export const STARTED: RunEventBody = {
  type: 'run_started',
  workers: 2,
  pytestArgs: [],
  cwd: '/p',
  artifactsDir: '',
  origin: { startedAt: '2026-12-02T10:00:00.000Z', utcOffsetMinutes: 60, hostname: 'ci-7' },
};

export function collected(ids: readonly string[]): RunEventBody {
  return { type: 'collection_finished', tests: ids.map(testInfo), deselected: 0, errors: [], skips: [] };
}

export function finishedBody(testId: string, worker = 1): RunEventBody {
  return { type: 'test_finished', testId, worker, outcome: { kind: 'passed' }, duration: 0.01, leaked: [], memory: null, locks: [] };
}
