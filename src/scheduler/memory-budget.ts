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

const MiB = 1024 ** 2;

/**
 * What the pressure guard keeps free: what the budget leaves to the machine (the limit minus the
 * budget), and never less than 5% of the limit up to 256 MiB, so a budget of 100% still has a guard.
 */
export function guardReserve(limitBytes: number, budgetBytes: number): number {
  return Math.max(limitBytes - budgetBytes, Math.min(256 * MiB, Math.floor(limitBytes * 0.05)));
}

export type PressureVerdict = 'ok' | 'hold' | 'evict';

/**
 * Below the reserve, admit nothing new; below half of it, a running test must go (the kernel's
 * OOM killer must never be reached because of us). Memory stalls over 40% of the last 10 s (PSI)
 * also hold admission, even with memory still available on paper.
 */
export function judgePressure(availableBytes: number | null, stallPercent: number | null, reserveBytes: number): PressureVerdict {
  if (availableBytes !== null && availableBytes < reserveBytes / 2) return 'evict';
  if (availableBytes !== null && availableBytes < reserveBytes) return 'hold';
  if (stallPercent !== null && stallPercent > 40) return 'hold';
  return 'ok';
}

/**
 * `--workers auto`: one worker per CPU, but no more than the budget can hold when each worker
 * needs its baseline plus a typical heavy test (the 90th percentile peak of the last run).
 */
export function autoWorkers(cpus: number, budgetBytes: number, need: { baselineBytes: number; peakBytes: number } | null): number {
  const byCpu = Math.max(1, cpus);
  if (need === null) return byCpu;
  const perWorker = Math.max(1, need.baselineBytes + need.peakBytes);
  return Math.max(1, Math.min(byCpu, Math.floor(budgetBytes / perWorker)));
}
