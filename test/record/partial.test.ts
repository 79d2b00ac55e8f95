/**
 * A recording without its `run_finished` (bulkhead killed): replayed as a run cut short where the
 * recording ends, every collected test with exactly one outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../../src/model/event.js';
import type { CrashReport } from '../../src/model/outcome.js';
import { completeRecording } from '../../src/record/index.js';
import { collected, finishedBody, numbered, STARTED } from './support.js';

const IDS = ['t.py::test_a', 't.py::test_b', 't.py::test_c', 't.py::test_d', 't.py::test_e'];
const CRASH: CrashReport = { worker: 2, pid: 77, cause: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: '', stacks: '' };

function finishedOf(events: readonly RunEvent[]): Map<string, Extract<RunEvent, { type: 'test_finished' }>> {
  const found = new Map<string, Extract<RunEvent, { type: 'test_finished' }>>();
  for (const event of events) if (event.type === 'test_finished') found.set(event.testId, event);
  return found;
}

test('a recording with its run_finished is replayed as it is', () => {
  const events = numbered([STARTED, collected(IDS.slice(0, 1)), finishedBody(IDS[0]!), { type: 'run_finished', exitCode: 0, reason: { kind: 'completed' }, durationSeconds: 1 }]);
  assert.deepEqual(completeRecording(events), { events, cutShort: null });
});

test('cut short: finished tests keep their results, the running one and the rest are not run, the run ends interrupted (exit 2)', () => {
  const events = numbered([
    STARTED,
    collected(IDS),
    { type: 'test_started', testId: IDS[0]!, worker: 1 },
    finishedBody(IDS[0]!),
    { type: 'test_started', testId: IDS[1]!, worker: 2 },
    { type: 'test_crashed', testId: IDS[1]!, crash: CRASH, willRetry: true },
    { type: 'test_started', testId: IDS[2]!, worker: 1 },
    { type: 'test_started', testId: IDS[3]!, worker: 3 },
    { type: 'test_crashed', testId: IDS[3]!, crash: { ...CRASH, worker: 3 }, willRetry: false },
    { type: 'test_started', testId: IDS[1]!, worker: 4, t: 1234.5 },
  ]);
  const { events: all, cutShort } = completeRecording(events);
  const ends = 'the recording ends after event 9 (test_started of t.py::test_b), 1.23s into the run (2026-12-02T10:00:01.235Z): bulkhead stopped before the run finished';
  assert.equal(cutShort, ends);
  assert.deepEqual(all.slice(0, events.length), events);
  const added = all.slice(events.length);
  assert.deepEqual(added.map((event) => event.seq), [10, 11, 12, 13, 14]);
  assert.ok(added.every((event) => event.t === 1234.5));
  const finished = finishedOf(all);
  assert.deepEqual([...finished.keys()].sort(), [...IDS].sort(), 'every collected test has one outcome');
  assert.deepEqual(finished.get(IDS[0]!)!.outcome, { kind: 'passed' });
  // Its worker died under it and its retry never finished: the crash is its result.
  assert.deepEqual(finished.get(IDS[1]!)!.outcome, { kind: 'crashed', crash: CRASH, retry: { verdict: 'not_run', reason: ends } });
  assert.deepEqual(finished.get(IDS[2]!)!.outcome, { kind: 'not_run', reason: `it was running on worker 1 when ${ends}` });
  assert.deepEqual(finished.get(IDS[3]!)!.outcome, { kind: 'crashed', crash: { ...CRASH, worker: 3 }, retry: null });
  assert.deepEqual(finished.get(IDS[4]!)!.outcome, { kind: 'not_run', reason: ends });
  const end = all[all.length - 1]!;
  assert.deepEqual(end, { type: 'run_finished', exitCode: 2, reason: { kind: 'interrupted', detail: ends }, durationSeconds: 1.2345, seq: 14, t: 1234.5 });
});

test('cut short before collection: no test to list, the run ends interrupted', () => {
  const { events, cutShort } = completeRecording(numbered([STARTED]));
  assert.equal(cutShort, 'the recording ends after event 0 (run_started), 0.00s into the run (2026-12-02T10:00:00.000Z): bulkhead stopped before the run finished');
  assert.deepEqual(events.map((event) => event.type), ['run_started', 'run_finished']);
});

test('no events at all, or no recorded start time: still one line saying where it ends', () => {
  assert.equal(completeRecording([]).cutShort, 'the recording ends before the run started: bulkhead stopped before the run finished');
  const { cutShort } = completeRecording(numbered([{ ...STARTED, origin: undefined } as never, collected(IDS)]));
  assert.equal(cutShort, 'the recording ends after event 1 (collection_finished), 0.10s into the run: bulkhead stopped before the run finished');
});
