/**
 * `bulkhead report` through the real CLI, on the committed recordings (no pytest needed): the
 * reports it rebuilds, its exit codes, and one line for each recording it cannot replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { CLI_PATH, REPO_ROOT, baseEnv, describeRun, spawnBounded, type SpawnResult } from '../support/cli.js';
import { RECORDING_VERSION } from '../../src/record/index.js';

const RECORDINGS = join(REPO_ROOT, 'test', 'reporters', 'recordings');
const recording = (name: string): string => readFileSync(join(RECORDINGS, `${name}.ndjson`), 'utf8');
const expected = (name: string): string => readFileSync(join(RECORDINGS, name), 'utf8');

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function report(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<SpawnResult> {
  return spawnBounded(process.execPath, [CLI_PATH, 'report', ...args], { cwd, env: baseEnv(env), timeoutMs: 30_000 });
}

/** The recording's lines with `edit` applied to each parsed line (the header is line 0). */
function edited(text: string, edit: (value: Record<string, unknown>, index: number) => Record<string, unknown>): string {
  const lines = text.split('\n').filter(Boolean);
  return `${lines.map((line, index) => JSON.stringify(edit(JSON.parse(line) as Record<string, unknown>, index))).join('\n')}\n`;
}

test("a recorded run: the terminal report on stdout, --junit and --json byte for byte, the run's exit code", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'run.ndjson'), recording('outcomes'));
  const result = await report(dir, ['run.ndjson', '--junit', 'out/junit.xml', '--json', 'out/results.json']);
  assert.equal(result.code, 1, describeRun(result));
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, expected('outcomes.terminal.txt'));
  assert.equal(readFileSync(join(dir, 'out', 'junit.xml'), 'utf8'), expected('outcomes.junit.xml'));
  assert.equal(readFileSync(join(dir, 'out', 'results.json'), 'utf8'), expected('outcomes.json'));
  const quiet = await report(dir, ['run.ndjson', '-q']);
  assert.equal(quiet.code, 1);
  assert.equal(quiet.stdout, '');
  const collection = await report(dir, [join(RECORDINGS, 'collection-error.ndjson')]);
  assert.equal(collection.code, 2, 'interrupted by a collection error, as the run was');
});

test('latest (the default) is the newest run under .bulkhead/runs; a run is also named by its folder', async (t) => {
  const dir = scratch(t);
  const runs = join(dir, '.bulkhead', 'runs');
  for (const [name, source] of [['2026-12-01T00-00-00-000Z-1', 'collection-error'], ['2026-12-02T00-00-00-000Z-1', 'outcomes']] as const) {
    mkdirSync(join(runs, name), { recursive: true });
    writeFileSync(join(runs, name, 'events.ndjson'), recording(source));
  }
  const latest = await report(dir, []);
  assert.equal(latest.code, 1, describeRun(latest));
  assert.equal(latest.stdout, expected('outcomes.terminal.txt'));
  assert.equal((await report(dir, ['latest'])).stdout, expected('outcomes.terminal.txt'));
  assert.equal((await report(dir, ['2026-12-01T00-00-00-000Z-1'])).stdout, expected('collection-error.terminal.txt'));
  assert.equal((await report(dir, ['.bulkhead/runs/2026-12-01T00-00-00-000Z-1'])).stdout, expected('collection-error.terminal.txt'));
});

test('colours: a colour recording replayed where colour is not wanted loses its escape codes, and only them', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'run.ndjson'), recording('outcomes-color'));
  const live = expected('outcomes-color.terminal.txt');
  assert.equal((await report(dir, ['run.ndjson'])).stdout, live.replace(/\x1b\[[0-9;]*m/g, ''));
  assert.equal((await report(dir, ['run.ndjson'], { NO_COLOR: undefined, PY_COLORS: '1' })).stdout, live);
});

test('a recording cut short (bulkhead killed mid-write): every test without a result is not run, exit 2', async (t) => {
  const dir = scratch(t);
  const lines = recording('outcomes').split('\n').filter(Boolean);
  const fifth = lines.flatMap((line, index) => (line.startsWith('{"type":"test_finished"') ? [index] : []))[4]!;
  // And half of the next line, as a kill during a write leaves it.
  const next = lines[fifth + 1]!;
  writeFileSync(join(dir, 'run.ndjson'), `${lines.slice(0, fifth + 1).join('\n')}\n${next.slice(0, next.length / 2)}`);
  const result = await report(dir, ['run.ndjson', '--json', 'out.json', '--junit', 'out.xml']);
  assert.equal(result.code, 2, describeRun(result));
  assert.equal(result.stderr, '');
  const json = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { summary: Record<string, number>; run: { exitCode: number; end: { kind: string; detail: string } } };
  const total = json.summary.total!;
  assert.equal(json.summary.not_run, total - 5);
  assert.equal(json.run.exitCode, 2);
  assert.equal(json.run.end.kind, 'interrupted');
  assert.match(json.run.end.detail, /^the recording ends after event \d+ \(test_finished of tests\/.*\), \d+\.\d\ds into the run \(.*Z\): bulkhead stopped before the run finished$/);
  assert.match(result.stdout, /^=+ not run =+$/m);
  assert.match(result.stdout, new RegExp(`${total - 5} not run in \\d+\\.\\d\\ds =+\\n$`));
});

test('event types from a newer bulkhead: one warning line, skipped, the reports unchanged', async (t) => {
  const dir = scratch(t);
  let seq = 0;
  // Renumbered, with an unknown event before every known one.
  const lines = recording('outcomes').split('\n').filter(Boolean);
  const text = lines.flatMap((line, index) => {
    if (index === 0) return [line];
    const event = JSON.parse(line) as Record<string, unknown>;
    return [JSON.stringify({ type: 'test_quarantined', testId: 'x', seq: seq++, t: event.t }), JSON.stringify({ ...event, seq: seq++ })];
  });
  writeFileSync(join(dir, 'run.ndjson'), `${text.join('\n')}\n`);
  const result = await report(dir, ['run.ndjson', '--json', 'out.json']);
  assert.equal(result.code, 1, describeRun(result));
  assert.equal(result.stdout, expected('outcomes.terminal.txt'));
  assert.equal(
    result.stderr,
    `bulkhead: warning: ${join(dir, 'run.ndjson')} has events this bulkhead does not know (test_quarantined x${lines.length - 1}), written by bulkhead 0.1.0: skipped\n`,
  );
  assert.equal(readFileSync(join(dir, 'out.json'), 'utf8'), expected('outcomes.json'));
});

test('what cannot be replayed: exit 4 and one line saying what and where', async (t) => {
  const dir = scratch(t);
  const text = recording('outcomes');
  writeFileSync(join(dir, 'newer.ndjson'), edited(text, (value, index) => (index === 0 ? { ...value, version: RECORDING_VERSION + 1, bulkhead: '0.9.0' } : value)));
  writeFileSync(join(dir, 'corrupt.ndjson'), text.replace('{"type":"session_info"', '{"type":"session_info'));
  writeFileSync(join(dir, 'not-a-recording.ndjson'), 'hello\n');
  writeFileSync(
    join(dir, 'no-junit.ndjson'),
    edited(text, (value) => {
      if (value.type !== 'session_info') return value;
      const info = value.info as { pytest: object };
      return { ...value, info: { ...info, pytest: { ...info.pytest, junit: null } } };
    }),
  );
  const cases: Array<[args: string[], line: RegExp]> = [
    [
      ['newer.ndjson'],
      new RegExp(
        `^bulkhead: error: .*/newer\\.ndjson is a version ${RECORDING_VERSION + 1} recording \\(written by bulkhead 0\\.9\\.0\\); this bulkhead reads version ${RECORDING_VERSION}: replay it with bulkhead 0\\.9\\.0 or later$`,
      ),
    ],
    [['corrupt.ndjson'], /^bulkhead: error: .*\/corrupt\.ndjson:\d+: corrupt recording: not JSON \(.*\)$/],
    [['not-a-recording.ndjson'], /^bulkhead: error: .*\/not-a-recording\.ndjson:1: not a bulkhead recording: not JSON \(.*\)$/],
    [['absent.ndjson'], /^bulkhead: error: no recording 'absent\.ndjson': not a file or folder, nor a run under .*\/\.bulkhead\/runs$/],
    [[], /^bulkhead: error: no recorded run in .*\/\.bulkhead\/runs \(runs are recorded unless --no-record or record = false\)$/],
    [['no-junit.ndjson', '--junit', 'x.xml'], /^bulkhead: error: .*\/no-junit\.ndjson has no JUnit renderings \(its run had neither --junit nor --junitxml, .*\), so --junit cannot be rebuilt from it$/],
  ];
  for (const [args, line] of cases) {
    const result = await report(dir, args);
    assert.equal(result.code, 4, `${args.join(' ')}: ${describeRun(result)}`);
    assert.equal(result.stdout, '', args.join(' '));
    assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, result.stderr);
    assert.match(result.stderr.trim(), line);
  }
});

test('a report file that cannot be written: exit 3, as pytest when its --junitxml cannot be', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'run.ndjson'), recording('outcomes'));
  writeFileSync(join(dir, 'blocker'), '');
  const result = await report(dir, ['run.ndjson', '-q', '--json', 'blocker/out.json']);
  assert.equal(result.code, 3, describeRun(result));
  assert.match(result.stderr, /^bulkhead: error: the json report could not be rebuilt: .*blocker.*\n$/);
});
