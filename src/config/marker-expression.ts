/**
 * pytest's `-m` expressions (`slow and not gpu`, `(a or b) and not c`), parsed once at load time
 * so that a typo is a config error with a file and line, then matched against a test's marker
 * names. The grammar is pytest's own (`_pytest/mark/expression.py`):
 *
 *   expr     := and_expr ('or' and_expr)*
 *   and_expr := not_expr ('and' not_expr)*
 *   not_expr := 'not' not_expr | '(' expr ')' | ident
 *
 * so `not` binds tighter than `and`, which binds tighter than `or`. Identifiers take pytest's
 * characters (word characters and `: + - . [ ] \ /`). An empty expression, which pytest reads as
 * "match nothing", is an error here: in a config file it can only be a mistake.
 */
import { assertNever } from '../model/assert-never.js';

export type MarkerExpression =
  | { kind: 'marker'; name: string }
  | { kind: 'not'; operand: MarkerExpression }
  | { kind: 'and' | 'or'; left: MarkerExpression; right: MarkerExpression };

export type MarkerExpressionResult = { ok: true; expression: MarkerExpression } | { ok: false; error: string };

type Token = { kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'eof' } | { kind: 'ident'; name: string };
/** A token and its 1-based column, for the error messages. */
type Located = { token: Token; column: number };

const IDENT = /(?:\w|[:+\-.[\]\\/])+/y;
const KEYWORDS = new Set(['and', 'or', 'not']);

export function parseMarkerExpression(text: string): MarkerExpressionResult {
  try {
    const parser = new Parser(tokenize(text));
    const expression = parser.expression();
    parser.expect('eof');
    return { ok: true, expression };
  } catch (error) {
    if (error instanceof ExpressionError) return { ok: false, error: error.message };
    throw error;
  }
}

/** Whether a test carrying these marker names is selected by the expression. */
export function matchesMarkers(expression: MarkerExpression, markers: ReadonlySet<string>): boolean {
  switch (expression.kind) {
    case 'marker':
      return markers.has(expression.name);
    case 'not':
      return !matchesMarkers(expression.operand, markers);
    case 'and':
      return matchesMarkers(expression.left, markers) && matchesMarkers(expression.right, markers);
    case 'or':
      return matchesMarkers(expression.left, markers) || matchesMarkers(expression.right, markers);
    default:
      return assertNever(expression);
  }
}

class ExpressionError extends Error {}

function tokenize(text: string): Located[] {
  const tokens: Located[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === '(' || char === ')') {
      tokens.push({ token: { kind: char === '(' ? 'lparen' : 'rparen' }, column: i + 1 });
      i += 1;
    } else {
      IDENT.lastIndex = i;
      const match = IDENT.exec(text);
      if (!match) throw new ExpressionError(`at column ${i + 1}: unexpected character '${char}'`);
      const word = match[0];
      const token: Token = KEYWORDS.has(word) ? { kind: word as 'and' | 'or' | 'not' } : { kind: 'ident', name: word };
      tokens.push({ token, column: i + 1 });
      i += word.length;
    }
  }
  tokens.push({ token: { kind: 'eof' }, column: text.length + 1 });
  return tokens;
}

class Parser {
  private position = 0;

  constructor(private readonly tokens: Located[]) {}

  expression(): MarkerExpression {
    let left = this.andExpression();
    while (this.accept('or')) left = { kind: 'or', left, right: this.andExpression() };
    return left;
  }

  expect(kind: 'eof' | 'rparen'): void {
    if (!this.accept(kind)) this.fail(kind === 'eof' ? "'and', 'or' or the end" : "')'");
  }

  private andExpression(): MarkerExpression {
    let left = this.notExpression();
    while (this.accept('and')) left = { kind: 'and', left, right: this.notExpression() };
    return left;
  }

  private notExpression(): MarkerExpression {
    if (this.accept('not')) return { kind: 'not', operand: this.notExpression() };
    if (this.accept('lparen')) {
      const inner = this.expression();
      this.expect('rparen');
      return inner;
    }
    const { token } = this.current();
    if (token.kind !== 'ident') return this.fail("a marker name, 'not' or '('");
    this.position += 1;
    return { kind: 'marker', name: token.name };
  }

  private accept(kind: Token['kind']): boolean {
    if (this.current().token.kind !== kind) return false;
    this.position += 1;
    return true;
  }

  private current(): Located {
    // The tokens always end with 'eof' and nothing reads past it.
    return this.tokens[Math.min(this.position, this.tokens.length - 1)]!;
  }

  private fail(expected: string): never {
    const { token, column } = this.current();
    const got = token.kind === 'eof' ? 'the end' : token.kind === 'ident' ? `'${token.name}'` : `'${describe(token.kind)}'`;
    throw new ExpressionError(`at column ${column}: expected ${expected}, got ${got}`);
  }
}

function describe(kind: Exclude<Token['kind'], 'ident' | 'eof'>): string {
  return kind === 'lparen' ? '(' : kind === 'rparen' ? ')' : kind;
}
