"""Turns pytest's report objects into protocol messages, rendering text with pytest's own code."""
from __future__ import annotations

import io
from typing import Any, Dict, List, Optional

import pytest
from _pytest._io import TerminalWriter




# pytest's own status of a passed phase: setup and teardown show nothing, a call a green dot.
_PLAIN_STATUS = {"setup": ("", "", ""), "call": ("passed", ".", "PASSED"), "teardown": ("", "", "")}


class Renderer:
    """Renders longreprs the way this pytest would print them in a terminal of the given width."""

    def __init__(self, config: pytest.Config, color: bool, width: int, report_chars: str) -> None:
        self._config = config
        # Passes get a summary line only when -rp/-rA asks for one: rendering it for every
        # passing test would cost more than the test itself in a suite of tiny tests.
        self._summary_categories = {"failed", "error"} | ({"passed"} if "p" in report_chars else set())
        self._color = color
        self._width = width
        self._code_highlight = _code_highlight(config)

    def terminal_text(self, longrepr: Any) -> str:
        if longrepr is None:
            return ""
        buffer = io.StringIO()
        writer = TerminalWriter(file=buffer)
        writer.hasmarkup = self._color
        writer.code_highlight = self._code_highlight
        writer.fullwidth = self._width
        if hasattr(longrepr, "toterminal"):
            longrepr.toterminal(writer)
        else:
            writer.line(str(longrepr))
        return buffer.getvalue().rstrip("\n")

    def test_report(self, report: pytest.TestReport, send_sections: bool) -> Dict[str, Any]:
        category, letter, word = self._teststatus(report)
        longrepr = report.longrepr
        skip = None
        if report.skipped and isinstance(longrepr, tuple) and len(longrepr) == 3:
            path, line, reason = longrepr
            keywords = getattr(report, "keywords", {})
            # pytest's short summary folds skips from a skip marker by file and reason only.
            folds_by_file = report.when == "setup" and "skip" in keywords and "pytestmark" not in keywords
            skip = {
                "path": str(path),
                "line": line,
                "reason": str(reason),
                "foldPath": _relative(self._config, str(path)),
                "foldLine": None if folds_by_file else line,
            }
        location = report.location
        failed = report.failed
        sections: List[List[str]] = []
        if failed or send_sections:
            sections = [[title, content] for title, content in report.sections]
        return {
            "testId": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "category": category,
            "letter": letter,
            "word": word,
            "duration": report.duration,
            "longrepr": "" if skip else longrepr_text(longrepr),
            "longreprTerminal": "" if skip or not failed else self.terminal_text(longrepr),
            "crashMessage": crash_message(longrepr),
            "skip": skip,
            "wasxfail": getattr(report, "wasxfail", None),
            "headLine": report.head_line or report.nodeid,
            "sections": sections,
            "userProperties": [[str(k), str(v)] for k, v in report.user_properties],
            "summaryLine": self._summary_line(report, category) if self._wants_summary_line(category) else "",
            "location": {
                "file": str(location[0]),
                "line": location[1],
                "domain": str(location[2]),
            },
        }

    def plain_phase(self, report: pytest.TestReport) -> bool:
        """Whether a phase report passed with nothing to show: no text, no captured output, no
        user properties, pytest's default status, and no short-summary line asked for. Such a
        phase travels as its duration alone, on the test's ``finished`` message; rendering and
        sending it whole would cost more than a tiny test does."""
        if report.outcome != "passed" or report.longrepr is not None or report.sections or report.user_properties:
            return False
        if hasattr(report, "wasxfail"):
            return False
        if report.when == "call" and "passed" in self._summary_categories:
            return False
        return self._teststatus(report) == _PLAIN_STATUS.get(report.when)

    def _wants_summary_line(self, category: str) -> bool:
        return category in self._summary_categories

    def collect_skip(self, report: pytest.CollectReport) -> Dict[str, Any]:
        """A module skipped at collection (``pytest.skip(allow_module_level=True)``, importorskip)."""
        longrepr = report.longrepr
        path, line, reason = longrepr if isinstance(longrepr, tuple) and len(longrepr) == 3 else ("", None, str(longrepr))
        return {
            "nodeid": report.nodeid,
            # What --junitxml writes for a collection skip: pytest's str() of its longrepr tuple.
            "longrepr": str(longrepr),
            "skip": {
                "path": str(path),
                "line": line,
                "reason": str(reason),
                "foldPath": _relative(self._config, str(path)),
                "foldLine": line,
            },
        }

    def _summary_line(self, report: Any, category: str) -> str:
        """The line pytest's "short test summary info" shows for this report."""
        writer = TerminalWriter(file=io.StringIO())
        writer.hasmarkup = self._color
        writer.fullwidth = self._width
        try:
            from _pytest.terminal import _get_line_with_reprcrash_message

            color = "red" if category in ("failed", "error") else "yellow"
            return _get_line_with_reprcrash_message(self._config, report, writer, {color: True})
        except Exception:  # a pytest without the helper: its plain form
            word = category.upper() if category != "error" else "ERROR"
            message = crash_message(report.longrepr)
            return f"{word} {report.nodeid}" + (f" - {message}" if message else "")

    def collect_report(self, report: pytest.CollectReport) -> Dict[str, Any]:
        return {
            "summaryLine": self._summary_line(report, "error"),
            "nodeid": report.nodeid,
            "longrepr": longrepr_text(report.longrepr),
            "longreprTerminal": self.terminal_text(report.longrepr),
            "crashMessage": crash_message(report.longrepr),
        }

    def _teststatus(self, report: pytest.TestReport) -> "tuple[str, str, str]":
        status = self._config.hook.pytest_report_teststatus(report=report, config=self._config)
        if not status:
            # Only pytest's terminal plugin answers for a plain passed/failed report; under
            # `-p no:terminal` nobody does, and its answer is the report's own outcome.
            status = _default_teststatus(report)
        category, letter, word = status
        if isinstance(word, tuple):  # (word, markup) form
            word = word[0]
        return str(category), str(letter), str(word)


def longrepr_text(longrepr: Any) -> str:
    """pytest's ``str(report.longrepr)``: what --junitxml puts in a failure's body."""
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return f"{longrepr[0]}:{longrepr[1]}: {longrepr[2]}"
    return str(longrepr)


def crash_message(longrepr: Any) -> Optional[str]:
    reprcrash = getattr(longrepr, "reprcrash", None)
    if reprcrash is None:
        return None
    return str(reprcrash.message)


def warning_record(config: pytest.Config, warning_message: Any, when: str, nodeid: str) -> Dict[str, Any]:
    location = nodeid
    if not location and warning_message.filename:
        location = f"{_relative(config, str(warning_message.filename))}:{warning_message.lineno}"
    return {
        "message": _format_warning(warning_message),
        "location": location,
        "category": warning_message.category.__name__,
        "filename": str(warning_message.filename),
        "lineno": int(warning_message.lineno or 0),
        "nodeid": nodeid,
        "when": when,
    }


def _format_warning(warning_message: Any) -> str:
    try:
        from _pytest.warnings import warning_record_to_str

        return warning_record_to_str(warning_message)
    except Exception:  # a pytest without the helper: the stdlib format is what it printed
        import warnings

        return warnings.formatwarning(
            str(warning_message.message),
            warning_message.category,
            warning_message.filename,
            warning_message.lineno,
            warning_message.line,
        )


def _relative(config: pytest.Config, filename: str) -> str:
    import os

    try:
        return os.path.relpath(filename, str(config.invocation_params.dir))
    except ValueError:
        return filename


def _code_highlight(config: pytest.Config) -> bool:
    try:
        return bool(config.get_terminal_writer().code_highlight)
    except (AssertionError, AttributeError):  # `-p no:terminal`: no terminal writer exists
        return False


def _default_teststatus(report: Any) -> "tuple[str, str, str]":
    if report.passed:
        return ("passed", ".", "PASSED") if report.when == "call" else ("", "", "")
    if report.failed:
        return ("failed", "F", "FAILED") if report.when == "call" else ("error", "E", "ERROR")
    return "skipped", "s", "SKIPPED"
