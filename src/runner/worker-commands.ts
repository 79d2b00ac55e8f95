/**
 * Carrying out the scheduler's commands on the workers: what each one becomes on a worker's
 * channel (run, steal, flush, finish, stop) or in the pool (a new worker, an isolated one). The
 * decisions are the scheduler's; this only says them to the right process.
 */
import type { WorkerCommand } from '../adapters/messages.js';
import { assertNever } from '../model/assert-never.js';
import type { TestSettings } from '../model/settings.js';
import type { SchedulerCommand } from '../scheduler/types.js';
import type { RunOptions } from './options.js';
import { threadsFor } from './suite-plan.js';
import type { WorkerPool } from './worker-pool.js';
import type { WorkerSlot } from './worker-slot.js';

export class WorkerCommands {
  constructor(
    private readonly pool: WorkerPool,
    private readonly options: RunOptions,
    /** Each test's resolved settings (for its thread caps), once the suite is planned. */
    private readonly settings: () => TestSettings[] | null,
    /** The framework adapter's encoding of a command as a channel line. */
    private readonly encode: (command: WorkerCommand) => string,
  ) {}

  send(slot: WorkerSlot, command: WorkerCommand): void {
    slot.process?.send(this.encode(command));
  }

  /** Tells a worker to end once it has run what it holds (`finish`) or at once (`stop`). */
  finishWorker(slot: WorkerSlot, how: 'finish' | 'stop'): void {
    if (slot.state === 'exited') return;
    this.send(slot, { type: how });
    slot.state = 'finishing';
  }

  carryOut(command: SchedulerCommand): void {
    switch (command.type) {
      case 'assign': {
        const slot = this.pool.get(command.worker);
        if (!slot) return;
        slot.assigned.push(...command.indices);
        const threads = this.options.threadCaps ? threadsFor(this.settings(), command.indices, this.options.workers) : {};
        this.send(slot, { type: 'run', indices: command.indices, ...threads });
        return;
      }
      case 'steal': {
        const slot = this.pool.get(command.worker);
        if (slot) this.send(slot, { type: 'steal', indices: command.indices });
        return;
      }
      case 'flush': {
        const slot = this.pool.get(command.worker);
        if (slot) this.send(slot, { type: 'flush' });
        return;
      }
      case 'finish':
      case 'stop': {
        const slot = this.pool.get(command.worker);
        if (slot) this.finishWorker(slot, command.type);
        return;
      }
      case 'blame':
        return; // settled where the death is known, with its cause
      case 'start_worker':
        this.pool.replenish();
        return;
      case 'start_isolated':
        this.pool.startIsolated(command.index);
        return;
      default:
        assertNever(command);
    }
  }
}
