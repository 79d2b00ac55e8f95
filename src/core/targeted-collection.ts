/**
 * Targeted collection for isolated retries. A fresh worker started to retry one crashed test alone
 * would collect the whole suite (half a minute on numpy's) to run that one test, at the end of the
 * run while nothing else runs. Instead it is told which file(s) to collect (`isolatedScope`), and
 * its partial collection is checked file by file against the reference collection and numbered
 * into the suite's indices (`judgeTargeted`, giving the worker's IndexMap).
 *
 * Whenever the file cannot be told, or the worker's collection lacks the test, the retry falls
 * back to a fresh worker that collects the whole suite, as before: targeting only saves time, it
 * never fails a run that a full collection would have run.
 */
import type { TestInfo } from '../model/test.js';
import { describeCollectionDiff } from './collection-diff.js';
import { IndexMap } from './index-map.js';

/** The files a worker collects instead of the whole suite, relative to `rootdir` as the framework reported them. */
export interface CollectScope {
  rootdir: string;
  files: string[];
}

/**
 * Which file(s) hold the test at `index`, for a worker that is to run it alone; null: collect the
 * whole suite. A test's `file` is where its function is defined, relative to the rootdir (with
 * `--pyargs` it climbs out of it: `../../root/.pyenv/.../numpy/...`); its `scope` is its module's
 * node id, which may be relative to the argument rather than the rootdir. When the file ends with
 * the module's path, it is the module. When it does not (a test method inherited from a class in
 * another module), the module's node id is tried as a rootdir-relative path too; if that guess is
 * wrong, the worker's collection lacks the test and the retry falls back to a full collection.
 */
export function isolatedScope(tests: readonly TestInfo[], rootdir: string | null, index: number): CollectScope | null {
  const test = tests[index];
  if (test === undefined || rootdir === null || rootdir === '' || test.file === '') return null;
  // The worker's tests are matched to the suite's by id: a test whose id is not unique cannot be.
  if (tests.some((other, at) => at !== index && other.id === test.id)) return null;
  const isModule = test.file === test.scope || test.file.endsWith(`/${test.scope}`);
  return { rootdir, files: isModule || test.scope === '' ? [test.file] : [test.file, test.scope] };
}

export type TargetedVerdict =
  /** Every file it collected matches the reference, and it holds the test: its indices as the suite's. */
  | { kind: 'match'; map: IndexMap }
  /** A file it collected holds other tests than the reference's for that file: the run ends. */
  | { kind: 'mismatch'; detail: string }
  /** Its collection lacks the test it is to run: collect the whole suite instead. */
  | { kind: 'missing' };

/**
 * A partial collection checked file by file (a test's file is its `scope`): for each file the
 * worker collected, its ids must be the reference's ids of that file. Their order is not compared
 * (a plugin that reorders the whole suite orders one file's tests differently); each worker test
 * is numbered as the reference's test of the same id, the k-th of a repeated id as the k-th.
 */
export function judgeTargeted(
  reference: readonly TestInfo[],
  collected: readonly TestInfo[],
  needs: number,
  names: { reference: string; worker: string },
): TargetedVerdict {
  const files = new Set(collected.map((test) => test.scope));
  // The reference's tests of those files only: id -> suite indices, in collection order.
  const referenceIds = new Map<string, string[]>();
  const suiteIndices = new Map<string, number[]>();
  reference.forEach((test, index) => {
    if (!files.has(test.scope)) return;
    append(referenceIds, test.scope, test.id);
    append(suiteIndices, test.id, index);
  });
  const workerIds = new Map<string, string[]>();
  for (const test of collected) append(workerIds, test.scope, test.id);
  for (const [file, ids] of workerIds) {
    const diff = describeCollectionDiff(sorted(referenceIds.get(file) ?? []), sorted(ids), names.reference, names.worker, file);
    if (diff !== null) return { kind: 'mismatch', detail: diff };
  }
  const taken = new Map<string, number>();
  const suiteOf = collected.map((test) => {
    const k = taken.get(test.id) ?? 0;
    taken.set(test.id, k + 1);
    return suiteIndices.get(test.id)![k]!;
  });
  const map = new IndexMap(suiteOf);
  return map.holds(needs) ? { kind: 'match', map } : { kind: 'missing' };
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function sorted(ids: readonly string[]): string[] {
  return [...ids].sort();
}
