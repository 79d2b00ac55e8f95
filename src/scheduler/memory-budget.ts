/**
 * The memory budget of a run, from the effective limit. Pure: numbers in, numbers out.
 */
import type { BudgetSpec } from '../util/bytes.js';

// Parsing sizes moved to util/ (config files read them too); re-exported for existing callers.
export { parseBudget, parseBytes, type BudgetSpec } from '../util/bytes.js';

const GiB = 1024 ** 3;

/** The part of the limit left to the machine itself: 1 GiB or 10%, whichever is more. */
export function machineReserve(limitBytes: number): number {
  return Math.max(GiB, Math.floor(limitBytes * 0.1));
}

export function memoryBudget(limitBytes: number, spec: BudgetSpec): number {
  switch (spec.kind) {
    case 'default':
      return Math.max(0, limitBytes - machineReserve(limitBytes));
    case 'bytes':
      return spec.bytes;
    case 'percent':
      return Math.floor((limitBytes * spec.percent) / 100);
  }
}
