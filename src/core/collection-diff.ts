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
  /** The one file compared (a worker that collected part of the suite), or absent: the whole suite. */
  file?: string,
): string | null {
  if (reference.length === other.length && reference.every((id, index) => id === other[index])) return null;
  const referenceSet = new Set(reference);
  const otherSet = new Set(other);
  const onlyReference = reference.filter((id) => !otherSet.has(id));
  const onlyOther = other.filter((id) => !referenceSet.has(id));
  const lines = [`Different tests were collected ${file !== undefined ? `in ${file} ` : ''}by ${referenceName} (${reference.length}) and ${otherName} (${other.length}):`];
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
