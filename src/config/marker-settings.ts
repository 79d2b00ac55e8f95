/**
 * `@pytest.mark.bulkhead(...)`: its kwargs arrive as unvalidated JSON on TestInfo and take the
 * same keys as an `[[override]]`, checked by the same schema, so a typo names its test:
 * `tests/test_x.py::test_y: @pytest.mark.bulkhead(memroy=...): unknown key 'memroy' (allowed: ...)`.
 */
import type { TestInfo } from '../model/test.js';
import { formatKeyPath, problemsOf } from './issues.js';
import { table } from './schema-parts.js';
import { testKeysShape, toTestSettings } from './test-keys.js';
import type { LoadedConfig, TestKeySettings } from './types.js';

export type MarkerSettingsResult = { ok: true; settings: TestKeySettings } | { ok: false; errors: string[] };

export function markerSettings(test: TestInfo, config: LoadedConfig): MarkerSettingsResult {
  if (test.bulkheadMarker === null) return { ok: true, settings: {} };
  const names = new Set(Object.keys(config.run.resources ?? {}));
  const declared = { names, table: config.file === null ? null : `the resources table of ${config.file}` };
  const schema = table(testKeysShape(declared), '@pytest.mark.bulkhead(timeout=..., memory=..., ...)');
  const parsed = schema.safeParse(test.bulkheadMarker);
  if (parsed.success) return { ok: true, settings: toTestSettings(parsed.data) };
  const errors = problemsOf(parsed.error.issues).map(({ path, message }) => {
    const [kwarg, ...inside] = path;
    const where = kwarg === undefined ? '@pytest.mark.bulkhead' : `@pytest.mark.bulkhead(${String(kwarg)}=...)`;
    const key = inside.length > 0 ? `${formatKeyPath([String(kwarg), ...inside])}: ` : '';
    return `${test.id}: ${where}: ${key}${message}`;
  });
  return { ok: false, errors };
}
