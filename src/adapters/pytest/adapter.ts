/**
 * pytest as a FrameworkAdapter: the one object through which the runner reaches pytest. Each
 * part lives in its own module (probe, plain runs, the worker's launch, the protocol, coverage).
 */
import { join } from 'node:path';
import { packageRoot } from '../../util/package-root.js';
import type { FrameworkAdapter } from '../framework-adapter.js';
import { coverageCommand, decodeCoverageAnswer } from './coverage.js';
import { decodeWorkerLine, encodeCommand } from './decode.js';
import { plainPytestCommand, plainPytestReason } from './plain-run.js';
import { judgeProbe, probeCommand } from './probe.js';
import { workerLaunch } from './worker-spec.js';

let pluginDir: string | null = null;

/** python/ in bulkhead's package: the launcher, the plugin, the coverage helper. */
function pythonDir(): string {
  pluginDir ??= join(packageRoot(), 'python');
  return pluginDir;
}

export const pytestAdapter: FrameworkAdapter = {
  name: 'pytest',
  probeCommand,
  judgeProbe,
  plainRunReason: plainPytestReason,
  plainRunCommand: plainPytestCommand,
  launch: (request) => workerLaunch({ ...request, pythonDir: pythonDir() }),
  decodeLine: decodeWorkerLine,
  encodeCommand,
  coverageCommand: (request) => coverageCommand(pythonDir(), request),
  decodeCoverageAnswer,
};
