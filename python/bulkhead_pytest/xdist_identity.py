"""Worker identity as pytest-xdist gives it, for suites built around xdist.

The supervisor gives each worker ``PYTEST_XDIST_WORKER=gwN`` (unique among live workers, reused by
the replacement of a dead one), ``PYTEST_XDIST_WORKER_COUNT``, ``PYTEST_XDIST_TESTRUNUID`` and the
run's seed (``BULKHEAD_RUN_SEED``), exactly as xdist/remote.py sets the first three in its
workers. Plugins do not read the environment, though: they ask ``hasattr(config, "workerinput")``
(pytest-django suffixes its test databases with ``workerinput["workerid"]``; xdist's own
``worker_id`` and ``testrun_uid`` fixtures, pytest-randomly and pytest-random-order read it too).

What a worker gets, and when (a coverage change can build on this):

- ``config.workerinput``: ``workerid``, ``workercount``, ``testrunuid``, ``mainargv`` as xdist's
  controller sends them, plus what the controllers of known plugins add in their
  ``pytest_configure_node`` (xdist_controller.py). Set in a ``tryfirst`` ``pytest_configure``,
  before any other plugin's ``pytest_configure`` (randomly and random-order read it there) and
  long before ``pytest_sessionstart`` (pytest-cov picks its worker role there; bulkhead's
  coverage worker overrides that choice, so pytest-cov never acts as an xdist worker).
- ``config.workeroutput = {}``: what an xdist worker sends back at the end; nothing reads it yet.
- ``worker_id`` and ``testrun_uid`` fixtures (xdist_fixtures.py, registered by plugin.py in every
  bulkhead worker where xdist is not loaded, identity or not).

pytest itself treats ``workerinput`` as "an xdist worker, the controller does this": its junitxml
would write no file (bulkhead renders JUnit in the worker: junit.py) and its cache plugins would
not save ``--lf``/``--nf``/``--sw`` state (each bulkhead worker did, and still does). Both are
kept as they were without identity.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Dict, Iterator, Optional

import pytest
from _pytest import junitxml

from . import environment
from .xdist_controller import controller_input

SEED_ENV = environment.RUN_SEED

# pytest's own plugins that skip their work in an xdist worker, whose work a bulkhead worker has
# always done itself: the cache of last failures, new-first, and stepwise.
_CACHE_PLUGINS = ("lfplugin", "nfplugin", "stepwise", "stepwiseplugin")


def identity_from_env(environ: "os._Environ[str] | Dict[str, str]") -> Optional[Dict[str, Any]]:
    """The worker's xdist identity as the supervisor set it, or None (identity off, or no supervisor)."""
    worker = environ.get("PYTEST_XDIST_WORKER")
    if not worker or not environ.get(SEED_ENV):
        return None
    return {
        "workerid": worker,
        "workercount": int(environ["PYTEST_XDIST_WORKER_COUNT"]),
        "testrunuid": environ["PYTEST_XDIST_TESTRUNUID"],
        "mainargv": list(sys.argv),
    }


class XdistIdentity:
    """Registered in bulkhead workers only, when the supervisor gave an identity."""

    def __init__(self, identity: Dict[str, Any], seed: int) -> None:
        self.identity = identity
        self.seed = seed

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        _open_junitxml_first(config)
        workerinput = dict(self.identity)
        workerinput.update(controller_input(config, self.seed))
        config.workerinput = workerinput  # type: ignore[attr-defined]
        config.workeroutput = {}  # type: ignore[attr-defined]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: Any) -> None:
        # The cache plugins save their state here unless they see `workerinput`: they are called
        # once without it, first; their own call afterwards sees it and does nothing.
        manager = session.config.pluginmanager
        others = [plugin for plugin in manager.get_plugins() if plugin is not None and manager.get_name(plugin) not in _CACHE_PLUGINS]
        caller = manager.subset_hook_caller("pytest_sessionfinish", remove_plugins=others)
        with outside_xdist_worker(session.config):
            caller(session=session, exitstatus=exitstatus)


@contextlib.contextmanager
def outside_xdist_worker(config: pytest.Config) -> Iterator[None]:
    """Hides ``workerinput`` while pytest's own code that would skip a worker's work runs."""
    missing = object()
    saved = config.__dict__.pop("workerinput", missing)
    try:
        yield
    finally:
        if saved is not missing:
            config.workerinput = saved  # type: ignore[attr-defined]


def _open_junitxml_first(config: pytest.Config) -> None:
    # pytest's junitxml opens no report in an xdist worker; bulkhead's workers render JUnit with
    # it (junit.py). Its configure hook is run now, before `workerinput` exists; its own call
    # later sees `workerinput` and does nothing.
    if getattr(config.option, "xmlpath", None) and config.pluginmanager.has_plugin("junitxml"):
        junitxml.pytest_configure(config)


def plugin_from_env() -> Optional[XdistIdentity]:
    identity = identity_from_env(os.environ)
    if identity is None:
        return None
    return XdistIdentity(identity, int(os.environ[SEED_ENV]))


