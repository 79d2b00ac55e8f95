import assert from 'node:assert/strict';
import type { TestInfo, WorkerId } from '../../src/model/test.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { SchedulerCommand, SchedulerInput, TestDemand } from '../../src/scheduler/types.js';

/**
 * Plays the run loop by hand: feeds inputs, keeps what each worker holds from the commands, and
 * lets a test start the head of a worker's queue.
 */
export class Driver {
  readonly scheduler: Scheduler;
  readonly held = new Map<WorkerId, number[]>();
  readonly running = new Map<WorkerId, number>();

  constructor(
    poolSize: number,
    readonly tests: readonly TestInfo[],
    private readonly demands?: readonly TestDemand[],
  ) {
    this.scheduler = new Scheduler({ poolSize });
  }

  handle(input: SchedulerInput): SchedulerCommand[] {
    const commands = this.scheduler.handle(input);
    for (const command of commands) {
      if (command.type === 'assign') this.holding(command.worker).push(...command.indices);
    }
    return commands;
  }

  collect(): SchedulerCommand[] {
    return this.handle({ type: 'collected', tests: this.tests, ...(this.demands ? { demands: this.demands } : {}) });
  }

  ready(worker: WorkerId): SchedulerCommand[] {
    return this.handle({ type: 'worker_ready', worker });
  }

  holding(worker: WorkerId): number[] {
    let held = this.held.get(worker);
    if (!held) {
      held = [];
      this.held.set(worker, held);
    }
    return held;
  }

  /** The worker starts the head of its queue. */
  start(worker: WorkerId): SchedulerCommand[] {
    const index = this.holding(worker).shift();
    assert.notEqual(index, undefined, `worker ${worker} holds nothing to start`);
    this.running.set(worker, index!);
    return this.handle({ type: 'test_started', worker, index: index! });
  }

  finish(worker: WorkerId): SchedulerCommand[] {
    const index = this.running.get(worker);
    assert.notEqual(index, undefined, `worker ${worker} runs nothing`);
    this.running.delete(worker);
    return this.handle({ type: 'test_finished', worker, index: index! });
  }

  /** The worker gives back exactly these (its answer to a steal or a stop). */
  giveBack(worker: WorkerId, indices: number[]): SchedulerCommand[] {
    const held = this.holding(worker);
    for (const index of indices) held.splice(held.indexOf(index), 1);
    return this.handle({ type: 'returned', worker, indices });
  }

  lose(worker: WorkerId): SchedulerCommand[] {
    this.held.delete(worker);
    this.running.delete(worker);
    return this.handle({ type: 'worker_lost', worker });
  }
}
