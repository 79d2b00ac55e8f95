/**
 * pytest-cov's `--cov` at the end of a run, the adapter's part: the helper that combines the data
 * every worker wrote and reports it with pytest-cov's and coverage's own code
 * (python/bulkhead-coverage.py, python/bulkhead_pytest/coverage_combine.py), and its answer.
 */
import { join } from 'node:path';
import type { CoverageOutcome } from '../../model/coverage.js';
import type { CoverageCombineRequest, HelperCommand } from '../framework-adapter.js';
import type { Decoded } from '../messages.js';
import { coverageAnswer } from './protocol.js';

/** An HTML report of a large project takes a while; a hung one must not hold the run forever. */
const COMBINE_TIMEOUT_MS = 10 * 60_000;

export function coverageCommand(pythonDir: string, request: CoverageCombineRequest): HelperCommand {
  const payload = JSON.stringify({
    options: request.session.options,
    topdir: request.session.topdir,
    dataDir: request.dataDir,
    testsFailed: request.testsFailed,
  });
  return {
    command: request.interpreter,
    args: [join(pythonDir, 'bulkhead-coverage.py'), payload],
    cwd: request.session.topdir,
    timeoutMs: COMBINE_TIMEOUT_MS,
  };
}

export function decodeCoverageAnswer(line: string): Decoded<Extract<CoverageOutcome, { kind: 'reported' }>> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    return { ok: false, error: `its answer is not JSON (${(error as Error).message}): ${line.slice(0, 200)}` };
  }
  const parsed = coverageAnswer.safeParse(raw);
  if (!parsed.success) return { ok: false, error: `unexpected answer: ${parsed.error.message}` };
  return { ok: true, message: { kind: 'reported', ...parsed.data } };
}
