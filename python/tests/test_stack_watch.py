"""StackWatch: faulthandler's watchdog dumps the stacks into a file, no signal sent, and the file
holds only the running test's dumps."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from bulkhead_pytest.stack_watch import StackWatch, stack_watch_from_env


def wait_for_dumps(path: Path, count: int, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text()
        if text.count("Timeout (") >= count:
            return text
        time.sleep(0.05)
    return path.read_text()


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[StackWatch]:
    started = StackWatch(str(tmp_path / "worker-1.stacks"), every=0.2)
    started.start()
    yield started
    started.stop()


def a_function_of_the_test(path: Path) -> str:
    return wait_for_dumps(path, 2)


def test_dumps_name_the_running_function(watch: StackWatch, tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    watch.test_started()
    text = a_function_of_the_test(path)
    assert text.count("Timeout (0:00:00.200000)!") >= 2, text
    assert "in a_function_of_the_test" in text


def test_a_test_starts_with_an_empty_file(watch: StackWatch, tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    wait_for_dumps(path, 1)
    watch.test_started()
    assert path.stat().st_size < 200, "the earlier dumps were emptied (a new one may have begun)"
    text = wait_for_dumps(path, 2)
    # Appended after the truncation: at the start of the file, not past a hole.
    assert text.startswith("Timeout ("), repr(text[:40])


def test_stopped_it_writes_no_more(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    watch = StackWatch(str(path), every=0.1)
    watch.start()
    wait_for_dumps(path, 1)
    watch.stop()
    size = path.stat().st_size
    time.sleep(0.4)
    assert path.stat().st_size == size


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
