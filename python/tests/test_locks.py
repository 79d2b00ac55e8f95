"""Cross-worker locks: the worker's client in-process, the fixture in a real worker, the no-op paths."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest

from bulkhead_pytest import BulkheadLockWarning, LockError, lock
from bulkhead_pytest.locks import LockClient, install
from driver import Worker, clean_env, of_type, plain_pytest, reports

StartWorker = Callable[..., Worker]


# -- the client, in-process ------------------------------------------------------------------------


class Sent:
    """A fake channel: records what the client sends, and lets a test wait for it."""

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []
        self.cond = threading.Condition()

    def __call__(self, message: Dict[str, Any]) -> None:
        with self.cond:
            self.messages.append(message)
            self.cond.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> List[Dict[str, Any]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.messages) >= count, timeout), self.messages
            return list(self.messages)


def in_thread(action: Callable[[], Any]) -> Dict[str, Any]:
    """Runs ``action`` on a daemon thread; the dict gets "result" or "error" and "thread"."""
    outcome: Dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = action()
        except BaseException as exc:  # noqa: B036 - the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    outcome["thread"] = thread
    thread.start()
    return outcome


@pytest.fixture
def installed() -> Iterator[None]:
    yield
    install(None)


def test_acquire_blocks_until_granted_and_records_the_wait() -> None:
    sent = Sent()
    client = LockClient(sent)
    client.begin_test()
    outcome = in_thread(lambda: client.acquire("model-init", 1))
    (acquire,) = sent.wait_for(1)
    assert acquire == {"type": "lock_acquire", "name": "model-init", "permits": 1, "token": acquire["token"]}
    time.sleep(0.2)
    assert outcome["thread"].is_alive(), "acquired without a grant"
    client.granted(acquire["token"], 1.25)
    outcome["thread"].join(10)
    assert outcome["result"] == acquire["token"]
    client.release(acquire["token"])
    client.release(acquire["token"])  # idempotent: one release goes out
    assert sent.messages[1:] == [{"type": "lock_release", "token": acquire["token"]}]
    assert client.take_acquisitions() == [{"name": "model-init", "waitedSeconds": 1.25}]
    assert client.take_acquisitions() == []


def test_tokens_are_unique_and_grants_for_unknown_tokens_are_ignored() -> None:
    sent = Sent()
    client = LockClient(sent)
    first = in_thread(lambda: client.acquire("gpu", 2))
    second = in_thread(lambda: client.acquire("gpu", 2))
    messages = sent.wait_for(2)
    tokens = [m["token"] for m in messages]
    assert len(set(tokens)) == 2 and all(m["permits"] == 2 for m in messages)
    client.granted("no-such-token", 0.0)
    client.granted(tokens[1], 0.0)
    client.granted(tokens[0], 0.5)
    for outcome in (first, second):
        outcome["thread"].join(10)
    assert sorted([first["result"], second["result"]]) == sorted(tokens)


def test_another_thread_of_the_worker_waits_like_any_other_holder() -> None:
    sent = Sent()
    client = LockClient(sent)
    first = in_thread(lambda: client.acquire("x", 1))
    client.granted(sent.wait_for(1)[0]["token"], 0.0)
    first["thread"].join(10)
    assert "result" in first
    other = in_thread(lambda: client.acquire("x", 1))
    assert sent.wait_for(2)[1]["type"] == "lock_acquire"  # asked, not refused as reentrant
    client.close("test over")
    other["thread"].join(10)
    assert isinstance(other["error"], LockError)


def test_taking_a_held_name_again_on_the_same_thread_raises() -> None:
    sent = Sent()
    client = LockClient(sent)
    granter = threading.Thread(target=lambda: client.granted(sent.wait_for(1)[0]["token"], 0.0), daemon=True)
    granter.start()
    client.acquire("x", 1)
    granter.join(10)
    with pytest.raises(LockError, match="not reentrant"):
        client.acquire("x", 1)
    assert len(sent.messages) == 1  # nothing was asked of the supervisor


def test_a_closed_channel_fails_the_waiter_which_withdraws_its_request() -> None:
    sent = Sent()
    client = LockClient(sent)
    outcome = in_thread(lambda: client.acquire("x", 1))
    (acquire,) = sent.wait_for(1)
    client.close("the supervisor closed the channel")
    outcome["thread"].join(10)
    assert isinstance(outcome["error"], LockError)
    assert "the supervisor closed the channel" in str(outcome["error"])
    assert sent.messages[1:] == [{"type": "lock_release", "token": acquire["token"]}]
    with pytest.raises(LockError, match="closed"):
        client.acquire("y", 1)


def test_an_interrupted_request_is_withdrawn() -> None:
    sent = Sent()

    def send(message: Dict[str, Any]) -> None:
        sent(message)
        if message["type"] == "lock_acquire":
            raise KeyboardInterrupt  # as if Ctrl-C arrived while it waited

    client = LockClient(send)
    with pytest.raises(KeyboardInterrupt):
        client.acquire("x", 1)
    token = sent.messages[0]["token"]
    assert sent.messages[1:] == [{"type": "lock_release", "token": token}]
    client.granted(token, 0.0)  # a grant already on its way changes nothing
    assert client.release_all() == []


def test_release_all_gives_back_what_a_test_still_holds() -> None:
    sent = Sent()
    client = LockClient(sent)
    client.begin_test()
    for count, name in enumerate(["a", "b"], start=1):
        outcome = in_thread(lambda name=name: client.acquire(name, 1))
        client.granted(sent.wait_for(2 * count - 1)[-1]["token"], 0.0)
        outcome["thread"].join(10)
        if name == "a":
            client.release(outcome["result"])
    assert client.release_all() == ["b"]
    assert client.release_all() == []
    assert [m["type"] for m in sent.messages] == ["lock_acquire", "lock_release", "lock_acquire", "lock_release"]
    assert [a["name"] for a in client.take_acquisitions()] == ["a", "b"]


def test_a_forked_child_cannot_take_a_lock() -> None:
    client = LockClient(Sent())
    client._pid = -1  # as seen from a child that inherited the client
    with pytest.raises(LockError, match="child process"):
        client.acquire("x", 1)


def test_lock_without_a_worker_does_nothing() -> None:
    entered = []
    with lock("x"):
        entered.append(1)
    with lock("gpu", permits=2):
        with lock("x"):  # nothing to be reentrant about
            entered.append(2)
    assert entered == [1, 2]


@pytest.mark.parametrize(
    "name, permits, error",
    [("", 1, ValueError), (3, 1, TypeError), ("x", 0, ValueError), ("x", 1.5, TypeError), ("x", True, TypeError)],
)
def test_lock_checks_its_arguments_with_or_without_a_worker(
    installed: None, name: Any, permits: Any, error: type
) -> None:
    for client in (None, LockClient(Sent())):
        install(client)
        with pytest.raises(error):
            with lock(name, permits):
                pass


def test_lock_uses_the_installed_client(installed: None) -> None:
    sent = Sent()
    client = LockClient(sent)
    install(client)
    granter = threading.Thread(target=lambda: client.granted(sent.wait_for(1)[0]["token"], 0.0), daemon=True)
    granter.start()
    with lock("db", permits=3):
        assert [m["type"] for m in sent.messages] == ["lock_acquire"]
    granter.join(10)
    assert [m["type"] for m in sent.messages] == ["lock_acquire", "lock_release"]
    assert sent.messages[0]["permits"] == 3


def test_one_lock_object_can_be_entered_again_and_from_several_threads(installed: None) -> None:
    sent = Sent()
    client = LockClient(sent)
    install(client)
    gpu = lock("gpu", permits=2)
    entered = threading.Barrier(3, timeout=10)

    def hold() -> None:
        with gpu:
            entered.wait()  # both threads hold it at once
            entered.wait()

    holders = [in_thread(hold) for _ in range(2)]
    acquires = sent.wait_for(2)
    for message in acquires:
        client.granted(message["token"], 0.0)
    entered.wait()
    entered.wait()
    for holder in holders:
        holder["thread"].join(10)
        assert "error" not in holder
    released = [m["token"] for m in sent.wait_for(4)[2:]]
    assert sorted(released) == sorted(m["token"] for m in acquires)
    granter = threading.Thread(target=lambda: client.granted(sent.wait_for(5)[4]["token"], 0.0), daemon=True)
    granter.start()
    with gpu:  # and again, sequentially, on this thread
        pass
    granter.join(10)
    assert [m["type"] for m in sent.messages[4:]] == ["lock_acquire", "lock_release"]


def test_an_abandoned_lock_is_not_released_by_the_garbage_collector(installed: None) -> None:
    import gc

    sent = Sent()
    client = LockClient(sent)
    install(client)
    granter = threading.Thread(target=lambda: client.granted(sent.wait_for(1)[0]["token"], 0.0), daemon=True)
    granter.start()
    lock("db").__enter__()
    granter.join(10)
    gc.collect()
    assert [m["type"] for m in sent.messages] == ["lock_acquire"]
    assert client.release_all() == ["db"]  # the test's end releases it, with a warning


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
    # Released at the end of the test's teardown phase, before that phase's report.
    assert [r["when"] for r in reports(w.messages)] == ["setup", "call"]
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


def test_a_test_waiting_when_the_supervisor_goes_away_fails(pytester: pytest.Pytester, worker: StartWorker) -> None:
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
    acquire = w.read_until("lock_acquire")[-1]
    w.close_channel()
    run = w.read_until("done")
    assert of_type(run, "lock_release")[0]["token"] == acquire["token"]  # withdrawn
    call = reports(run, "call")[0]
    assert call["outcome"] == "failed"
    assert "LockError: cannot take lock 'never': the supervisor closed the channel" in call["longrepr"]
    assert of_type(run, "finished")[0]["locks"] == []
    assert w.wait_exit() == 1


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
