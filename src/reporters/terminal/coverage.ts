/**
 * pytest-cov's terminal summary (its table, the report files it wrote, the "Required test
 * coverage" line), written as pytest-cov wrote it in the combine step, markup included, where
 * pytest prints it: after the PASSES section and the junitxml line, before the durations.
 */
import type { CoverageOutcome } from '../../model/coverage.js';
import type { Markup, TermWriter } from './writer.js';

const MARKUP_NAMES = new Set(['red', 'green', 'yellow', 'cyan', 'bold']);

export function writeCoverage(tw: TermWriter, outcome: CoverageOutcome | null): void {
  if (outcome === null) return;
  if (outcome.kind === 'failed') {
    tw.line(`bulkhead: coverage was not combined: ${outcome.detail}`, { red: true, bold: true });
    return;
  }
  for (const { text, markup } of outcome.writes) tw.write(text, knownMarkup(markup));
}

function knownMarkup(markup: Record<string, boolean>): Markup {
  return Object.fromEntries(Object.entries(markup).filter(([name]) => MARKUP_NAMES.has(name))) as Markup;
}
