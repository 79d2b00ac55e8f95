"""Entry point loaded with ``-p bulkhead_pytest.plugin``.

Inactive unless bulkhead started this process. When active it keeps pytest-xdist from starting
its own workers (bulkhead replaces ``-n``), gives the worker xdist's identity (xdist_identity.py)
and registers the worker session. Active or not, it
declares bulkhead's markers and provides the ``bulkhead_lock`` fixture (which does nothing
outside a bulkhead worker), so a suite written for bulkhead also runs under plain pytest.
"""
from __future__ import annotations

from typing import Any, Callable, Generator

import pytest

from . import environment
from .channel import open_channel_from_env
from .locks import Lock, lock
from .markers import register_markers

_xdist_requested: "str | None" = None


def pytest_addoption(parser: pytest.Parser) -> None:
    # pytest-timeout's `timeout` ini option is honoured by bulkhead even where pytest-timeout is
    # not installed; declaring it keeps pytest from warning about an unknown option.
    import importlib.util

    if _active() and importlib.util.find_spec("pytest_timeout") is None:
        parser.addini("timeout", "per-test timeout in seconds, enforced by bulkhead", default=None)


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
    if _active():
        from .xdist_identity import plugin_from_env

        identity = plugin_from_env()
        if identity is not None:
            config.pluginmanager.register(identity, "bulkhead-xdist-identity")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, Any, None]:
    # A wrapper runs before pytest-cov's own tryfirst implementation: `--cov` is measured the
    # bulkhead way (coverage_worker.py), and combined and reported once by the supervisor.
    worker = None
    if _active():
        from .coverage_worker import take_over_pytest_cov

        worker = take_over_pytest_cov(early_config)
    try:
        yield
    finally:
        if worker is not None:
            from .coverage_worker import restore

            restore(early_config, worker)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    if not _active():
        return
    config.addinivalue_line("markers", "timeout(seconds): fail the test (kill its worker) after this many seconds")
    if not config.pluginmanager.has_plugin("xdist"):
        # A suite written for xdist asks for these fixtures; they read the identity (if any).
        from . import xdist_fixtures

        config.pluginmanager.register(xdist_fixtures, "bulkhead-xdist-fixtures")
    channel = open_channel_from_env()
    if channel is None:
        return
    # A fresh worker for an isolated retry collects only its test's file (collect_only.py).
    from .collect_only import register_from_env

    register_from_env(config)
    from .worker import WorkerSession

    # bulkhead enforces timeouts from outside the process (pytest-timeout's marker and ini are
    # honoured): pytest-timeout's own in-process timer would fail or os._exit the test first and
    # be mistaken for a crash.
    if config.pluginmanager.has_plugin("timeout"):
        config.pluginmanager.unregister(name="timeout")

    _one_final_collection(config)
    session = WorkerSession(config, channel, xdist_requested=_xdist_requested)
    config.pluginmanager.register(session, "bulkhead-worker")
    session.start()


@pytest.fixture
def bulkhead_lock() -> Callable[..., Lock]:
    """``bulkhead_lock(name, permits=1)``: a lock held across every worker of a bulkhead run.

    ``with bulkhead_lock("model-init"):`` lets one test of the whole run at a time into the
    block (``permits=N``: N at a time); the others wait. Outside bulkhead it does nothing.
    """
    return lock


def _one_final_collection(config: pytest.Config) -> None:
    """One full garbage collection at the worker's end instead of pytest's five (pytest >= 8.4).

    pytest collects five times in a row after the session, to catch exceptions raised in
    finalizers of garbage; each pass walks the whole heap (0.23 s with 10,000 tests collected), and
    a worker's exit holds up the end of the run. Whatever those passes find is warned of after the
    session, where a worker's warnings reach nobody; one pass still runs the finalizers.
    """
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:  # an older pytest, which does not collect at the end
        return
    config.stash.setdefault(gc_collect_iterations_key, 1)


def _active() -> bool:
    import os

    return bool(os.environ.get(environment.CHANNEL_FD))
