import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareJunit, junitCases, parseXml, parseArgs, DEFAULT_PYTEST_ARGS } from '../../scripts/parity.js';

const PYTEST_SHAPED =
  '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="3" tests="6" time="0.1">' +
  '<testcase classname="t.test_a" name="test_ok[a&amp;b]" time="0.001" />' +
  '<testcase classname="t.test_a" name="test_fail" time="0.001"><failure message="assert 1 == 2">a &lt; b\n&#10;x</failure></testcase>' +
  '<testcase classname="t.test_a" name="test_err" time="0"><properties><property name="k" value="v" /></properties>' +
  '<error message="failed on setup with &quot;boom&quot;">tb</error></testcase>' +
  '<testcase classname="t.test_a" name="test_skip" time="0"><skipped type="pytest.skip" message="no &quot;x&quot;&#10;y">t.py:3: no</skipped></testcase>' +
  '<testcase classname="t.test_a" name="test_xfail" time="0"><skipped type="pytest.xfail" message="known" /></testcase>' +
  "<testcase classname='' name=''><!-- c --><skipped message='collection skipped'><![CDATA[a <raw> b]]></skipped></testcase>" +
  '</testsuite></testsuites>';

test('parses pytest-shaped JUnit XML into outcomes', () => {
  const file = junitCases(parseXml(PYTEST_SHAPED));
  assert.deepEqual(file.totals, { tests: 6, failures: 1, errors: 1, skipped: 3 });
  assert.deepEqual(
    file.cases.map((c) => [c.id, c.category, c.signature]),
    [
      ['t.test_a::test_ok[a&b]', 'passed', 'passed'],
      ['t.test_a::test_fail', 'failure', 'failure'],
      ['t.test_a::test_err', 'error', 'error (failed on setup)'],
      ['t.test_a::test_skip', 'skipped (pytest.skip)', 'skipped[pytest.skip] "no \\"x\\"\\ny"'],
      ['t.test_a::test_xfail', 'xfailed (pytest.xfail)', 'skipped[pytest.xfail] "known"'],
      ['::', 'skipped (no type)', 'skipped "collection skipped"'],
    ],
  );
  assert.deepEqual(file.cases[5]!.skipTexts, ['a <raw> b']);
});

test('rejects a truncated file', () => {
  assert.throws(() => parseXml(PYTEST_SHAPED.slice(0, -30)), /XML: /);
  assert.throws(() => parseXml(PYTEST_SHAPED.slice(0, -13)), /never closed/);
});

test('compares repeated ids as multisets, ignoring order', () => {
  const xml = (cases: string): string => `<testsuites><testsuite tests="2">${cases}</testsuite></testsuites>`;
  const pass = '<testcase classname="" name="test_x" />';
  const skip = '<testcase classname="" name="test_x"><skipped type="pytest.skip" message="m" /></testcase>';
  const same = compareJunit(junitCases(parseXml(xml(pass + skip))), junitCases(parseXml(xml(skip + pass))));
  assert.equal(same.identical, true);
  assert.deepEqual(same.duplicates.pytest, { ids: 1, cases: 2 });
  const different = compareJunit(junitCases(parseXml(xml(pass + skip))), junitCases(parseXml(xml(pass + pass))));
  assert.equal(different.identical, false);
  assert.deepEqual(different.differences, [{ id: '::test_x', pytest: ['passed', 'skipped[pytest.skip] "m"'], bulkhead: ['passed', 'passed'] }]);
});

test('parses the command line', () => {
  assert.deepEqual(parseArgs([]).pytestArgs, DEFAULT_PYTEST_ARGS);
  const options = parseArgs(['--workers', '3', '--', '-k', 'x', 'tests']);
  assert.equal(options.workers, 3);
  assert.deepEqual(options.pytestArgs, ['-k', 'x', 'tests']);
  assert.deepEqual(parseArgs(['tests/a.py', '-x']).pytestArgs, ['tests/a.py', '-x']);
});
