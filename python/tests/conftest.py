"""Shared fixtures of the plugin's tests (run with ``python3 -m pytest -p pytester python/tests``)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent
for folder in (str(PYTHON_DIR), str(TESTS_DIR)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from driver import Worker  # noqa: E402


@pytest.fixture
def worker(pytester: pytest.Pytester) -> Iterator[Callable[..., Worker]]:
    """Starts workers on the pytester project; kills whatever is left of them at teardown."""
    started: List[Worker] = []

    def start(*args: str, **kwargs) -> Worker:
        w = Worker(pytester.path, args, **kwargs)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()
