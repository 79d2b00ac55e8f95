import type Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './schema.js';

export type MigrationResult =
  | { kind: 'current'; version: number }
  | { kind: 'migrated'; from: number; to: number }
  /** Written by a newer bulkhead: we must neither read it as ours nor downgrade it. */
  | { kind: 'newer'; found: number; known: number };

export function userVersion(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/**
 * Brings the file up to the last migration, each step in order. A brand-new (or empty) file is
 * version 0 and runs them all.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): MigrationResult {
  const known = migrations[migrations.length - 1]?.version ?? 0;
  // Most opens find the schema current: check without taking the write lock.
  const seen = userVersion(db);
  if (seen > known) return { kind: 'newer', found: seen, known };
  if (seen === known) return { kind: 'current', version: seen };
  // BEGIN IMMEDIATE, and the version read again under the lock: two runs that open a new file at
  // once must not both apply migration 1. The second waits (busy timeout), then finds the
  // version the first one wrote and applies nothing. user_version is part of the transaction,
  // so a step that fails leaves the file at the version before it.
  const apply = db.transaction((): MigrationResult => {
    const from = userVersion(db);
    if (from > known) return { kind: 'newer', found: from, known };
    if (from === known) return { kind: 'current', version: from };
    for (const step of migrations) {
      if (step.version <= from) continue;
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    }
    return { kind: 'migrated', from, to: known };
  });
  return apply.immediate();
}
