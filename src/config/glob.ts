/**
 * Node-id globs for `[[override]] filter`: `*` matches any run of characters, including `/` and
 * `::` (so `tests/*` reaches every test below tests/), `?` one character, `[abc]`, `[a-z]` and
 * `[!abc]` a class. The whole id must match.
 *
 * A parametrized id has brackets of its own (`test_x[1-2]`); in a glob they open a class, as in
 * fnmatch, so a literal `[` is written `[[]`. An unclosed `[` is an error rather than fnmatch's
 * silent literal, so that such a filter fails loudly at load time instead of matching nothing.
 */
export type GlobResult = { ok: true; regex: RegExp } | { ok: false; error: string };

export function compileGlob(pattern: string): GlobResult {
  let source = '';
  let i = 0;
  while (i < pattern.length) {
    const char = pattern[i]!;
    if (char === '*') {
      source += '.*';
      i += 1;
    } else if (char === '?') {
      source += '.';
      i += 1;
    } else if (char === '[') {
      const end = classEnd(pattern, i);
      if (end === -1) {
        return { ok: false, error: `unclosed '[' at column ${i + 1} (a literal '[' is written '[[]')` };
      }
      source += classSource(pattern.slice(i + 1, end));
      i = end + 1;
    } else {
      source += escapeRegExp(char);
      i += 1;
    }
  }
  return { ok: true, regex: new RegExp(`^${source}$`, 's') };
}

/** Index of the `]` closing the class opened at `open`; a `]` right after `[` or `[!` is literal. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '!') i += 1;
  if (pattern[i] === ']') i += 1;
  const end = pattern.indexOf(']', i);
  return end;
}

function classSource(body: string): string {
  const negated = body.startsWith('!');
  const members = negated ? body.slice(1) : body;
  // Inside a RegExp class only `\`, `]` and `^` are special (`-` keeps its range meaning).
  const escaped = members.replace(/[\\\]^]/g, (c) => `\\${c}`);
  return `[${negated ? '^' : ''}${escaped}]`;
}

function escapeRegExp(char: string): string {
  return /[.*+?^${}()|[\]\\]/.test(char) ? `\\${char}` : char;
}
