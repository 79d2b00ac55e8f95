/**
 * The terminal, JUnit and JSON reporters, tested by replay: each recording in recordings/ is a
 * real run of a fixture project (scripts/make-reporter-recordings.ts), kept with what that live
 * run printed and wrote. Replayed into fresh reporters, the recording must give the same bytes:
 * so the reporters are pure functions of the events, and any change in what they write shows
 * here as a diff against a real run's output (re-make the recordings when the change is meant).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '../../src/model/event.js';
import type { Phase } from '../../src/model/report.js';
import { completeRecording, readRecording } from '../../src/record/index.js';
import { JsonReporter } from '../../src/reporters/json-reporter.js';
import { JunitReporter } from '../../src/reporters/junit.js';
import type { Reporter } from '../../src/reporters/reporter.js';
import { TerminalReporter } from '../../src/reporters/terminal/terminal-reporter.js';
import { REPO_ROOT } from '../support/cli.js';

const RECORDINGS = join(REPO_ROOT, 'test', 'reporters', 'recordings');

function eventsOf(name: string): RunEvent[] {
  const read = readRecording(join(RECORDINGS, `${name}.ndjson`));
  assert.ok(read.ok, read.ok ? '' : read.message);
  assert.equal(read.recording.skipped.size, 0);
  return read.recording.events;
}

function expected(name: string, suffix: string): string {
  return readFileSync(join(RECORDINGS, `${name}${suffix}`), 'utf8');
}

async function feed(events: readonly RunEvent[], reporter: Reporter): Promise<void> {
  for (const event of events) reporter.onEvent(event);
  await reporter.close();
}

async function replayTerminal(events: readonly RunEvent[], color = false): Promise<string> {
  let out = '';
  await feed(events, new TerminalReporter((text) => (out += text), { color, width: 80 }));
  return out;
}

/** The JUnit and JSON files a replay writes, read back. */
async function replayFiles(events: readonly RunEvent[]): Promise<{ junit: string; json: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-replay-'));
  try {
    await feed(events, new JunitReporter(join(dir, 'junit.xml'), { pytestPath: false }));
    await feed(events, new JsonReporter(join(dir, 'results.json')));
    return { junit: readFileSync(join(dir, 'junit.xml'), 'utf8'), json: readFileSync(join(dir, 'results.json'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of ['outcomes', 'faults', 'collection-error']) {
  test(`${name}: the terminal report replayed is what the live run printed`, async () => {
    assert.equal(await replayTerminal(eventsOf(name)), expected(name, '.terminal.txt'));
  });

  test(`${name}: the JUnit XML and the JSON replayed are byte for byte the live run's files`, async () => {
    const files = await replayFiles(eventsOf(name));
    assert.equal(files.junit, expected(name, '.junit.xml'));
    assert.equal(files.json, expected(name, '.json'));
  });
}

test('outcomes in colour: the terminal report replayed is what the live run printed, escape codes and all', async () => {
  const live = expected('outcomes-color', '.terminal.txt');
  assert.match(live, /\x1b\[31m/, 'the live run printed in colour');
  assert.equal(await replayTerminal(eventsOf('outcomes-color'), true), live);
});

test('every reporter ignores event types it does not know (a newer bulkhead, or ones it does not use)', async () => {
  const events = eventsOf('outcomes');
  // Future events spliced in everywhere: before the end, between tests, with fields no reporter knows.
  const future = (seq: number): RunEvent =>
    ({ type: 'gpu_sample', worker: 1, usedBytes: 1, seq, t: 0 }) as unknown as RunEvent;
  const mixed = events.flatMap((event, index) => [future(-index - 1), event]);
  assert.equal(await replayTerminal(mixed), expected('outcomes', '.terminal.txt'));
  const files = await replayFiles(mixed);
  assert.equal(files.junit, expected('outcomes', '.junit.xml'));
  assert.equal(files.json, expected('outcomes', '.json'));
});

test('a recording cut short: every test without a result is listed as not run, with where the recording ends', async () => {
  const events = eventsOf('outcomes');
  const finished = events.filter((event) => event.type === 'test_finished');
  // Cut just after the fifth result: the rest have none.
  const cut = events.slice(0, events.indexOf(finished[4]!) + 1);
  const last = cut[cut.length - 1]!;
  const completed = completeRecording(cut);
  assert.ok(completed.cutShort !== null);
  assert.match(completed.cutShort, new RegExp(`^the recording ends after event ${last.seq} \\(test_finished of .*\\), \\d+\\.\\d\\ds into the run \\(\\d{4}-.*Z\\): bulkhead stopped before the run finished$`));

  const json = JSON.parse((await replayFiles(completed.events)).json) as {
    run: { exitCode: number; end: { kind: string; detail: string } };
    summary: Record<string, number>;
    tests: Array<{ id: string; outcome: string; reason: string | null }>;
  };
  assert.equal(json.run.exitCode, 2);
  assert.deepEqual(json.run.end, { kind: 'interrupted', detail: completed.cutShort });
  const collected = (events.find((event) => event.type === 'collection_finished') as Extract<RunEvent, { type: 'collection_finished' }>).tests.length;
  assert.equal(json.summary.total, collected);
  assert.equal(json.summary.not_run, collected - 5);
  for (const entry of json.tests) {
    if (entry.outcome !== 'not_run') continue;
    assert.ok(entry.reason?.endsWith(completed.cutShort), `${entry.id}: ${entry.reason}`);
  }
  const terminal = await replayTerminal(completed.events);
  assert.match(terminal, /^=+ not run =+$/m);
  assert.equal(terminal.match(/^NOT RUN /gm)?.length, collected - 5);
  assert.match(terminal, new RegExp(`${String(collected - 5)} not run in \\d+\\.\\d\\ds =+\\n$`));
});

/**
 * The recordings above are format 1, where every phase came as a test_report. Format 2 sends a
 * phase that passed with nothing to show as [when, duration] on its test_finished instead: the
 * same run told that way must print and write the same reports. (These runs rendered JUnit, so
 * their workers sent every phase whole; the terminal and JSON reporters do not read JUnit.)
 */
function asPlainPhases(events: readonly RunEvent[]): { events: RunEvent[]; moved: number } {
  // As the worker does: a passed phase with nothing to show is held; a later phase of the same
  // test that must go whole sends the held ones whole before it; the rest ride on test_finished.
  const held = new Map<string, Array<Extract<RunEvent, { type: 'test_report' }>>>();
  const out: RunEvent[] = [];
  let moved = 0;
  for (const event of events) {
    if (event.type === 'test_report') {
      const { report } = event;
      const status = report.when === 'call' ? 'passed' : '';
      const plain =
        report.outcome === 'passed' &&
        report.xfailReason === null &&
        report.sections.length === 0 &&
        report.userProperties.length === 0 &&
        report.pytest.category === status &&
        report.pytest.summaryLine === '';
      if (plain) {
        held.set(report.testId, [...(held.get(report.testId) ?? []), event]);
        continue;
      }
      out.push(...(held.get(report.testId) ?? []));
      held.delete(report.testId);
    }
    if (event.type === 'test_finished') {
      const phases = (held.get(event.testId) ?? []).map(({ report }): [Phase, number] => [report.when, report.duration]);
      moved += phases.length;
      out.push({ ...event, plain: phases });
      held.delete(event.testId);
      continue;
    }
    out.push(event);
  }
  return { events: out, moved };
}

function sortedProgress(text: string): string {
  return text.replace(/^([.FEsxXCT]+)( +\[ *\d+%\])$/gm, (_, letters: string, percent: string) => [...letters].sort().join('') + percent);
}

test('plain phases (format 2): the same terminal report and JSON as when every phase came whole', async () => {
  for (const name of ['outcomes', 'faults']) {
    const { events, moved } = asPlainPhases(eventsOf(name));
    assert.ok(moved > 5, `${name}: ${moved} phases moved`);
    // A plain call's letter shows when its test finishes, not when its call ended: between two
    // workers the letters may interleave otherwise (as they do from run to run), never change.
    assert.equal(sortedProgress(await replayTerminal(events)), sortedProgress(expected(name, '.terminal.txt')), name);
    const json = (await replayFiles(events)).json;
    assert.equal(json, expected(name, '.json'), name);
  }
});
