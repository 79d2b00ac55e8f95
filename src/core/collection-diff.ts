import type { TestInfo } from '../model/test.js';

/**
 * Every worker collects the suite itself. If two workers collected different tests (a
 * randomized parametrization, a set iterated in hash order), running them by index would run the
 * wrong tests, so the run stops with the difference spelled out.
 */
export function describeCollectionDiff(
  reference: readonly string[],
  other: readonly string[],
  referenceName: string,
  otherName: string,
  /** The one file compared (a worker that collects lazily, file by file), or the whole suite. */
  file: string | null = null,
): string | null {
  if (reference.length === other.length && reference.every((id, index) => id === other[index])) return null;
  const referenceSet = new Set(reference);
  const otherSet = new Set(other);
  const onlyReference = reference.filter((id) => !otherSet.has(id));
  const onlyOther = other.filter((id) => !referenceSet.has(id));
  const where = file === null ? '' : ` in ${file}`;
  const lines = [`Different tests were collected${where} by ${referenceName} (${reference.length}) and ${otherName} (${other.length}):`];
  const show = (label: string, ids: string[]): void => {
    if (ids.length === 0) return;
    lines.push(`  only in ${label}:`);
    for (const id of ids.slice(0, 20)) lines.push(`    ${id}`);
    if (ids.length > 20) lines.push(`    ... and ${ids.length - 20} more`);
  };
  show(referenceName, onlyReference);
  show(otherName, onlyOther);
  if (onlyReference.length === 0 && onlyOther.length === 0) {
    const at = reference.findIndex((id, index) => id !== other[index]);
    lines.push(`  same tests in a different order, first difference at position ${at + 1}:`);
    lines.push(`    ${referenceName}: ${reference[at] ?? '(end)'}`);
    lines.push(`    ${otherName}: ${other[at] ?? '(end)'}`);
  }
  lines.push('Collection must be deterministic for tests to be distributed (check for random or unordered parametrization).');
  return lines.join('\n');
}

/** The reference's ids of one file (a pytest test's scope is its file's node id), in collection order. */
export function idsOfFile(reference: readonly TestInfo[], file: string): string[] {
  return reference.filter((test) => test.scope === file).map((test) => test.id);
}

/**
 * The check for a worker that collects a file only when it is given one of its tests (lazy
 * collection): its ids for that file must be the reference's ids for that file, else the run ends
 * as on any mismatch. Their order is not compared: such a worker finds each test by its id, and a
 * plugin that reorders the whole suite (a shuffle) orders one file's tests differently from the
 * whole list's. Null when they are the same.
 */
export function describeFileDiff(
  reference: readonly TestInfo[],
  file: string,
  ids: readonly string[],
  referenceName: string,
  otherName: string,
): string | null {
  const sorted = (list: readonly string[]): string[] => [...list].sort();
  return describeCollectionDiff(sorted(idsOfFile(reference, file)), sorted(ids), referenceName, otherName, file);
}
