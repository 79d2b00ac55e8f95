"""pytest-cov in a bulkhead worker: measure into the run's data directory, never report.

Under ``pytest -n N --cov`` each xdist worker measures and saves a parallel data file, and the
controller combines them and reports. bulkhead has no pytest controller: each worker measures as
an xdist worker would, and the supervisor runs ``coverage_combine.py`` with this interpreter once
every worker has ended (see there).

pytest-cov's own ``CovPlugin`` stays in charge of everything but the measurement: its ``cov`` and
``no_cover`` fixtures, the ``no_cover`` marker (it pauses the controller), ``--cov-context=test``,
subprocess measurement through its ``COV_CORE_*`` variables. Only its controller is ours:
- it never erases data: a worker started late (a replacement, an isolated retry) would otherwise
  delete what a dead one measured, or the data of a worker still running;
- it saves into the directory the supervisor names (``BULKHEAD_COVERAGE_DIR``), with coverage's
  own parallel suffix (host, pid, random), so no stale ``.coverage.*`` of the project is mixed in;
- it flushes what the tracer holds after every test, so a worker killed mid-run leaves everything
  it measured up to its last finished test (pytest-cov's xdist worker saves only at session end,
  and a dead worker's data is lost). A full ``Coverage.save()`` also walks the source tree for
  files never imported, 17 ms per test for 68 files and 107 ms for 858 (django): that walk is done
  once, when the session ends. The flush itself costs about 0.8 ms per test.
- it never prints a table nor writes a report file; the supervisor does, once.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Generator, Optional

import pytest

from . import environment

COVERAGE_DIR_ENV = environment.COVERAGE_DIR
PLUGIN_NAME = "bulkhead-coverage"


def take_over_pytest_cov(early_config: pytest.Config) -> "Optional[CoverageWorker]":
    """Called before pytest-cov's own ``pytest_load_initial_conftests``: when ``--cov`` asks for
    coverage, registers pytest-cov's plugin with our controller, started now (as pytest-cov starts
    its own, before the conftests are imported), and hides ``--cov`` from pytest-cov's hook so it
    does not register a second one. Returns the worker to hand back to ``restore``."""
    namespace = early_config.known_args_namespace
    directory = os.environ.get(COVERAGE_DIR_ENV)
    if not directory or not getattr(namespace, "cov_source", None) or getattr(namespace, "no_cov", False):
        return None
    from pytest_cov.plugin import CovPlugin

    # The options as the user gave them, for the supervisor's report (pytest-cov resolves them there).
    options = {name: value for name, value in vars(namespace).items() if name.startswith(("cov_", "no_cov"))}
    options["cov_report"] = dict(namespace.cov_report)
    options["cov_source"] = list(namespace.cov_source)
    plugin = CovPlugin(namespace, early_config.pluginmanager, start=False)
    worker = CoverageWorker(plugin, directory, options)
    worker.start()
    early_config.pluginmanager.register(plugin, "_cov")
    early_config.pluginmanager.register(worker, PLUGIN_NAME)
    worker.hidden_sources = namespace.cov_source
    namespace.cov_source = []
    return worker


def restore(early_config: pytest.Config, worker: "Optional[CoverageWorker]") -> None:
    if worker is not None:
        early_config.known_args_namespace.cov_source = worker.hidden_sources


def session_info(config: pytest.Config) -> Optional[Dict[str, Any]]:
    """What the supervisor needs to combine and report: pytest-cov's options, and where to run."""
    worker = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if worker is None:
        return None
    return {"options": worker.options, "topdir": worker.controller.topdir}


class CoverageWorker:
    """Owns this worker's ``Coverage``: started once, flushed after each test, saved at the end."""

    def __init__(self, plugin: Any, directory: str, options: Dict[str, Any]) -> None:
        self.plugin = plugin
        self.options = options
        self.controller = _controller(plugin.options, directory)
        self.hidden_sources: Any = None

    def start(self) -> None:
        self.controller.start()
        plugin = self.plugin
        plugin.cov_controller = self.controller
        plugin.pid = os.getpid()
        plugin._started = True
        # Its summary and fail-under are the supervisor's: on the combined data, once.
        plugin._disabled = True
        # A worker that looks like an xdist one (config.workerinput) would make pytest-cov start an
        # xdist worker's controller of its own at session start, beside ours.
        plugin._is_worker = lambda session: False

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        # Before the worker reports the test finished: once the supervisor counts it, its lines are on disk.
        self.controller.flush()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, Any, None]:
        # After the session's own teardown (session fixtures end there when the last test's
        # successor was not known), which xdist's last test would have run inside the test.
        yield
        self.controller.finish()


def _controller(options: Any, directory: str) -> Any:
    from pytest_cov import engine

    class BulkheadController(engine.CovController):
        """pytest-cov's controller base (its pause, resume and ``COV_CORE_*`` handling) with a
        ``start`` and ``finish`` of our own. Its ``__init__`` is not called: its signature changed
        in pytest-cov 4.1; these are the attributes its methods read."""

        def __init__(self) -> None:
            self.cov_source = options.cov_source
            self.cov_report = {}
            self.cov_config = options.cov_config
            self.cov_append = True
            self.cov_branch = options.cov_branch
            self.config = None
            self.nodeid = None
            self.options = options
            self.cov: Any = None
            self.combining_cov = None
            self.data_file = None
            self.node_descs: set = set()
            self.failed_workers: list = []
            self.topdir = os.getcwd()
            self.is_collocated = True

        def start(self) -> None:
            import coverage

            configured = coverage.Coverage(config_file=self.cov_config)
            data_file = os.path.join(directory, os.path.basename(configured.config.data_file))
            self.cov = coverage.Coverage(
                source=self.cov_source,
                branch=self.cov_branch,
                data_suffix=True,
                data_file=data_file,
                config_file=self.cov_config,
            )
            # As pytest-cov's xdist controller: warnings about the whole run are the combiner's.
            self.cov._warn_no_data = False
            self.cov._warn_unimported_source = False
            self.cov._warn_preimported_source = False
            self.cov.start()
            # Subprocesses of tests measure themselves into the same directory (pytest-cov < 6).
            if hasattr(self, "set_env"):
                self.set_env()

        def flush(self) -> None:
            # The tracer's lines and arcs since the last flush, written to this worker's data file
            # (SQLite, no journal): what a SIGKILL cannot take back. Coverage's private collector
            # is used because get_data()/save() would also walk the source tree (see the module).
            collector = getattr(self.cov, "_collector", None)
            if collector is None or not hasattr(collector, "flush_data"):
                self.cov.save()
                return
            collector.flush_data()

        def finish(self) -> None:
            if hasattr(self, "unset_env"):
                self.unset_env()
            self.cov.stop()
            self.cov.save()

        def summary(self, stream: Any) -> None:
            return None

    return BulkheadController()
