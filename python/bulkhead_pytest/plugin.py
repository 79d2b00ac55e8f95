"""Entry point loaded with ``-p bulkhead_pytest.plugin``.

Inactive unless bulkhead started this process. When active it keeps pytest-xdist from starting
its own workers (bulkhead replaces ``-n``) and registers the worker session.
"""
from __future__ import annotations

from typing import Any, Generator

import pytest

from .channel import open_channel_from_env

_xdist_requested: "str | None" = None


@pytest.hookimpl(hookwrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, Any, None]:
    # A wrapper runs before every plain implementation, including xdist's own tryfirst one, so
    # an ini `addopts = -n auto` never makes a worker start workers of its own.
    global _xdist_requested
    option = config.option
    if _active() and getattr(option, "numprocesses", None):
        _xdist_requested = str(option.numprocesses)
        option.numprocesses = None
        option.dist = "no"
        option.tx = []
        if hasattr(option, "distload"):
            option.distload = False
        if hasattr(option, "looponfail"):
            option.looponfail = False
    yield


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not _active():
        return
    channel = open_channel_from_env()
    if channel is None:
        return
    from .worker import WorkerSession

    session = WorkerSession(config, channel, xdist_requested=_xdist_requested)
    config.pluginmanager.register(session, "bulkhead-worker")
    session.start()


def _active() -> bool:
    import os

    return bool(os.environ.get("BULKHEAD_CHANNEL_FD"))
