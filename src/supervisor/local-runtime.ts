/**
 * The WorkerRuntime of local processes: each worker a child process in its own process group and,
 * where the platform allows, its own cgroups (v2 for cgroup.kill, the memory rung's leaf for its
 * cap); killed in stages against its whole tree; its exit read for the facts the core classifies
 * (OOM evidence from its memory cgroup, its stderr tail, faulthandler's stacks).
 */
import type { KillReason } from '../model/cause.js';
import type { MemoryControl } from '../model/event.js';
import type { MemoryOptions } from '../model/memory-options.js';
import type { LeakedProcess, WorkerId } from '../model/test.js';
import type { ExitFacts, MemoryReading, WorkerSample } from '../model/worker-facts.js';
import { innermostFrame, readCrashStacks, readLatestDump } from './crash-file.js';
import { MemoryRung, type RungWorker } from './memory-rung.js';
import { availableMemory, CgroupTree, memoryPressure, type MemoryCgroup, processProgress, processStartTime, signalProcess } from './platform/index.js';
import { RunReaper } from './run-reaper.js';
import { terminateWorker } from './terminate.js';
import { WorkerProcess, type WorkerExit } from './worker-process.js';
import type { KillHow, WorkerFact, WorkerRuntime, WorkerSpec } from './worker-runtime.js';

export interface LocalRuntimeOptions {
  cwd: string;
  memory: MemoryOptions;
  useCgroups: boolean;
  killGraceSeconds: number;
  /** The interpreter under test and python/bulkhead-reaper.py: the run's reaper (see run-reaper.ts). */
  python: string;
  reaperScript: string;
  /** The reaper could not start or died: should bulkhead die now, the run's processes may outlive it. */
  onLifelineLost(detail: string): void;
}

class LocalWorker implements RungWorker {
  pid: number | null = null;
  exited = false;
  leaf: MemoryCgroup | null = null;
  process: WorkerProcess | null = null;

  constructor(
    readonly id: WorkerId,
    public isolated: boolean,
    readonly crashFile: string,
    readonly stacksFile: string,
  ) {}

  get terminating(): boolean {
    return this.process?.terminating ?? false;
  }
}

/**
 * How often every live worker's journal is read when no doorbell rang (journal.ts): how stale a
 * result may be in the supervisor, and so in the recording, should bulkhead itself die.
 */
const JOURNAL_POLL_MS = 20;

export class LocalWorkerRuntime implements WorkerRuntime {
  readonly memoryControl: MemoryControl;
  private readonly cgroups: CgroupTree | null;
  private readonly rung: MemoryRung;
  private readonly workers = new Map<WorkerId, LocalWorker>();
  /** Kills the run's processes should bulkhead die. */
  private readonly reaper: RunReaper;
  private readonly journalPoll: NodeJS.Timeout;

  constructor(
    private readonly options: LocalRuntimeOptions,
    /** Where facts go: the shell puts each on the run's one input queue. */
    private readonly report: (fact: WorkerFact) => void,
  ) {
    const runName = `bulkhead-${process.pid}-${Date.now()}`;
    const memory = options.memory;
    this.cgroups = options.useCgroups ? CgroupTree.create(runName, memory.forceRlimit ? null : { budgetBytes: memory.budgetBytes }) : null;
    this.rung = new MemoryRung(memory, options.useCgroups, runName, this.cgroups);
    this.memoryControl = this.rung.control;
    const runCgroups = [this.cgroups?.root, this.rung.cgroupRoot].filter((dir): dir is string => typeof dir === 'string');
    this.reaper = RunReaper.start({ python: options.python, script: options.reaperScript, cgroups: runCgroups, onLost: options.onLifelineLost });
    // A look at each journal needs nothing of the worker: one stuck in C holding the GIL, which
    // could not ring, is read all the same.
    this.journalPoll = setInterval(() => this.readJournals(), JOURNAL_POLL_MS);
    this.journalPoll.unref();
  }

  private readJournals(): void {
    for (const worker of this.workers.values()) if (!worker.exited) worker.process?.readJournal();
  }

  start(spec: WorkerSpec): void {
    const id = spec.worker;
    const worker = new LocalWorker(id, spec.isolated, spec.crashFile, spec.stacksFile);
    const cgroup = this.cgroups?.leaf(`worker-${id}`) ?? null;
    const { leaf: memory, limits } = this.rung.confine(worker, cgroup);
    const launch = spec.launch(limits);
    const env = { ...launch.env, ...this.reaper.env };
    worker.leaf = memory;
    worker.process = new WorkerProcess(
      { command: launch.command, args: launch.args, env, channelFdVariable: launch.channelFdVariable, journalFdVariable: launch.journalFdVariable, cwd: this.options.cwd, logPath: spec.logPath, cgroup, memory },
      {
        onLine: (line) => this.report({ type: 'line', worker: id, line }),
        onChannelOverflow: (bytes) => this.report({ type: 'overflow', worker: id, bytes }),
        onExit: (exit) => this.onExit(worker, exit),
      },
    );
    worker.pid = worker.process.pid;
    if (worker.pid !== null) this.reaper.register({ pid: worker.pid, pgid: worker.pid, cgroups: [cgroup, memory].flatMap((leaf) => (leaf ? [leaf.path] : [])) });
    this.workers.set(id, worker);
    this.report({ type: 'spawned', worker: id, pid: worker.pid });
  }

  send(worker: WorkerId, text: string): void {
    this.workers.get(worker)?.process?.send(text);
  }

  kill(id: WorkerId, reason: KillReason, how: KillHow): void {
    const worker = this.workers.get(id);
    if (!worker?.process || worker.exited) return;
    if (how.hard) {
      worker.process.recordKillReason(reason);
      worker.process.killHard();
      return;
    }
    const dumped = how.watchdogDump && readLatestDump(worker.stacksFile) !== '';
    terminateWorker(worker.process, reason, {
      dumpStacksMs: how.dumpStacks && !dumped ? 500 : 0,
      graceMs: this.options.killGraceSeconds * 1000,
    });
  }

  /**
   * Without a cgroup this is what catches a daemon that left the process group with setsid; the
   * start time guards against a pid the kernel has since given to another process.
   */
  reapLeaked(_worker: WorkerId, leaked: readonly LeakedProcess[]): void {
    for (const { pid, startTime } of leaked) {
      if (processStartTime(pid) === startTime) signalProcess(pid, 'SIGKILL');
    }
  }

  setLone(id: WorkerId, lone: boolean, isolated: boolean): void {
    const worker = this.workers.get(id);
    if (!worker) return;
    if (isolated) worker.isolated = true;
    if (lone) this.rung.makeLone(worker);
    else this.rung.releaseLone(worker);
  }

  readStacks(id: WorkerId): { where: string | null; stacksFile: string | null } {
    const worker = this.workers.get(id);
    const dump = worker ? readLatestDump(worker.stacksFile) : '';
    return { where: dump ? innermostFrame(dump) : null, stacksFile: dump && worker ? worker.stacksFile : null };
  }

  sample(withMemory: boolean): { samples: WorkerSample[]; memory: MemoryReading } {
    // What the workers wrote since they were last read comes before the tick that judges them.
    this.readJournals();
    const live = [...this.workers.values()].filter((worker) => !worker.exited);
    const over = new Map(this.rung.overCap(live).map((entry) => [entry.slot.id, entry]));
    const samples = live.map((worker): WorkerSample => {
      const progress = worker.pid !== null ? processProgress(worker.pid) : null;
      const overCap = over.get(worker.id);
      return {
        worker: worker.id,
        cpuTicks: progress?.cpuTicks ?? null,
        stopped: progress?.stopped ?? false,
        residentBytes: withMemory ? this.rung.residentBytes(worker) : null,
        overCap: overCap ? { capBytes: overCap.capBytes, rssBytes: overCap.rssBytes, limit: worker.isolated ? 'lone_cap' : 'worker_cap' } : null,
      };
    });
    return { samples, memory: { availableBytes: availableMemory(), stallPercent: memoryPressure() } };
  }

  residentBytes(id: WorkerId): number {
    const worker = this.workers.get(id);
    return worker ? this.rung.residentBytes(worker) : 0;
  }

  runPeakBytes(): number | null {
    return this.rung.runPeakBytes();
  }

  dispose(): void {
    clearInterval(this.journalPoll);
    this.reaper.close();
    this.cgroups?.remove();
    this.rung.dispose();
  }

  private onExit(worker: LocalWorker, exit: WorkerExit): void {
    const leaf = worker.leaf;
    const oomLeaf = leaf && exit.signal === 'SIGKILL' && leaf.oomKills() > 0 ? leaf : null;
    const facts: ExitFacts = {
      code: exit.code,
      signal: exit.signal,
      spawnError: exit.spawnError ? { code: exit.spawnError.code ?? null, message: exit.spawnError.message } : null,
      stderrTail: worker.process?.log.stderrTail.lastLines(40) ?? '',
      crashStacks: readCrashStacks(worker.crashFile),
      latestDump: readLatestDump(worker.stacksFile),
      oom: oomLeaf ? this.rung.oomFacts(worker, oomLeaf) : null,
      peers: [...this.workers.values()]
        .filter((other) => other !== worker && !other.exited)
        .map((other) => ({ worker: other.id, memoryBytes: this.rung.testPeakBytes(other) })),
    };
    worker.exited = true;
    if (worker.pid !== null) this.reaper.forget(worker.pid);
    this.rung.releaseLone(worker);
    this.rung.settleRunLimit();
    this.report({ type: 'exited', worker: worker.id, exit: facts });
  }
}
