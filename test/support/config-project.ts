/** Temporary project folders holding config files, and TestInfo values, for the config tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestInfo } from '../../src/model/test.js';

/** Runs `body` in a fresh folder holding `files` (name -> text), removed afterwards. */
export function withProject<T>(files: Record<string, string>, body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-config-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A collected test with no markers, changed by `fields`. */
export function testInfo(id: string, fields: Partial<TestInfo> = {}): TestInfo {
  return {
    id,
    file: id.split('::')[0] ?? id,
    line: null,
    markers: [],
    scope: id.split('::')[0] ?? id,
    timeout: null,
    bulkheadMarker: null,
    xdistGroup: null,
    ...fields,
  };
}

/** Lines of TOML, for readability in tables of cases. */
export function toml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
