import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { KillReason } from '../model/cause.js';
import { LineSplitter } from '../util/line-splitter.js';
import { Journal } from './journal.js';
import { OutputLog } from './output-log.js';
import { SPAWN_DETACHED, signalProcess, signalProcessGroup, wrapInCgroups, type CgroupLeaf, type MemoryCgroup } from './platform/index.js';

/** The file descriptor of the message channel in the worker. */
export const CHANNEL_FD = 3;
/** The file descriptor of its journal, where it writes its messages (see journal.ts). */
export const JOURNAL_FD = 4;
/** A protocol line longer than this is a corrupt channel (the whole collection of a huge suite fits). */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface WorkerSpawnSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The environment variable that tells the worker its channel's file descriptor (the framework adapter names it). */
  channelFdVariable: string;
  /** The one for its journal; without it, messages come on the channel. */
  journalFdVariable?: string;
  logPath: string | null;
  /** A cgroup of its own, where the platform offers one: the worker enters it before it execs. */
  cgroup: CgroupLeaf | null;
  /** Its cgroup v1 memory leaf (hard cap, peaks, OOM kills), where that controller is writable. */
  memory: MemoryCgroup | null;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why we killed it, if we did: recorded before the first signal was sent. */
  killReason: KillReason | null;
  spawnError: NodeJS.ErrnoException | null;
}

export interface WorkerProcessEvents {
  onLine(line: string): void;
  onChannelOverflow(bytes: number): void;
  onExit(exit: WorkerExit): void;
}

/**
 * One worker OS process: its own process group (and cgroup where available), a duplex message
 * channel on fd 3, stdout and stderr drained into a log with a bounded tail. It knows nothing of
 * pytest.
 */
export class WorkerProcess {
  readonly log: OutputLog;
  /** Set by terminateWorker while the staged kill is under way. */
  terminating = false;
  private readonly child: ChildProcess;
  private readonly channel: Duplex | null;
  private readonly journal: Journal | null;
  private readonly journalLines: LineSplitter | null;
  private readonly cgroup: CgroupLeaf | null;
  readonly memory: MemoryCgroup | null;
  private reasonForKill: KillReason | null = null;
  private exited = false;
  private readonly exitListeners: Array<() => void> = [];

  constructor(
    spec: WorkerSpawnSpec,
    private readonly events: WorkerProcessEvents,
  ) {
    this.log = new OutputLog(spec.logPath);
    this.cgroup = spec.cgroup;
    this.memory = spec.memory;
    const dirs = [spec.cgroup?.path, spec.memory?.path].filter((dir): dir is string => dir !== undefined);
    const launch = wrapInCgroups(dirs, spec.command, spec.args);
    // From the main thread, as every spawn here: the worker's PR_SET_PDEATHSIG fires when the thread
    // that forked it ends (a worker_thread that spawned workers would take them down with it).
    this.journal = spec.journalFdVariable ? new Journal() : null;
    const journalEnv = spec.journalFdVariable && this.journal ? { [spec.journalFdVariable]: String(JOURNAL_FD) } : {};
    try {
      this.child = spawn(launch.command, launch.args, {
        cwd: spec.cwd,
        env: { ...spec.env, [spec.channelFdVariable]: String(CHANNEL_FD), ...journalEnv },
        // fd 3 is a socket pair: one duplex channel for messages both ways; fd 4 the journal.
        stdio: ['ignore', 'pipe', 'pipe', 'pipe', ...(this.journal ? [this.journal.fd] : [])],
        detached: SPAWN_DETACHED,
      });
    } catch (error) {
      this.journal?.close();
      throw error;
    }
    this.channel = (this.child.stdio[CHANNEL_FD] as Duplex | null) ?? null;
    if (this.child.stdout) this.log.attach(this.child.stdout, this.log.stdoutTail);
    if (this.child.stderr) this.log.attach(this.child.stderr, this.log.stderrTail);
    const lines = (): LineSplitter =>
      new LineSplitter(
        (line) => {
          if (line.length > 0) events.onLine(line);
        },
        MAX_MESSAGE_BYTES,
        (bytes) => events.onChannelOverflow(bytes),
      );
    const splitter = lines();
    this.journalLines = this.journal ? lines() : null;
    // With a journal, what the channel brings is a doorbell: what was journaled comes first.
    this.channel?.on('data', (chunk: Buffer) => {
      this.readJournal();
      splitter.push(chunk);
    });
    // EPIPE/ECONNRESET on the channel means the worker is dying; its exit tells us why.
    this.channel?.on('error', () => {});
    let spawnError: NodeJS.ErrnoException | null = null;
    this.child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      if (this.child.pid === undefined) this.finish({ code: null, signal: null, spawnError });
    });
    // 'close' waits for stdout/stderr to end too, so the stderr tail is complete when we report.
    // A process a test left behind can hold them open, so the exit itself also ends the worker:
    // it kills what is left of its tree, which closes the pipes.
    this.child.on('exit', () => this.reapTree());
    this.child.on('close', (code, signal) => this.finish({ code, signal, spawnError }));
  }

  private finish(exit: Omit<WorkerExit, 'killReason'>): void {
    if (this.exited) return;
    // Its last messages before its exit, whatever ended it.
    this.readJournal();
    this.journal?.close();
    this.exited = true;
    this.channel?.destroy();
    this.reapTree();
    void this.log.close();
    for (const listener of this.exitListeners.splice(0)) listener();
    this.events.onExit({ ...exit, killReason: this.reasonForKill });
    // Only now: the exit's cause was read from this cgroup (its OOM count and peak).
    if (this.memory) removeWhenEmpty(this.memory);
  }

  /** Takes in what the worker journaled since the last read (no-op without a journal). */
  readJournal(): void {
    const lines = this.journalLines;
    if (lines && !this.exited) this.journal?.read((chunk) => lines.push(chunk));
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  onceExited(listener: () => void): void {
    if (this.exited) listener();
    else this.exitListeners.push(listener);
  }

  send(text: string): void {
    if (this.exited || !this.channel || this.channel.destroyed) return;
    this.channel.write(text);
  }

  /** Records why we are about to kill it. The first reason wins. */
  recordKillReason(reason: KillReason): void {
    this.reasonForKill ??= reason;
  }

  /** Why we are killing it, once we decided to; null while nobody means to. */
  get killReason(): KillReason | null {
    return this.reasonForKill;
  }

  /** Signals the worker's whole process group. */
  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid !== undefined && !this.exited) signalProcessGroup(pid, signal);
  }

  /** Signals only the worker process (SIGUSR1 asks its faulthandler for the stacks). */
  signalMain(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid !== undefined && !this.exited) signalProcess(pid, signal);
  }

  /** SIGKILL to the process group and to everything in the worker's cgroup. */
  killHard(): void {
    const pid = this.child.pid;
    if (pid !== undefined) signalProcessGroup(pid, 'SIGKILL');
    this.cgroup?.kill();
  }

  /** Kills what a test left running once the worker itself is gone, and drops its cgroup. */
  private reapTree(): void {
    const pid = this.child.pid;
    if (pid !== undefined) signalProcessGroup(pid, 'SIGKILL');
    if (this.cgroup) {
      this.cgroup.kill();
      if (this.exited) removeWhenEmpty(this.cgroup);
    }

  }
}

/** A cgroup can be removed only once the kernel has finished killing its processes. */
function removeWhenEmpty(cgroup: { remove(): void; path: string }, attempts = 50): void {
  if (cgroupPids(cgroup.path).length === 0) {
    cgroup.remove();
    return;
  }
  if (attempts > 0) setTimeout(() => removeWhenEmpty(cgroup, attempts - 1), 20).unref();
}

function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
