import type { RunEvent } from '../model/event.js';
import type { Reporter } from './reporter.js';

/** Fans one event stream out to every reporter; a reporter that throws is reported, never fatal. */
export class ReporterMultiplexer {
  private readonly failed = new Set<string>();

  constructor(
    private readonly reporters: readonly Reporter[],
    private readonly onReporterError: (reporter: string, error: unknown) => void,
  ) {}

  onEvent(event: RunEvent): void {
    for (const reporter of this.reporters) {
      if (this.failed.has(reporter.name)) continue;
      try {
        reporter.onEvent(event);
      } catch (error) {
        this.failed.add(reporter.name);
        this.onReporterError(reporter.name, error);
      }
    }
  }

  async close(): Promise<void> {
    for (const reporter of this.reporters) {
      try {
        await reporter.close();
      } catch (error) {
        this.onReporterError(reporter.name, error);
      }
    }
  }
}
