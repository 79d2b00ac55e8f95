"""A real worker: handshake, collection, and the results it reports, as pytest reports them."""
from __future__ import annotations

import os
import re
import sys
import textwrap
import xml.etree.ElementTree as ET
from typing import Dict

import pytest

from driver import Message, of_type, plain_pytest, reports, run_worker
from worker_helpers import StartWorker, header_of, ids_of, section_of


# -- handshake and collection --------------------------------------------------------------------


def test_hello_comes_first_with_protocol_1(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_x(): pass")
    w = worker()
    hello = w.read()
    assert hello["type"] == "hello"
    assert hello["protocol"] == 1
    assert hello["pid"] == w.proc.pid
    assert hello["pytest"] == pytest.__version__
    assert hello["python"] == ".".join(map(str, sys.version_info[:3]))


def test_session_header_is_pytests_own(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_x(): pass")
    w = worker()
    session = w.read_until("session")[-1]
    lines = session["headerLines"]
    assert re.fullmatch(r"=+ test session starts =+", lines[0])
    assert len(lines[0]) == 80  # the COLUMNS the worker was given
    assert any(line.startswith("platform ") and f"pytest-{pytest.__version__}" in line for line in lines)
    assert f"rootdir: {pytester.path}" in lines
    assert session["rootdir"] == str(pytester.path)
    assert session["pytestVersion"] == pytest.__version__
    assert session["verbosity"] == 0
    # Exactly what pytest itself prints in the same place.
    plain = plain_pytest(pytester.path)
    assert lines == header_of(plain.stdout)


def test_session_reports_options(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_x(): pass")
    w = worker("-vv", "-rA", "--tb=short", "--maxfail=3", "--durations=5")
    session = w.read_until("session")[-1]
    assert session["verbosity"] == 2
    assert session["tbStyle"] == "short"
    assert session["maxfail"] == 3
    assert session["durations"] == 5
    assert "f" in session["reportChars"] and "p" in session["reportChars"]
    assert session["xdistRequested"] is None


COLLECT_PROJECT = {
    "test_alpha": """
        import pytest

        def test_first():
            pass

        @pytest.mark.slow
        def test_second():
            pass

        class TestGroup:
            @pytest.mark.parametrize("n", [1, 2])
            def test_param(self, n):
                pass
    """,
    "test_beta": """
        import pytest

        pytestmark = pytest.mark.slow

        def test_b():
            pass
    """,
}


def make_collect_project(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    slow: a slow test\n")
    pytester.makepyfile(**{name: textwrap.dedent(source) for name, source in COLLECT_PROJECT.items()})
    sub = pytester.mkdir("zsub")
    (sub / "test_gamma.py").write_text("def test_g():\n    pass\n")


def test_collected_lists_tests_in_pytests_order(pytester: pytest.Pytester, worker: StartWorker) -> None:
    make_collect_project(pytester)
    w = worker()
    collected = w.read_until("collected")[-1]
    plain = plain_pytest(pytester.path, ["--collect-only", "-q"])
    expected_ids = [line for line in plain.stdout.splitlines() if "::" in line]
    assert [t["id"] for t in collected["tests"]] == expected_ids
    assert expected_ids == [
        "test_alpha.py::test_first",
        "test_alpha.py::test_second",
        "test_alpha.py::TestGroup::test_param[1]",
        "test_alpha.py::TestGroup::test_param[2]",
        "test_beta.py::test_b",
        "zsub/test_gamma.py::test_g",
    ]
    by_id: Dict[str, Message] = {t["id"]: t for t in collected["tests"]}
    alpha = (pytester.path / "test_alpha.py").read_text().splitlines()
    # line: pytest's 0-based item.location line (of the first decorator, as co_firstlineno).
    assert by_id["test_alpha.py::test_first"] == {
        "id": "test_alpha.py::test_first",
        "file": "test_alpha.py",
        "line": alpha.index("def test_first():"),
        "markers": [],
        "scope": "test_alpha.py",
        "timeout": None,
        "bulkheadMarker": None,
        "xdistGroup": None,
    }
    assert by_id["test_alpha.py::test_second"]["line"] == alpha.index("@pytest.mark.slow")
    assert by_id["test_alpha.py::test_second"]["markers"] == ["slow"]
    assert by_id["test_alpha.py::TestGroup::test_param[2]"]["markers"] == ["parametrize"]
    assert by_id["test_alpha.py::TestGroup::test_param[2]"]["scope"] == "test_alpha.py"
    assert by_id["test_beta.py::test_b"]["markers"] == ["slow"]
    assert by_id["zsub/test_gamma.py::test_g"]["file"] == os.path.join("zsub", "test_gamma.py")
    assert by_id["zsub/test_gamma.py::test_g"]["scope"] == "zsub/test_gamma.py"
    assert collected["errors"] == 0
    assert collected["deselected"] == 0
    assert collected["interrupted"] is None
    assert [m["type"] for m in w.messages] == ["hello", "session", "collected"]


def test_collected_counts_deselected(pytester: pytest.Pytester, worker: StartWorker) -> None:
    make_collect_project(pytester)
    w = worker("-k", "not param", "-m", "not slow")
    collected = w.read_until("collected")[-1]
    assert [t["id"] for t in collected["tests"]] == ["test_alpha.py::test_first", "zsub/test_gamma.py::test_g"]
    assert collected["deselected"] == 4


# -- results -------------------------------------------------------------------------------------


FAILING_PROJECT = """
    import pytest

    def helper(x):
        return x * 2

    def test_bad():
        value = helper(2)
        assert value == 5, "value was wrong"

    @pytest.fixture
    def broken():
        raise RuntimeError("fixture broke")

    def test_error(broken):
        pass

    def test_good():
        print("out of a passing test")
"""


def test_failure_reports_match_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fail=textwrap.dedent(FAILING_PROJECT))
    xml_path = pytester.path / "junit.xml"
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider", f"--junitxml={xml_path}"])
    assert plain.returncode == 1, plain.stdout
    junit = {case.get("name"): case for case in ET.parse(xml_path).getroot().iter("testcase")}
    plain_lines = plain.stdout.splitlines()

    messages = run_worker(pytester.path, ["-p", "no:cacheprovider"])
    by_test = {(r["testId"], r["when"]): r for r in reports(messages)}

    bad = by_test[("test_fail.py::test_bad", "call")]
    assert (bad["outcome"], bad["category"], bad["letter"], bad["word"]) == ("failed", "failed", "F", "FAILED")
    failure = junit["test_bad"].find("failure")
    assert bad["longrepr"] == failure.text
    assert bad["crashMessage"] == failure.get("message")
    assert bad["crashMessage"].startswith("AssertionError: value was wrong")
    assert bad["summaryLine"].startswith("FAILED test_fail.py::test_bad")
    assert bad["summaryLine"] in plain_lines
    assert bad["longreprTerminal"].split("\n") == section_of(plain.stdout, "test_bad")
    assert bad["headLine"] == "test_bad"

    error = by_test[("test_fail.py::test_error", "setup")]
    assert (error["outcome"], error["category"]) == ("failed", "error")
    junit_error = junit["test_error"].find("error")
    assert error["longrepr"] == junit_error.text
    assert error["crashMessage"] == "RuntimeError: fixture broke"
    assert error["summaryLine"].startswith("ERROR test_fail.py::test_error")
    assert error["summaryLine"] in plain_lines
    assert error["longreprTerminal"].split("\n") == section_of(plain.stdout, "ERROR at setup of test_error")

    good = by_test[("test_fail.py::test_good", "call")]
    assert (good["outcome"], good["longrepr"], good["crashMessage"], good["summaryLine"]) == ("passed", "", None, "")
    assert good["sections"] == []  # captured output of passes only with -rP/-rA
    assert of_type(messages, "done")[0]["exitstatus"] == 1


def test_failure_report_carries_captured_output(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_out="""
        import sys
        def test_noisy():
            print("to stdout")
            sys.stderr.write("to stderr\\n")
            assert False
        """
    )
    call = reports(run_worker(pytester.path), "call")[0]
    assert ["Captured stdout call", "to stdout\n"] in call["sections"]
    assert ["Captured stderr call", "to stderr\n"] in call["sections"]


SKIP_PROJECT = """
    import pytest

    @pytest.mark.skip(reason="by mark")
    def test_marked():
        pass

    def test_inside():
        pytest.skip("from inside")

    @pytest.mark.skipif(True, reason="by skipif")
    def test_skipif():
        pass
"""


def test_skip_reports_carry_path_line_and_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_skip=textwrap.dedent(SKIP_PROJECT))
    source = (pytester.path / "test_skip.py").read_text().splitlines()
    # pytest's own reports, for the exact (path, line, reason) it puts in longrepr.
    recorded = pytester.inline_run("-p", "no:cacheprovider")
    expected = {
        rep.nodeid: rep.longrepr
        for rep in recorded.getreports("pytest_runtest_logreport")
        if rep.skipped
    }
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider", "-rs"])
    messages = run_worker(pytester.path, ["-p", "no:cacheprovider"])
    skipped = [r for r in reports(messages) if r["outcome"] == "skipped"]
    assert [r["testId"] for r in skipped] == [
        "test_skip.py::test_marked", "test_skip.py::test_inside", "test_skip.py::test_skipif",
    ]
    for report in skipped:
        path, line, reason = expected[report["testId"]]
        skip = report["skip"]
        assert (skip["path"], skip["line"], skip["reason"]) == (str(path), line, reason)
        assert report["category"] == "skipped" and report["letter"] == "s"
        assert report["longrepr"] == ""
        # The fold fields rebuild the line of pytest's -rs summary.
        short = reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
        where = skip["foldPath"] if skip["foldLine"] is None else f"{skip['foldPath']}:{skip['foldLine']}"
        assert f"SKIPPED [1] {where}: {short}" in plain.stdout.splitlines()
    by_id = {r["testId"]: r["skip"] for r in skipped}
    assert by_id["test_skip.py::test_inside"]["path"] == str(pytester.path / "test_skip.py")
    assert by_id["test_skip.py::test_inside"]["line"] == source.index('    pytest.skip("from inside")') + 1
    assert by_id["test_skip.py::test_inside"]["reason"] == "Skipped: from inside"
    assert by_id["test_skip.py::test_marked"]["reason"].endswith("by mark")
    assert by_id["test_skip.py::test_skipif"]["reason"].endswith("by skipif")


def test_xfail_reports_carry_wasxfail(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_xfail="""
        import pytest

        @pytest.mark.xfail(reason="known bug")
        def test_xfailed():
            assert False

        def test_imperative():
            pytest.xfail("gave up")

        @pytest.mark.xfail(reason="maybe")
        def test_xpassed():
            pass
        """
    )
    recorded = pytester.inline_run("-p", "no:cacheprovider")
    expected = {
        rep.nodeid: rep.wasxfail
        for rep in recorded.getreports("pytest_runtest_logreport")
        if rep.when == "call"
    }
    calls = {r["testId"]: r for r in reports(run_worker(pytester.path, ["-p", "no:cacheprovider"]), "call")}
    assert {test_id: r["wasxfail"] for test_id, r in calls.items()} == expected
    assert calls["test_xfail.py::test_xfailed"]["wasxfail"] == "known bug"
    assert calls["test_xfail.py::test_imperative"]["wasxfail"].endswith("gave up")
    assert calls["test_xfail.py::test_xpassed"]["wasxfail"] == "maybe"
    assert [calls[t]["category"] for t in sorted(calls)] == ["xfailed", "xfailed", "xpassed"]


def test_collection_errors(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(
        test_ok="def test_one(): pass\ndef test_two(): pass\n",
        test_broken="import no_such_module_for_bulkhead\n\ndef test_never(): pass\n",
        test_syntax="def test_x(:\n    pass\n",
    )
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    w = worker("-p", "no:cacheprovider")
    before = w.read_until("collected")
    errors = of_type(before, "collect_error")
    collected = before[-1]
    assert sorted(e["report"]["nodeid"] for e in errors) == ["test_broken.py", "test_syntax.py"]
    broken = next(e["report"] for e in errors if e["report"]["nodeid"] == "test_broken.py")
    assert "no_such_module_for_bulkhead" in broken["longrepr"]
    assert "no_such_module_for_bulkhead" in broken["longreprTerminal"]
    assert broken["summaryLine"].startswith("ERROR test_broken.py")
    syntax = next(e["report"] for e in errors if e["report"]["nodeid"] == "test_syntax.py")
    assert "SyntaxError" in syntax["longrepr"]
    for error in errors:
        assert error["report"]["summaryLine"] in plain.stdout.splitlines()
    assert collected["errors"] == 2
    assert [t["id"] for t in collected["tests"]] == ["test_ok.py::test_one", "test_ok.py::test_two"]
    w.run([0, 1])
    w.finish()
    run = w.read_until("done")
    assert ids_of(run, "finished") == ["test_ok.py::test_one", "test_ok.py::test_two"]
    assert run[-1]["exitstatus"] == 1  # pytest's exit status for a session with errors
