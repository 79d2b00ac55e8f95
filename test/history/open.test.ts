/**
 * Opening never fails the run: an empty file is migrated, a newer file is refused and left
 * alone, a corrupt file is moved aside and replaced, and a folder we cannot write is a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore, SCHEMA_VERSION } from '../../src/history/index.js';
import { historyFile, openStore, result, runRecord, tempProject } from './support.js';

const NOW = () => new Date('2025-03-04T05:06:07.089Z');

function unavailable(project: string): string {
  const opened = HistoryStore.open(project, { displayFrom: project, now: NOW });
  if (opened.kind === 'open') {
    opened.store.close();
    assert.fail('the store opened');
  }
  return opened.message;
}

test('an empty file is migrated and used', (t) => {
  const project = tempProject(t);
  mkdirSync(join(project, '.bulkhead'));
  writeFileSync(historyFile(project), '');
  const store = openStore(t, project);
  store.recordRun(runRecord([result('t.py::a')]));
  assert.equal(store.predict(['t.py::a']).get('t.py::a')?.runs, 1);
});

test('a file from a newer bulkhead is refused in one line and left untouched', (t) => {
  const project = tempProject(t);
  mkdirSync(join(project, '.bulkhead'));
  const newer = new Database(historyFile(project));
  newer.exec('CREATE TABLE future (x)');
  newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  newer.close();

  assert.equal(
    unavailable(project),
    `history store .bulkhead/history.sqlite is unusable (its schema version ${SCHEMA_VERSION + 1} is newer ` +
      `than this bulkhead's ${SCHEMA_VERSION}; a newer bulkhead wrote it); this run keeps no history`,
  );
  const db = new Database(historyFile(project), { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'delete', 'not even switched to WAL');
  assert.deepEqual(db.prepare('SELECT name FROM sqlite_schema').pluck().all(), ['future']);
  db.close();
  assert.deepEqual(readdirSync(join(project, '.bulkhead')).filter((name) => name.includes('corrupt')), []);
});

test('a corrupt file is moved aside and a new store is started', (t) => {
  const project = tempProject(t);
  mkdirSync(join(project, '.bulkhead'));
  const garbage = 'this is not an SQLite file\n'.repeat(200);
  writeFileSync(historyFile(project), garbage);

  const opened = HistoryStore.open(project, { displayFrom: project, now: NOW });
  assert.equal(opened.kind, 'open');
  if (opened.kind !== 'open') return;
  t.after(() => opened.store.close());
  assert.equal(
    opened.notice,
    'history store .bulkhead/history.sqlite was corrupt (file is not a database); ' +
      'moved it to history.sqlite.corrupt-2025-03-04T05-06-07-089Z and started a new one',
  );
  assert.equal(readFileSync(join(project, '.bulkhead', 'history.sqlite.corrupt-2025-03-04T05-06-07-089Z'), 'utf8'), garbage);
  opened.store.recordRun(runRecord([result('t.py::a')]));
  assert.equal(opened.store.predict(['t.py::a']).get('t.py::a')?.runs, 1);
});

test('a .bulkhead that cannot be a folder is a message, not an error', (t) => {
  const project = tempProject(t);
  writeFileSync(join(project, '.bulkhead'), 'a file where the folder should be');
  assert.match(
    unavailable(project),
    /^history store \.bulkhead\/history\.sqlite is unusable \(cannot create \.bulkhead: .*(EEXIST|ENOTDIR).*\); this run keeps no history$/,
  );
});

test('a folder without write permission is a message, not an error', (t) => {
  if (process.getuid?.() === 0) {
    t.skip('root writes through permissions');
    return;
  }
  const project = tempProject(t);
  mkdirSync(join(project, '.bulkhead'), { mode: 0o500 });
  t.after(() => chmodSync(join(project, '.bulkhead'), 0o700));
  assert.match(unavailable(project), /^history store \.bulkhead\/history\.sqlite is unusable \(.+\); this run keeps no history$/);
});

test('a history.sqlite that is a folder is a message, and is not moved aside', (t) => {
  const project = tempProject(t);
  mkdirSync(historyFile(project), { recursive: true });
  assert.equal(
    unavailable(project),
    'history store .bulkhead/history.sqlite is unusable (unable to open database file); this run keeps no history',
  );
  assert.deepEqual(readdirSync(join(project, '.bulkhead')), ['history.sqlite']);
});

test('messages name the file absolutely when it lies outside the display directory', (t) => {
  const project = tempProject(t);
  writeFileSync(join(project, '.bulkhead'), '');
  const opened = HistoryStore.open(project, { displayFrom: '/nonexistent-elsewhere' });
  assert.equal(opened.kind, 'unavailable');
  if (opened.kind === 'unavailable') assert.ok(opened.message.startsWith(`history store ${historyFile(project)} is unusable`));
});
