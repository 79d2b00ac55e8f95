"""Helpers shared by the test_worker_* modules: a real worker driven through its channel."""
from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from driver import Message, Worker, clean_env

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
