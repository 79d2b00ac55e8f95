/**
 * pytestVerdict: pytest's own words for a session it refused, without the noise before them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pytestVerdict } from '../../src/core/exit-cause.js';

test("a plugin's configure-time warning before pytest's ERROR line is left out", () => {
  const stderr = [
    '/site-packages/pytest_benchmark/logger.py:44: PytestBenchmarkWarning: Benchmarks are automatically disabled because xdist plugin is active.',
    '  warner(PytestBenchmarkWarning(text))',
    'ERROR: file or directory not found: tests/no_such_test_file.py',
    '',
  ].join('\n');
  assert.equal(pytestVerdict(stderr), 'ERROR: file or directory not found: tests/no_such_test_file.py');
});

test('without an ERROR line (a usage message), all of it', () => {
  const stderr = 'usage: pytest [options]\npytest: error: unrecognized arguments: --bogus\n';
  assert.equal(pytestVerdict(stderr), 'usage: pytest [options]\npytest: error: unrecognized arguments: --bogus');
});
