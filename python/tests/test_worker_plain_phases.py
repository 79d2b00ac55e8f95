"""Plain phases: a phase that passed with nothing to show travels as [when, duration] on its
test's `finished`; one that is shown (-rp, captured output, properties, logs) is sent whole."""
from __future__ import annotations

import pytest

from driver import of_type, reports
from worker_helpers import StartWorker


def test_a_pass_is_sent_whole_where_it_is_shown(pytester: pytest.Pytester, worker: StartWorker) -> None:
    # -rp lists passes in the short summary, with the line pytest renders: the call is sent whole.
    pytester.makepyfile(test_run="def test_0(): pass\n")
    w = worker("-rp")
    w.read_until("collected")
    w.run([0])
    w.finish()
    run = w.read_until("done")
    call = reports(run, "call")[0]
    assert "plain" not in call
    assert (call["category"], call["letter"], call["word"]) == ("passed", ".", "PASSED")
    assert call["summaryLine"] == "PASSED test_run.py::test_0"
    assert call["location"] == {"file": "test_run.py", "line": 0, "domain": "test_0"}
    # The setup went whole before the call, so that the phases arrive in the order they ran.
    assert [r["when"] for r in reports(run) if "plain" not in r] == ["setup", "call"]
    assert [when for when, _ in of_type(run, "finished")[0]["plain"]] == ["teardown"]


def test_a_pass_that_printed_or_recorded_is_sent_whole(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(
        test_run="""
        import logging
        def test_printed(): print("hello")
        def test_property(record_property): record_property("k", "v")
        def test_logged(): logging.getLogger().warning("careful")
        """
    )
    w = worker()
    w.read_until("collected")
    w.run([0, 1, 2])
    w.finish()
    run = w.read_until("done")
    whole = {(r["testId"].split("::")[1], r["when"]) for r in reports(run) if "plain" not in r}
    assert {("test_printed", "call"), ("test_property", "call"), ("test_logged", "call")} <= whole
