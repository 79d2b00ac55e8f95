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
