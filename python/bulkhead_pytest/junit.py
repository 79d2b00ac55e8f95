"""JUnit XML as this pytest writes it, rendered in the worker by pytest's own junitxml plugin.

The supervisor writes the report file: tests run on several workers, and a worker can die in the
middle of a test. What each testcase looks like is left to pytest itself: the worker keeps the
``LogXML`` that ``--junitxml`` made (or that pytest's own configure hook makes for bulkhead's
``--junit``), feeds it every report, and sends what it rendered with the report. Every junit ini
option, ``--junit-prefix``, ``record_property``, ``record_xml_attribute`` and
``record_testsuite_property`` are therefore honoured as this pytest honours them, and a future
pytest's changes come with it.

The ``LogXML`` is unregistered from the plugin manager, so no worker ever writes its own file (a
run that says ``--junitxml report.xml`` would otherwise end with the last worker's file), and it
stays in ``config.stash`` so that pytest's fixtures find it. It reads a few of ``LogXML``'s
attributes (``node_reporters``, ``node_reporters_ordered``, ``stats``, ``cnt_double_fail_tests``,
``global_properties``), the same in pytest 7.2 to 9; python/tests/test_junit.py checks them.
"""
from __future__ import annotations

import copy
import os
import tempfile
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional

import pytest
from _pytest import junitxml

from . import environment
from .xdist_identity import outside_xdist_worker

# Set by the supervisor for `bulkhead run --junit PATH`: render testcases as --junitxml PATH would.
JUNIT_ENV = environment.JUNIT

_STATS = ("passed", "failure", "error", "skipped")


class JunitRecorder:
    """pytest's ``LogXML``, driven one test at a time, its renderings sent with each report."""

    def __init__(self, xml: Any, user_path: Optional[str]) -> None:
        self.xml = xml
        # The file the user asked pytest for (--junitxml, also from addopts): the supervisor writes it.
        self.user_path = user_path
        self._first = 0
        self._stats: Dict[str, int] = {}
        self._double = 0
        self._suite_properties = 0
        self._collected = 0

    @staticmethod
    def attach(config: pytest.Config) -> Optional["JunitRecorder"]:
        """The recorder for this worker, or None when no JUnit report is wanted."""
        xml = config.stash.get(junitxml.xml_key, None)
        user_path = xml.logfile if xml is not None else None
        if xml is None:
            path = os.environ.get(JUNIT_ENV)
            if not path:
                return None
            xml = _logxml_for(config, path)
        else:
            config.pluginmanager.unregister(xml)
        return JunitRecorder(xml, user_path)

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # pytest's junitxml unregisters the LogXML it finds in the stash when the session ends;
        # this one is not registered, and pluggy asserts on unregistering a stranger.
        if config.stash.get(junitxml.xml_key, None) is self.xml:
            del config.stash[junitxml.xml_key]

    # -- session --------------------------------------------------------------------------------

    def session_info(self) -> Dict[str, Any]:
        xml = self.xml
        return {
            "xmlpath": self.user_path,
            "prefix": xml.prefix,
            "family": xml.family,
            "envelope": _envelope(xml.suite_name),
        }

    def collect_report(self, report: pytest.CollectReport) -> Dict[str, Any]:
        """A collection error or skip: pytest gives it a testcase of its own, never finalized."""
        self.xml.pytest_collectreport(report)
        reporter = self.xml.node_reporter(report)
        self._collected += 1
        return {"xml": _render(reporter.to_xml()), "order": self._collected}

    # -- tests ----------------------------------------------------------------------------------

    def begin(self) -> None:
        xml = self.xml
        self._first = len(xml.node_reporters_ordered)
        self._stats = dict(xml.stats)
        self._double = xml.cnt_double_fail_tests
        self._suite_properties = len(xml.global_properties)

    def test_report(self, report: pytest.TestReport) -> Dict[str, Any]:
        """Feeds the report to pytest's LogXML; returns this test's rendering so far.

        The answer is cumulative (everything since the test started), so the supervisor keeps
        only the last one it received, and a test whose worker dies keeps what was rendered.
        """
        xml = self.xml
        xml.pytest_runtest_logreport(report)
        still_open = {id(reporter) for reporter in xml.node_reporters.values()}
        cases: List[str] = []
        open_case = None
        for reporter in xml.node_reporters_ordered[self._first:]:
            if id(reporter) in still_open:
                open_case = _open_case(reporter, report)
            else:
                cases.append(_render(reporter.to_xml()))
        return {
            "cases": cases,
            "open": open_case,
            "stats": {key: xml.stats[key] - self._stats.get(key, 0) for key in _STATS},
            "doubleFail": xml.cnt_double_fail_tests - self._double,
            "suiteProperties": [[name, value] for name, value in xml.global_properties[self._suite_properties:]],
        }

    def end(self) -> None:
        # The finalized testcases went out with the reports: a long-lived worker does not keep them.
        xml = self.xml
        still_open = {id(reporter) for reporter in xml.node_reporters.values()}
        ordered = xml.node_reporters_ordered
        ordered[self._first:] = [reporter for reporter in ordered[self._first:] if id(reporter) in still_open]


def _logxml_for(config: pytest.Config, path: str) -> Any:
    """The LogXML pytest's own configure hook makes for ``--junitxml path``, unregistered."""
    saved = getattr(config.option, "xmlpath", None)
    config.option.xmlpath = path
    try:
        with outside_xdist_worker(config):
            junitxml.pytest_configure(config)
    except ValueError:
        # `-p no:junitxml`: its ini options are unknown (and its fixtures absent); pytest's defaults.
        config.stash[junitxml.xml_key] = junitxml.LogXML(path, None, family="xunit2")
        return config.stash[junitxml.xml_key]
    finally:
        config.option.xmlpath = saved
    xml = config.stash[junitxml.xml_key]
    config.pluginmanager.unregister(xml)
    return xml


def _open_case(reporter: Any, report: pytest.TestReport) -> Dict[str, Any]:
    """A testcase not finalized yet, in parts, for the supervisor to finish if the worker dies.

    pytest names a testcase only once a report opens it (a passed setup does not); until then
    the names are taken from a copy named by pytest's own ``record_testreport``, as the next
    report would name it.
    """
    named = reporter
    if "classname" not in reporter.attrs or "name" not in reporter.attrs:
        named = copy.copy(reporter)
        named.record_testreport(report)
    return {
        "attrs": [[name, value] for name, value in named.attrs.items()],
        "time": reporter.duration,
        "children": "".join(_render(node) for node in reporter.nodes),
    }


def _render(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def _envelope(suite_name: str) -> Dict[str, Any]:
    """What this pytest writes around the testcases, taken from an empty suite it writes.

    The attributes differ between versions (``<testsuites name>`` since pytest 8.4, a timestamp
    with its UTC offset in later versions): the supervisor keeps their names, order and the
    values it cannot know (the suite's name, the hostname), and fills in counts and times.
    """
    with tempfile.TemporaryDirectory(prefix="bulkhead-junit-") as folder:
        path = os.path.join(folder, "empty.xml")
        probe = junitxml.LogXML(path, None, suite_name)
        probe.pytest_sessionstart()
        probe.pytest_sessionfinish()
        with open(path, encoding="utf-8") as file:
            text = file.read()
    start = text.index("<testsuites")
    root = ET.fromstring(text[start:])
    suite = root.find("testsuite")
    return {
        "declaration": text[:start],
        "testsuites": [[name, value] for name, value in root.attrib.items()],
        "testsuite": [[name, value] for name, value in (suite.attrib.items() if suite is not None else [])],
    }
