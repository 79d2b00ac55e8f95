/**
 * What one input makes the core say: commands for the shell and events for the reporters, in the
 * order they were decided. Helpers of the core append to the step they are given; none of them
 * calls back into another.
 */
import type { RunEventBody } from '../model/event.js';
import type { RunCommand } from './commands.js';
import type { Lifecycle, WorkerRecord } from './worker-record.js';

export class Step {
  readonly commands: RunCommand[] = [];
  readonly events: RunEventBody[] = [];
  private hadError = false;

  command(command: RunCommand): void {
    this.commands.push(command);
  }

  event(event: RunEventBody): void {
    this.events.push(event);
  }

  /** Moves a worker's lifecycle; an illegal move is reported as the core's internal error. */
  transition(record: WorkerRecord, next: Lifecycle): boolean {
    const result = record.moveTo(next);
    if (!result.ok) {
      this.events.push({ type: 'internal_error', source: 'core', detail: result.error });
      this.hadError = true;
      return false;
    }
    if (result.event) this.events.push(result.event);
    return true;
  }

  /** A fact the core should never meet (its own bug): reported; the run then exits 3. */
  internalError(detail: string): void {
    this.events.push({ type: 'internal_error', source: 'core', detail });
    this.hadError = true;
  }

  /** An illegal lifecycle move was reported while this step was built. */
  get hadInternalError(): boolean {
    return this.hadError;
  }
}
