import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { LineSplitter } from '../util/line-splitter.js';
import { OutputLog } from './output-log.js';
import { SPAWN_DETACHED, signalProcessGroup } from './platform/index.js';

/** The file descriptor of the message channel in the worker. */
export const CHANNEL_FD = 3;
/** A protocol line longer than this is a corrupt channel (the whole collection of a huge suite fits). */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface WorkerSpawnSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logPath: string | null;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why we killed it, if we did: recorded before the signal was sent. */
  killReason: string | null;
  spawnError: NodeJS.ErrnoException | null;
}

export interface WorkerProcessEvents {
  onLine(line: string): void;
  onChannelOverflow(bytes: number): void;
  onExit(exit: WorkerExit): void;
}

/**
 * One worker OS process: its own process group, a duplex message channel on fd 3, stdout and
 * stderr drained into a log with a bounded tail. It knows nothing of pytest.
 */
export class WorkerProcess {
  readonly log: OutputLog;
  private readonly child: ChildProcess;
  private readonly channel: Duplex | null;
  private killReason: string | null = null;
  private exited = false;

  constructor(
    spec: WorkerSpawnSpec,
    private readonly events: WorkerProcessEvents,
  ) {
    this.log = new OutputLog(spec.logPath);
    this.child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...spec.env, BULKHEAD_CHANNEL_FD: String(CHANNEL_FD) },
      // fd 3 is a socket pair: one duplex channel for messages both ways.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: SPAWN_DETACHED,
    });
    this.channel = (this.child.stdio[CHANNEL_FD] as Duplex | null) ?? null;
    if (this.child.stdout) this.log.attach(this.child.stdout, this.log.stdoutTail);
    if (this.child.stderr) this.log.attach(this.child.stderr, this.log.stderrTail);
    const splitter = new LineSplitter(
      (line) => {
        if (line.length > 0) events.onLine(line);
      },
      MAX_MESSAGE_BYTES,
      (bytes) => events.onChannelOverflow(bytes),
    );
    this.channel?.on('data', (chunk: Buffer) => splitter.push(chunk));
    // EPIPE/ECONNRESET on the channel means the worker is dying; its exit tells us why.
    this.channel?.on('error', () => {});
    let spawnError: NodeJS.ErrnoException | null = null;
    this.child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      if (this.child.pid === undefined) this.finish({ code: null, signal: null, spawnError });
    });
    // 'close' waits for stdout/stderr to end too, so the stderr tail is complete when we report.
    this.child.on('close', (code, signal) => this.finish({ code, signal, spawnError }));
  }

  private finish(exit: Omit<WorkerExit, 'killReason'>): void {
    if (this.exited) return;
    this.exited = true;
    this.channel?.destroy();
    void this.log.close();
    this.events.onExit({ ...exit, killReason: this.killReason });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  send(text: string): void {
    if (this.exited || !this.channel || this.channel.destroyed) return;
    this.channel.write(text);
  }

  /** Records why (first reason wins), then signals the worker's whole process group. */
  kill(reason: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.killReason ??= reason;
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    signalProcessGroup(pid, signal);
  }

  /** Kills what is left of the process group after the worker itself exited (leaked children). */
  reapGroup(): void {
    const pid = this.child.pid;
    if (pid !== undefined) signalProcessGroup(pid, 'SIGKILL');
  }
}
