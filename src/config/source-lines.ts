/**
 * The line of a key path in TOML source, for schema errors (smol-toml gives lines for syntax
 * errors only). A best effort that is right for normal files: it follows `[table]` and
 * `[[array.of.tables]]` headers (counting the elements), `key = value` and dotted keys, and skips
 * multi-line strings. A path it cannot place exactly gets the line of its deepest known ancestor:
 * an entry of an inline table `resources = { gpu = 0 }` is reported on the `resources` line.
 */
export type KeyPath = ReadonlyArray<string | number>;

interface KeyLine {
  path: KeyPath;
  /** 1-based. */
  line: number;
}

/** The 1-based line that defines `path` or its deepest ancestor; null when none is in the text. */
export function findKeyLine(source: string, path: KeyPath): number | null {
  let best: { line: number; depth: number } | null = null;
  for (const entry of scanKeyLines(source)) {
    if (!isPrefix(entry.path, path)) continue;
    if (best === null || entry.path.length > best.depth) best = { line: entry.line, depth: entry.path.length };
  }
  return best?.line ?? null;
}

function scanKeyLines(source: string): KeyLine[] {
  const entries: KeyLine[] = [];
  // Array-of-tables paths (with their own indexes resolved) -> index of their current element.
  const arrays = new Map<string, number>();
  let table: KeyPath = [];
  let openString: '"""' | "'''" | null = null;
  const lines = source.split(/\r?\n/);
  for (const [index, text] of lines.entries()) {
    const line = index + 1;
    if (openString !== null) {
      if (occurrences(text, openString) % 2 === 1) openString = null;
      continue;
    }
    const trimmed = text.trim();
    if (trimmed.startsWith('[[')) {
      const key = readKey(trimmed.slice(2));
      if (key === null) continue;
      const arrayPath = withIndexes(key.parts, arrays);
      const element = (arrays.get(JSON.stringify(arrayPath)) ?? -1) + 1;
      arrays.set(JSON.stringify(arrayPath), element);
      table = [...arrayPath, element];
      pushWithAncestors(entries, [], table, line);
    } else if (trimmed.startsWith('[')) {
      const key = readKey(trimmed.slice(1));
      if (key === null) continue;
      table = withIndexes(key.parts, arrays);
      pushWithAncestors(entries, [], table, line);
    } else {
      const key = readKey(trimmed);
      if (key === null || !key.rest.startsWith('=')) continue;
      pushWithAncestors(entries, table, key.parts, line);
      for (const quote of ['"""', "'''"] as const) {
        if (occurrences(key.rest, quote) % 2 === 1) openString = quote;
      }
    }
  }
  return entries;
}

/**
 * `a.b.c = 1` also defines the tables a and a.b on its line (so does a header): an error about
 * the table `a` then points there when nothing defines it earlier.
 */
function pushWithAncestors(entries: KeyLine[], table: KeyPath, parts: KeyPath, line: number): void {
  for (let depth = 1; depth <= parts.length; depth += 1) entries.push({ path: [...table, ...parts.slice(0, depth)], line });
}

/** `[a.b.c]` under `[[a.b]]` means the current element of a.b: insert its index. */
function withIndexes(parts: string[], arrays: Map<string, number>): KeyPath {
  const path: Array<string | number> = [];
  for (const part of parts) {
    const element = arrays.get(JSON.stringify(path));
    if (element !== undefined) path.push(element);
    path.push(part);
  }
  return path;
}

const BARE = /^[A-Za-z0-9_-]+/;
const BASIC = /^"(?:[^"\\]|\\.)*"/;
const LITERAL = /^'[^']*'/;

/** A dotted key at the start of `text`, and what follows it (trimmed). */
function readKey(text: string): { parts: string[]; rest: string } | null {
  const parts: string[] = [];
  let rest = text.trimStart();
  for (;;) {
    const bare = BARE.exec(rest);
    const basic = bare ? null : BASIC.exec(rest);
    const literal = bare || basic ? null : LITERAL.exec(rest);
    if (bare) parts.push(bare[0]);
    else if (basic) parts.push(unescape(basic[0]));
    else if (literal) parts.push(literal[0].slice(1, -1));
    else return null;
    rest = rest.slice((bare ?? basic ?? literal)![0].length).trimStart();
    if (!rest.startsWith('.')) return { parts, rest };
    rest = rest.slice(1).trimStart();
  }
}

function unescape(quoted: string): string {
  try {
    return String(JSON.parse(quoted));
  } catch {
    return quoted.slice(1, -1);
  }
}

function isPrefix(prefix: KeyPath, path: KeyPath): boolean {
  return prefix.length <= path.length && prefix.every((part, i) => part === path[i]);
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
