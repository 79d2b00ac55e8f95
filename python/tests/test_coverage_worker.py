"""pytest-cov in a real worker (coverage_worker.py): measured into the run's data directory,
flushed after each test so a SIGKILL keeps it, never erased, never reported by the worker.

Needs pytest-cov: run on Debian's python3 with its python3-pytest-cov (scripts/setup-machine.sh).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from driver import Worker, of_type

DEBIAN_PYTHON = "/usr/bin/python3"

PROJECT = {
    "covmod.py": """
        def first():
            return 1

        def second():
            return 2

        def paused():
            return 3
    """,
    "test_cov_project.py": """
        import pytest
        import covmod

        def test_first(cov):
            assert cov is not None  # pytest-cov's own fixture finds the worker's Coverage
            assert covmod.first() == 1

        @pytest.mark.no_cover
        def test_paused():
            assert covmod.paused() == 3

        def test_second():
            assert covmod.second() == 2
    """,
}


@pytest.fixture
def python() -> str:
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import pytest_cov"], capture_output=True, timeout=60) if os.path.exists(DEBIAN_PYTHON) else None
    if probe is None or probe.returncode != 0:
        pytest.skip(f"{DEBIAN_PYTHON} has no pytest-cov (scripts/setup-machine.sh installs python3-pytest-cov)")
    return DEBIAN_PYTHON


def _measured(python: str, directory: Path) -> Dict[str, List[int]]:
    """Lines measured in covmod.py, per parallel data file in ``directory``."""
    script = (
        "import glob, json, sys\n"
        "from coverage import CoverageData\n"
        "found = {}\n"
        "for path in sorted(glob.glob(sys.argv[1] + '/.coverage.*')):\n"
        "    if path.endswith('another-worker'): continue\n"
        "    data = CoverageData(path); data.read()\n"
        "    files = [f for f in data.measured_files() if f.endswith('covmod.py')]\n"
        "    found[path] = sorted(data.lines(files[0]) or []) if files else []\n"
        "print(json.dumps(found))\n"
    )
    done = subprocess.run([python, "-c", script, str(directory)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_killed_worker_keeps_its_finished_tests_and_erases_nothing(pytester: pytest.Pytester, python: str) -> None:
    pytester.makepyfile(**PROJECT)
    data_dir = pytester.path / "data"
    data_dir.mkdir()
    (data_dir / ".coverage.another-worker").write_text("not ours")
    (pytester.path / ".coverage").write_text("the last run's")
    with Worker(pytester.path, ["--cov=covmod", "--cov-report=xml"], python=python,
                env={"BULKHEAD_COVERAGE_DIR": str(data_dir)}) as worker:
        collected = worker.read_until("collected")
        session = of_type(worker.messages, "session")[0]["coverage"]
        assert session["options"]["cov_source"] == ["covmod"]
        assert session["options"]["cov_report"] == {"xml": None}
        assert session["topdir"] == str(pytester.path)
        assert len(collected[-1]["tests"]) == 3
        worker.run([0])
        worker.send({"type": "flush"})  # the lone test given runs without waiting for a successor
        worker.read_until(lambda m: m["type"] == "finished" and m["id"].endswith("test_first"))
        os.killpg(worker.proc.pid, signal.SIGKILL)
        worker.wait_exit()
    measured = _measured(python, data_dir)
    # test_first's lines are on disk although the worker never ended its session.
    assert list(measured.values()) == [[1, 2, 4, 7]], measured
    assert (data_dir / ".coverage.another-worker").read_text() == "not ours"
    assert (pytester.path / ".coverage").read_text() == "the last run's"
    assert not (pytester.path / "coverage.xml").exists()


def test_a_worker_prints_no_table_and_writes_no_report(pytester: pytest.Pytester, python: str) -> None:
    pytester.makepyfile(**PROJECT)
    data_dir = pytester.path / "data"
    with Worker(pytester.path, ["--cov=covmod", "--cov-report=html", "--cov-fail-under=100"],
                python=python, env={"BULKHEAD_COVERAGE_DIR": str(data_dir)}) as worker:
        worker.read_until("collected")
        worker.run([0, 1, 2])
        worker.finish()
        done = worker.read_until("done")[-1]
        worker.wait_exit()
        output = worker.output()
    assert done["exitstatus"] == 0  # the fail-under verdict is the supervisor's, on the combined data
    assert "coverage:" not in output and "Required test coverage" not in output, output
    assert not (pytester.path / "htmlcov").exists()
    assert [p.name for p in pytester.path.glob(".coverage*")] == []
    # Saved at the session's end; the no_cover test's line (8) was not measured.
    assert list(_measured(python, data_dir).values()) == [[1, 2, 4, 5, 7]]
