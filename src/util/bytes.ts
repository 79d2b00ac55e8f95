/**
 * Memory sizes as people write them ("512M", "12G", "80%") and as we show them. Here in util/
 * because the CLI, the config files and the scheduler all read the same sizes.
 */
const GiB = 1024 ** 3;

export { formatBytes } from '../model/format-bytes.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: GiB, t: 1024 ** 4 };

/** "12G", "512M", "1.5GiB", "2048" (bytes). Binary units, as memory is counted. */
export function parseBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  return value > 0 ? Math.floor(value) : null;
}

/** A run's memory budget as asked for: the default, a size, or a share of the effective limit. */
export type BudgetSpec = { kind: 'default' } | { kind: 'bytes'; bytes: number } | { kind: 'percent'; percent: number };

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
