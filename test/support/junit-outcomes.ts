/**
 * Reads a JUnit XML file (pytest's --junitxml or bulkhead's --junit) into {test: outcome}, so two
 * runs of one project can be compared test by test. A test is identified by its testcase's
 * `classname` and `name` ("tests.test_x.TestY::test_z[1]"); its outcome is what its child
 * elements say: passed, failed, error, skipped, xfailed (a skip of type pytest.xfail), or a
 * combination such as "failed+error" (a failed test whose teardown also failed).
 */

export interface JunitCase {
  classname: string;
  name: string;
  /** failure / error / skipped children, in document order, with their attributes. */
  children: Array<{ tag: string; attrs: Record<string, string> }>;
}

export interface JunitDocument {
  cases: JunitCase[];
  /** The attributes of each <testsuite>. */
  suites: Array<Record<string, string>>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

/** A small tokenizer for the XML pytest writes: tags, attributes, comments, CDATA, declarations. */
export function parseJunit(xml: string): JunitDocument {
  const cases: JunitCase[] = [];
  const suites: Array<Record<string, string>> = [];
  const stack: string[] = [];
  let current: JunitCase | null = null;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      i = endOf(xml, '-->', lt);
      continue;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      i = endOf(xml, ']]>', lt);
      continue;
    }
    if (xml.startsWith('<?', lt)) {
      i = endOf(xml, '?>', lt);
      continue;
    }
    if (xml.startsWith('<!', lt)) {
      i = endOf(xml, '>', lt);
      continue;
    }
    if (xml[lt + 1] === '/') {
      const gt = xml.indexOf('>', lt);
      if (gt < 0) throw new Error(`unterminated closing tag at ${lt}`);
      const name = xml.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}> at ${lt}`);
      if (name === 'testcase') current = null;
      i = gt + 1;
      continue;
    }
    const tag = readTag(xml, lt);
    if (tag.name === 'testsuite') suites.push(tag.attrs);
    if (tag.name === 'testcase') {
      if (current !== null) throw new Error(`nested <testcase> at ${lt}`);
      current = { classname: tag.attrs.classname ?? '', name: tag.attrs.name ?? '', children: [] };
      cases.push(current);
      if (tag.selfClosing) current = null;
    } else if (current !== null && stack[stack.length - 1] === 'testcase') {
      current.children.push({ tag: tag.name, attrs: tag.attrs });
    }
    if (!tag.selfClosing) stack.push(tag.name);
    i = tag.end;
  }
  if (stack.length > 0) throw new Error(`unclosed elements: ${stack.join(' > ')}`);
  return { cases, suites };
}

function endOf(xml: string, terminator: string, from: number): number {
  const at = xml.indexOf(terminator, from);
  if (at < 0) throw new Error(`unterminated markup at ${from}`);
  return at + terminator.length;
}

function readTag(xml: string, lt: number): { name: string; attrs: Record<string, string>; selfClosing: boolean; end: number } {
  let i = lt + 1;
  const nameMatch = /^[A-Za-z_][\w.:-]*/.exec(xml.slice(i, i + 200));
  if (!nameMatch) throw new Error(`bad tag at ${lt}`);
  const name = nameMatch[0];
  i += name.length;
  const attrs: Record<string, string> = {};
  for (;;) {
    while (/\s/.test(xml[i] ?? '')) i += 1;
    if (xml.startsWith('/>', i)) return { name, attrs, selfClosing: true, end: i + 2 };
    if (xml[i] === '>') return { name, attrs, selfClosing: false, end: i + 1 };
    const attr = /^([A-Za-z_][\w.:-]*)\s*=\s*(["'])/.exec(xml.slice(i, i + 200));
    if (!attr) throw new Error(`bad attribute in <${name}> at ${i}`);
    const quote = attr[2]!;
    const valueStart = i + attr[0].length;
    const valueEnd = xml.indexOf(quote, valueStart);
    if (valueEnd < 0) throw new Error(`unterminated attribute in <${name}> at ${i}`);
    attrs[attr[1]!] = decodeEntities(xml.slice(valueStart, valueEnd));
    i = valueEnd + 1;
  }
}

/** The outcome a testcase's children describe. */
export function caseOutcome(testcase: JunitCase): string {
  const parts: string[] = [];
  for (const child of testcase.children) {
    switch (child.tag) {
      case 'failure':
        parts.push('failed');
        break;
      case 'error':
        parts.push('error');
        break;
      case 'skipped':
        parts.push(child.attrs.type === 'pytest.xfail' ? 'xfailed' : 'skipped');
        break;
      default:
        break; // properties, system-out, system-err
    }
  }
  return parts.length === 0 ? 'passed' : parts.join('+');
}

export function caseKey(testcase: Pick<JunitCase, 'classname' | 'name'>): string {
  return `${testcase.classname}::${testcase.name}`;
}

/**
 * {classname::name: outcome}. pytest writes a second testcase for a test whose call failed and
 * whose teardown then errored; such outcomes are joined in document order ("failed+error").
 */
export function junitOutcomes(xml: string): Record<string, string> {
  const outcomes: Record<string, string> = {};
  for (const testcase of parseJunit(xml).cases) {
    const key = caseKey(testcase);
    const outcome = caseOutcome(testcase);
    outcomes[key] = key in outcomes ? `${outcomes[key]}+${outcome}` : outcome;
  }
  return outcomes;
}

/**
 * The JUnit key of a pytest node id, as pytest's junitxml mangles it: "tests/test_x.py::TestY::
 * test_z[1]" -> "tests.test_x.TestY::test_z[1]".
 */
export function junitKeyOfNodeId(nodeid: string): string {
  // "::" inside a parametrize id ("test_x[a::b]") does not separate names.
  const bracket = nodeid.indexOf('[');
  const head = bracket < 0 ? nodeid : nodeid.slice(0, bracket);
  const params = bracket < 0 ? '' : nodeid.slice(bracket);
  const parts = head.split('::');
  const name = parts.pop()! + params;
  const module = parts[0]!.replace(/\.py$/, '').replace(/\//g, '.');
  return `${[module, ...parts.slice(1)].join('.')}::${name}`;
}
