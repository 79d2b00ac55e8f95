/**
 * One `bulkhead run`: probe the interpreter, start the run loop, stream its events to the
 * reporters, handle Ctrl-C (first: stop scheduling and let running tests finish; second: kill).
 */
import { judgeProbe, PROBE_SCRIPT } from '../adapters/pytest/probe.js';
import { plainPytestReason } from '../adapters/pytest/worker-spec.js';
import type { RunEvent, RunEventBody } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import { execCommand } from '../supervisor/exec.js';
import { packageRoot } from '../util/package-root.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter } from '../reporters/reporter.js';
import { ReporterMultiplexer } from '../reporters/multiplexer.js';
import { createRunArtifactsDir } from './artifacts.js';
import type { RunOptions } from './options.js';
import { runPlainPytest } from './plain-pytest.js';
import { RunLoop } from './run-loop.js';

export interface RunRequest extends Omit<RunOptions, 'artifactsDir' | 'scratchDir'> {
  keepArtifacts: boolean;
}

export type RunOutcome = { exitCode: number; error: string | null };

export async function runTests(request: RunRequest, reporters: readonly Reporter[], warn: (line: string) => void): Promise<RunOutcome> {
  const probe = await execCommand(request.python, ['-c', PROBE_SCRIPT], {
    cwd: request.cwd,
    env: process.env,
    timeoutMs: 60_000,
  });
  if (probe.kind === 'spawn_failed') {
    const what = probe.error.code === 'ENOENT' ? 'was not found' : `cannot be started (${probe.error.code ?? probe.error.message})`;
    return { exitCode: ExitCode.USAGE_ERROR, error: `python interpreter '${request.python}' ${what}; install python3 or pass --python PATH (or set BULKHEAD_PYTHON)` };
  }
  if (probe.kind === 'timed_out') {
    return { exitCode: ExitCode.USAGE_ERROR, error: `'${request.python}' did not answer within 60s when asked for its pytest version` };
  }
  const verdict = judgeProbe(request.python, probe.stdout, probe.stderr);
  if (!verdict.ok) return { exitCode: ExitCode.USAGE_ERROR, error: verdict.message };

  const plainReason = plainPytestReason(request.pytestArgs);
  if (plainReason !== null) {
    return { exitCode: await runPlainPytest(request.python, request.pytestArgs, request.cwd), error: null };
  }

  const artifactsDir = request.keepArtifacts ? createRunArtifactsDir(request.cwd, new Date()) : null;
  // Crash dumps need a place even when no artifacts are kept.
  const scratchDir = artifactsDir ?? mkdtempSync(join(tmpdir(), 'bulkhead-'));
  const multiplexer = new ReporterMultiplexer(reporters, (name, error) =>
    warn(`bulkhead: the ${name} reporter failed and was skipped: ${error instanceof Error ? error.message : String(error)}`),
  );
  const origin = performance.now();
  let seq = 0;
  const emit = (body: RunEventBody): void => {
    const event = { ...body, seq: seq++, t: Math.round((performance.now() - origin) * 1000) / 1000 } as RunEvent;
    multiplexer.onEvent(event);
  };
  const loop = new RunLoop({ ...request, artifactsDir, scratchDir }, { emit, pythonDir: join(packageRoot(), 'python'), now: () => performance.now() });

  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      warn(`bulkhead: ${signal}: stopping; running tests may finish (press Ctrl-C again to kill them now)`);
      loop.interrupt(`KeyboardInterrupt (${signal})`);
    } else {
      warn(`bulkhead: second ${signal}: killing every worker now`);
      loop.killAll(`second ${signal}`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { exitCode, abortDetail } = await loop.run();
    await multiplexer.close();
    return { exitCode, error: abortDetail };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (artifactsDir === null) rmSync(scratchDir, { recursive: true, force: true });
  }
}
