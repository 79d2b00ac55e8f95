"""JUnit in a real worker: pytest's own junitxml renders each testcase, and no worker writes a file.

Run on this interpreter and, where it is installed, on Debian's python3 (an older pytest), since
the worker reads attributes of pytest's ``LogXML`` that are not public API.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from driver import Message, of_type, plain_pytest, reports, run_worker

DEBIAN_PYTHON = "/usr/bin/python3"

PROJECT = {
    "test_junit_project.py": """
        import sys
        import pytest

        def test_records(record_property, record_xml_attribute, record_testsuite_property):
            record_property("build", 42)
            record_xml_attribute("owner", "team")
            record_testsuite_property("ARCH", "x86")
            print("out")

        def test_fails():
            sys.stderr.write("err\\n")
            assert 0

        @pytest.mark.skip(reason="no")
        def test_skipped():
            pass
    """,
}


def _interpreters() -> List[str]:
    found = [sys.executable]
    if os.path.exists(DEBIAN_PYTHON) and os.path.realpath(DEBIAN_PYTHON) != os.path.realpath(sys.executable):
        found.append(DEBIAN_PYTHON)
    return found


@pytest.fixture(params=_interpreters())
def python(request: pytest.FixtureRequest) -> str:
    probe = subprocess.run([request.param, "-c", "import pytest"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"{request.param} has no pytest")
    return request.param


def _without_times(xml: str) -> str:
    return re.sub(r' (time|timestamp|hostname)="[^"]*"', "", xml)


def _last_fragments(messages: List[Message]) -> Dict[str, Dict]:
    last: Dict[str, Dict] = {}
    for report in reports(messages):
        last[report["testId"]] = report["junit"]
    return last


def test_testcases_are_pytests_own_and_no_worker_writes_the_file(pytester: pytest.Pytester, python: str) -> None:
    pytester.makepyfile(**PROJECT)
    args = ["-p", "no:cacheprovider", "-o", "junit_family=xunit1", "-o", "junit_logging=all", "--junitxml", "out.xml"]
    messages = run_worker(pytester.path, args, python=python)
    assert not (pytester.path / "out.xml").exists(), "a worker wrote the report file"
    assert of_type(messages, "internal_error") == []
    session = of_type(messages, "session")[0]["junit"]
    assert session["xmlpath"] == str(pytester.path / "out.xml")
    assert (session["family"], session["prefix"]) == ("xunit1", None)

    plain = plain_pytest(pytester.path, args, python=python)
    written = (pytester.path / "out.xml").read_text()
    # Every testcase as plain pytest wrote it, in the same order.
    fragments = _last_fragments(messages)
    rendered = "".join("".join(fragment["cases"]) for fragment in fragments.values())
    body = written[written.index("<testcase"):written.rindex("</testsuite>")]
    assert _without_times(rendered) == _without_times(body), plain.stdout
    assert all(fragment["open"] is None for fragment in fragments.values())
    assert fragments["test_junit_project.py::test_records"]["suiteProperties"] == [["ARCH", "x86"]]
    totals = {key: sum(f["stats"][key] for f in fragments.values()) for key in ("passed", "failure", "error", "skipped")}
    assert totals == {"passed": 1, "failure": 1, "error": 0, "skipped": 1}

    # The envelope is this pytest's: the same attributes, in the same order, as its own file.
    envelope = session["envelope"]
    suite = re.search(r"<testsuite ([^>]*)>", written).group(1)  # type: ignore[union-attr]
    assert [name for name, _ in envelope["testsuite"]] == re.findall(r'(\w+)="', suite)
    assert written.startswith(envelope["declaration"] + "<testsuites")
    head = re.search(r"<testsuites([^>]*)>", written).group(1)  # type: ignore[union-attr]
    assert [name for name, _ in envelope["testsuites"]] == re.findall(r'(\w+)="', head)


def test_bulkheads_junit_renders_without_a_junitxml_argument(pytester: pytest.Pytester, python: str) -> None:
    pytester.makepyfile(**PROJECT)
    out = pytester.path / "bulkhead.xml"
    messages = run_worker(pytester.path, ["--junit-prefix", "pre"], python=python, env={"BULKHEAD_JUNIT": str(out)})
    assert not out.exists()
    session = of_type(messages, "session")[0]["junit"]
    assert session["xmlpath"] is None
    assert session["prefix"] == "pre"
    assert session["family"] == "xunit2"
    setup = reports(messages, "setup")[0]["junit"]
    # A passed setup opens no testcase in pytest; the worker names it as the next report would.
    assert setup["open"]["attrs"] == [["classname", "pre.test_junit_project"], ["name", "test_records"]]
    assert setup["cases"] == []
    teardown = _last_fragments(messages)["test_junit_project.py::test_records"]
    assert teardown["cases"][0].startswith('<testcase classname="pre.test_junit_project" name="test_records" time="')
    # record_property under xunit2 warns, as it does under pytest's --junitxml.
    warnings = [m["warning"]["message"] for m in of_type(messages, "warning")]
    assert any("record_property is incompatible with junit_family 'xunit2'" in text for text in warnings)


def test_no_junit_wanted_nothing_rendered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**PROJECT)
    messages = run_worker(pytester.path)
    assert of_type(messages, "session")[0]["junit"] is None
    assert {report.get("junit") is None for report in reports(messages)} == {True}
    # Without a report, record_property does not warn (pytest's fixtures find no LogXML).
    assert not any("incompatible" in m["warning"]["message"] for m in of_type(messages, "warning"))


def test_junitxml_plugin_disabled_still_renders_with_pytests_defaults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    messages = run_worker(pytester.path, ["-p", "no:junitxml"], env={"BULKHEAD_JUNIT": str(pytester.path / "x.xml")})
    assert of_type(messages, "internal_error") == []
    fragment = _last_fragments(messages)["test_plain.py::test_x"]
    assert re.fullmatch(r'<testcase classname="test_plain" name="test_x" time="[0-9.]+" />', fragment["cases"][0])


def test_collection_reports_render_in_order(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="import pytest\npytest.skip('later', allow_module_level=True)\n",
        test_b="import nonexistent_module_xyz\n",
    )
    messages = run_worker(pytester.path, ["--continue-on-collection-errors"], env={"BULKHEAD_JUNIT": "x.xml"})
    skip = of_type(messages, "collect_skip")[0]["report"]["junit"]
    error = of_type(messages, "collect_error")[0]["report"]["junit"]
    assert (skip["order"], error["order"]) == (1, 2)
    assert skip["xml"].startswith('<testcase classname="" name="test_a" time="0.000"><skipped message="collection skipped">')
    assert error["xml"].startswith('<testcase classname="" name="test_b" time="0.000"><error message="collection failure">')
