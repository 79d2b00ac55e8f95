"""Lazy collection (lazy_collect.py) on real pytest projects: the walk imports no test file, a file
is expanded once and only when one of its tests is wanted, its ids are those of a full collection,
and package and module fixtures set up and tear down as under one pytest process."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from bulkhead_pytest.lazy_collect import LazyCollection, file_id, unsupported_reason


class LazyRunner:
    """Collects lazily and runs ``ids`` in order, as a worker runs what it is given: each test
    with its successor as ``nextitem`` (found, and its file expanded, before the test runs)."""

    def __init__(self, ids: Optional[List[str]] = None, expand: Optional[List[str]] = None, expand_all: bool = False) -> None:
        self.ids = ids or []
        # Files to expand after the tests ran (within the session, as a worker would).
        self.expand = expand or []
        self.expand_all = expand_all
        self.expanded_ids: Dict[str, Optional[List[str]]] = {}
        self.lazy: Optional[LazyCollection] = None
        self.walked: Dict[str, bool] = {}
        self.missing: List[str] = []

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.lazy = LazyCollection(session)
        session.config.pluginmanager.register(self.lazy, "bulkhead-lazy-collect")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        assert self.lazy is not None
        self.walked = {file: file in self.lazy.expanded for file in self.lazy.files}
        ids = list(self.ids)
        item = self.lazy.item(ids[0]) if ids else None
        for position, test_id in enumerate(ids):
            following = ids[position + 1] if position + 1 < len(ids) else None
            nextitem = self.lazy.item(following) if following is not None else None
            if item is None:
                self.missing.append(test_id)
            else:
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            item = nextitem
        for file in list(self.lazy.files) if self.expand_all else self.expand:
            self.expanded_ids[file] = self.lazy.expand(file)
        return True

    def all_ids(self) -> List[str]:
        return [test_id for ids in self.expanded_ids.values() for test_id in ids or []]


PACKAGE_PROJECT = {
    "pkg/__init__.py": "",
    "pkg/conftest.py": """
        import pytest
        from pathlib import Path

        LOG = Path(__file__).parent.parent / "log.txt"

        def note(line):
            with LOG.open("a") as f:
                f.write(line + "\\n")

        @pytest.fixture(scope="package", autouse=True)
        def package_fixture():
            note("package setup")
            yield
            note("package teardown")

        @pytest.fixture(scope="module", autouse=True)
        def module_fixture(request):
            note("module setup " + request.module.__name__)
            yield
            note("module teardown " + request.module.__name__)
    """,
    "pkg/test_a.py": """
        from pkg.conftest import note
        note("import test_a")
        def test_a1(): pass
        def test_a2(): pass
    """,
    "pkg/test_b.py": """
        from pkg.conftest import note
        note("import test_b")
        import pytest
        @pytest.mark.parametrize("n", [1, 2])
        def test_b(n): pass
        class TestB:
            def test_in_class(self): pass
    """,
    "pkg/test_c.py": """
        from pkg.conftest import note
        note("import test_c")
        def test_c(): pass
    """,
}


def make_project(pytester: pytest.Pytester, files: Dict[str, str]) -> None:
    for path, body in files.items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(body))


def log(pytester: pytest.Pytester) -> List[str]:
    path = pytester.path / "log.txt"
    return path.read_text().splitlines() if path.exists() else []


def full_ids(pytester: pytest.Pytester, *args: str) -> List[str]:
    """The ids a whole collection gives (what the reference worker reports)."""
    result = pytester.runpytest_subprocess("--collect-only", "-q", *args)
    return [line for line in result.outlines if "::" in line]


def test_walk_imports_no_test_file_and_expansion_matches_full_collection(pytester: pytest.Pytester) -> None:
    make_project(pytester, PACKAGE_PROJECT)
    reference = full_ids(pytester)
    (pytester.path / "log.txt").unlink()
    runner = LazyRunner(expand_all=True)
    pytester.inline_run(plugins=[runner])
    assert runner.lazy is not None
    assert list(runner.lazy.files) == ["pkg/test_a.py", "pkg/test_b.py", "pkg/test_c.py"]
    assert not any(runner.walked.values())  # nothing expanded by the walk
    assert runner.all_ids() == reference
    assert log(pytester) == ["import test_a", "import test_b", "import test_c"]  # each once, at expansion
    assert runner.lazy.ids_of("pkg/test_b.py") == [test_id for test_id in reference if file_id(test_id) == "pkg/test_b.py"]


def test_only_the_files_of_given_tests_are_imported_and_fixtures_run_once(pytester: pytest.Pytester) -> None:
    make_project(pytester, PACKAGE_PROJECT)
    runner = LazyRunner(["pkg/test_a.py::test_a1", "pkg/test_b.py::test_b[2]", "pkg/test_b.py::TestB::test_in_class", "pkg/test_a.py::test_a2"])
    result = pytester.inline_run(plugins=[runner])
    assert runner.missing == []
    passed, skipped, failed = result.listoutcomes()
    assert (len(passed), len(skipped), len(failed)) == (4, 0, 0)
    assert set(runner.lazy.expanded) == {"pkg/test_a.py", "pkg/test_b.py"}  # test_c never imported
    # One package setup for the whole run (the package node is the same for every file), module
    # fixtures per stretch of a module, exactly as pytest runs the same order in one process.
    assert log(pytester) == [
        "import test_a",
        "import test_b",
        "package setup",
        "module setup pkg.test_a",
        "module teardown pkg.test_a",
        "module setup pkg.test_b",
        "module teardown pkg.test_b",
        "module setup pkg.test_a",
        "module teardown pkg.test_a",
        "package teardown",
    ]


def test_modifyitems_applies_to_each_expanded_file(pytester: pytest.Pytester) -> None:
    make_project(pytester, PACKAGE_PROJECT)
    (pytester.path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import pytest
            def pytest_collection_modifyitems(config, items):
                for item in items:
                    if item.name == "test_a2":
                        item.add_marker(pytest.mark.skip(reason="skipped by a conftest hook"))
            """
        )
    )
    reference = full_ids(pytester, "-k", "not test_in_class and not test_c")
    runner = LazyRunner(["pkg/test_a.py::test_a1", "pkg/test_a.py::test_a2"], expand_all=True)
    result = pytester.inline_run("-k", "not test_in_class and not test_c", plugins=[runner])
    passed, skipped, failed = result.listoutcomes()
    assert [r.nodeid for r in passed] == ["pkg/test_a.py::test_a1"]
    assert [r.nodeid for r in skipped] == ["pkg/test_a.py::test_a2"]
    lazy_ids = runner.all_ids()
    assert lazy_ids == reference
    assert "pkg/test_b.py::TestB::test_in_class" not in lazy_ids
    assert runner.lazy.item("pkg/test_b.py::TestB::test_in_class") is None  # deselected: not found


def test_pyargs_ids_are_those_of_a_full_collection(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(pytester, {**PACKAGE_PROJECT, "other/placeholder.txt": ""})
    monkeypatch.syspath_prepend(str(pytester.path))
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    reference = full_ids(pytester, "--pyargs", "pkg")
    assert reference
    runner = LazyRunner(expand_all=True)
    pytester.inline_run("--pyargs", "pkg", plugins=[runner])
    assert runner.all_ids() == reference


def test_a_collection_error_is_reported_when_its_file_is_expanded(pytester: pytest.Pytester) -> None:
    make_project(pytester, {**PACKAGE_PROJECT, "pkg/test_broken.py": "raise ImportError('broken on import')\n"})
    runner = LazyRunner(["pkg/test_c.py::test_c"], expand=["pkg/test_broken.py", "pkg/test_broken.py"])
    result = pytester.inline_run(plugins=[runner])
    assert runner.lazy.expanded["pkg/test_broken.py"] == []
    failed = result.getfailedcollections()
    assert [r.nodeid for r in failed] == ["pkg/test_broken.py"]  # reported once, at its expansion
    assert "broken on import" in str(failed[0].longrepr)
    assert [r.nodeid for r in result.listoutcomes()[0]] == ["pkg/test_c.py::test_c"]


def test_a_collection_error_in_the_walk_is_reported_by_the_walk(pytester: pytest.Pytester) -> None:
    make_project(pytester, {**PACKAGE_PROJECT, "bad/conftest.py": "raise ImportError('broken conftest')\n", "bad/test_x.py": "def test_x(): pass\n"})
    runner = LazyRunner(["pkg/test_c.py::test_c"])
    result = pytester.inline_run(plugins=[runner])
    failed = result.getfailedcollections()
    assert len(failed) == 1 and "broken conftest" in str(failed[0].longrepr)
    assert "bad/test_x.py" not in runner.lazy.files


def test_arguments_below_file_level_are_collected_at_the_start(pytester: pytest.Pytester) -> None:
    make_project(pytester, PACKAGE_PROJECT)
    runner = LazyRunner(["pkg/test_b.py::TestB::test_in_class", "pkg/test_c.py::test_c"])
    result = pytester.inline_run("pkg/test_b.py::TestB", "pkg/test_c.py", plugins=[runner])
    assert [item.nodeid for item in runner.lazy.eager] == ["pkg/test_b.py::TestB::test_in_class"]
    assert list(runner.lazy.files) == ["pkg/test_c.py"]
    passed, _, failed = result.listoutcomes()
    assert [r.nodeid for r in passed] == ["pkg/test_b.py::TestB::test_in_class", "pkg/test_c.py::test_c"]
    assert failed == []


@pytest.mark.parametrize("option", ["--lf", "--sw", "--keep-duplicates"])
def test_whole_suite_options_turn_laziness_off(pytester: pytest.Pytester, option: str) -> None:
    config = pytester.parseconfigure(option)
    reason = unsupported_reason(config)
    assert reason is not None and "whole suite" in reason


def test_plain_options_allow_laziness(pytester: pytest.Pytester) -> None:
    assert unsupported_reason(pytester.parseconfigure("-k", "x", "-m", "y", "--ff")) is None
