import { readFileSync } from 'node:fs';

/** Stacks dumps can be long (every thread of a big suite); the report keeps the end. */
const MAX_STACKS_BYTES = 64 * 1024;

/** The Python stacks faulthandler wrote into a worker's crash file, or '' when there are none. */
export function readCrashStacks(path: string | null): string {
  if (path === null) return '';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '';
  }
  text = text.trim();
  return text.length > MAX_STACKS_BYTES ? `...\n${text.slice(text.length - MAX_STACKS_BYTES)}` : text;
}
