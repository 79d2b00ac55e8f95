"""The worker session: reports collection and results, and runs what the supervisor assigns."""
from __future__ import annotations

import io
import os
import platform
import warnings
from typing import Any, Dict, Generator, List, Optional

import pytest
from _pytest._io import TerminalWriter

from . import environment
from .channel import Channel
from .commands import CommandReader
from .coverage_worker import session_info as coverage_session_info
from .crash_dump import crash_file_from_env, enable_crash_dumps
from .heartbeat import start_heartbeat
from .idle_summary import drop_idle_summaries
from .collected import collected_tests
from .junit import JunitRecorder
from .locks import BulkheadLockWarning, LockClient, install
from .memory import CgroupMeter, make_meter
from .processes import become_subreaper, kill_descendants, living_descendants, multiprocessing_helpers
from .protocol import PROTOCOL_VERSION, message
from .render import Renderer, warning_record
from .run_queue import RunQueue
from .stack_watch import stack_watch_from_env
from .thread_caps import ThreadCaps


class WorkerSession:
    def __init__(self, config: pytest.Config, channel: Channel, xdist_requested: Optional[str]) -> None:
        self.config = config
        self.channel = channel
        self.xdist_requested = xdist_requested
        self.queue = RunQueue()
        self.thread_caps = ThreadCaps()
        self.color = _decide_color(config)
        self.width = _terminal_width()
        self.renderer = Renderer(config, self.color, self.width, _report_chars(config))
        self.collected_sent = False
        # How many tests the collection reported: a `run` command may name no index past it.
        self.collected_count: Optional[int] = None
        self.collect_errors: List[Dict[str, Any]] = []
        self.deselected = 0
        self.report_passed_sections = _wants_passed_sections(config)
        self.meter = make_meter()
        # The last test's memory measurement: its resident size decides recycling (see below).
        self.memory: Optional[Dict[str, int]] = None
        self.recycle_bytes = recycle_bytes_from_env()
        # Processes already reported as left behind by a test, by (pid, start time).
        self.reported_leaks: set = set()
        # The running test's plain phases so far (Renderer.plain_phase): their durations go on its
        # `finished`, unless a later phase must be sent whole, and then they go whole before it.
        self.plain: List[pytest.TestReport] = []
        self.locks = LockClient(channel.send)
        self.stack_watch = stack_watch_from_env(config)
        # pytest's own junitxml renders each testcase here when a JUnit report is wanted.
        self.junit = JunitRecorder.attach(config)
        if self.junit is not None:
            config.pluginmanager.register(self.junit, "bulkhead-junit")

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self.channel.send(
            message("hello", protocol=PROTOCOL_VERSION, pid=os.getpid(), python=platform.python_version(), pytest=pytest.__version__)
        )
        crash_file = crash_file_from_env()
        if crash_file:
            enable_crash_dumps(crash_file)
        become_subreaper()
        install(self.locks)
        start_heartbeat(self.channel, float(os.environ.get(environment.HEARTBEAT_SECONDS, "1")))
        if self.stack_watch is not None:
            self.stack_watch.start()
        CommandReader(self.channel, self.queue, self.thread_caps, self.locks, lambda: self.collected_count).start()

    # -- session start: header -----------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Generator[None, Any, None]:
        # Let pytest's own terminal reporter print its header, into a buffer we forward, so the
        # supervisor prints exactly what pytest would (platform, rootdir, plugins, plugin lines).
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        buffer = io.StringIO()
        saved = None
        if reporter is not None:
            saved = reporter._tw
            writer = TerminalWriter(file=buffer)
            writer.hasmarkup = self.color
            writer.fullwidth = self.width
            reporter._tw = writer
        try:
            yield
        finally:
            if reporter is not None:
                reporter._tw = _discarding_writer(saved)
        self.channel.send(message("session", **self._session_info(buffer.getvalue())))

    def _session_info(self, header: str) -> Dict[str, Any]:
        option = self.config.option
        return {
            "rootdir": str(self.config.rootpath),
            "headerLines": header.splitlines(),
            "verbosity": _verbosity(self.config),
            "color": self.color,
            "reportChars": _report_chars(self.config),
            "durations": getattr(option, "durations", None),
            "durationsMin": getattr(option, "durations_min", None),
            "tbStyle": str(getattr(option, "tbstyle", "auto")),
            "showCapture": str(getattr(option, "showcapture", "all")),
            "maxfail": int(option.maxfail or 0),
            "continueOnCollectionErrors": bool(option.continue_on_collection_errors),
            "xdistRequested": self.xdist_requested,
            "iniTimeout": _ini_timeout(self.config),
            "pythonVersion": platform.python_version(),
            "pytestVersion": pytest.__version__,
            "junit": self.junit.session_info() if self.junit is not None else None,
            "coverage": coverage_session_info(self.config),
        }

    # -- collection ----------------------------------------------------------------------------

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            rendered = self.renderer.collect_report(report)
            rendered["junit"] = self.junit.collect_report(report) if self.junit is not None else None
            self.collect_errors.append(rendered)
            self.channel.send(message("collect_error", report=rendered))
        elif report.skipped:
            rendered = self.renderer.collect_skip(report)
            rendered["junit"] = self.junit.collect_report(report) if self.junit is not None else None
            self.channel.send(message("collect_skip", report=rendered))

    def pytest_deselected(self, items: List[pytest.Item]) -> None:
        self.deselected += len(items)

    def _send_collected(
        self, session: pytest.Session, interrupted: Optional[str], exitstatus: Optional[int] = None
    ) -> None:
        if self.collected_sent:
            return
        self.collected_sent = True
        tests = collected_tests(session.items)
        self.collected_count = len(tests)
        self.channel.send(
            message(
                "collected",
                tests=tests,
                deselected=self.deselected,
                errors=len(self.collect_errors),
                interrupted=interrupted,
                exitstatus=exitstatus,
            )
        )

    # -- running -------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        # Reported here, not in pytest_collection_finish: pytest calls that one even when
        # collection ends in a usage error (a path that does not exist), and only reaches the
        # test loop when collection really completed.
        self._send_collected(session, interrupted=None)
        items = session.items
        while True:
            pair = self.queue.next_pair(before_wait=self.channel.flush)
            if pair is None:
                break
            index, following = pair
            nextitem = items[following] if following is not None else None
            with self.thread_caps.applied(index):
                items[index].config.hook.pytest_runtest_protocol(item=items[index], nextitem=nextitem)
            if session.shouldfail or session.shouldstop:
                break
            if self._outgrown():
                # --worker-recycle-memory: this worker is replaced between tests. The supervisor
                # decides the same from the `finished` message just sent, but its `stop` would
                # come while the successor already runs here, one leak too late (and a leak that
                # passes the hard cap is an OOM kill). So the worker stops itself: the successor
                # pytest already holds goes back with the rest, to run in a fresh worker.
                self.channel.send(message("stolen", indices=self.queue.stop()))
                break
        # Session-finish hooks of other plugins run user code: whatever ends the process there
        # must not be taken for a crash of the last test, so its results go out first.
        self.channel.flush()
        return True

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: Optional[pytest.Item]) -> Generator[None, Any, None]:
        # Teardown runs fixture finalizers (a session fixture's among them) that can take the
        # process down: the setup and call reports must be out before, or the crash loses them.
        self.channel.persist()
        outcome = yield
        # Once the test's fixtures are torn down, a lock still held would block other workers for
        # the rest of this worker's life. Warned inside the teardown phase, so the warning is the
        # test's (and with -W error, the test's teardown error, as pytest does for fixtures).
        for name in self.locks.release_all():
            try:
                warnings.warn(BulkheadLockWarning(f"lock {name!r} was still held when the test ended; bulkhead released it"))
            except Warning as error:
                _fail_teardown(outcome, error)
                break

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.locks.begin_test()
        self.plain = []
        if self.junit is not None:
            self.junit.begin()
        # No wake-up per test: a journal's starts are read when the supervisor looks, or at a death.
        self.channel.send(message("started", id=nodeid), flush=False)
        self.channel.nudge(urgent=self.queue.short())
        if self.meter is not None:
            self.meter.start()
        if self.stack_watch is not None:
            self.stack_watch.test_started()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A JUnit report renders every testcase from its reports, so it gets them all.
        if self.junit is None and self.renderer.plain_phase(report):
            self.plain.append(report)
            return
        # Reports in the order the phases ran, as pytest prints them (a teardown error after a
        # passed call shows ".E"): held plain phases go whole before one that is not plain.
        held, self.plain = self.plain, []
        for earlier in held:
            self._send_report(earlier)
        self._send_report(report)

    def _send_report(self, report: pytest.TestReport) -> None:
        rendered = self.renderer.test_report(report, self.report_passed_sections)
        rendered["junit"] = self.junit.test_report(report) if self.junit is not None else None
        self.channel.send(message("report", report=rendered), flush=False)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        leaked = []
        alone = isinstance(self.meter, CgroupMeter) and self.meter.only_member(os.getpid())
        for process in [] if alone else living_descendants(os.getpid(), multiprocessing_helpers()):
            key = (process["pid"], process["startTime"])
            if key not in self.reported_leaks:
                self.reported_leaks.add(key)
                leaked.append(process)
        memory = self.meter.stop() if self.meter is not None else None
        self.memory = memory
        # Teardown may not have run (an interrupted session): what is still held goes back now.
        self.locks.release_all()
        locks = self.locks.take_acquisitions()
        if self.junit is not None:
            self.junit.end()
        self.channel.send(message("finished", id=nodeid, leaked=leaked, memory=memory, locks=locks, plain=[[r.when, r.duration] for r in self.plain]), flush=False)

    def _outgrown(self) -> bool:
        """Whether the worker's idle memory after the last test is past --worker-recycle-memory
        (the same comparison as the supervisor's, on the number this worker reported)."""
        if self.recycle_bytes is None or self.memory is None:
            return False
        resident = self.memory.get("residentBytes")
        return resident is not None and resident > self.recycle_bytes

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str, location: Any) -> None:
        record = warning_record(self.config, warning_message, when, nodeid)
        self.channel.send(message("warning", warning=record), flush=False)

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        self.channel.send(message("internal_error", text=str(excrepr)))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: Any) -> None:
        # Collection that pytest itself interrupted (-x on a collection error) never reaches
        # pytest_collection_finish: report what was collected so the supervisor is not left waiting.
        interrupted = session.shouldfail or session.shouldstop
        self._send_collected(
            session, interrupted=str(interrupted) if interrupted else None, exitstatus=int(exitstatus)
        )
        self.channel.send(message("done", exitstatus=int(exitstatus)))
        drop_idle_summaries(session.config)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # What tests left running dies with the session (the supervisor also kills the cgroup
        # or process group, for what this misses).
        kill_descendants(os.getpid())


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def _discarding_writer(like: Any) -> TerminalWriter:
    """A writer for the worker's own terminal reporter once its header is out. Its progress and
    summary are never shown (the supervisor renders the run's from the messages), and written to
    stdout, unbuffered (PYTHONUNBUFFERED, so a crash loses nothing), they cost a write(2) per test
    here and another in the supervisor, which keeps the worker's output in its log. That log is
    for what bypassed pytest: a test's own prints under -s, C code, the interpreter dying."""
    writer = TerminalWriter(file=_Discard())
    writer.hasmarkup = getattr(like, "hasmarkup", False)
    writer.fullwidth = getattr(like, "fullwidth", 80)
    return writer


def _fail_teardown(outcome: Any, error: BaseException) -> None:
    """Makes ``error`` the teardown's own error, unless the teardown already failed of its own."""
    if outcome.excinfo is not None:
        return  # the first error is the one to report; the lock is released either way
    force_exception = getattr(outcome, "force_exception", None)
    if force_exception is None:
        raise error  # pluggy < 1.1: raising from the wrapper is how to fail the phase there
    # pluggy >= 1.1: raising from an old-style wrapper would add a warning of pluggy's own.
    force_exception(error)


def recycle_bytes_from_env() -> Optional[int]:
    """--worker-recycle-memory, as the supervisor passes it (absent: never recycle)."""
    try:
        value = int(os.environ.get(environment.RECYCLE_BYTES, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _decide_color(config: pytest.Config) -> bool:
    choice = getattr(config.option, "color", "auto")
    if choice == "yes":
        return True
    if choice == "no":
        return False
    return os.environ.get(environment.COLOR) == "1"


def _verbosity(config: pytest.Config) -> int:
    # Config.get_verbosity() is new in pytest 8; pytest 7 has only the -v/-q count.
    get_verbosity = getattr(config, "get_verbosity", None)
    if get_verbosity is not None:
        return int(get_verbosity())
    return int(config.option.verbose)


def _terminal_width() -> int:
    try:
        return max(40, int(os.environ.get("COLUMNS", "80")))
    except ValueError:
        return 80


def _report_chars(config: pytest.Config) -> str:
    try:
        from _pytest.terminal import getreportopt

        return getreportopt(config)
    except Exception:  # an older pytest without the helper
        return str(getattr(config.option, "reportchars", "fE"))


def _wants_passed_sections(config: pytest.Config) -> bool:
    chars = _report_chars(config)
    return "P" in chars or "A" in chars


def _ini_timeout(config: pytest.Config) -> Optional[float]:
    """pytest-timeout's ``timeout`` ini option, read whether or not pytest-timeout is installed."""
    value: Any = None
    try:
        value = config.getini("timeout")
    except (ValueError, KeyError):
        try:
            raw = config.inicfg.get("timeout")
            value = getattr(raw, "value", raw)
        except Exception:
            value = None
    try:
        number = float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number and number > 0 else None
