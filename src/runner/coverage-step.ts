/**
 * pytest-cov's `--cov` at the end of a run: the data every worker wrote (a dead one's too, up to
 * its last finished test) combined into the project's data file and reported, once, by the
 * interpreter under test with pytest-cov's and coverage's own code
 * (python/bulkhead_pytest/coverage_combine.py), as pytest-xdist's controller does it.
 */
import { join } from 'node:path';
import { coverageAnswer } from '../adapters/pytest/protocol.js';
import type { CoverageOutcome, CoverageSession } from '../model/coverage.js';
import { execCommand } from '../supervisor/exec.js';

/** An HTML report of a large project takes a while; a hung one must not hold the run forever. */
const COMBINE_TIMEOUT_MS = 10 * 60_000;

/** Where the workers write their parallel data files (BULKHEAD_COVERAGE_DIR): the run's scratch space. */
export function coverageDataDir(scratchDir: string): string {
  return join(scratchDir, 'coverage');
}

export interface CombineRequest {
  python: string;
  pythonDir: string;
  session: CoverageSession;
  dataDir: string;
  /** Whether any test failed or failed to collect: pytest-cov's `--no-cov-on-fail` reads it. */
  testsFailed: boolean;
}

export async function combineCoverage(request: CombineRequest): Promise<CoverageOutcome> {
  const payload = JSON.stringify({
    options: request.session.options,
    topdir: request.session.topdir,
    dataDir: request.dataDir,
    testsFailed: request.testsFailed,
  });
  const result = await execCommand(request.python, [join(request.pythonDir, 'bulkhead-coverage.py'), payload], {
    cwd: request.session.topdir,
    env: process.env,
    timeoutMs: COMBINE_TIMEOUT_MS,
  });
  const what = `combining coverage with ${request.python}`;
  if (result.kind === 'spawn_failed') return { kind: 'failed', detail: `${what}: ${result.error.message}` };
  if (result.kind === 'timed_out') return { kind: 'failed', detail: `${what}: no answer within ${COMBINE_TIMEOUT_MS / 1000}s` };
  const lastLine = result.stdout.trimEnd().split('\n').pop() ?? '';
  const stderr = result.stderr.trimEnd();
  if (result.code !== 0) {
    return { kind: 'failed', detail: `${what} failed (exit ${result.code ?? result.signal})${stderr ? `:\n${stderr}` : ''}` };
  }
  let parsed: ReturnType<typeof coverageAnswer.safeParse>;
  try {
    parsed = coverageAnswer.safeParse(JSON.parse(lastLine));
  } catch (error) {
    return { kind: 'failed', detail: `${what}: its answer is not JSON (${(error as Error).message}): ${lastLine.slice(0, 200)}` };
  }
  if (!parsed.success) return { kind: 'failed', detail: `${what}: unexpected answer: ${parsed.error.message}` };
  return { kind: 'reported', ...parsed.data };
}
