"""The worker's terminal summary without hypothesis's idle import (idle_summary.py): a session
that never imported hypothesis does not import it at its end, as plain pytest's does; one that
ran a hypothesis test keeps the plugin's summary, and with it the patch of a failing example.
"""
from __future__ import annotations

import importlib.util

import pytest

from driver import plain_pytest, run_worker

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("_hypothesis_pytestplugin") is None, reason="hypothesis is not installed for this python"
)

# Whether hypothesis was imported by the end, written when pytest unconfigures.
WATCHING_CONFTEST = """
import os, sys
import pytest

@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    with open(os.path.join(os.path.dirname(__file__), "imported.txt"), "w") as f:
        f.write(str("hypothesis" in sys.modules))
"""


def test_a_session_without_hypothesis_does_not_import_it_at_its_end(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(WATCHING_CONFTEST)
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")

    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    assert plain.returncode == 0, plain.stdout
    # Plain pytest's summary imports it (what the worker is spared).
    assert (pytester.path / "imported.txt").read_text() == "True"

    messages = run_worker(pytester.path, ["-p", "no:cacheprovider"])
    assert [m["id"] for m in messages if m["type"] == "finished"] == ["test_plain.py::test_one"]
    assert (pytester.path / "imported.txt").read_text() == "False"


def test_a_session_that_ran_hypothesis_keeps_its_summary(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(WATCHING_CONFTEST)
    pytester.makepyfile(
        test_prop="""
from hypothesis import given, settings, strategies as st

@settings(database=None, derandomize=True)
@given(st.integers())
def test_small(n):
    assert n < 10
"""
    )
    messages = run_worker(pytester.path, ["-p", "no:cacheprovider"])
    finished = [m for m in messages if m["type"] == "finished"]
    assert [m["id"] for m in finished] == ["test_prop.py::test_small"]
    assert (pytester.path / "imported.txt").read_text() == "True"
    # Written by the plugin's pytest_terminal_summary, for the failing example.
    patches = list((pytester.path / ".hypothesis" / "patches").glob("*.patch"))
    assert len(patches) == 1, patches
    assert "n=10" in patches[0].read_text()
