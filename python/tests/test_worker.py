"""A real worker process, driven through its channel the way the supervisor drives it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from driver import Message, Worker, clean_env, of_type, plain_pytest, reports, run_worker

StartWorker = Callable[..., Worker]


def ids_of(messages: List[Message], kind: str) -> List[str]:
    return [m["id"] for m in messages if m["type"] == kind]


def header_of(output: str) -> List[str]:
    """The session header pytest printed: its lines before "collected N items"."""
    lines = output.splitlines()
    end = next(i for i, line in enumerate(lines) if re.match(r"collected \d+ items?|collecting", line))
    return lines[:end]


def section_of(output: str, title: str) -> List[str]:
    """The lines of one "____ title ____" section of pytest's output, up to the next section."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"_+ " + re.escape(title) + r" _+", line))
    end = next(
        i for i in range(start + 1, len(lines)) if re.fullmatch(r"([-=_])\1* .* \1+", lines[i])
    )
    return lines[start + 1:end]


def read_log(path: Path) -> List[str]:
    return path.read_text().splitlines() if path.exists() else []


def gate_source(gate: Path) -> str:
    return textwrap.dedent(
        f"""
        import os, time

        GATE = {str(gate)!r}

        def wait_for_gate():
            deadline = time.monotonic() + 60
            while not os.path.exists(GATE):
                assert time.monotonic() < deadline, "the gate never opened"
                time.sleep(0.01)
        """
    )


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


# -- running -------------------------------------------------------------------------------------


def test_run_and_finish_report_each_test_in_order(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(
        test_run="""
        def test_0(): pass
        def test_1(): pass
        def test_2(): pass
        def test_3(): pass
        """
    )
    w = worker()
    collected = w.read_until("collected")[-1]
    ids = [t["id"] for t in collected["tests"]]
    w.run([0, 1, 2])
    w.finish()
    run = w.read_until("done")
    assert w.wait_exit() == 0
    expected: List[tuple] = []
    for test_id in ids[:3]:
        expected += [
            ("started", test_id),
            ("report", test_id, "setup", "passed"),
            ("report", test_id, "call", "passed"),
            ("report", test_id, "teardown", "passed"),
            ("finished", test_id),
        ]
    expected.append(("done", 0))
    got = []
    for m in run:
        if m["type"] in ("started", "finished"):
            got.append((m["type"], m["id"]))
        elif m["type"] == "report":
            r = m["report"]
            got.append(("report", r["testId"], r["when"], r["outcome"]))
        elif m["type"] == "done":
            got.append(("done", m["exitstatus"]))
        else:
            assert m["type"] == "warning", m
    assert got == expected
    call = reports(run, "call")[0]
    assert (call["category"], call["letter"], call["word"]) == ("passed", ".", "PASSED")
    source = (pytester.path / "test_run.py").read_text().splitlines()
    assert call["location"] == {"file": "test_run.py", "line": source.index("def test_0(): pass"), "domain": "test_0"}
    assert call["summaryLine"] == ""  # only with -rp/-rA


def test_nothing_runs_until_the_successor_is_known_or_finish(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(test_wait="def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.run([1])
    w.expect_silence(0.5)
    w.finish()
    run = w.read_until("done")
    assert ids_of(run, "started") == ["test_wait.py::test_1"]


MODULE_FIXTURE_PROJECT = {
    "conftest": """
        import pytest

        LOG = {log!r}

        def log(text):
            with open(LOG, "a") as f:
                f.write(text + "\\n")

        @pytest.fixture(scope="session")
        def sess():
            log("setup session")
            yield
            log("teardown session")

        @pytest.fixture(scope="module")
        def mod(request, sess):
            name = request.module.__name__
            log("setup " + name)
            yield
            log("teardown " + name)
    """,
    "test_a": """
        from conftest import log

        def test_a1(mod):
            log("run a1")

        def test_a2(mod):
            log("run a2")
    """,
    "test_b": """
        from conftest import log

        def test_b1(mod):
            log("run b1")

        def test_b2(mod):
            log("run b2")
    """,
}


def make_module_fixture_project(pytester: pytest.Pytester, log: Path) -> None:
    pytester.makepyfile(
        **{name: textwrap.dedent(source).replace("{log!r}", repr(str(log))) for name, source in MODULE_FIXTURE_PROJECT.items()}
    )


def test_module_teardown_happens_where_pytest_does_it_with_one_test_per_command(
    pytester: pytest.Pytester, worker: StartWorker
) -> None:
    log = pytester.path / "fixture.log"
    make_module_fixture_project(pytester, log)
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    assert plain.returncode == 0, plain.stdout
    expected = read_log(log)
    assert expected == [
        "setup session", "setup test_a", "run a1", "run a2", "teardown test_a",
        "setup test_b", "run b1", "run b2", "teardown test_b", "teardown session",
    ]
    log.unlink()

    w = worker("-p", "no:cacheprovider")
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    assert ids == ["test_a.py::test_a1", "test_a.py::test_a2", "test_b.py::test_b1", "test_b.py::test_b2"]
    w.run([0])
    w.expect_silence(0.3)  # test_a1 waits to know what follows it
    assert read_log(log) == []

    w.run([1])
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[0])
    assert read_log(log) == expected[:3]  # module fixture kept: test_a2 follows
    w.expect_silence(0.3)

    w.run([2])
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[1])
    assert read_log(log) == expected[:5]  # torn down with test_a2, the module's last test
    w.expect_silence(0.3)

    w.run([3])
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[2])
    assert read_log(log) == expected[:7]

    w.finish()
    w.read_until(lambda m: m["type"] == "finished" and m["id"] == ids[3])
    assert read_log(log) == expected  # the last test (nextitem None) tears everything down
    done = w.read_until("done")[-1]
    assert done["exitstatus"] == 0
    assert w.wait_exit() == 0
    assert read_log(log) == expected


def test_steal_returns_only_unstarted_indices(pytester: pytest.Pytester, worker: StartWorker) -> None:
    gate = pytester.path / "gate"
    pytester.makepyfile(
        test_steal=gate_source(gate)
        + textwrap.dedent(
            """
            def test_0(): wait_for_gate()
            def test_1(): pass
            def test_2(): pass
            def test_3(): pass
            def test_4(): pass
            """
        )
    )
    w = worker()
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1, 2, 3])
    w.read_until(lambda m: m["type"] == "started" and m["id"] == ids[0])
    # test_0 is running, test_1 is its nextitem; index 4 was never assigned.
    w.steal([0, 1, 3, 4])
    stolen = w.read_until("stolen")[-1]
    assert stolen["indices"] == [3]
    w.steal([2])
    assert w.read_until("stolen")[-1]["indices"] == [2]
    gate.write_text("open")
    w.finish()
    run = w.read_until("done")
    assert ids_of(w.messages, "started") == ids[:2]
    assert ids_of(w.messages, "finished") == ids[:2]
    assert all(r["outcome"] == "passed" for r in reports(run))
    assert w.wait_exit() == 0


def test_stop_ends_after_the_running_test_and_tears_down_session_fixtures(
    pytester: pytest.Pytester, worker: StartWorker
) -> None:
    log = pytester.path / "fixture.log"
    gate = pytester.path / "gate"
    make_module_fixture_project(pytester, log)
    (pytester.path / "test_a.py").write_text(
        gate_source(gate)
        + textwrap.dedent(
            """
            from conftest import log

            def test_a1(mod):
                log("run a1")
                wait_for_gate()

            def test_a2(mod):
                log("run a2")
            """
        )
    )
    w = worker()
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1, 2, 3])
    w.read_until(lambda m: m["type"] == "started" and m["id"] == ids[0])
    w.stop()
    stolen = w.read_until("stolen")[-1]
    assert stolen["indices"] == [1, 2, 3]  # the committed nextitem will not run either
    assert ids_of(w.messages, "finished") == []  # still running test_a1
    gate.write_text("open")
    w.read_until("done")
    assert read_log(log) == ["setup session", "setup test_a", "run a1", "teardown test_a", "teardown session"]
    assert w.wait_exit() == 0
    assert ids_of(w.messages, "started") == ids[:1]
    assert ids_of(w.messages, "finished") == ids[:1]
    assert [(r["when"], r["outcome"]) for r in reports(w.messages)] == [
        ("setup", "passed"), ("call", "passed"), ("teardown", "passed"),
    ]
    assert read_log(log) == ["setup session", "setup test_a", "run a1", "teardown test_a", "teardown session"]


def test_stop_while_idle_ends_the_session(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.run([0])
    w.stop()
    assert w.read_until("stolen")[-1]["indices"] == [0]
    w.read_until("done")
    assert ids_of(w.messages, "started") == []
    assert w.wait_exit() in (0, 5)


def test_a_worker_past_its_recycle_size_stops_itself_before_the_next_test(
    pytester: pytest.Pytester, worker: StartWorker
) -> None:
    # Every worker is bigger than 1 byte: it is over --worker-recycle-memory after its first test.
    pytester.makepyfile("def test_0(): pass\ndef test_1(): pass\ndef test_2(): pass\n")
    w = worker(env={"BULKHEAD_RECYCLE_BYTES": "1"})
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1, 2])
    finished = w.read_until("finished")[-1]
    assert finished["memory"]["residentBytes"] > 1
    # Given back unasked, the successor pytest already held included: it never starts here.
    assert w.read_until("stolen")[-1]["indices"] == [1, 2]
    w.read_until("done")
    assert ids_of(w.messages, "started") == ids[:1]
    assert w.wait_exit() == 0


def test_a_worker_under_its_recycle_size_runs_on(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_0(): pass\ndef test_1(): pass\n")
    w = worker(env={"BULKHEAD_RECYCLE_BYTES": str(1 << 50)})
    ids = [t["id"] for t in w.read_until("collected")[-1]["tests"]]
    w.run([0, 1])
    w.finish()
    w.read_until("done")
    assert ids_of(w.messages, "finished") == ids
    assert of_type(w.messages, "stolen") == []
    assert w.wait_exit() == 0


def test_closing_the_channel_ends_the_worker(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.close_channel()  # the supervisor went away
    w.read_until("done")
    assert w.wait_exit() in (0, 5)


def test_results_are_sent_before_session_finish_hooks_run(pytester: pytest.Pytester, worker: StartWorker) -> None:
    # Results are batched; a plugin's session-finish hook that ends the process must not lose them.
    pytester.makeconftest(
        """
        import os

        def pytest_sessionfinish(session):
            os._exit(3)
        """
    )
    pytester.makepyfile(test_end="def test_0(): pass\ndef test_1(): pass\n")
    w = worker()
    w.read_until("collected")
    w.run([0, 1])
    w.finish()
    with pytest.raises(AssertionError, match="channel closed"):
        w.read_until("done")
    assert w.wait_exit() == 3
    assert ids_of(w.messages, "finished") == ["test_end.py::test_0", "test_end.py::test_1"]
    assert len(reports(w.messages)) == 6


def test_warnings_are_forwarded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_warn="""
        import warnings

        def test_warns():
            warnings.warn(UserWarning("careful now"))
        """
    )
    messages = run_worker(pytester.path)
    (warning,) = [m["warning"] for m in of_type(messages, "warning")]
    assert warning["category"] == "UserWarning"
    assert warning["nodeid"] == "test_warn.py::test_warns"
    assert warning["when"] == "runtest"
    assert "careful now" in warning["message"]
    assert warning["filename"] == str(pytester.path / "test_warn.py")
    # pytest records a test's warnings when its whole protocol is over: after "finished".
    types = [m["type"] for m in messages]
    assert types.index("finished") < types.index("warning") < types.index("done")


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


# -- what the worker must not do -----------------------------------------------------------------


def xdist_env(tmp_path: Path, python: str) -> Dict[str, str]:
    """An environment in which xdist is importable by `python`, or a skip."""

    def importable(env: Dict[str, str]) -> bool:
        check = subprocess.run(
            [python, "-c", "import xdist, execnet"], env=clean_env(env),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )
        return check.returncode == 0

    if importable({}):
        return {}
    dist_packages = Path("/usr/lib/python3/dist-packages")
    names = [p for p in dist_packages.glob("*") if re.match(r"(xdist|execnet)$|(pytest_xdist|execnet)-.*\.(dist|egg)-info$", p.name)]
    if not (dist_packages / "xdist").is_dir() or not (dist_packages / "execnet").is_dir():
        pytest.skip("pytest-xdist is not importable (bash scripts/setup-machine.sh installs it)")
    folder = tmp_path / "xdist-path"
    folder.mkdir()
    for path in names:
        (folder / path.name).symlink_to(path)
    env = {"PYTHONPATH": str(folder)}
    if not importable(env):
        pytest.skip("pytest-xdist is not importable by this python")
    return env


@pytest.mark.parametrize("where", ["args", "ini"])
def test_xdist_n_auto_does_not_start_xdist_workers(
    pytester: pytest.Pytester, worker: StartWorker, tmp_path_factory: pytest.TempPathFactory, where: str
) -> None:
    env = xdist_env(tmp_path_factory.mktemp("xdist"), sys.executable)
    pytester.makepyfile(
        test_xd="""
        import os

        def test_in_the_worker_itself():
            assert "PYTEST_XDIST_WORKER" not in os.environ
            with open("pids.txt", "a") as f:
                f.write(f"{os.getpid()}\\n")

        def test_again():
            test_in_the_worker_itself()
        """
    )
    args: List[str] = []
    if where == "args":
        args = ["-n", "auto"]
    else:
        pytester.makeini("[pytest]\naddopts = -n auto\n")
    # First: this xdist really does start workers for plain pytest here (where the tests fail).
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider", *args], env=env)
    assert re.search(r"^gw0 ", plain.stdout, re.MULTILINE), plain.stdout
    assert "PYTEST_XDIST_WORKER" in plain.stdout

    w = worker("-p", "no:cacheprovider", *args, env=env)
    hello = w.read()
    session = w.read_until("session")[-1]
    assert any("xdist-" in line for line in session["headerLines"]), session["headerLines"]
    assert session["xdistRequested"] == "auto"
    collected = w.read_until("collected")[-1]
    assert len(collected["tests"]) == 2
    w.run([0, 1])
    w.finish()
    run = w.read_until("done")
    assert run[-1]["exitstatus"] == 0
    assert [r["outcome"] for r in reports(run)] == ["passed"] * 6
    assert (pytester.path / "pids.txt").read_text().split() == [str(hello["pid"])] * 2
    assert "worker" not in w.stdout().lower(), w.stdout()


FAKE_LINES = [
    '{"type":"done","exitstatus":77}',
    '{"type":"stolen","indices":[12345]}',
    '{"type":"started","id":"fake::id"}',
]


@pytest.mark.parametrize("capture", ["fd", "no"])
def test_test_output_never_reaches_the_channel(pytester: pytest.Pytester, worker: StartWorker, capture: str) -> None:
    pytester.makepyfile(
        test_noise=f"""
        import json, os, subprocess, sys

        FAKE = {FAKE_LINES!r}

        def test_prints():
            for line in FAKE:
                print(line)
                sys.stderr.write(line + "\\n")
                os.write(1, (line + "\\n").encode())
                os.write(2, (line + "\\n").encode())
                sys.__stdout__.write(line + "\\n")
            sys.stdout.flush()
            sys.__stdout__.flush()

        def test_child_process_writes_everywhere():
            code = (
                "import os, json\\n"
                "lines = " + repr(FAKE) + "\\n"
                "links = []\\n"
                "for name in os.listdir('/proc/self/fd'):\\n"
                "    try:\\n"
                "        links.append(os.readlink('/proc/self/fd/' + name))\\n"
                "    except OSError:\\n"
                "        pass\\n"
                "for fd in range(0, 256):\\n"
                "    for line in lines:\\n"
                "        try:\\n"
                "            os.write(fd, (line + '\\\\n').encode())\\n"
                "        except OSError:\\n"
                "            pass\\n"
                "print(json.dumps(links))\\n"
            )
            result = subprocess.run([sys.executable, "-c", code], close_fds=False,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
            links = json.loads(result.stdout.decode().splitlines()[-1])
            assert not [link for link in links if link.startswith("socket:")], links
            # And one that shares our stdout and stderr.
            subprocess.run([sys.executable, "-c", "print(" + repr(FAKE[0]) + ")"], close_fds=False, timeout=60)
        """
    )
    w = worker(f"--capture={capture}")
    w.read_until("collected")
    w.run([0, 1])
    w.finish()
    run = w.read_until("done")
    assert w.wait_exit() == 0, w.output()
    assert [r["outcome"] for r in reports(run)] == ["passed"] * 6
    assert len(of_type(w.messages, "done")) == 1 and run[-1]["exitstatus"] == 0
    assert of_type(w.messages, "stolen") == []
    assert ids_of(w.messages, "started") == ["test_noise.py::test_prints", "test_noise.py::test_child_process_writes_everywhere"]
    if capture == "no":
        for line in FAKE_LINES:
            assert line in w.stdout().splitlines()  # it went where the test sent it


# -- without a channel ---------------------------------------------------------------------------


INERT_TEST = """
    def test_plugin_loaded_but_inert(request):
        manager = request.config.pluginmanager
        assert manager.has_plugin("bulkhead_pytest.plugin")
        assert manager.get_plugin("bulkhead-worker") is None

    def test_fails():
        assert 0
"""


def test_plugin_is_inert_without_a_channel_in_process(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULKHEAD_CHANNEL_FD", raising=False)
    pytester.makepyfile(textwrap.dedent(INERT_TEST))
    result = pytester.runpytest("-p", "bulkhead_pytest.plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test session starts*", "collected 2 items", "*short test summary info*"])


def test_plugin_is_inert_without_a_channel_in_a_subprocess(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULKHEAD_CHANNEL_FD", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    pytester.makepyfile(textwrap.dedent(INERT_TEST))
    result = pytester.runpytest_subprocess("-p", "bulkhead_pytest.plugin", timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 1


def test_launcher_without_a_channel_is_plain_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent(INERT_TEST))
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    assert plain.returncode == 1
    assert "1 failed, 1 passed" in plain.stdout
