import { join } from 'node:path';

export interface WorkerLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface WorkerLaunchOptions {
  python: string;
  pythonDir: string;
  pytestArgs: readonly string[];
  baseEnv: NodeJS.ProcessEnv;
  color: boolean;
  columns: number;
  supervisorPid: number;
  /** Where faulthandler writes the Python stacks on a crash or on SIGUSR1. */
  crashFile: string;
  heartbeatSeconds: number;
}

/**
 * How to start one pytest worker: the user's pytest arguments unchanged, plus our plugin, run by
 * a launcher that behaves like the `pytest` command (not `python -m pytest`, which would put the
 * cwd on sys.path and change what imports).
 */
export function workerLaunch(options: WorkerLaunchOptions): WorkerLaunch {
  return {
    command: options.python,
    args: [join(options.pythonDir, 'bulkhead-worker.py'), '-p', 'bulkhead_pytest.plugin', ...options.pytestArgs],
    env: {
      ...options.baseEnv,
      BULKHEAD_COLOR: options.color ? '1' : '0',
      BULKHEAD_SUPERVISOR_PID: String(options.supervisorPid),
      COLUMNS: String(options.columns),
      BULKHEAD_CRASH_FILE: options.crashFile,
      BULKHEAD_HEARTBEAT_SECONDS: String(options.heartbeatSeconds),
      PYTHONUNBUFFERED: '1',
    },
  };
}

/**
 * Options that make pytest do something other than run tests (list them, show help, debug one
 * interactively): bulkhead hands these to one plain pytest process with the terminal attached.
 */
const PLAIN_PYTEST_OPTIONS = new Set([
  '--collect-only',
  '--co',
  '--fixtures',
  '--funcargs',
  '--fixtures-per-test',
  '--markers',
  '-h',
  '--help',
  '-V',
  '--version',
  '--cache-show',
  '--setup-plan',
  '--pdb',
  '--trace',
]);

export function plainPytestReason(args: readonly string[]): string | null {
  for (const arg of args) {
    if (arg === '--') break;
    const name = arg.split('=', 1)[0]!;
    if (PLAIN_PYTEST_OPTIONS.has(name)) return name;
  }
  return null;
}
