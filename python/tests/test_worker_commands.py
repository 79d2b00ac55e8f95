"""A real worker given commands it cannot read: it says why in a ``protocol_error`` message and
ends its session in order (the running test finishes, nothing else starts, its session is done),
instead of a reader thread that dies, a test loop that crashes on a bad index, or a worker that
keeps going after it was sent something it did not understand."""
from __future__ import annotations

from pathlib import Path

import pytest

from driver import of_type, reports
from worker_helpers import StartWorker, gate_source, ids_of


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b'{"type":"run","indices":[0]\n', "(message): not JSON"),
        (b'{"type":"bogus"}\n', "type: unknown type 'bogus'"),
        (b'{"type":"run","indices":"01"}\n', "indices: expected an array"),
        (b'{"type":"run"}\n', "indices: missing"),
        (b'{"type":"lock_granted","token":"t","waitedSeconds":"soon"}\n', "waitedSeconds: expected a number"),
        (b'{"type":"run","indices":[0,99]}\n', "indices.1: test index 99 is past the collection (2 tests)"),
        (b'{"type":"run","indices":[0],"threads":{"0":NaN}}\n', "(message): not JSON (NaN is not JSON)"),
        (b'\xff\xfe{"type":"finish"}\n', "(message): not UTF-8"),
    ],
    ids=["not-json", "unknown-type", "wrong-type", "missing-field", "wrong-number", "index-past-collection", "nan", "not-utf8"],
)
def test_a_bad_command_is_reported_and_the_worker_ends(pytester: pytest.Pytester, worker: StartWorker, line: bytes, error: str) -> None:
    pytester.makepyfile(test_cmd="def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.send_raw(line)
    run = w.read_until("done")
    (reported,) = of_type(run, "protocol_error")
    assert reported["error"].startswith(error), reported
    assert reported["command"] == line.rstrip(b"\n").decode("utf-8", "replace")
    assert not of_type(run, "internal_error", "started"), run
    w.wait_exit()


def test_the_running_test_finishes_and_nothing_else_starts(pytester: pytest.Pytester, worker: StartWorker, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    pytester.makepyfile(
        test_cmd=gate_source(gate) + "\n\ndef test_0():\n    wait_for_gate()\n\ndef test_1(): pass\n\ndef test_2(): pass\n"
    )
    w = worker()
    w.read_until("collected")
    w.run([0, 1, 2])
    w.read_until("started")
    w.send_raw(b'{"type":"steal","indices":[-1]}\n')
    w.read_until("protocol_error")
    gate.touch()
    run = w.read_until("done")
    assert ids_of(w.messages, "started") == ["test_cmd.py::test_0"]
    assert ids_of(run, "finished") == ["test_cmd.py::test_0"]
    phases = [(report["when"], report["outcome"]) for report in reports(w.messages)]
    assert phases == [("setup", "passed"), ("call", "passed"), ("teardown", "passed")]
    w.wait_exit()


def test_a_test_waiting_for_a_lock_fails_when_the_commands_end(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(
        test_cmd="""
        from bulkhead_pytest import lock

        def test_0():
            with lock("gpu"):
                pass
        """
    )
    w = worker()
    w.read_until("collected")
    w.run([0])
    w.finish()
    w.read_until("lock_acquire")
    w.send_raw(b'{"type":"lock_granted","token":"","waitedSeconds":0}\n')
    run = w.read_until("done")
    (call,) = [m["report"] for m in of_type(run, "report") if m["report"]["when"] == "call"]
    assert call["outcome"] == "failed"
    assert "the worker stopped reading commands (token: expected a string of at least 1 character(s))" in call["longrepr"]
    w.wait_exit()
