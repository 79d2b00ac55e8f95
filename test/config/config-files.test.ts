import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mayHaveConfig } from '../../src/config/config-files.js';

test('mayHaveConfig: bulkhead.toml, or a pyproject.toml with a [tool.bulkhead] table or sub-table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-head-start-config-'));
  try {
    assert.equal(mayHaveConfig(dir), false);
    writeFileSync(join(dir, 'pyproject.toml'), '[tool.black]\nline-length = 100\n');
    assert.equal(mayHaveConfig(dir), false, 'a pyproject.toml of other tools only');
    writeFileSync(join(dir, 'pyproject.toml'), '[tool.black]\n\n[tool.bulkhead.resources]\ngpu = 1\n');
    assert.equal(mayHaveConfig(dir), true);
    rmSync(join(dir, 'pyproject.toml'));
    writeFileSync(join(dir, 'bulkhead.toml'), '');
    assert.equal(mayHaveConfig(dir), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

