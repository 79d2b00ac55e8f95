/** Helpers to pick key lines out of pytest-style terminal output. */

/** The first line starting with `prefix` (trailing spaces trimmed), or null. */
export function lineStartingWith(output: string, prefix: string): string | null {
  for (const line of output.split('\n')) {
    if (line.startsWith(prefix)) return line.trimEnd();
  }
  return null;
}

/** Every line matching `pattern`, trimmed at the end. */
export function linesMatching(output: string, pattern: RegExp): string[] {
  return output
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => pattern.test(line));
}

/** The lines of the "short test summary info" section (FAILED/ERROR/SKIPPED/... lines). */
export function shortSummary(output: string): string[] {
  const lines = output.split('\n').map((line) => line.trimEnd());
  const start = lines.findIndex((line) => /^=+ short test summary info =+$/.test(line));
  if (start < 0) return [];
  const result: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^[=!]+ /.test(line) || line === '') break;
    result.push(line);
  }
  return result;
}

/** The text of a `=== title ===` section up to the next `===` line. */
export function section(output: string, title: string): string | null {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^=+ ${escapeRegExp(title)} =+\\s*$`).test(line));
  if (start < 0) return null;
  const end = lines.findIndex((line, index) => index > start && /^=+ .* =+\s*$/.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** How many times `needle` occurs in `text`. */
export function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) count += 1;
  return count;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
