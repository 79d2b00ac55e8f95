"""StackWatch: faulthandler's watchdog dumps the running test's stacks into a file, no signal sent,
and the file holds only the running test's dumps."""
from __future__ import annotations

import time
from pathlib import Path

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


def a_function_of_the_test(path: Path) -> str:
    return wait_for_dumps(path, 2)


def test_dumps_while_armed_name_the_running_function(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    watch = StackWatch(str(path), every=0.2)
    watch.arm()
    try:
        text = a_function_of_the_test(path)
    finally:
        watch.disarm()
    assert text.count("Timeout (0:00:00.200000)!") >= 2, text
    assert "in a_function_of_the_test" in text
    # Disarmed: no more dumps.
    size = path.stat().st_size
    time.sleep(0.5)
    assert path.stat().st_size == size


def test_the_next_test_starts_with_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    watch = StackWatch(str(path), every=0.2)
    watch.arm()
    wait_for_dumps(path, 1)
    watch.disarm()
    assert path.stat().st_size > 0
    watch.arm()
    try:
        assert path.read_text() == "", "the earlier test's dumps were emptied"
        text = wait_for_dumps(path, 1)
        # Appended after the truncation: at the start of the file, not past a hole.
        assert text.startswith("Timeout ("), repr(text[:40])
    finally:
        watch.disarm()


def test_a_short_test_leaves_nothing_to_empty(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.stacks"
    watch = StackWatch(str(path), every=5.0)
    watch.arm()
    watch.disarm()
    assert path.read_text() == ""


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
