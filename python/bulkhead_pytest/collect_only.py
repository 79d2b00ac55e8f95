"""Targeted collection: a fresh worker started to retry one test alone collects only its file.

Every worker imports and collects the whole suite before its first test (half a minute on numpy's).
A worker started for an isolated retry runs one test, at the end of the run, while nothing else
runs: the supervisor names the file(s) it needs in ``BULKHEAD_COLLECT_ONLY`` (a JSON list of
absolute paths), and ``pytest_ignore_collect`` here skips every other file and every directory that
holds none of them. Other test modules, and the conftest.py files of directories off the way to a
target, are never imported; the conftest.py files and ``__init__.py`` of the target's ancestors
load as they do under pytest, and so do plugins.

The worker then reports its (partial) collection as usual; the supervisor checks it file by file
against the reference collection and translates indices (src/core/targeted-collection.ts). When the
test is not in it, the supervisor falls back to a worker that collects everything.

pytest 7.2 and 9 both ask ``pytest_ignore_collect(collection_path, config)`` before descending
into a directory and before collecting a file; neither asks it for a path given on the command
line (pytest 7 does for the directories under such a path, which is what is wanted). pytest 7
collects a sub-package through its ``__init__.py`` file, so the ``__init__.py`` of each directory
on the way is kept.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, List, Optional, Set

import pytest

from . import environment

# pytest options whose collection hook decides over the whole suite: what they keep of one file
# depends on the other files, so such a session collects everything (no target).
_WHOLE_SUITE_OPTIONS = ("lf", "stepwise", "stepwise_skip")


class CollectOnly:
    """The ``pytest_ignore_collect`` of a worker that collects only ``files``."""

    def __init__(self, files: Iterable[str]) -> None:
        self.files: Set[str] = {os.path.normpath(os.path.abspath(file)) for file in files}
        # Every directory that holds a target, up to the filesystem's root.
        self.ancestors: Set[str] = set()
        for file in self.files:
            parent = os.path.dirname(file)
            while parent not in self.ancestors:
                self.ancestors.add(parent)
                up = os.path.dirname(parent)
                if up == parent:
                    break
                parent = up
        self.session: Optional[pytest.Session] = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> Optional[bool]:
        path = os.path.normpath(str(collection_path))
        if path in self.files or path in self.ancestors:
            return None  # pytest's own rules (--ignore, collect_ignore, norecursedirs) decide
        if collection_path.name == "__init__.py" and os.path.dirname(path) in self.ancestors:
            return None
        if self.session is not None and self.session.isinitpath(collection_path):
            return None  # named on the command line: pytest's to collect (else "not found")
        return True


def targets_from_env(config: pytest.Config) -> Optional[List[str]]:
    """The files to collect, or None: collect everything (not set, unreadable, or not safe here)."""
    raw = os.environ.get(environment.COLLECT_ONLY)
    if not raw:
        return None
    try:
        files = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(files, list) or not files or not all(isinstance(file, str) and file for file in files):
        return None
    for name in _WHOLE_SUITE_OPTIONS:
        if config.getoption(name, default=False):
            return None
    return files


def register_from_env(config: pytest.Config) -> None:
    files = targets_from_env(config)
    if files is not None:
        config.pluginmanager.register(CollectOnly(files), "bulkhead-collect-only")
