/**
 * The memory budget of a run, from the effective limit. Pure: numbers in, numbers out.
 */
const GiB = 1024 ** 3;

export type BudgetSpec = { kind: 'default' } | { kind: 'bytes'; bytes: number } | { kind: 'percent'; percent: number };

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

/** "4G", "512M", "1.5GiB", "80%" (of the effective limit). Null when it is not a size. */
export function parseBudget(text: string): BudgetSpec | null {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (percent) {
    const value = Number(percent[1]);
    return value > 0 && value <= 100 ? { kind: 'percent', percent: value } : null;
  }
  const bytes = parseBytes(text);
  return bytes !== null ? { kind: 'bytes', bytes } : null;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: GiB, t: 1024 ** 4 };

/** "12G", "512M", "1.5GiB", "2048" (bytes). Binary units, as memory is counted. */
export function parseBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  return value > 0 ? Math.floor(value) : null;
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
