"""RunQueue: the worker's local queue, shared by the command reader and pytest's test loop."""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

import pytest

from bulkhead_pytest.run_queue import RunQueue

BLOCKED = 0.2  # how long a call must stay blocked to count as blocked
WAKE = 10.0  # the bound on how long a woken call may take to return


@pytest.fixture
def rq() -> Iterator[RunQueue]:
    q = RunQueue()
    yield q
    q.stop()  # releases a next_pair that a failed test left blocked


def in_thread(fn: Callable[[], Any]) -> "queue.Queue[Any]":
    results: "queue.Queue[Any]" = queue.Queue()
    threading.Thread(target=lambda: results.put(fn()), daemon=True).start()
    return results


def assert_blocked(results: "queue.Queue[Any]") -> None:
    with pytest.raises(queue.Empty):
        results.get(timeout=BLOCKED)


# -- an item runs only with its successor known, or after finish --------------------------------


def test_single_item_waits_for_its_successor(rq: RunQueue) -> None:
    rq.add([5])
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    rq.add([7])
    assert pending.get(timeout=WAKE) == (5, 7)


def test_item_runs_with_its_queued_successor(rq: RunQueue) -> None:
    rq.add([3, 1, 2])
    assert rq.next_pair() == (3, 1)
    assert rq.next_pair() == (1, 2)


def test_last_item_waits_until_finish_then_runs_without_successor(rq: RunQueue) -> None:
    rq.add([0, 1])
    assert rq.next_pair() == (0, 1)
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    rq.finish()
    assert pending.get(timeout=WAKE) == (1, None)
    assert rq.next_pair() is None


def test_flush_runs_the_lone_item_without_successor_then_waits_again(rq: RunQueue) -> None:
    # The supervisor's budget admits no successor yet: the lone item runs now, teardown and all,
    # and the session goes on waiting for more work instead of ending.
    rq.add([4])
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    rq.flush()
    assert pending.get(timeout=WAKE) == (4, None)
    rq.add([6])
    again = in_thread(rq.next_pair)
    assert_blocked(again)
    rq.add([8])
    assert again.get(timeout=WAKE) == (6, 8)


def test_finish_runs_everything_queued_then_ends(rq: RunQueue) -> None:
    rq.add([4, 2, 9])
    rq.finish()
    assert [rq.next_pair() for _ in range(4)] == [(4, 2), (2, 9), (9, None), None]


def test_finish_with_nothing_queued_ends_at_once(rq: RunQueue) -> None:
    rq.finish()
    assert rq.next_pair() is None


def test_work_added_in_several_commands_keeps_its_order(rq: RunQueue) -> None:
    rq.add([0])
    rq.add([1, 2])
    rq.add([])
    rq.add([3])
    rq.finish()
    assert [rq.next_pair() for _ in range(5)] == [(0, 1), (1, 2), (2, 3), (3, None), None]


# -- steal ---------------------------------------------------------------------------------------


def test_steal_gives_up_only_queued_items_in_queue_order(rq: RunQueue) -> None:
    rq.add([0, 1, 2, 3, 4])
    assert rq.steal([4, 2, 99]) == [2, 4]
    rq.finish()
    assert [rq.next_pair() for _ in range(4)] == [(0, 1), (1, 3), (3, None), None]


def test_steal_never_gives_up_the_committed_nextitem(rq: RunQueue) -> None:
    rq.add([0, 1, 2, 3])
    assert rq.next_pair() == (0, 1)  # 0 runs with nextitem 1: 1 is promised to pytest
    assert rq.steal([0, 1, 2, 3]) == [2, 3]  # 0 started, 1 committed
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)  # 1 is the only item left: it needs a successor or finish
    rq.add([5])
    assert pending.get(timeout=WAKE) == (1, 5)
    assert rq.steal([5]) == []  # now 5 is the committed one
    rq.finish()
    assert rq.next_pair() == (5, None)
    assert rq.next_pair() is None


def test_steal_of_everything_before_anything_started(rq: RunQueue) -> None:
    rq.add([0, 1, 2])
    assert rq.steal([0, 1, 2]) == [0, 1, 2]
    rq.finish()
    assert rq.next_pair() is None


def test_steal_after_the_committed_item_ran(rq: RunQueue) -> None:
    rq.add([0, 1])
    rq.finish()
    assert rq.next_pair() == (0, 1)
    assert rq.next_pair() == (1, None)  # nothing is committed any more
    rq.add([7, 8])  # not part of the protocol after finish, but nothing may be held back
    assert rq.steal([7, 8]) == [7, 8]


# -- stop ----------------------------------------------------------------------------------------


def test_stop_drops_the_queue(rq: RunQueue) -> None:
    rq.add([0, 1, 2])
    assert rq.stop() == [0, 1, 2]
    assert rq.next_pair() is None


def test_stop_while_running_drops_the_committed_nextitem_too(rq: RunQueue) -> None:
    rq.add([0, 1, 2])
    assert rq.next_pair() == (0, 1)
    assert rq.stop() == [1, 2]
    assert rq.next_pair() is None


def test_nothing_runs_after_stop(rq: RunQueue) -> None:
    rq.stop()
    rq.add([0, 1])
    rq.finish()
    assert rq.next_pair() is None


def test_stop_after_finish_still_stops(rq: RunQueue) -> None:
    rq.add([0, 1, 2])
    rq.finish()
    assert rq.next_pair() == (0, 1)
    assert rq.stop() == [1, 2]
    assert rq.next_pair() is None


# -- a blocked next_pair wakes -------------------------------------------------------------------


def test_blocked_next_pair_wakes_on_add(rq: RunQueue) -> None:
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    rq.add([1])
    assert_blocked(pending)  # one item is not enough
    rq.add([2])
    assert pending.get(timeout=WAKE) == (1, 2)


def test_blocked_next_pair_wakes_on_add_of_two_at_once(rq: RunQueue) -> None:
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    rq.add([8, 9])
    assert pending.get(timeout=WAKE) == (8, 9)


def test_blocked_next_pair_wakes_on_finish_with_work(rq: RunQueue) -> None:
    rq.add([1])
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    rq.finish()
    assert pending.get(timeout=WAKE) == (1, None)


def test_blocked_next_pair_wakes_on_finish_without_work(rq: RunQueue) -> None:
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    rq.finish()
    assert pending.get(timeout=WAKE) is None


def test_blocked_next_pair_wakes_on_stop(rq: RunQueue) -> None:
    rq.add([1])
    pending = in_thread(rq.next_pair)
    assert_blocked(pending)
    assert rq.stop() == [1]
    assert pending.get(timeout=WAKE) is None


def test_producer_and_consumer_threads_see_every_item_once_in_order(rq: RunQueue) -> None:
    total = 2000

    def produce() -> None:
        for start in range(0, total, 7):
            rq.add(range(start, min(start + 7, total)))
        rq.finish()

    def consume() -> list:
        pairs = []
        while True:
            pair = rq.next_pair()
            if pair is None:
                return pairs
            pairs.append(pair)

    consumed = in_thread(consume)
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    pairs = consumed.get(timeout=30)
    producer.join(5)
    assert [index for index, _ in pairs] == list(range(total))
    assert [following for _, following in pairs] == list(range(1, total)) + [None]


# -- before_wait: buffered results go out before the worker blocks --------------------------------


def test_before_wait_runs_once_when_about_to_block(rq: RunQueue) -> None:
    calls = []
    rq.add([0])
    pending = in_thread(lambda: rq.next_pair(before_wait=lambda: calls.append("flush")))
    assert_blocked(pending)
    assert calls == ["flush"]
    rq.add([1])
    assert pending.get(timeout=WAKE) == (0, 1)
    assert calls == ["flush"]


def test_before_wait_is_not_called_when_an_item_is_ready(rq: RunQueue) -> None:
    calls = []
    rq.add([0, 1])
    assert rq.next_pair(before_wait=lambda: calls.append("flush")) == (0, 1)
    rq.finish()
    assert rq.next_pair(before_wait=lambda: calls.append("flush")) == (1, None)
    assert rq.next_pair(before_wait=lambda: calls.append("flush")) is None
    assert calls == []


def test_before_wait_runs_outside_the_lock(rq: RunQueue) -> None:
    """Another thread can hand out work while before_wait runs, and that work is not missed."""

    def before_wait() -> None:
        adder = threading.Thread(target=rq.add, args=([1, 2],), daemon=True)
        adder.start()
        adder.join(WAKE)
        assert not adder.is_alive(), "add() blocked: before_wait ran under the queue's lock"

    result = in_thread(lambda: rq.next_pair(before_wait=before_wait))
    assert result.get(timeout=WAKE) == (1, 2)


def test_before_wait_then_stop_ends(rq: RunQueue) -> None:
    result = in_thread(lambda: rq.next_pair(before_wait=rq.stop))
    assert result.get(timeout=WAKE) is None
