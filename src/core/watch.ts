/**
 * One tick of the watchdog, judged: the workers' CPU readings fed to their progress meters, the
 * deadlines (startup, timeout, unresponsive; busy is not hung), SLOW notices that are due, the RSS
 * watchdog of the last memory rung, the pressure guard, a scheduling stall, and the memory sample.
 * It returns verdicts; the core carries them out (it owns the kills, the scheduler and the locks).
 */
import type { KillReason } from '../model/cause.js';
import type { RunEventBody } from '../model/event.js';
import type { RunInput, SlowPending } from './inputs.js';
import type { RunOptions } from './options.js';
import { PressureGuard } from './pressure.js';
import { StallWatch } from './stall-watch.js';
import { checkDeadlines } from './watchdog.js';
import type { WorkerRecord } from './worker-record.js';

type Tick = Extract<RunInput, { type: 'tick' }>;
type StacksRead = Extract<RunInput, { type: 'stacks_read' }>;

/** A live worker as the tick sees it: its record and the test it runs (from the scheduler). */
export interface WatchedRecord {
  record: WorkerRecord;
  running: { index: number; testId: string } | null;
}

export interface TickVerdicts {
  kills: Array<{ record: WorkerRecord; reason: KillReason; dumpStacks: boolean }>;
  /** SLOW notices due: the core asks for the stacks dump, then announces. */
  slow: Array<{ record: WorkerRecord; pending: SlowPending }>;
  /** Admission should hold (true) or resume (false); null: no change. */
  pressure: boolean | null;
  events: RunEventBody[];
}

export class Watch {
  private readonly stall = new StallWatch();
  private readonly guard: PressureGuard;
  private pressureHold = false;

  constructor(private readonly options: RunOptions) {
    this.guard = new PressureGuard(options.memory);
  }

  onTick(tick: Tick, workers: readonly WatchedRecord[], stallReport: string | null): TickVerdicts {
    const verdicts: TickVerdicts = { kills: [], slow: [], pressure: null, events: [] };
    const byId = new Map(workers.map((entry) => [entry.record.id, entry]));
    this.sampleProgress(tick, byId);
    this.judgeDeadlines(tick.now, workers, byId, verdicts);
    this.judgeCaps(tick, byId, verdicts);
    const stall = this.stall.check(stallReport, tick.now);
    if (stall !== null) verdicts.events.push({ type: 'stall', ...stall });
    if (tick.memory !== null) this.judgePressure(tick, workers, verdicts);
    this.memorySample(tick, byId, verdicts);
    return verdicts;
  }

  /** The stacks dump a SLOW notice waited for: the notice, saying where the test is. */
  onStacks(input: StacksRead): RunEventBody {
    return {
      type: 'test_slow',
      testId: input.slow.testId,
      worker: input.worker,
      silentSeconds: input.slow.silentSeconds,
      cpuPercent: input.slow.cpuPercent,
      where: input.where,
      stacksFile: input.stacksFile,
    };
  }

  private sampleProgress(tick: Tick, byId: ReadonlyMap<number, WatchedRecord>): void {
    for (const sample of tick.samples) {
      const entry = byId.get(sample.worker);
      if (!entry || entry.running === null || sample.cpuTicks === null) continue;
      entry.record.progress.sample(tick.now, sample.cpuTicks, sample.stopped);
    }
  }

  private judgeDeadlines(now: number, workers: readonly WatchedRecord[], byId: ReadonlyMap<number, WatchedRecord>, verdicts: TickVerdicts): void {
    const watched = workers.map((entry) => entry.record.watched(entry.running !== null));
    const { kills, busy } = checkDeadlines(watched, now, this.options);
    for (const order of kills) {
      const entry = byId.get(order.worker);
      if (entry) verdicts.kills.push({ record: entry.record, reason: order.reason, dumpStacks: order.dumpStacks });
    }
    for (const worker of busy) {
      const entry = byId.get(worker.worker);
      if (!entry || entry.running === null) continue;
      // Said when the silence passes the limit, then each time it doubles.
      const due = entry.record.nextBusyNotice ?? this.options.heartbeatTimeoutSeconds;
      if (worker.silentSeconds < due) continue;
      entry.record.nextBusyNotice = due * 2;
      const share = entry.record.progress.cpuShare;
      verdicts.slow.push({
        record: entry.record,
        pending: { testId: entry.running.testId, silentSeconds: worker.silentSeconds, cpuPercent: share === null ? null : Math.round(share * 100) },
      });
    }
  }

  /** The last rung's RSS watchdog: a worker whose process tree grew past its cap is killed. */
  private judgeCaps(tick: Tick, byId: ReadonlyMap<number, WatchedRecord>, verdicts: TickVerdicts): void {
    for (const sample of tick.samples) {
      const entry = byId.get(sample.worker);
      if (!entry || sample.overCap === null || entry.record.terminating) continue;
      const { capBytes, rssBytes, limit } = sample.overCap;
      verdicts.kills.push({ record: entry.record, reason: { kind: 'memory_cap', limitBytes: capBytes, rssBytes, limit }, dumpStacks: false });
    }
  }

  private judgePressure(tick: Tick, workers: readonly WatchedRecord[], verdicts: TickVerdicts): void {
    const candidates = workers
      .filter((entry) => entry.running !== null && entry.record.runningSince !== null)
      .map((entry) => ({
        worker: entry.record.id,
        runningSince: entry.record.runningSince!,
        // A test retried alone already runs by itself: killing it would only start it again.
        exempt: entry.record.terminating || entry.record.role === 'isolated',
      }));
    const verdict = this.guard.check(tick.memory!, tick.now, candidates);
    if (verdict.hold !== this.pressureHold) {
      this.pressureHold = verdict.hold;
      verdicts.pressure = verdict.hold;
      verdicts.events.push({ type: 'memory_pressure', hold: verdict.hold, availableBytes: verdict.availableBytes, reserveBytes: verdict.reserveBytes });
    }
    const victim = verdict.victim !== null ? workers.find((entry) => entry.record.id === verdict.victim) : undefined;
    if (victim?.running) {
      verdicts.events.push({
        type: 'memory_eviction',
        worker: victim.record.id,
        pid: victim.record.pid,
        testId: victim.running.testId,
        availableBytes: verdict.availableBytes,
      });
      verdicts.kills.push({ record: victim.record, reason: { kind: 'memory_pressure' }, dumpStacks: false });
    }
  }

  /** Where the runtime read every worker's size on this tick: one sample for the timeline. */
  private memorySample(tick: Tick, byId: ReadonlyMap<number, WatchedRecord>, verdicts: TickVerdicts): void {
    const workers: Array<{ worker: number; residentBytes: number }> = [];
    for (const sample of tick.samples) {
      if (sample.residentBytes !== null && byId.has(sample.worker)) workers.push({ worker: sample.worker, residentBytes: sample.residentBytes });
    }
    if (workers.length === 0) return;
    const totalBytes = workers.reduce((sum, worker) => sum + worker.residentBytes, 0);
    verdicts.events.push({ type: 'memory_sample', workers, totalBytes, budgetBytes: this.options.memory.budgetBytes });
  }
}
