/**
 * A worker that collected part of the suite (a fresh worker for an isolated retry, which collects
 * only its test's file: targeted-collection.ts) numbers its tests its own way: its index i is the
 * suite's `suiteOf[i]`. The core speaks suite indices everywhere; this map is the one place they
 * are translated, at the boundary with such a worker: the commands that name tests by index
 * (`run` and its thread caps keyed by index, `steal`) on the way out, the indices it gives back
 * (`stolen`) on the way in. `started`, `finished` and reports carry ids and need no translation.
 * A worker that collected the whole suite has no map: its indices are the suite's.
 */
import type { WorkerCommand } from '../adapters/messages.js';

export class IndexMap {
  private readonly workerOf = new Map<number, number>();

  /** `suiteOf[i]`: the suite index of the worker's test i. */
  constructor(private readonly suiteOf: readonly number[]) {
    suiteOf.forEach((suiteIndex, workerIndex) => this.workerOf.set(suiteIndex, workerIndex));
  }

  /** Whether the worker collected this test of the suite. */
  holds(suiteIndex: number): boolean {
    return this.workerOf.has(suiteIndex);
  }

  /** Suite indices as the worker numbers them; null if it did not collect one of them. */
  toWorker(indices: readonly number[]): number[] | null {
    const out: number[] = [];
    for (const index of indices) {
      const mapped = this.workerOf.get(index);
      if (mapped === undefined) return null;
      out.push(mapped);
    }
    return out;
  }

  /** The worker's indices as the suite's; null if one is not a test it collected. */
  toSuite(indices: readonly number[]): number[] | null {
    const out: number[] = [];
    for (const index of indices) {
      const mapped = this.suiteOf[index];
      if (mapped === undefined) return null;
      out.push(mapped);
    }
    return out;
  }

  /** A command in the suite's indices, as this worker numbers its tests; null: it names a test the worker lacks. */
  command(command: WorkerCommand): WorkerCommand | null {
    switch (command.type) {
      case 'run': {
        const indices = this.toWorker(command.indices);
        if (indices === null) return null;
        if (command.threads === undefined) return { type: 'run', indices };
        const threads: Record<string, number> = {};
        for (const [key, count] of Object.entries(command.threads)) {
          const mapped = this.workerOf.get(Number(key));
          if (mapped === undefined) return null;
          threads[String(mapped)] = count;
        }
        return { type: 'run', indices, threads };
      }
      case 'steal': {
        const indices = this.toWorker(command.indices);
        return indices === null ? null : { type: 'steal', indices };
      }
      default:
        return command;
    }
  }
}

/** A command to `map`'s worker (none: the worker's numbering is the suite's). */
export function inWorkerTerms(map: IndexMap | null, command: WorkerCommand): WorkerCommand | null {
  return map === null ? command : map.command(command);
}

/** Indices a worker gave back, as the suite's (none: the same). */
export function inSuiteTerms(map: IndexMap | null, indices: readonly number[]): number[] | null {
  return map === null ? [...indices] : map.toSuite(indices);
}
