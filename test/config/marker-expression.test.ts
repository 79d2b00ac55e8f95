/**
 * pytest's -m grammar: not > and > or, parentheses, identifiers with pytest's characters, and
 * errors that give the column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesMarkers, parseMarkerExpression, type MarkerExpression } from '../../src/config/marker-expression.js';

function parse(text: string): MarkerExpression {
  const parsed = parseMarkerExpression(text);
  if (!parsed.ok) assert.fail(`${text}: ${parsed.error}`);
  return parsed.expression;
}

/** The expression fully parenthesized, to see how it grouped. */
function show(expression: MarkerExpression): string {
  switch (expression.kind) {
    case 'marker':
      return expression.name;
    case 'not':
      return `(not ${show(expression.operand)})`;
    default:
      return `(${show(expression.left)} ${expression.kind} ${show(expression.right)})`;
  }
}

test('not binds tighter than and, and tighter than or; both are left-associative', () => {
  const cases: Array<[text: string, grouped: string]> = [
    ['slow', 'slow'],
    ['not slow', '(not slow)'],
    ['a or b and c', '(a or (b and c))'],
    ['a and b or c', '((a and b) or c)'],
    ['not a and b', '((not a) and b)'],
    ['not not a', '(not (not a))'],
    ['a or b or c', '((a or b) or c)'],
    ['a and b and c', '((a and b) and c)'],
    ['(a or b) and c', '((a or b) and c)'],
    ['not (a or b)', '(not (a or b))'],
    ['  ( ( a ) )  ', 'a'],
    ['nota and orb', '(nota and orb)'],
    ['mod.sub:name-x+y/z[1]', 'mod.sub:name-x+y/z[1]'],
  ];
  for (const [text, grouped] of cases) assert.equal(show(parse(text)), grouped, text);
});

test('expressions are matched against the marker names of a test', () => {
  const cases: Array<[text: string, markers: string[], expected: boolean]> = [
    ['slow', ['slow'], true],
    ['slow', ['fast'], false],
    ['not slow', [], true],
    ['slow and gpu', ['slow'], false],
    ['slow and gpu', ['gpu', 'slow'], true],
    ['slow or gpu', ['gpu'], true],
    ['a or b and c', ['a'], true],
    ['(a or b) and c', ['a'], false],
    ['not a and b', ['b'], true],
    ['not (a and b)', ['a', 'b'], false],
    ['slow and not network', ['slow', 'network'], false],
  ];
  for (const [text, markers, expected] of cases) {
    assert.equal(matchesMarkers(parse(text), new Set(markers)), expected, `${text} with [${markers.join(', ')}]`);
  }
});

test('errors say what was expected, at which column', () => {
  const cases: Array<[text: string, error: string]> = [
    ['', "at column 1: expected a marker name, 'not' or '(', got the end"],
    ['slow and', "at column 9: expected a marker name, 'not' or '(', got the end"],
    ['slow gpu', "at column 6: expected 'and', 'or' or the end, got 'gpu'"],
    ['(slow or gpu', "at column 13: expected ')', got the end"],
    ['slow)', "at column 5: expected 'and', 'or' or the end, got ')'"],
    ['and slow', "at column 1: expected a marker name, 'not' or '(', got 'and'"],
    ['slow or not', "at column 12: expected a marker name, 'not' or '(', got the end"],
    ['slow & gpu', "at column 6: unexpected character '&'"],
    ['()', "at column 2: expected a marker name, 'not' or '(', got ')'"],
  ];
  for (const [text, error] of cases) assert.deepEqual(parseMarkerExpression(text), { ok: false, error }, JSON.stringify(text));
});
