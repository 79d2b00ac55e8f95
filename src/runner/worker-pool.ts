/**
 * The worker processes of a run: starting them (pool members, warm spares, fresh workers for
 * isolated retries), their lifecycle, killing them in stages, and turning each exit into a cause.
 * Restart backoff and the crash-loop breaker come from the pure RestartPolicy.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FrameworkAdapter } from '../adapters/framework-adapter.js';
import type { ExitCause, KillReason } from '../model/cause.js';
import type { RunEndReason, RunEventBody } from '../model/event.js';
import type { CrashReport } from '../model/outcome.js';
import { RestartPolicy } from '../scheduler/restart-policy.js';
import { readCrashStacks, readLatestDump } from '../supervisor/crash-file.js';
import { CgroupTree, processProgress } from '../supervisor/platform/index.js';
import { PoolMemory } from './pool-memory.js';
import { terminateWorker } from '../supervisor/terminate.js';
import type { WatchedWorker } from '../supervisor/watchdog.js';
import { WorkerProcess, type WorkerExit } from '../supervisor/worker-process.js';
import type { RunOptions } from './options.js';
import { WorkerSlot, type SlotRole, type SlotState } from './worker-slot.js';
import { deathOf, describeDeath, killLeaked, pytestVerdict } from './worker-exit.js';
import { XdistIds } from './xdist-ids.js';
import { launchFor, workerLogPath } from './worker-launch.js';

export interface WorkerDeath {
  slot: WorkerSlot;
  cause: ExitCause;
  crash: CrashReport;
}

export interface WorkerPoolHooks {
  emit(event: RunEventBody): void;
  now(): number;
  /** How to start a worker of the run's test framework. */
  framework: FrameworkAdapter;
  onLine(slot: WorkerSlot, line: string): void;
  /** A worker may take tests now. */
  onReady(slot: WorkerSlot): void;
  /** A worker exited; its running test (if any) is to be settled with the cause. */
  onDeath(death: WorkerDeath): void;
  /** The run cannot go on (a crash loop, pytest rejecting its arguments): abort with this. */
  onAbort(detail: string, exitCode: number): void;
  /** Whether a lost pool worker still needs replacing. */
  hasWork(): boolean;
  /** A delayed start was not needed after all (the run may now be over). */
  onStartDropped(): void;
}

export class WorkerPool {
  private readonly slots = new Map<number, WorkerSlot>();
  private readonly policy: RestartPolicy;
  private readonly cgroups: CgroupTree | null;
  /** The memory rung in force: caps, the run's peak, a worker's resident size. */
  readonly memory: PoolMemory;
  private nextId = 1;
  private pendingStarts = 0;
  private stopped = false;
  private stderrSlot: WorkerSlot | null = null;
  private stderrDetail: string | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  /** The gwN ids of live workers (see xdist-ids.ts). */
  private readonly xdistIds = new XdistIds();
  /** xdist's testrun_uid: one for the run, as xdist's controller draws it (uuid4().hex). */
  readonly testRunUid = randomUUID().replaceAll('-', '');
  /**
   * The run's one random seed, drawn as pytest-randomly draws its own (32 bits): every worker
   * shuffles and reseeds with it unless the user gives one (--randomly-seed=N).
   */
  readonly seed = randomInt(2 ** 32);

  constructor(
    private readonly options: RunOptions,
    private readonly hooks: WorkerPoolHooks,
  ) {
    this.policy = new RestartPolicy(options.restart);
    const runName = `bulkhead-${process.pid}-${Date.now()}`;
    const memory = options.memory;
    this.cgroups = options.useCgroups ? CgroupTree.create(runName, memory.forceRlimit ? null : { budgetBytes: memory.budgetBytes }) : null;
    this.memory = new PoolMemory(options, runName, this.cgroups);
  }

  startInitial(): void {
    this.hooks.emit({ type: 'memory_control', control: this.memory.control });
    // Listing needs one collection only; the pool size still sizes what unknown tests are assumed to need.
    const workers = this.options.listOnly ? 1 : this.options.workers;
    for (let i = 0; i < workers; i += 1) this.spawn('pool', i, null);
    for (let i = 0; i < this.options.standby; i += 1) this.spawn('standby', this.options.workers + i, null);
  }

  get(id: number): WorkerSlot | undefined {
    return this.slots.get(id);
  }

  watched(): WatchedWorker[] {
    return this.live().map((slot) => slot.watched());
  }

  /** Workers not yet exited. */
  live(): WorkerSlot[] {
    return [...this.slots.values()].filter((slot) => slot.state !== 'exited');
  }

  allExited(): boolean {
    return this.pendingStarts === 0 && this.pendingIsolated === null && [...this.slots.values()].every((slot) => slot.state === 'exited');
  }

  testRan(): void {
    this.policy.testRan();
  }

  /** The worker collected and matched the suite. A spare waits; others may take tests. */
  markReady(slot: WorkerSlot): void {
    slot.readyAt = this.hooks.now();
    if (slot.role === 'standby') {
      slot.state = 'ready';
      return;
    }
    slot.state = 'ready';
    this.hooks.onReady(slot);
  }

  /** Work remains and the pool is short (a worker was lost): promote a spare or start one. */
  replenish(): void {
    if (this.stopped) return;
    const live = [...this.slots.values()].filter((slot) => slot.role === 'pool' && slot.isLive).length;
    if (live + this.pendingStarts >= this.options.workers) return;
    const spare = [...this.slots.values()].find((slot) => slot.role === 'standby' && slot.state === 'ready');
    const freeIndex = this.freePoolIndex();
    if (spare) {
      const standbyIndex = spare.slotIndex;
      spare.role = 'pool';
      spare.slotIndex = freeIndex;
      this.hooks.emit({ type: 'notice', message: `${spare.name} (standby) takes over` });
      this.hooks.onReady(spare);
      this.spawnLater('standby', standbyIndex, null, 0);
      return;
    }
    this.spawnLater('pool', freeIndex, null, this.delayFor(freeIndex));
  }

  /**
   * A fresh worker (a spare if one is ready) to run one crashed test alone — once every other
   * worker has ended, including ones still starting that the scheduler has not heard of yet.
   */
  startIsolated(index: number): void {
    this.pendingIsolated = index;
    this.startIsolatedWhenAlone();
  }

  private pendingIsolated: number | null = null;

  private startIsolatedWhenAlone(): void {
    const index = this.pendingIsolated;
    if (index === null) return;
    if (this.stopped) {
      this.pendingIsolated = null;
      return;
    }
    const others = [...this.slots.values()].some((slot) => slot.role !== 'standby' && slot.state !== 'exited');
    if (others || this.pendingStarts > 0) return;
    this.pendingIsolated = null;
    const spare = [...this.slots.values()].find((slot) => slot.role === 'standby' && slot.state === 'ready');
    if (spare) {
      // A ready spare has run nothing: it is as fresh as a new worker, without the collection.
      const promoted = this.adopt(spare, index);
      this.hooks.onReady(promoted);
      return;
    }
    this.spawn('isolated', -1, index);
  }

  /** Stops workers that have no test to finish (starting, collecting, spares). */
  stopIdle(detail: string, stop: (slot: WorkerSlot) => void): void {
    this.stopped = true;
    this.pendingIsolated = null;
    for (const slot of this.slots.values()) {
      if (slot === this.stderrSlot) continue;
      if (slot.state === 'starting' || slot.state === 'collecting') {
        stop(slot);
        this.terminate(slot.id, { kind: 'shutdown', detail }, false);
      } else if (slot.role === 'standby' && slot.state === 'ready') {
        stop(slot);
      }
    }
  }

  /** The suite is done: spares are no longer needed. */
  retireSpares(stop: (slot: WorkerSlot) => void): void {
    this.stopped = true;
    for (const slot of this.slots.values()) {
      if (slot.role !== 'standby') continue;
      if (slot.state === 'ready') stop(slot);
      else if (slot.state === 'starting' || slot.state === 'collecting') this.terminate(slot.id, { kind: 'shutdown', detail: 'suite done' }, false);
    }
  }

  /**
   * Kills a worker in stages. Its stacks come from faulthandler's watchdog where it already dumped
   * the running test's; only where it has not (a test younger than the dump period, pytest's own
   * faulthandler_timeout in charge, a worker still starting) are they asked for with SIGUSR1.
   */
  terminate(id: number, reason: KillReason, dumpStacks: boolean): void {
    const slot = this.slots.get(id);
    if (!slot?.process) return;
    const dumped = slot.running !== null && readLatestDump(slot.stacksFile) !== '';
    terminateWorker(slot.process, reason, {
      dumpStacksMs: dumpStacks && !dumped ? 500 : 0,
      graceMs: this.options.killGraceSeconds * 1000,
    });
  }

  terminateAll(reason: KillReason, dumpStacks: boolean): void {
    for (const slot of this.slots.values()) if (slot.state !== 'exited') this.terminate(slot.id, reason, dumpStacks);
  }

  killAllNow(reason: KillReason): void {
    this.stopped = true;
    this.pendingIsolated = null;
    for (const slot of this.slots.values()) {
      slot.process?.recordKillReason(reason);
      slot.process?.killHard();
    }
  }

  /** This worker's pytest ended the session on its own: its stderr will say why. */
  expectStderrVerdict(slot: WorkerSlot): void {
    this.stderrSlot = slot;
  }

  /** pytest's own words for a session it ended (e.g. "ERROR: file or directory not found"). */
  stderrVerdict(): RunEndReason | null {
    return this.stderrDetail !== null ? { kind: 'aborted', detail: this.stderrDetail } : null;
  }

  dispose(): void {
    this.timers.forEach(clearTimeout);
    this.cgroups?.remove();
    this.memory.dispose();
  }

  /** The last rung's RSS watchdog: kills a worker whose process tree grew past its cap. */
  checkMemory(): void {
    for (const over of this.memory.overCap(this.slots.values())) {
      const limit = over.slot.role === 'isolated' ? 'lone_cap' : 'worker_cap';
      this.terminate(over.slot.id, { kind: 'memory_cap', limitBytes: over.capBytes, rssBytes: over.rssBytes, limit }, false);
    }
  }

  /** One reading of the CPU time of every worker running a test: busy or hung, when it is silent. */
  sampleProgress(): void {
    const now = this.hooks.now();
    for (const slot of this.slots.values()) {
      if (slot.running === null || slot.pid === null || slot.state === 'exited') continue;
      const progress = processProgress(slot.pid);
      if (progress !== null) slot.progress.sample(now, progress.cpuTicks, progress.stopped);
    }
  }

  // -- starting -------------------------------------------------------------------------------

  private freePoolIndex(): number {
    const used = new Set([...this.slots.values()].filter((slot) => slot.role === 'pool' && slot.isLive).map((slot) => slot.slotIndex));
    for (let i = 0; ; i += 1) if (!used.has(i)) return i;
  }

  private delayFor(slotIndex: number): number {
    return this.restartDelays.get(slotIndex) ?? 0;
  }

  private readonly restartDelays = new Map<number, number>();

  private spawnLater(role: SlotRole, slotIndex: number, isolatedFor: number | null, delayMs: number): void {
    if (delayMs <= 0) {
      this.spawn(role, slotIndex, isolatedFor);
      return;
    }
    this.pendingStarts += 1;
    const timer = setTimeout(() => {
      this.pendingStarts -= 1;
      if (!this.stopped && (role !== 'pool' || this.hooks.hasWork())) this.spawn(role, slotIndex, isolatedFor);
      else this.hooks.onStartDropped();
    }, delayMs);
    this.timers.push(timer);
  }

  private spawn(role: SlotRole, slotIndex: number, isolatedFor: number | null): void {
    const id = this.nextId++;
    const crashFile = join(this.options.scratchDir, `worker-${id}.crash`);
    const stacksFile = join(this.options.scratchDir, `worker-${id}.stacks`);
    const slot = new WorkerSlot(id, slotIndex, role, isolatedFor, this.hooks.now(), crashFile, stacksFile, (s, from, to) => this.transition(s, from, to));
    this.slots.set(id, slot);
    // A pool slot prefers its own index, so its replacement reuses the dead worker's id; a spare
    // the index past the pool it stands in; an isolated retry (all others ended) the lowest free.
    slot.xdistIndex = this.options.xdistIdentity ? this.xdistIds.claim(role === 'isolated' ? 0 : slotIndex) : null;
    const cgroupLeaf = this.cgroups?.leaf(`worker-${id}`) ?? null;
    const { leaf: memoryLeaf, limits } = this.memory.confine(slot, cgroupLeaf);
    const launch = launchFor(this.hooks.framework, slot, this.options, { testRunUid: this.testRunUid, seed: this.seed }, limits);
    const proc = new WorkerProcess(
      {
        ...launch,
        cwd: this.options.cwd,
        logPath: workerLogPath(this.options, id),
        cgroup: cgroupLeaf,
        memory: memoryLeaf,
      },
      {
        onLine: (line) => this.hooks.onLine(slot, line),
        onChannelOverflow: (bytes) => {
          slot.protocolViolation ??= `a message line grew past ${bytes} bytes`;
          this.terminate(id, { kind: 'protocol_violation', detail: slot.protocolViolation }, false);
        },
        onExit: (exit) => this.onExit(slot, exit),
      },
    );
    slot.process = proc;
    slot.pid = proc.pid;
    this.hooks.emit({ type: 'worker_started', worker: id, pid: proc.pid });
  }

  /** Turns a ready spare into the fresh worker of an isolated retry. */
  private adopt(spare: WorkerSlot, index: number): WorkerSlot {
    // The same slot object, changed in place: its process's callbacks are bound to it, so a new
    // object would never see the messages of the worker it stands for.
    spare.role = 'isolated';
    spare.slotIndex = -1;
    spare.isolatedFor = index;
    this.memory.makeLone(spare);
    return spare;
  }

  private transition(slot: WorkerSlot, from: SlotState, to: SlotState): void {
    this.hooks.emit({ type: 'worker_state', worker: slot.id, from, to });
    if (to === 'ready' && slot.readyAt !== null) {
      this.hooks.emit({ type: 'worker_ready', worker: slot.id, collectSeconds: (slot.readyAt - slot.startedAt) / 1000 });
    }
  }

  // -- exits ----------------------------------------------------------------------------------

  private onExit(slot: WorkerSlot, exit: WorkerExit): void {
    const current = this.slots.get(slot.id) ?? slot;
    killLeaked(current);
    // Its id is free only now: its process and the children it left behind are gone.
    if (current.xdistIndex !== null) this.xdistIds.release(current.xdistIndex);
    const wasReady = current.readyAt !== null;
    current.state = 'exited';
    const { cause, crash } = deathOf(current, exit, wasReady, (leaf) => this.memory.oomFacts(current, leaf));
    this.memory.releaseLone(current);
    this.memory.settleRunLimit();
    this.hooks.emit({
      type: 'worker_exited',
      worker: current.id,
      pid: current.pid,
      cause,
      testId: null,
    });
    if (current === this.stderrSlot && crash.stderrTail.trim()) this.stderrDetail = pytestVerdict(current.process?.log.stderrTail.lastLines(30) ?? '') || null;
    this.judgeRestart(current, cause, exit);
    this.hooks.onDeath({ slot: current, cause, crash });
    this.startIsolatedWhenAlone();
  }

  /** Restart backoff and the crash-loop breaker, for deaths that were not our doing. */
  private judgeRestart(slot: WorkerSlot, cause: ExitCause, exit: WorkerExit): void {
    if (this.stopped || cause.kind === 'finished' || cause.kind === 'stopped' || cause.kind === 'interrupted') return;
    if (cause.kind === 'startup_failure') {
      const stderr = slot.process?.log.stderrTail.lastLines(30).trim() ?? '';
      if (exit.spawnError) {
        this.hooks.onAbort(`cannot start '${this.options.python}': ${exit.spawnError.message}`, 4);
        return;
      }
      if (exit.code === 4 && stderr) {
        // pytest itself rejected the arguments or the ini: its own words are the message.
        this.stderrSlot = slot;
        this.stderrDetail = pytestVerdict(stderr);
        this.hooks.onAbort(this.stderrDetail, 4);
        return;
      }
    }
    const lifetime = this.hooks.now() - slot.startedAt;
    const decision = this.policy.workerDied(Math.max(0, slot.slotIndex), lifetime, slot.ranTests);
    if (decision.kind === 'crash_loop') {
      const stderr = slot.process?.log.stderrTail.lastLines(30).trim() ?? '';
      const stacks = readCrashStacks(slot.crashFile);
      const evidence = [stderr, stacks ? `Python stacks (faulthandler):\n${stacks}` : ''].filter(Boolean).join('\n');
      this.stopped = true;
      this.hooks.onAbort(
        `${decision.deathsInARow} workers in a row died before running any test; the last, ${slot.name}, ` +
          `${describeDeath(cause)}${evidence ? `:\n${evidence}` : ''}`,
        3,
      );
      return;
    }
    if (slot.role === 'pool') this.restartDelays.set(slot.slotIndex, decision.delayMs);
    if (slot.role === 'isolated' && slot.readyAt === null && slot.isolatedFor !== null) {
      this.spawnLater('isolated', -1, slot.isolatedFor, decision.delayMs); // it never got to the test
    }
    if (slot.role === 'standby') this.spawnLater('standby', slot.slotIndex, null, decision.delayMs);
  }
}
