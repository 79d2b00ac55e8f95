import type { RunEvent } from '../model/event.js';

/**
 * A consumer of the run's event stream. Reporters never influence the run: a reporter that throws
 * is reported and skipped (see multiplexer.ts), never fatal.
 */
export interface Reporter {
  readonly name: string;
  onEvent(event: RunEvent): void;
  /** Called once after `run_finished`: write files, flush output. */
  close(): Promise<void>;
}
