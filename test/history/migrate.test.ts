/**
 * Forward migrations on PRAGMA user_version: a new file runs them all, an old one only the steps
 * it lacks, a newer one none, and a failing step leaves the file at the version before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { migrate, userVersion } from '../../src/history/migrate.js';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from '../../src/history/schema.js';

const SECOND: Migration = { version: 2, description: 'a note on each run', sql: 'ALTER TABLE runs ADD COLUMN note TEXT' };

function columns(db: Database.Database, table: string): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[]).sort();
}

test('the migrations are numbered 1, 2, 3... and the schema version is the last', () => {
  assert.deepEqual(
    MIGRATIONS.map((step) => step.version),
    MIGRATIONS.map((_, i) => i + 1),
  );
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
});

test('a new database runs every migration', () => {
  const db = new Database(':memory:');
  assert.deepEqual(migrate(db), { kind: 'migrated', from: 0, to: SCHEMA_VERSION });
  assert.equal(userVersion(db), SCHEMA_VERSION);
  assert.deepEqual(columns(db, 'tests'), ['id', 'node_id']);
  assert.deepEqual(migrate(db), { kind: 'current', version: SCHEMA_VERSION });
  db.close();
});

test('an old file runs only the steps it lacks, and keeps its data', () => {
  const db = new Database(':memory:');
  migrate(db, MIGRATIONS);
  db.prepare(`INSERT INTO tests (node_id) VALUES ('t.py::a')`).run();
  // Migration 1 creates its tables without IF NOT EXISTS: running it again would throw.
  assert.deepEqual(migrate(db, [...MIGRATIONS, SECOND]), { kind: 'migrated', from: 1, to: 2 });
  assert.equal(userVersion(db), 2);
  assert.ok(columns(db, 'runs').includes('note'));
  assert.equal(db.prepare('SELECT node_id FROM tests').pluck().get(), 't.py::a');
  db.close();
});

test('a newer file is reported and left as it is', () => {
  const db = new Database(':memory:');
  db.pragma('user_version = 7');
  assert.deepEqual(migrate(db), { kind: 'newer', found: 7, known: SCHEMA_VERSION });
  assert.equal(userVersion(db), 7);
  assert.equal(db.prepare(`SELECT count(*) FROM sqlite_schema`).pluck().get(), 0);
  db.close();
});

test('a failing step rolls back to the version before it', () => {
  const db = new Database(':memory:');
  migrate(db, MIGRATIONS);
  const broken: Migration = { version: 2, description: 'broken', sql: 'CREATE TABLE half (a); SELEC nonsense' };
  assert.throws(() => migrate(db, [...MIGRATIONS, broken]), /syntax error/);
  assert.equal(userVersion(db), 1);
  assert.equal(db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).pluck().get(), 0);
  db.close();
});
