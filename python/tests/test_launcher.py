"""The worker launcher's environment: the multiprocessing start method bulkhead chooses."""
from __future__ import annotations

import multiprocessing
import textwrap

import pytest

from driver import of_type, plain_pytest, reports, run_worker

START_METHOD_TEST = """
    import multiprocessing
    import os

    def test_start_method():
        assert multiprocessing.get_start_method(allow_none=True) == {method!r}

    def test_a_child_starts_with_it():
        child = multiprocessing.get_context().Process(target=os.getpid)
        child.start()
        try:
            child.join(60)
            assert child.exitcode == 0
        finally:
            if child.exitcode is None:
                child.kill()
                child.join(10)
"""


@pytest.mark.parametrize("method", ["forkserver", "spawn", "fork"])
def test_the_start_method_is_set_before_the_tests_run(pytester: pytest.Pytester, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    pytester.makepyfile(test_mp=textwrap.dedent(START_METHOD_TEST).replace("{method!r}", repr(method)))
    messages = run_worker(pytester.path, env={"BULKHEAD_MP_START_METHOD": method})
    calls = reports(messages, "call")
    assert [(r["testId"], r["outcome"]) for r in calls] == [
        ("test_mp.py::test_start_method", "passed"),
        ("test_mp.py::test_a_child_starts_with_it", "passed"),
    ], [r["longrepr"] for r in calls]
    assert of_type(messages, "done")[0]["exitstatus"] == 0


def test_without_it_nothing_is_chosen(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mp="""
        import multiprocessing

        def test_start_method():
            assert multiprocessing.get_start_method(allow_none=True) is None
        """
    )
    messages = run_worker(pytester.path)
    assert [r["outcome"] for r in reports(messages, "call")] == ["passed"]


def test_an_unknown_start_method_stops_the_worker_with_a_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = plain_pytest(pytester.path, env={"BULKHEAD_MP_START_METHOD": "thread"})
    assert result.returncode == 1
    assert "bulkhead: BULKHEAD_MP_START_METHOD='thread' is not one of fork, spawn, forkserver" in result.stdout
    assert "test session starts" not in result.stdout


def test_multiprocessing_helpers_are_not_reported_as_left_behind(pytester: pytest.Pytester) -> None:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("forkserver is not available here")
    pytester.makepyfile(
        test_helpers="""
        import multiprocessing
        import os
        import time

        def test_uses_multiprocessing():
            child = multiprocessing.Process(target=os.getpid)
            child.start()
            child.join(60)
            assert child.exitcode == 0

        def test_leaves_a_child():
            multiprocessing.Process(target=time.sleep, args=(30,), daemon=False).start()
        """
    )
    messages = run_worker(pytester.path, env={"BULKHEAD_MP_START_METHOD": "forkserver"})
    leaked = {m["id"]: m["leaked"] for m in of_type(messages, "finished")}
    # The forkserver and the resource tracker live as long as the worker, on purpose.
    assert leaked["test_helpers.py::test_uses_multiprocessing"] == []
    # A process a test leaves running is still its leak, though the forkserver forked it.
    (child,) = leaked["test_helpers.py::test_leaves_a_child"]
    assert "forkserver" in child["cmd"]
