/**
 * One `bulkhead run`: probe the interpreter, start the run loop, stream its events to the
 * reporters, handle Ctrl-C (first: stop scheduling and let running tests finish; second: kill).
 */
import type { FrameworkAdapter } from '../adapters/framework-adapter.js';
import { pytestAdapter } from '../adapters/pytest/adapter.js';
import type { RunEvent, RunEventBody, RunOrigin } from '../model/event.js';
import { unshim, withPathFirst } from './interpreter.js';
import { ExitCode } from '../model/exit-code.js';
import { execCommand } from '../supervisor/exec.js';
import { takeEarlyProbe } from './head-start.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter } from '../reporters/reporter.js';
import { ReporterMultiplexer } from '../reporters/multiplexer.js';
import { openRunFolder } from '../record/index.js';
import type { RunOptions, SettingsResolver } from '../core/options.js';
import { HistoryRecorder, HistoryStore } from '../history/index.js';
import { autoWorkers } from '../scheduler/memory-budget.js';
import { formatBytes } from '../util/bytes.js';
import { availableParallelism } from 'node:os';
import { runPlain } from './plain-pytest.js';
import { RunShell } from './run-shell.js';

export interface RunRequest extends Omit<RunOptions, 'artifactsDir' | 'scratchDir' | 'workers'> {
  keepArtifacts: boolean;
  /** Record every event in `.bulkhead/runs/<id>/events.ndjson` (see src/record/). */
  record: boolean;
  /** Run folders kept under `.bulkhead/runs` (this one counts). */
  keepRuns: number;
  /** A number, or 'auto': one per CPU, fewer where the history says the budget holds fewer. */
  workers: number | 'auto';
  resolveSettings?: SettingsResolver;
}

export type RunOutcome = { exitCode: number; error: string | null };

/** The one place the runner names a framework: everything else reaches it through this adapter. */
const framework: FrameworkAdapter = pytestAdapter;

export async function runTests(request: RunRequest, reporters: readonly Reporter[], warn: (line: string) => void): Promise<RunOutcome> {
  const probe = framework.probeCommand(request.python);
  const probeCwd = probe.cwd ?? request.cwd;
  const probed = await (takeEarlyProbe(probe.command, probe.args, probeCwd, process.env) ??
    execCommand(probe.command, probe.args, { cwd: probeCwd, env: process.env, timeoutMs: probe.timeoutMs }));
  const verdict = framework.judgeProbe(request.python, probed);
  if (!verdict.ok) return { exitCode: ExitCode.USAGE_ERROR, error: verdict.message };
  const interpreter = unshim(request.python, verdict.executable, process.env.PATH);
  if (interpreter.pathFirst !== null) {
    // What the shim would have done for each process the run starts (see interpreter.ts).
    process.env.PATH = withPathFirst(process.env.PATH, interpreter.pathFirst);
    request = { ...request, python: interpreter.python };
  }

  const plainReason = framework.plainRunReason(request.pytestArgs);
  if (plainReason !== null) {
    return { exitCode: await runPlain(framework.plainRunCommand(request.python, request.pytestArgs), request.cwd), error: null };
  }

  // The history store: predictions for scheduling, and this run's results for the next. A store
  // that cannot be used costs only predictions.
  const opened = HistoryStore.open(request.cwd, { warn });
  const store = opened.kind === 'open' ? opened.store : null;
  if (opened.kind === 'unavailable') warn(`bulkhead: ${opened.message}`);
  else if (opened.notice !== null) warn(`bulkhead: ${opened.notice}`);
  let workers = request.workers === 'auto' ? availableParallelism() : request.workers;
  if (request.workers === 'auto') {
    const need = store?.workerNeed() ?? null;
    workers = autoWorkers(availableParallelism(), request.memory.budgetBytes, need);
    if (need !== null && workers < availableParallelism()) {
      warn(
        `bulkhead: --workers auto: ${workers} of ${availableParallelism()} CPUs, as the last run's workers needed ` +
          `${formatBytes(need.baselineBytes + need.peakBytes)} each (baseline plus a heavy test) of a ${formatBytes(request.memory.budgetBytes)} budget`,
      );
    }
  }

  // The run's wall-clock start and host, stamped on run_started so reporters never read a clock.
  const startedAt = new Date();
  const runOrigin: RunOrigin = { startedAt: startedAt.toISOString(), utcOffsetMinutes: -startedAt.getTimezoneOffset(), hostname: hostname() };
  const { artifactsDir, recorder } = openRunFolder({ ...request, startedAt, argv: process.argv, warn });
  // Crash dumps need a place even when no artifacts are kept.
  const scratchDir = artifactsDir ?? mkdtempSync(join(tmpdir(), 'bulkhead-'));
  // The recorder first: an event is on disk before any reporter has shown it.
  const all = [...(recorder ? [recorder] : []), ...reporters, ...(store && !request.listOnly ? [new HistoryRecorder(store, { warn })] : [])];
  const multiplexer = new ReporterMultiplexer(all, (name, error) =>
    warn(`bulkhead: the ${name} reporter failed and was skipped: ${error instanceof Error ? error.message : String(error)}`),
  );
  const origin = performance.now();
  let seq = 0;
  const emit = (body: RunEventBody): void => {
    const stamped = body.type === 'run_started' ? { ...body, origin: runOrigin } : body;
    const event = { ...stamped, seq: seq++, t: Math.round((performance.now() - origin) * 1000) / 1000 } as RunEvent;
    multiplexer.onEvent(event);
  };
  const loop = new RunShell(
    { ...request, workers, artifactsDir, scratchDir },
    {
      emit,
      framework,
      now: () => performance.now(),
      ...(store ? { history: (ids: readonly string[]) => store.predict(ids) } : {}),
      ...(request.resolveSettings ? { resolveSettings: request.resolveSettings } : {}),
    },
  );

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
    store?.close();
    if (artifactsDir === null) rmSync(scratchDir, { recursive: true, force: true });
  }
}
