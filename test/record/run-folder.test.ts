/**
 * Run folders: created per run, pruned to the newest few (never the current run's, nor one whose
 * run is still going), and found again by `bulkhead report`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRunFolder, locateRecording, pruneRuns, recordingIsLive, runFolderName, runsRoot } from '../../src/record/index.js';
import { tempFolder } from './support.js';

/** A pid no process has (beyond pid_max on Linux). */
const DEAD_PID = 4_194_305;

function makeRuns(root: string, names: readonly string[], withEvents = true): void {
  for (const name of names) {
    mkdirSync(join(root, name), { recursive: true });
    if (withEvents) writeFileSync(join(root, name, 'events.ndjson'), '');
  }
}

test('folder names sort oldest to newest and end with the pid', () => {
  assert.equal(runFolderName(new Date('2026-12-02T10:11:12.345Z'), 4121), '2026-12-02T10-11-12-345Z-4121');
});

test('a new run folder; runs past the newest N pruned, this one counted', (t) => {
  const cwd = tempFolder(t);
  const old = [1, 2, 3, 4].map((n) => `2026-12-0${n}T00-00-00-000Z-${DEAD_PID}`);
  makeRuns(runsRoot(cwd), old);
  const folder = createRunFolder(cwd, new Date('2026-12-05T00:00:00.000Z'), 3);
  assert.equal(folder.kind, 'created');
  if (folder.kind !== 'created') return;
  assert.equal(folder.id, `2026-12-05T00-00-00-000Z-${process.pid}`);
  assert.deepEqual(readdirSync(runsRoot(cwd)).sort(), [old[2], old[3], folder.id]);
});

test('pruning never removes a run that is still going (its pid alive), however old', async (t) => {
  const root = runsRoot(tempFolder(t));
  // A live process other than this one, reaped at the end of the test.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  const live = `2026-01-01T00-00-00-000Z-${child.pid}`;
  const names = [live, ...[1, 2, 3].map((n) => `2026-12-0${n}T00-00-00-000Z-${DEAD_PID}`)];
  makeRuns(root, names);
  pruneRuns(root, 1, names[3]!);
  assert.deepEqual(readdirSync(root).sort(), [live, names[3]]);
});

test('a recording is live while the process its run id names runs with the command line its header recorded', async (t) => {
  const argv = [process.execPath, '-e', 'setTimeout(() => {}, 20000)'];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  const runId = `2026-12-02T00-00-00-000Z-${child.pid}`;
  assert.equal(recordingIsLive(runId, argv), true);
  // The same pid running something else: a pid reused since, or a recording from another machine.
  assert.equal(recordingIsLive(runId, [process.execPath, 'bulkhead', 'run']), false);
  assert.equal(recordingIsLive(`2026-12-02T00-00-00-000Z-${DEAD_PID}`, argv), false);
  assert.equal(recordingIsLive('no-pid-here', argv), false);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.equal(recordingIsLive(runId, argv), false);
});

test('a folder that cannot be made is a reason, not an exception', (t) => {
  const cwd = tempFolder(t);
  mkdirSync(join(cwd, '.bulkhead'));
  // A file where the runs folder should be: root included, nobody can make a folder in it.
  writeFileSync(runsRoot(cwd), '');
  const folder = createRunFolder(cwd, new Date(), 10);
  assert.equal(folder.kind, 'failed');
  if (folder.kind === 'failed') assert.match(folder.reason, /^(ENOTDIR|EEXIST): /);
});

test('locate: latest is the newest run that has a recording; a run name; a folder; a file; else one line', (t) => {
  const cwd = tempFolder(t);
  const root = runsRoot(cwd);
  makeRuns(root, ['2026-12-01T00-00-00-000Z-1', '2026-12-02T00-00-00-000Z-1']);
  makeRuns(root, ['2026-12-03T00-00-00-000Z-1'], false); // --no-record with worker logs
  const newest = join(root, '2026-12-02T00-00-00-000Z-1', 'events.ndjson');
  assert.deepEqual(locateRecording(cwd, undefined), { ok: true, path: newest });
  assert.deepEqual(locateRecording(cwd, 'latest'), { ok: true, path: newest });
  assert.deepEqual(locateRecording(cwd, '2026-12-01T00-00-00-000Z-1'), { ok: true, path: join(root, '2026-12-01T00-00-00-000Z-1', 'events.ndjson') });
  assert.deepEqual(locateRecording(cwd, '.bulkhead/runs/2026-12-01T00-00-00-000Z-1'), { ok: true, path: join(root, '2026-12-01T00-00-00-000Z-1', 'events.ndjson') });
  writeFileSync(join(cwd, 'saved.ndjson'), '');
  assert.deepEqual(locateRecording(cwd, 'saved.ndjson'), { ok: true, path: join(cwd, 'saved.ndjson') });
  assert.deepEqual(locateRecording(cwd, 'nope'), { ok: false, message: `no recording 'nope': not a file or folder, nor a run under ${root}` });
  const empty = tempFolder(t);
  assert.deepEqual(locateRecording(empty, undefined), {
    ok: false,
    message: `no recorded run in ${runsRoot(empty)} (runs are recorded unless --no-record or record = false)`,
  });
});
