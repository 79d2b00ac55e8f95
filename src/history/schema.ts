/**
 * The store's schema as a list of forward migrations. `PRAGMA user_version` holds the number of
 * the last one applied; a file whose version is higher than the last one here was written by a
 * newer bulkhead and is left alone (see migrate.ts).
 *
 * To change the schema, append `{ version: 2, ... }` with the SQL that takes a version-1 file to
 * version 2 (ALTER TABLE, CREATE INDEX, a data copy). Never edit a migration that has shipped:
 * files out there already ran it.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, test ids, and one result per test and run',
    sql: `
      -- AUTOINCREMENT: ids are never reused after pruning, so a higher id is always a later run.
      CREATE TABLE runs (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at          TEXT    NOT NULL,  -- ISO 8601, UTC
        finished_at         TEXT    NOT NULL,
        duration_s          REAL    NOT NULL,
        exit_code           INTEGER NOT NULL,
        end_reason          TEXT    NOT NULL,  -- RunEndReason kind
        workers             INTEGER NOT NULL,
        tests               INTEGER NOT NULL,
        memory_mechanism    TEXT,              -- null: the run reported no memory control
        memory_limit_bytes  INTEGER,
        memory_budget_bytes INTEGER,
        worker_max_bytes    INTEGER
      );
      -- Node ids are long (paths, classes, parameters) and repeat in every run: stored once here,
      -- the results refer to them by a small integer. This keeps 50 runs of a 10,000-test suite
      -- at a few tens of MB rather than a hundred.
      CREATE TABLE tests (
        id      INTEGER PRIMARY KEY,
        node_id TEXT NOT NULL UNIQUE
      );
      CREATE TABLE results (
        run_id         INTEGER NOT NULL REFERENCES runs(id),
        test_id        INTEGER NOT NULL REFERENCES tests(id),
        outcome        TEXT    NOT NULL,  -- FinalOutcome kind, or crashed:<cause kind>
        duration_s     REAL,              -- null: nothing measured (not run, interrupted, crashed)
        peak_bytes     INTEGER,           -- above the worker's baseline; null: not measured
        baseline_bytes INTEGER,
        -- Clustered by test: a prediction reads a test's newest results as neighbouring rows.
        PRIMARY KEY (test_id, run_id)
      ) WITHOUT ROWID;
      -- Pruning deletes whole runs.
      CREATE INDEX results_by_run ON results (run_id);
    `,
  },
];

/** The schema version this bulkhead writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
