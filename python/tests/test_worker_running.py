"""A real worker: running what it is given, stealing, stopping, recycling, and what it sends when."""
from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path
from typing import List

import pytest

from bulkhead_pytest.processes import SUPERVISOR_GONE_EXIT
from driver import of_type, plain_pytest, reports, run_worker
from worker_helpers import StartWorker, gate_source, ids_of, read_log


# -- running -------------------------------------------------------------------------------------


def test_run_and_finish_report_each_test_in_order(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(
        test_run="""
        def test_0(): pass
        def test_1(): pass
        def test_2(): pass
        def test_3(): pass
        """
    )
    w = worker()
    collected = w.read_until("collected")[-1]
    ids = [t["id"] for t in collected["tests"]]
    w.run([0, 1, 2])
    w.finish()
    run = w.read_until("done")
    assert w.wait_exit() == 0
    expected: List[tuple] = []
    for test_id in ids[:3]:
        # Each phase passed with nothing to show: none is sent whole, each comes as its duration.
        expected += [("started", test_id), ("finished", test_id, ("setup", "call", "teardown"))]
    expected.append(("done", 0))
    got = []
    for m in run:
        if m["type"] == "started":
            got.append((m["type"], m["id"]))
        elif m["type"] == "finished":
            assert all(isinstance(duration, float) and duration >= 0 for _, duration in m["plain"])
            got.append((m["type"], m["id"], tuple(when for when, _ in m["plain"])))
        elif m["type"] == "report":
            r = m["report"]
            got.append(("report", r["testId"], r["when"], r["outcome"]))
        elif m["type"] == "done":
            got.append(("done", m["exitstatus"]))
        else:
            assert m["type"] == "warning", m
    assert got == expected


def test_nothing_runs_until_the_successor_is_known_or_finish(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(test_wait="def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.run([1])
    w.expect_silence(0.5)
    w.finish()
    run = w.read_until("done")
    assert ids_of(run, "started") == ["test_wait.py::test_1"]


MODULE_FIXTURE_PROJECT = {
    "conftest": """
        import pytest

        LOG = {log!r}

        def log(text):
            with open(LOG, "a") as f:
                f.write(text + "\\n")

        @pytest.fixture(scope="session")
        def sess():
            log("setup session")
            yield
            log("teardown session")

        @pytest.fixture(scope="module")
        def mod(request, sess):
            name = request.module.__name__
            log("setup " + name)
            yield
            log("teardown " + name)
    """,
    "test_a": """
        from conftest import log

        def test_a1(mod):
            log("run a1")

        def test_a2(mod):
            log("run a2")
    """,
    "test_b": """
        from conftest import log

        def test_b1(mod):
            log("run b1")

        def test_b2(mod):
            log("run b2")
    """,
}


def make_module_fixture_project(pytester: pytest.Pytester, log: Path) -> None:
    pytester.makepyfile(
        **{name: textwrap.dedent(source).replace("{log!r}", repr(str(log))) for name, source in MODULE_FIXTURE_PROJECT.items()}
    )


def test_module_teardown_happens_where_pytest_does_it_with_one_test_per_command(
    pytester: pytest.Pytester, worker: StartWorker
) -> None:
    log = pytester.path / "fixture.log"
    make_module_fixture_project(pytester, log)
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    assert plain.returncode == 0, plain.stdout
    expected = read_log(log)
    assert expected == [
        "setup session", "setup test_a", "run a1", "run a2", "teardown test_a",
        "setup test_b", "run b1", "run b2", "teardown test_b", "teardown session",
    ]
    log.unlink()

    w = worker("-p", "no:cacheprovider")
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    assert ids == ["test_a.py::test_a1", "test_a.py::test_a2", "test_b.py::test_b1", "test_b.py::test_b2"]
    w.run([0])
    w.expect_silence(0.3)  # test_a1 waits to know what follows it
    assert read_log(log) == []

    w.run([1])
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[0])
    assert read_log(log) == expected[:3]  # module fixture kept: test_a2 follows
    w.expect_silence(0.3)

    w.run([2])
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[1])
    assert read_log(log) == expected[:5]  # torn down with test_a2, the module's last test
    w.expect_silence(0.3)

    w.run([3])
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[2])
    assert read_log(log) == expected[:7]

    w.finish()
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[3])
    assert read_log(log) == expected  # the last test (nextitem None) tears everything down
    done = w.read_until("done")[-1]
    assert done["exitstatus"] == 0
    assert w.wait_exit() == 0
    assert read_log(log) == expected


def test_steal_returns_only_unstarted_indices(pytester: pytest.Pytester, worker: StartWorker) -> None:
    gate = pytester.path / "gate"
    pytester.makepyfile(
        test_steal=gate_source(gate)
        + textwrap.dedent(
            """
            def test_0(): wait_for_gate()
            def test_1(): pass
            def test_2(): pass
            def test_3(): pass
            def test_4(): pass
            """
        )
    )
    w = worker()
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1, 2, 3])
    w.read_until(lambda m: m["type"] == "started" and m["id"] == ids[0])
    # test_0 is running, test_1 is its nextitem; index 4 was never assigned.
    w.steal([0, 1, 3, 4])
    stolen = w.read_until("stolen")[-1]
    assert stolen["indices"] == [3]
    w.steal([2])
    assert w.read_until("stolen")[-1]["indices"] == [2]
    gate.write_text("open")
    w.finish()
    run = w.read_until("done")
    assert ids_of(w.messages, "started") == ids[:2]
    assert ids_of(w.messages, "finished") == ids[:2]
    assert all(r["outcome"] == "passed" for r in reports(run))
    assert w.wait_exit() == 0


def test_stop_ends_after_the_running_test_and_tears_down_session_fixtures(
    pytester: pytest.Pytester, worker: StartWorker
) -> None:
    log = pytester.path / "fixture.log"
    gate = pytester.path / "gate"
    make_module_fixture_project(pytester, log)
    (pytester.path / "test_a.py").write_text(
        gate_source(gate)
        + textwrap.dedent(
            """
            from conftest import log

            def test_a1(mod):
                log("run a1")
                wait_for_gate()

            def test_a2(mod):
                log("run a2")
            """
        )
    )
    w = worker()
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1, 2, 3])
    w.read_until(lambda m: m["type"] == "started" and m["id"] == ids[0])
    w.stop()
    stolen = w.read_until("stolen")[-1]
    assert stolen["indices"] == [1, 2, 3]  # the committed nextitem will not run either
    assert ids_of(w.messages, "finished") == []  # still running test_a1
    gate.write_text("open")
    w.read_until("done")
    assert read_log(log) == ["setup session", "setup test_a", "run a1", "teardown test_a", "teardown session"]
    assert w.wait_exit() == 0
    assert ids_of(w.messages, "started") == ids[:1]
    assert ids_of(w.messages, "finished") == ids[:1]
    assert [(r["when"], r["outcome"]) for r in reports(w.messages)] == [
        ("setup", "passed"), ("call", "passed"), ("teardown", "passed"),
    ]
    assert read_log(log) == ["setup session", "setup test_a", "run a1", "teardown test_a", "teardown session"]


def test_stop_while_idle_ends_the_session(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.run([0])
    w.stop()
    assert w.read_until("stolen")[-1]["indices"] == [0]
    w.read_until("done")
    assert ids_of(w.messages, "started") == []
    assert w.wait_exit() in (0, 5)


def test_a_worker_past_its_recycle_size_stops_itself_before_the_next_test(
    pytester: pytest.Pytester, worker: StartWorker
) -> None:
    # Every worker is bigger than 1 byte: it is over --worker-recycle-memory after its first test.
    pytester.makepyfile("def test_0(): pass\ndef test_1(): pass\ndef test_2(): pass\n")
    w = worker(env={"BULKHEAD_RECYCLE_BYTES": "1"})
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1, 2])
    finished = w.read_until("finished")[-1]
    assert finished["memory"]["residentBytes"] > 1
    # Given back unasked, the successor pytest already held included: it never starts here.
    assert w.read_until("stolen")[-1]["indices"] == [1, 2]
    w.read_until("done")
    assert ids_of(w.messages, "started") == ids[:1]
    assert w.wait_exit() == 0


def test_a_worker_under_its_recycle_size_runs_on(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_0(): pass\ndef test_1(): pass\n")
    w = worker(env={"BULKHEAD_RECYCLE_BYTES": str(1 << 50)})
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1])
    w.finish()
    w.read_until("done")
    assert ids_of(w.messages, "finished") == ids
    assert of_type(w.messages, "stolen") == []
    assert w.wait_exit() == 0


def test_when_the_supervisor_goes_away_the_worker_kills_what_its_test_started_and_ends_at_once(
    pytester: pytest.Pytester, worker: StartWorker, tmp_path: Path
) -> None:
    # The end of the command channel is the supervisor's death (it closes the channel only once the
    # worker has exited): nobody takes results any more, so the running test is not waited for.
    pid_file = tmp_path / "child.pid"
    pytester.makepyfile(
        test_child=f"""
        import os, subprocess, sys, time

        def test_sleeps_beside_a_child():
            # In a session of its own: only the worker's search of its descendants finds it.
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
            with open({str(pid_file)!r} + ".partial", "w") as handle:
                handle.write(str(child.pid))
            os.rename({str(pid_file)!r} + ".partial", {str(pid_file)!r})
            time.sleep(60)
        """
    )
    w = worker()
    w.read_until("collected")
    w.run([0])
    w.finish()
    deadline = time.monotonic() + 30
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the test never started its child"
        time.sleep(0.01)
    child = int(pid_file.read_text())
    try:
        closed_at = time.monotonic()
        w.close_channel()
        assert w.wait_exit(10) == SUPERVISOR_GONE_EXIT
        assert time.monotonic() - closed_at < 2
        assert of_type(w.messages, "done") == []
        assert _gone_within(child, 2.0), f"the test's child {child} outlived its worker"
    finally:
        _kill_quietly(child)


def _gone_within(pid: int, seconds: float) -> bool:
    """Whether the process ended (or is a zombie nobody reaped yet) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def test_results_are_sent_before_session_finish_hooks_run(pytester: pytest.Pytester, worker: StartWorker) -> None:
    # Results are batched; a plugin's session-finish hook that ends the process must not lose them.
    pytester.makeconftest(
        """
        import os

        def pytest_sessionfinish(session):
            os._exit(3)
        """
    )
    pytester.makepyfile(test_end="def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.run([0, 1])
    w.finish()
    with pytest.raises(AssertionError, match="channel closed"):
        w.read_until("done")
    assert w.wait_exit() == 3
    assert ids_of(w.messages, "finished") == ["test_end.py::test_0", "test_end.py::test_1"]
    assert len(reports(w.messages)) == 6


def test_warnings_are_forwarded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_warn="""
        import warnings

        def test_warns():
            warnings.warn(UserWarning("careful now"))
        """
    )
    messages = run_worker(pytester.path)
    (warning,) = [m["warning"] for m in of_type(messages, "warning")]
    assert warning["category"] == "UserWarning"
    assert warning["nodeid"] == "test_warn.py::test_warns"
    assert warning["when"] == "runtest"
    assert "careful now" in warning["message"]
    assert warning["filename"] == str(pytester.path / "test_warn.py")
    # pytest records a test's warnings when its whole protocol is over: after "finished".
    types = [m["type"] for m in messages]
    assert types.index("finished") < types.index("warning") < types.index("done")
