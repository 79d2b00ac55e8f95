/**
 * The run's lifeline: a tiny process (python/bulkhead-reaper.py) that outlives bulkhead and, if
 * bulkhead dies without saying goodbye (SIGKILL, the OOM killer, a crash past our handlers), kills
 * every process of the run and removes its cgroups. Nothing of a SIGKILLed Node process runs, and
 * a worker that is stopped or stuck in C holding the GIL cannot act for itself, let alone for the
 * children its test started; so the one who acts must be another process.
 *
 * It holds the far end of a pipe on its stdin and nothing else of ours: the kernel closes our end
 * however we end, and that end of input is its signal. It starts in a session of its own, so a
 * Ctrl-C or a kill of bulkhead's process group does not take it first (and it ignores SIGINT,
 * SIGTERM and SIGHUP). It is told each worker as it starts and when it is gone; `close()` is the
 * goodbye, after which it exits and kills nothing.
 *
 * Why Python, with the interpreter under test: it is there (the run cannot start without it), and
 * it costs ~20 ms of CPU to start and ~10 MiB resident, where a second Node would hold ~40 MiB to
 * do nothing but wait; `-I -S` keeps the project's environment and site-packages out of it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { ENV } from '../model/environment.js';

/** The environment variable that marks every worker (and what its tests start) as this run's. */
export const RUN_MARKER_VARIABLE = ENV.runId.name;

export interface RunReaperOptions {
  /** The interpreter under test (checked by the probe before any worker starts). */
  python: string;
  /** python/bulkhead-reaper.py in bulkhead's package. */
  script: string;
  /** The run's own cgroup folders (v2 and v1 memory), removed after a death, children first. */
  cgroups: readonly string[];
  /** The lifeline is lost (the reaper could not start, or died during the run): said once. */
  onLost?: (detail: string) => void;
}

/** What the reaper needs of a worker to kill its whole tree. */
export interface ReapedWorker {
  pid: number;
  /** Its process group (workers lead their own: their pid). */
  pgid: number;
  /** Its cgroup folders (v2 leaf, v1 memory leaf). */
  cgroups: readonly string[];
}

/** The messages of python/bulkhead-reaper.py, one JSON object a line. */
type ReaperMessage =
  | { type: 'run'; runId: string; marker: string; supervisorPid: number; cgroups: readonly string[] }
  | { type: 'worker'; pid: number; pgid: number; cgroups: readonly string[] }
  | { type: 'gone'; pid: number }
  | { type: 'bye' };

export class RunReaper {
  /** This run's marker: a worker's environment holds it, and so does whatever its tests start. */
  readonly runId = randomUUID().replaceAll('-', '');
  private readonly child: ChildProcess;
  private closing = false;
  private lost = false;

  private constructor(private readonly options: RunReaperOptions) {
    this.child = spawn(options.python, ['-I', '-S', options.script], {
      // Its stderr is ours, for the one line it writes after a death; it holds no other fd of ours.
      stdio: ['pipe', 'ignore', 'inherit'],
      detached: true,
      cwd: '/',
    });
    // Neither the process nor its pipe keeps bulkhead alive: a run that ends without close()
    // (an exception on the way out) must still exit, and the reaper then cleans up after it.
    this.child.unref();
    (this.child.stdin as Socket | null)?.unref();
    // EPIPE: the reaper is gone; its exit says so below.
    this.child.stdin?.on('error', () => {});
    this.child.on('error', (error) => this.loseLifeline(`cannot start '${options.python}' for it: ${error.message}`));
    this.child.on('exit', (code, signal) => this.loseLifeline(`it exited (${signal ?? `code ${code}`})`));
    this.send({ type: 'run', runId: this.runId, marker: RUN_MARKER_VARIABLE, supervisorPid: process.pid, cgroups: options.cgroups });
  }

  static start(options: RunReaperOptions): RunReaper {
    return new RunReaper(options);
  }

  /** The reaper's pid (null if it could not start). */
  get pid(): number | null {
    return this.child.pid ?? null;
  }

  /** The variables a worker's environment gets, marking it and its descendants as this run's. */
  get env(): Record<string, string> {
    return { [RUN_MARKER_VARIABLE]: this.runId };
  }

  /** A worker started: kill its group and cgroups too if bulkhead dies. */
  register(worker: ReapedWorker): void {
    this.send({ type: 'worker', pid: worker.pid, pgid: worker.pgid, cgroups: worker.cgroups });
  }

  /** A worker was reaped: its pid and group may now be reused by processes that are not ours. */
  forget(pid: number): void {
    this.send({ type: 'gone', pid });
  }

  /** The run is over: the reaper exits and kills nothing. */
  close(): void {
    if (this.closing) return;
    this.send({ type: 'bye' });
    this.closing = true;
    this.child.stdin?.end();
  }

  private send(message: ReaperMessage): void {
    const stdin = this.child.stdin;
    if (this.closing || this.lost || !stdin || stdin.destroyed) return;
    // A line this short goes to the pipe at once (libuv tries the write synchronously), so what
    // was sent before a SIGKILL of bulkhead is there for the reaper to read before the end.
    stdin.write(`${JSON.stringify(message)}\n`);
  }

  private loseLifeline(detail: string): void {
    if (this.closing || this.lost) return;
    this.lost = true;
    this.options.onLost?.(`the run's reaper is lost (${detail}): should bulkhead die now, what its tests started may outlive it`);
  }
}
