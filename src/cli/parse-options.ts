import { availableParallelism } from 'node:os';
import { UsageError } from './usage-error.js';

export function parseWorkers(value: string): number {
  if (value === 'auto') return Math.max(1, availableParallelism());
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--workers must be a positive integer or 'auto' (got '${value}')`);
  }
  return Number(value);
}

export function parseCount(option: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} must be a whole number >= 0 (got '${value}')`);
  return Number(value);
}

export function parsePositive(option: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${option} must be a whole number >= 1 (got '${value}')`);
  return Number(value);
}

/** Seconds, as `30`, `2.5`, `90s`, `5m` or `1h`. */
export function parseSeconds(option: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(value.trim());
  if (!match) throw new UsageError(`${option} must be a duration such as 30, 2.5, 90s, 5m or 1h (got '${value}')`);
  const number = Number(match[1]);
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  const seconds = number * unit;
  if (seconds <= 0) throw new UsageError(`${option} must be more than 0 (got '${value}')`);
  return seconds;
}
