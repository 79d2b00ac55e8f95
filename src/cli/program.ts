/** The command line: `run`, `report` and `list`, their options, and how their errors end the process. */
import { Command, CommanderError, Option } from 'commander';
import { ENV } from '../model/environment.js';
import { ExitCode } from '../model/exit-code.js';
import { reportCommand, type ReportFlags } from './report-command.js';
import { runCommand, type RunFlags } from './run-command.js';
import { UsageError } from './usage-error.js';

const program = new Command('bulkhead')
  .description('Runs a pytest suite on supervised parallel workers: no run takes the machine down, no result is lost.')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

program
  .command('run')
  .description('run the suite; arguments after -- go to pytest unchanged')
  .argument('[pytest-args...]', 'pytest arguments (paths, -k, -m, -x, ...), after --')
  .option('-w, --workers <n>', "number of worker processes, or 'auto' (one per CPU, fewer if the memory budget says so) [default: auto]")
  .option('--config <path>', 'config file (default: bulkhead.toml, else [tool.bulkhead] in pyproject.toml, in the current folder)')
  .option('--python <path>', `Python interpreter that has pytest (default: $${ENV.python.name} or python3)`)
  .option('--junit <path>', "write JUnit XML like pytest's --junitxml")
  .option('--json <path>', "write bulkhead's versioned JSON result file")
  .option('--standby <n>', 'spare workers kept started and collected, so a crash costs no collection time [default: 0]')
  .option('--timeout <seconds>', "per-test timeout for every test (beats config and markers; default: markers, config, then the ini's `timeout`)")
  .option('--startup-timeout <seconds>', 'a worker not ready (collected) within this is killed', '600')
  .option('--heartbeat-timeout <seconds>', 'a running test whose worker is silent this long is unresponsive', '30')
  .option('--run-timeout <seconds>', 'whole-run deadline: cancel gracefully and list every test that did not run')
  .option('--kill-grace <seconds>', 'between SIGTERM and SIGKILL when a worker is killed', '5')
  .option('--cancel-grace <seconds>', 'after the first Ctrl-C, how long running tests may take to finish', '10')
  .option('--retries <n>', 'isolated re-runs of a test that crashed, timed out or ran out of memory (0 disables) [default: 1]')
  .option('--mp-start-method <method>', "multiprocessing start method set in every worker before tests are imported: fork, spawn or forkserver")
  .addOption(new Option('--no-thread-caps', 'do not cap OMP/BLAS/MKL/numexpr/numba threads per worker'))
  .addOption(new Option('--no-xdist-identity', 'do not give workers pytest-xdist\'s identity (PYTEST_XDIST_WORKER=gwN, config.workerinput) nor one random seed'))
  .option('--fail-on-flaky', 'count a flaky test (it crashed, ran out of memory or timed out only under parallel load, and passed alone) as failed')
  .option('--memory-budget <size>', 'memory the run may use in all, as bytes (4G) or a percentage of the effective limit (80%)')
  .option('--worker-memory-max <size>', 'hard memory cap per worker (cgroup, or RLIMIT_DATA + RSS watchdog)')
  .option('--worker-recycle-memory <size>', 'replace a worker between tests once its idle memory grows past this (a suite that leaks)')
  .option('--memory-control <how>', "'auto' (cgroup v1 memory controller where writable) or 'rlimit' (force RLIMIT_DATA + RSS watchdog)", 'auto')
  .addOption(new Option('--no-cgroups', 'do not put workers in cgroups of their own (process groups only)'))
  .addOption(new Option('--no-artifacts', 'keep no worker logs under .bulkhead/runs (the run is still recorded)'))
  .addOption(new Option('--no-record', "do not record the run's events in .bulkhead/runs/<id>/events.ndjson (what `bulkhead report` replays)"))
  .option('--keep-runs <n>', 'run folders (recordings, worker logs) kept under .bulkhead/runs [default: 10]')
  .action(async (pytestArgs: string[], flags: RunFlags) => {
    process.exitCode = await runCommand(pytestArgs, flags);
  });

program
  .command('report')
  .description('rebuild the reports of a recorded run: the terminal report (as `bulkhead run` printed it), --junit and --json')
  .argument('[run]', "'latest' (the newest recorded run), a run folder name under .bulkhead/runs, or a path to a run folder or an events.ndjson file", 'latest')
  .option('--junit <path>', "write the JUnit XML the run wrote (or would have written) with --junit")
  .option('--json <path>', "write bulkhead's JSON result file, as the run's --json")
  .option('-q, --quiet', 'print no terminal report')
  .action(async (run: string, flags: ReportFlags) => {
    process.exitCode = await reportCommand(run, flags);
  });

program
  .command('list')
  .description('collect the suite and print every test with its effective settings (timeout, memory, cpus, resources, group...) and where each came from; runs nothing')
  .argument('[pytest-args...]', 'pytest arguments (paths, -k, -m, ...), after --')
  .option('--config <path>', 'config file (default: bulkhead.toml, else [tool.bulkhead] in pyproject.toml)')
  .option('--python <path>', `Python interpreter that has pytest (default: $${ENV.python.name} or python3)`)
  .option('--timeout <seconds>', 'as for run: shows the effect of --timeout')
  .option('--retries <n>', 'as for run: shows the effect of --retries')
  .option('--memory-budget <size>', 'as for run: the budget that unknown tests are sized against')
  .action(async (pytestArgs: string[], flags: Partial<RunFlags>) => {
    process.exitCode = await runCommand(pytestArgs, { ...LIST_DEFAULTS, ...flags }, 'list');
  });

/** The run flags `list` does not take, at their run defaults. */
const LIST_DEFAULTS: RunFlags = {
  threadCaps: true,
  xdistIdentity: true,
  artifacts: false,
  record: true,
  startupTimeout: '600',
  heartbeatTimeout: '30',
  killGrace: '5',
  cancelGrace: '10',
  failOnFlaky: false,
  cgroups: true,
  memoryControl: 'auto',
};

export async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else is a usage error, reported on one line.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        process.exit(ExitCode.OK);
      }
      process.exit(ExitCode.USAGE_ERROR);
    }
    if (error instanceof UsageError) {
      process.stderr.write(`bulkhead: error: ${error.message}\n`);
      process.exit(ExitCode.USAGE_ERROR);
    }
    process.stderr.write(`bulkhead: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(ExitCode.INTERNAL_ERROR);
  }
}

