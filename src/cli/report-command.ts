/**
 * `bulkhead report [RUN|latest] [--junit PATH] [--json PATH] [-q]`: rebuilds a run's reports from
 * its recording. The reporters are the live ones, fed the recorded events, so the JUnit and JSON
 * files are byte for byte those the run wrote (reporters read no clock, host or environment: what
 * they need is in the events). The terminal report is the run's, at this terminal's width.
 *
 * Exit codes: the recorded run's own exit code; 2 (pytest's "interrupted") for a recording that
 * ends without its run's end (bulkhead was killed): whatever had failed, the run did not finish;
 * 3 when a report file cannot be written (as pytest when its --junitxml cannot be); 4 for a
 * recording that is missing, corrupt, newer than this bulkhead, or lacks what a report needs.
 */
import { resolve } from 'node:path';
import { ExitCode } from '../model/exit-code.js';
import { completeRecording, locateRecording, readRecording, recordingIsLive, STOPPED, type Recording } from '../record/index.js';
import { JsonReporter } from '../reporters/json-reporter.js';
import { JunitReporter } from '../reporters/junit.js';
import { ReporterMultiplexer } from '../reporters/multiplexer.js';
import type { Reporter } from '../reporters/reporter.js';
import { TerminalReporter } from '../reporters/terminal/terminal-reporter.js';
import { decideColor, terminalColumns } from './terminal.js';

export interface ReportFlags {
  junit?: string;
  json?: string;
  quiet?: boolean;
}

const SGR = /\x1b\[[0-9;]*m/g;

export async function reportCommand(run: string | undefined, flags: ReportFlags): Promise<number> {
  const cwd = process.cwd();
  const error = (line: string): number => {
    process.stderr.write(`bulkhead: error: ${line}\n`);
    return ExitCode.USAGE_ERROR;
  };
  const located = locateRecording(cwd, run);
  if (!located.ok) return error(located.message);
  const read = readRecording(located.path);
  if (!read.ok) return error(read.message);
  const { recording } = read;
  if (recording.skipped.size > 0) process.stderr.write(`${skippedWarning(recording)}\n`);
  if (flags.junit !== undefined && !hasJunitRenderings(recording)) {
    return error(
      `${recording.path} has no JUnit renderings (its run had neither --junit nor --junitxml, or the recording ends before ` +
        'its pytest session started), so --junit cannot be rebuilt from it',
    );
  }
  // A recording without its end is usually a bulkhead that was killed; it may also be a run that
  // is still going (another bulkhead in this project): then it is reported as it stands.
  const { runId, argv } = recording.header;
  const why = recordingIsLive(runId, argv) ? `the run is still going (bulkhead pid ${/-(\d+)$/.exec(runId)?.[1]})` : STOPPED;
  const completed = completeRecording(recording.events, why);

  const reporters: Reporter[] = [];
  if (!flags.quiet) {
    // The recorded run chose its colours (pytest rendered its tracebacks with them): where this
    // terminal wants none, they are taken out.
    const color = decideColor();
    const write = (text: string): void => {
      process.stdout.write(color ? text : text.replace(SGR, ''));
    };
    reporters.push(new TerminalReporter(write, { color, width: terminalColumns() }));
  }
  if (flags.junit !== undefined) reporters.push(new JunitReporter(resolve(cwd, flags.junit), { pytestPath: false }));
  if (flags.json !== undefined) reporters.push(new JsonReporter(resolve(cwd, flags.json)));
  let failed = false;
  const multiplexer = new ReporterMultiplexer(reporters, (name, cause) => {
    failed = true;
    process.stderr.write(`bulkhead: error: the ${name} report could not be rebuilt: ${cause instanceof Error ? cause.message : String(cause)}\n`);
  });
  for (const event of completed.events) multiplexer.onEvent(event);
  await multiplexer.close();
  if (failed) return ExitCode.INTERNAL_ERROR;
  if (completed.cutShort !== null) return ExitCode.INTERRUPTED;
  const end = completed.events.find((event) => event.type === 'run_finished');
  return end?.type === 'run_finished' ? end.exitCode : ExitCode.INTERRUPTED;
}

function hasJunitRenderings(recording: Recording): boolean {
  return recording.events.some((event) => event.type === 'session_info' && event.info.pytest.junit != null);
}

/** One line for every event type a newer bulkhead wrote that this one skips. */
function skippedWarning(recording: Recording): string {
  const types = [...recording.skipped].map(([type, count]) => `${type} x${count}`).join(', ');
  return `bulkhead: warning: ${recording.path} has events this bulkhead does not know (${types}), written by bulkhead ${recording.header.bulkhead}: skipped`;
}
