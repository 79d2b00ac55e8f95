"""Combines the workers' coverage data and reports it, as pytest-cov's xdist controller does.

The supervisor runs this once, with the interpreter under test, after every worker has ended:
``python bulkhead-coverage.py REQUEST_JSON``. The request carries pytest-cov's options as the
first worker resolved them, the directory to run in (pytest-cov's ``topdir``), the workers' data
directory, and whether tests failed (for ``--no-cov-on-fail``).

What ``pytest -n N --cov`` does at the end is done here with pytest-cov's and coverage's own code:
the data file is erased unless ``--cov-append`` (``DistMaster.start``), loaded, the parallel files
combined into it and saved (``DistMaster.finish``); pytest-cov's ``summary`` prints the table and
writes the report files; its ``_failed_cov_total`` decides ``--cov-fail-under``; its
``pytest_terminal_summary`` writes the table and the "Required test coverage" line, to a recorder
whose writes (text and markup) go back to the supervisor as JSON on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List


class _Recorder:
    """Stands in for pytest's terminal reporter: keeps what pytest-cov writes, with its markup."""

    def __init__(self) -> None:
        self.writes: List[Dict[str, Any]] = []

    def write(self, text: str, **markup: bool) -> None:
        self.writes.append({"text": text, "markup": {name: bool(on) for name, on in markup.items()}})


def combine_and_report(request: Dict[str, Any]) -> Dict[str, Any]:
    import coverage
    from pytest_cov import engine
    from pytest_cov.plugin import CovPlugin

    os.chdir(request["topdir"])
    options = argparse.Namespace(**request["options"])
    options.no_cov_should_warn = False
    options.collectonly = False
    # CovPlugin.__init__ without starting anything: it resolves --cov-report and --cov as pytest-cov does.
    plugin = CovPlugin(options, None, start=False)
    plugin.failed = bool(request["testsFailed"])

    # DistMaster.start, without measuring: the data file to write, erased unless --cov-append.
    first = coverage.Coverage(
        source=options.cov_source, branch=options.cov_branch, data_suffix=True, config_file=options.cov_config
    )
    combining = coverage.Coverage(
        source=options.cov_source,
        branch=options.cov_branch,
        data_suffix=True,
        data_file=os.path.abspath(first.config.data_file),
        config_file=options.cov_config,
    )
    if not options.cov_append:
        first.erase()
    if options.cov_fail_under is None and hasattr(combining.config, "fail_under"):
        options.cov_fail_under = combining.config.fail_under
    # DistMaster.finish: every worker's parallel file (and their subprocesses') into the data file.
    combining.load()
    combining.combine([request["dataDir"]])
    combining.save()

    controller = _reporting_controller(engine, combining, plugin.options.cov_report, request["topdir"])
    plugin.cov_controller = controller
    failed_under = False
    recorder = _Recorder()
    # CovPlugin.pytest_runtestloop, after its yield, for the controller.
    if plugin._should_report():
        from coverage.misc import CoverageException

        try:
            plugin.cov_total = controller.summary(plugin.cov_report)
        except CoverageException as exc:
            message = "Failed to generate report: %s\n" % exc
            recorder.write("WARNING: %s\n" % message, red=True, bold=True)
            plugin.cov_total = 0
        failed_under = bool(plugin._failed_cov_total())
    plugin.pytest_terminal_summary(recorder)
    return {"writes": recorder.writes, "total": plugin.cov_total, "failedUnder": failed_under}


def _reporting_controller(engine: Any, cov: Any, report: Any, topdir: str) -> Any:
    class Reporting(engine.CovController):
        """pytest-cov's ``summary`` on the combined data. ``__init__`` is not called (its signature
        changed in pytest-cov 4.1): these are the attributes ``summary`` reads."""

        def __init__(self) -> None:
            self.cov = cov
            self.cov_report = report
            self.node_descs = {self.get_node_desc(sys.platform, sys.version_info)}
            self.failed_workers: list = []
            self.topdir = topdir

    return Reporting()


def main(argv: List[str]) -> int:
    request = json.loads(argv[1])
    real_stdout = sys.stdout
    # Whatever coverage or a plugin prints goes to stderr: stdout carries only the answer.
    sys.stdout = sys.stderr
    try:
        answer = combine_and_report(request)
    finally:
        sys.stdout = real_stdout
    real_stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
