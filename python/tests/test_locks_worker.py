"""bulkhead_lock in a real worker, driven through its channel; and without bulkhead, where the locks do nothing."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bulkhead_pytest import BulkheadLockWarning, LockError, lock
from bulkhead_pytest.processes import SUPERVISOR_GONE_EXIT
from driver import clean_env, of_type, plain_pytest, reports
from worker_helpers import StartWorker

# -- in a real worker ------------------------------------------------------------------------------


LOCK_TEST = """
    from pathlib import Path

    def test_model(bulkhead_lock):
        with bulkhead_lock("model-init"):
            Path("inside").write_text("1")
        Path("after").write_text("1")

    def test_gpu(bulkhead_lock):
        with bulkhead_lock("gpu", permits=2):
            with bulkhead_lock("model-init"):
                pass
"""


def test_the_fixture_blocks_the_test_until_the_supervisor_grants(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(test_lock=textwrap.dedent(LOCK_TEST))
    w = worker()
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1])
    w.finish()
    # The request goes out at once (a flushed send) while the test waits for the answer.
    acquire = w.read_until("lock_acquire")[-1]
    assert (acquire["name"], acquire["permits"]) == ("model-init", 1)
    w.expect_silence(0.5)
    assert not (pytester.path / "inside").exists()
    w.grant(acquire["token"], 2.5)
    release = w.read_until("lock_release")[-1]
    assert release == {"type": "lock_release", "token": acquire["token"]}
    finished = w.read_until("finished")[-1]
    assert finished["id"] == ids[0]
    assert finished["locks"] == [{"name": "model-init", "waitedSeconds": 2.5}]
    assert (pytester.path / "after").exists()

    gpu = w.read_until("lock_acquire")[-1]
    assert (gpu["name"], gpu["permits"]) == ("gpu", 2)
    w.grant(gpu["token"], 0.0)
    inner = w.read_until("lock_acquire")[-1]
    assert inner["name"] == "model-init" and inner["token"] not in (gpu["token"], acquire["token"])
    w.grant(inner["token"], 0.125)
    run = w.read_until("done")
    assert [m["token"] for m in of_type(w.messages, "lock_release")] == [acquire["token"], inner["token"], gpu["token"]]
    finished = of_type(run, "finished")[-1]
    assert finished["locks"] == [{"name": "gpu", "waitedSeconds": 0.0}, {"name": "model-init", "waitedSeconds": 0.125}]
    assert run[-1]["exitstatus"] == 0
    assert w.wait_exit() == 0
    assert of_type(w.messages, "warning") == []


def test_a_test_without_locks_finishes_with_none(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_plain(): pass")
    w = worker()
    w.read_until("collected")
    w.run([0])
    w.finish()
    assert w.read_until("finished")[-1]["locks"] == []


UNRELEASED_TEST = """
    from bulkhead_pytest import lock

    def test_keeps_it():
        lock("db").__enter__()  # never left

    def test_next(bulkhead_lock):
        with bulkhead_lock("db"):
            pass
"""


def test_a_lock_still_held_at_test_end_is_released_with_a_warning(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(test_unreleased=textwrap.dedent(UNRELEASED_TEST))
    w = worker()
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1])
    w.finish()
    acquire = w.read_until("lock_acquire")[-1]
    w.grant(acquire["token"])
    assert w.read_until("lock_release")[-1]["token"] == acquire["token"]
    # Released at the end of the test's teardown phase, before that phase's report (the setup and
    # call passed with nothing to show: they come with the test's `finished`).
    assert reports(w.messages) == []
    second = w.read_until("lock_acquire")[-1]
    w.grant(second["token"])
    run = w.read_until("done")
    assert run[-1]["exitstatus"] == 0
    assert all(r["outcome"] == "passed" for r in reports(w.messages))
    (warning,) = [m["warning"] for m in of_type(w.messages, "warning")]
    assert warning["category"] == BulkheadLockWarning.__name__
    assert warning["nodeid"] == ids[0]
    assert "lock 'db' was still held when the test ended; bulkhead released it" in warning["message"]
    locks = [m["locks"] for m in of_type(w.messages, "finished")]
    assert locks == [[{"name": "db", "waitedSeconds": 0.0}], [{"name": "db", "waitedSeconds": 0.0}]]


def test_with_warnings_as_errors_an_unreleased_lock_is_a_teardown_error(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(test_unreleased=textwrap.dedent(UNRELEASED_TEST))
    w = worker("-W", "error::bulkhead_pytest.BulkheadLockWarning")
    w.read_until("collected")
    w.run([0])
    w.finish()
    acquire = w.read_until("lock_acquire")[-1]
    w.grant(acquire["token"])
    run = w.read_until("done")
    assert of_type(run, "lock_release")[0]["token"] == acquire["token"]
    teardown = reports(run, "teardown")[0]
    assert (teardown["outcome"], teardown["category"]) == ("failed", "error")
    assert "BulkheadLockWarning: lock 'db' was still held" in teardown["longrepr"]
    assert of_type(run, "warning") == []  # pluggy's own warning about raising wrappers among them


def test_a_teardown_that_fails_of_its_own_keeps_its_error(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(
        test_both="""
        import pytest
        from bulkhead_pytest import lock

        @pytest.fixture
        def broken():
            yield
            raise RuntimeError("fixture teardown broke")

        def test_keeps_it(broken):
            lock("db").__enter__()
        """
    )
    w = worker("-W", "error::bulkhead_pytest.BulkheadLockWarning")
    w.read_until("collected")
    w.run([0])
    w.finish()
    acquire = w.read_until("lock_acquire")[-1]
    w.grant(acquire["token"])
    run = w.read_until("done")
    assert of_type(run, "lock_release")[0]["token"] == acquire["token"]
    teardown = reports(run, "teardown")[0]
    assert teardown["outcome"] == "failed"
    assert teardown["crashMessage"] == "RuntimeError: fixture teardown broke"


def test_a_worker_waiting_for_a_lock_ends_at_once_when_the_supervisor_goes_away(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(
        test_wait="""
        def test_waits(bulkhead_lock):
            with bulkhead_lock("never"):
                pass
        """
    )
    w = worker()
    w.read_until("collected")
    w.run([0])
    w.finish()
    w.read_until("lock_acquire")
    w.close_channel()
    # Nobody is left to grant the lock or to take a result: the worker ends mid-test.
    assert w.wait_exit(10) == SUPERVISOR_GONE_EXIT
    assert of_type(w.messages, "done") == []


# -- without bulkhead: the same suite runs, the locks do nothing -----------------------------------


PORTABLE_SUITE = """
    import pytest
    from bulkhead_pytest import lock

    pytestmark = pytest.mark.bulkhead(cpus=1)

    def helper():
        with lock("helper"):
            return 42

    @pytest.mark.xdist_group("models")
    def test_fixture(bulkhead_lock):
        with bulkhead_lock("model-init"):
            with bulkhead_lock("gpu", permits=2):
                assert helper() == 42

    @pytest.mark.bulkhead(memory="1G", exclusive=True)
    def test_same_name_twice(bulkhead_lock):
        with bulkhead_lock("x"):
            pass
        with bulkhead_lock("x"):
            pass

    def test_bad_arguments_fail_alike(bulkhead_lock):
        with pytest.raises(ValueError):
            with bulkhead_lock("x", permits=0):
                pass
"""


def test_plain_pytest_with_the_plugin_runs_the_locks_as_no_ops(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_portable=textwrap.dedent(PORTABLE_SUITE))
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider", "--strict-markers"])
    assert plain.returncode == 0, plain.stdout
    assert "3 passed" in plain.stdout


def test_plain_pytest_in_process_has_the_fixture(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULKHEAD_CHANNEL_FD", raising=False)
    pytester.makepyfile(test_portable=textwrap.dedent(PORTABLE_SUITE))
    result = pytester.runpytest("-p", "bulkhead_pytest.plugin", "--strict-markers")
    result.assert_outcomes(passed=3)


def test_pytest_xdist_workers_run_the_locks_as_no_ops(pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory) -> None:
    from worker_helpers import xdist_env

    env = xdist_env(tmp_path_factory.mktemp("xdist"), sys.executable)
    pytester.makepyfile(test_portable=textwrap.dedent(PORTABLE_SUITE))
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider", "--strict-markers", "-n", "2"], env=env)
    assert plain.returncode == 0, plain.stdout
    assert "gw0" in plain.stdout and "3 passed" in plain.stdout


FALLBACK_CONFTEST = """
    import contextlib

    import pytest

    try:
        import bulkhead_pytest  # noqa: F401 (bulkhead's workers have it, and its bulkhead_lock)
    except ImportError:
        @pytest.fixture
        def bulkhead_lock():
            return lambda name, permits=1: contextlib.nullcontext()
"""

FALLBACK_TEST = """
    def test_model(bulkhead_lock):
        with bulkhead_lock("model-init"):
            pass
"""


def test_the_readme_fallback_conftest_covers_pytest_without_the_plugin(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makeconftest(textwrap.dedent(FALLBACK_CONFTEST))
    pytester.makepyfile(test_fallback=textwrap.dedent(FALLBACK_TEST))
    # Plain pytest, where bulkhead_pytest is not importable at all.
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=str(pytester.path), env=clean_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
    )
    assert plain.returncode == 0, plain.stdout
    assert "1 passed" in plain.stdout
    # In a bulkhead worker the conftest steps aside: the real lock is used.
    w = worker("-p", "no:cacheprovider")
    w.read_until("collected")
    w.run([0])
    w.finish()
    acquire = w.read_until("lock_acquire")[-1]
    w.grant(acquire["token"])
    assert w.read_until("done")[-1]["exitstatus"] == 0
