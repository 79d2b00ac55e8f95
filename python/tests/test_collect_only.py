"""Targeted collection (collect_only.py) in a real worker, on a real project: with
``BULKHEAD_COLLECT_ONLY`` naming one file, only that file and the conftest.py files of its
ancestors are imported; every other module and conftest writes a marker on import, and none may
appear. Run on this interpreter and, where it is installed, on Debian's python3 (pytest 7.2, which
collects packages differently).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from driver import Worker, of_type

DEBIAN_PYTHON = "/usr/bin/python3"

_MARK = """
import os
open(os.path.join(os.environ["MARKS"], {name!r}), "w").close()
"""


def _interpreters() -> List[str]:
    found = [sys.executable]
    if os.path.realpath(DEBIAN_PYTHON) != os.path.realpath(sys.executable):
        found.append(DEBIAN_PYTHON)
    return found


@pytest.fixture(params=_interpreters())
def python(request: pytest.FixtureRequest) -> str:
    if not os.path.exists(request.param):
        pytest.skip(f"{request.param} is not installed")
    probe = subprocess.run([request.param, "-c", "import pytest"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"{request.param} has no pytest")
    return request.param


def _project(root: Path) -> None:
    """pkg/deep/test_target.py is the target; everything else marks its import."""
    files = {
        "conftest.py": _MARK.format(name="conftest-root"),
        "test_top.py": _MARK.format(name="test_top") + "def test_top():\n    pass\n",
        "pkg/__init__.py": "",
        "pkg/conftest.py": _MARK.format(name="conftest-pkg"),
        "pkg/test_sibling.py": _MARK.format(name="test_sibling") + "def test_sibling():\n    pass\n",
        "pkg/deep/__init__.py": "",
        "pkg/deep/conftest.py": _MARK.format(name="conftest-deep"),
        "pkg/deep/test_target.py": _MARK.format(name="test_target")
        + "import pytest\n\n@pytest.mark.parametrize('n', [1, 2])\ndef test_target(n):\n    pass\n\ndef test_plain():\n    pass\n",
        "pkg/other/__init__.py": "",
        "pkg/other/conftest.py": _MARK.format(name="conftest-other"),
        "pkg/other/test_other.py": _MARK.format(name="test_other") + "def test_other():\n    pass\n",
        "plain/conftest.py": _MARK.format(name="conftest-plain"),
        "plain/test_plain_dir.py": _MARK.format(name="test_plain_dir") + "def test_plain_dir():\n    pass\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "marks").mkdir()


def _collect(root: Path, python: str, env: dict, args: List[str]) -> List[str]:
    with Worker(root, ["-p", "no:cacheprovider", *args], python=python, env={"MARKS": str(root / "marks"), **env}) as worker:
        collected = worker.read_until("collected")[-1]
        worker.stop()
        worker.read_until("done")
        worker.wait_exit()
        assert of_type(worker.messages, "collect_error") == [], worker.output()
        return [test["id"] for test in collected["tests"]]


def test_only_the_target_and_its_ancestors_conftests_are_imported(tmp_path: Path, python: str) -> None:
    _project(tmp_path)
    target = tmp_path / "pkg" / "deep" / "test_target.py"
    ids = _collect(tmp_path, python, {"BULKHEAD_COLLECT_ONLY": json.dumps([str(target)])}, [])
    assert ids == ["pkg/deep/test_target.py::test_target[1]", "pkg/deep/test_target.py::test_target[2]", "pkg/deep/test_target.py::test_plain"]
    assert sorted(os.listdir(tmp_path / "marks")) == ["conftest-deep", "conftest-pkg", "conftest-root", "test_target"]


def test_a_target_named_through_dotdot_and_an_explicit_argument(tmp_path: Path, python: str) -> None:
    # The supervisor resolves the rootdir-relative file; a path with `..` in it means the same file.
    _project(tmp_path)
    target = f"{tmp_path}/plain/../pkg/deep/test_target.py"
    ids = _collect(tmp_path, python, {"BULKHEAD_COLLECT_ONLY": json.dumps([target])}, ["pkg"])
    assert [test_id.split("::")[0] for test_id in ids] == ["pkg/deep/test_target.py"] * 3
    assert "test_sibling" not in os.listdir(tmp_path / "marks")


def test_without_the_variable_everything_is_collected(tmp_path: Path, python: str) -> None:
    _project(tmp_path)
    ids = _collect(tmp_path, python, {}, [])
    assert len(ids) == 7
    assert sorted(os.listdir(tmp_path / "marks")) == sorted(
        ["conftest-root", "conftest-pkg", "conftest-deep", "conftest-other", "conftest-plain",
         "test_top", "test_sibling", "test_target", "test_other", "test_plain_dir"]
    )


def test_a_file_named_on_the_command_line_is_still_collected(tmp_path: Path, python: str) -> None:
    # pytest never asks to ignore an argument; the supervisor's per-file check accepts the extra file.
    _project(tmp_path)
    target = tmp_path / "pkg" / "deep" / "test_target.py"
    ids = _collect(tmp_path, python, {"BULKHEAD_COLLECT_ONLY": json.dumps([str(target)])}, ["test_top.py", "pkg"])
    assert {test_id.split("::")[0] for test_id in ids} == {"test_top.py", "pkg/deep/test_target.py"}
    assert "test_other" not in os.listdir(tmp_path / "marks")


def test_an_unreadable_value_collects_everything(tmp_path: Path, python: str) -> None:
    _project(tmp_path)
    assert len(_collect(tmp_path, python, {"BULKHEAD_COLLECT_ONLY": "not json"}, [])) == 7
