"""bulkhead_lock's client, in-process: blocking until granted, tokens, threads, withdrawal, the no-op without a worker."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest

from bulkhead_pytest import LockError, lock
from bulkhead_pytest.locks import LockClient, install


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
