/**
 * pytest-cov's `--cov` at the end of a run: the data every worker wrote (a dead one's too, up to
 * its last finished test) combined into the project's data file and reported, once, by the
 * interpreter under test with pytest-cov's and coverage's own code
 * (python/bulkhead_pytest/coverage_combine.py), as pytest-xdist's controller does it.
 */
import { join } from 'node:path';
import type { CoverageCombineRequest, FrameworkAdapter } from '../adapters/framework-adapter.js';
import type { CoverageOutcome } from '../model/coverage.js';
import { execCommand } from '../supervisor/exec.js';

/** Where the workers write their parallel data files (BULKHEAD_COVERAGE_DIR): the run's scratch space. */
export function coverageDataDir(scratchDir: string): string {
  return join(scratchDir, 'coverage');
}

export async function combineCoverage(framework: FrameworkAdapter, request: CoverageCombineRequest): Promise<CoverageOutcome> {
  const command = framework.coverageCommand(request);
  const result = await execCommand(command.command, command.args, {
    cwd: command.cwd ?? request.session.topdir,
    env: process.env,
    timeoutMs: command.timeoutMs,
  });
  const what = `combining coverage with ${request.interpreter}`;
  if (result.kind === 'spawn_failed') return { kind: 'failed', detail: `${what}: ${result.error.message}` };
  if (result.kind === 'timed_out') return { kind: 'failed', detail: `${what}: no answer within ${command.timeoutMs / 1000}s` };
  const lastLine = result.stdout.trimEnd().split('\n').pop() ?? '';
  const stderr = result.stderr.trimEnd();
  if (result.code !== 0) {
    return { kind: 'failed', detail: `${what} failed (exit ${result.code ?? result.signal})${stderr ? `:\n${stderr}` : ''}` };
  }
  const answer = framework.decodeCoverageAnswer(lastLine);
  return answer.ok ? answer.message : { kind: 'failed', detail: `${what}: ${answer.error}` };
}
