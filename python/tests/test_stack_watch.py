"""StackWatch: faulthandler's watchdog dumps the stacks into a file, no signal sent, only while
nothing but C runs (its frame walk is unsafe while Python runs), and the file holds only the
running test's dumps."""
from __future__ import annotations

import ctypes
import time
from pathlib import Path
from typing import Iterator

import pytest

from bulkhead_pytest.stack_watch import StackWatch, stack_watch_from_env

# PyDLL: the GIL stays held for the whole call, as in an extension that does not release it.
LIBC = ctypes.PyDLL(None)


def hold_the_gil(seconds: float) -> None:
    LIBC.usleep(int(seconds * 1_000_000))


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[StackWatch]:
    started = StackWatch(str(tmp_path / "worker-1.stacks"), every=0.2)
    started.start()
    yield started
    started.stop()


def a_function_of_the_test() -> None:
    hold_the_gil(0.6)


def test_a_gil_held_in_c_is_dumped_naming_the_function(watch: StackWatch, tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    watch.test_started()
    a_function_of_the_test()
    text = path.read_text()
    assert "Timeout (0:00:00.200000)!" in text, text
    assert "in a_function_of_the_test" in text


def test_no_dump_while_python_runs(watch: StackWatch, tmp_path: Path) -> None:
    # The watchdog's frame walk is unsafe while frames change: it must never fire then.
    path = tmp_path / "worker-1.stacks"
    watch.test_started()
    deadline = time.monotonic() + 0.8
    while time.monotonic() < deadline:
        sum(i * i for i in range(1000))
    time.sleep(0.4)
    assert path.read_text() == ""


def test_a_test_starts_with_an_empty_file(watch: StackWatch, tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    hold_the_gil(0.5)
    assert path.stat().st_size > 0
    watch.test_started()
    assert path.stat().st_size == 0, "the earlier dump was emptied"
    hold_the_gil(0.5)
    # Appended after the truncation: at the start of the file, not past a hole.
    assert path.read_text().startswith("Timeout ("), repr(path.read_text()[:40])


def test_stopped_it_writes_no_more(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    watch = StackWatch(str(path), every=0.1)
    watch.start()
    watch.stop()
    hold_the_gil(0.4)
    assert path.stat().st_size == 0


class FakeConfig:
    def __init__(self, faulthandler_timeout: float) -> None:
        self.value = faulthandler_timeout

    def getini(self, name: str) -> float:
        assert name == "faulthandler_timeout"
        return self.value


def test_from_env_needs_the_file_and_a_period(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BULKHEAD_STACKS_FILE", raising=False)
    assert stack_watch_from_env(FakeConfig(0)) is None  # type: ignore[arg-type]
    monkeypatch.setenv("BULKHEAD_STACKS_FILE", str(tmp_path / "s"))
    monkeypatch.setenv("BULKHEAD_STACKS_SECONDS", "1.5")
    assert isinstance(stack_watch_from_env(FakeConfig(0)), StackWatch)  # type: ignore[arg-type]


def test_pytest_faulthandler_timeout_keeps_the_watchdog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # faulthandler has one watchdog; pytest's faulthandler_timeout arms and cancels it per test.
    monkeypatch.setenv("BULKHEAD_STACKS_FILE", str(tmp_path / "s"))
    monkeypatch.setenv("BULKHEAD_STACKS_SECONDS", "1.5")
    assert stack_watch_from_env(FakeConfig(30)) is None  # type: ignore[arg-type]
