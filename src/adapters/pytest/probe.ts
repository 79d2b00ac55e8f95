/**
 * The check made once before any worker starts: is there a Python, is pytest installed for it, and
 * are both new enough. Each failure becomes one line that names the problem and the fix.
 *
 * It does not import pytest (0.25 s, on the path to every worker's start): pytest's version is
 * `_pytest.__version__`, a module of two lines, read where `_pytest` sits beside the `pytest` the
 * interpreter would import; any other layout (a lone `pytest` package, a version pytest cannot
 * tell) imports pytest itself. A pytest that is installed but does not import is the worker's to
 * report (bulkhead-worker.py: exit 4 with one ERROR line, judged as pytest's own usage errors are).
 */
import type { HelperCommand, HelperResult, ProbeVerdict } from '../framework-adapter.js';
import { ENV } from '../../model/environment.js';

export const MIN_PYTHON: readonly [number, number] = [3, 9];
export const MIN_PYTEST: readonly [number, number] = [7, 0];

export const PROBE_SCRIPT = [
  'import json, os, sys',
  'info = {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable}',
  'try:',
  '    from importlib.util import find_spec',
  '    spec = find_spec("pytest")',
  '    if spec is None or spec.origin is None:',
  '        raise ModuleNotFoundError("No module named \'pytest\'")',
  '    home = os.path.dirname(spec.origin)',
  '    if os.path.basename(spec.origin) == "__init__.py":',
  '        home = os.path.dirname(home)',
  '    inner = find_spec("_pytest")',
  '    version = "unknown"',
  '    if inner is not None and inner.origin is not None and os.path.dirname(os.path.dirname(inner.origin)) == home:',
  '        import _pytest',
  '        version = getattr(_pytest, "__version__", "unknown")',
  '    if version == "unknown":',
  '        import pytest',
  '        version = pytest.__version__',
  '    info["pytest"] = version',
  'except Exception as exc:',
  '    info["pytest_error"] = "%s: %s" % (type(exc).__name__, exc)',
  'print(json.dumps(info))',
].join('\n');

const PROBE_TIMEOUT_MS = 60_000;

export function probeCommand(python: string): HelperCommand {
  return { command: python, args: ['-c', PROBE_SCRIPT], timeoutMs: PROBE_TIMEOUT_MS };
}

/** The probe's run, judged: it could not start, did not answer, or answered (see judgeProbeOutput). */
export function judgeProbe(python: string, result: HelperResult): ProbeVerdict {
  switch (result.kind) {
    case 'spawn_failed': {
      const what = result.error.code === 'ENOENT' ? 'was not found' : `cannot be started (${result.error.code ?? result.error.message})`;
      return { ok: false, message: `python interpreter '${python}' ${what}; install python3 or pass --python PATH (or set ${ENV.python.name})` };
    }
    case 'timed_out':
      return { ok: false, message: `'${python}' did not answer within ${PROBE_TIMEOUT_MS / 1000}s when asked for its pytest version` };
    case 'exited':
      return judgeProbeOutput(python, result.stdout, result.stderr);
  }
}

export function judgeProbeOutput(python: string, stdout: string, stderr: string): ProbeVerdict {
  let info: { python?: string; pytest?: string; pytest_error?: string; executable?: string };
  try {
    info = JSON.parse(stdout.trim().split('\n').pop() ?? '') as typeof info;
  } catch {
    const detail = stderr.trim().split('\n').pop() || 'no output';
    return { ok: false, message: `'${python}' did not run as a Python interpreter (${detail}); set --python to a python3` };
  }
  const pythonVersion = info.python ?? '0.0.0';
  if (olderThan(pythonVersion, MIN_PYTHON)) {
    return {
      ok: false,
      message: `'${python}' is Python ${pythonVersion}; bulkhead needs Python >= ${MIN_PYTHON.join('.')} (set --python)`,
    };
  }
  if (!info.pytest) {
    return {
      ok: false,
      message: `pytest is not importable by '${python}' (${info.pytest_error ?? 'unknown error'}); install it with '${python} -m pip install pytest' or set --python to the interpreter of your project's environment`,
    };
  }
  if (olderThan(info.pytest, MIN_PYTEST)) {
    return {
      ok: false,
      message: `pytest ${info.pytest} (of '${python}') is too old; bulkhead needs pytest >= ${MIN_PYTEST.join('.')}: '${python} -m pip install -U pytest'`,
    };
  }
  return { ok: true, runtimeVersion: pythonVersion, frameworkVersion: info.pytest, executable: info.executable ?? python };
}

function olderThan(version: string, minimum: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  return major < minimum[0] || (major === minimum[0] && minor < minimum[1]);
}
