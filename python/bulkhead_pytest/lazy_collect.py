"""Lazy collection: a worker that is not the reference walks the suite's directories once, and
imports and collects a test file only when it is first given one of that file's tests.

Today every worker collects (imports) the whole suite before its first test; only the first
collection to finish (the reference) defines the suite, and the others are only compared to it.
A lazy worker keeps that check at file level: the ids it collects for a file must be the
reference's ids for that file (``ids_of``; compared as a set by the supervisor's
``describeFileDiff``, since tests are then found by id), else the run ends with the same mismatch
error.

pytest semantics kept:

- Every node is made once. The walk keeps the Dir/Package nodes and the File nodes it found, and a
  file is expanded at most once, from its own node: fixtures scoped to a package or a module see
  the same node for every test of it, so they set up and tear down as under one pytest process.
  (A second ``session.perform_collect`` would make new Package nodes, and pytest would tear down
  and set up package fixtures again between two tests of one package.)
- ``pytest_collection_modifyitems`` runs on each file's items when the file is expanded: per-item
  decisions (-k, -m, --deselect, a conftest's skip markers) come out the same as over the whole
  list. A hook that decides over the whole list (``--lf``, ``--sw``, a plugin that shards the
  suite) may decide differently: ``unsupported_reason`` turns laziness off for pytest's own such
  options, and the per-file id check catches the others (the run ends, as on any mismatch).
- Collection arguments below file level (``path.py::TestX``) are collected at the start, as today.
- Collection errors are reported through pytest's hooks as they happen (walk or expansion).

Needs pytest >= 8 (``nodes.Directory``): pytest 7's Package is a File that collects its
subdirectories, so there is no file boundary to stop at.
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Union

import pytest
from _pytest import nodes

Node = Union[nodes.Item, nodes.Collector]

# pytest options whose collection hook decides over the whole suite, not test by test.
_WHOLE_SUITE_OPTIONS = ("lf", "stepwise", "stepwise_skip", "keepduplicates")


def unsupported_reason(config: pytest.Config) -> Optional[str]:
    """Why this session cannot collect lazily (None: it can)."""
    if not hasattr(nodes, "Directory"):
        return f"pytest {pytest.__version__} has no directory nodes (pytest >= 8 needed)"
    for name in _WHOLE_SUITE_OPTIONS:
        if config.getoption(name, default=False):
            return f"--{name.replace('_', '-')} decides over the whole suite"
    return None


class LazyDuplicate(Exception):
    """Two nodes share an id: tests cannot be found by id, so this session cannot be lazy."""


class LazyCollection:
    """The walk's result, and files expanded on demand. Install before pytest collects."""

    def __init__(self, session: pytest.Session) -> None:
        self.session = session
        # File node id -> its node, in walk order (expanded or not).
        self.files: Dict[str, nodes.Collector] = {}
        # File node id -> the ids its expansion collected (after pytest_collection_modifyitems).
        self.expanded: Dict[str, List[str]] = {}
        self._items: Dict[str, nodes.Item] = {}
        # Items collected at the start: arguments below file level (path.py::TestX).
        self.eager: List[nodes.Item] = []
        self._genitems = session.genitems

    # -- the walk ------------------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> Iterator[None]:
        # pytest's own perform_collect runs (argument resolution, --pyargs, initial paths, the
        # not-found errors, modifyitems and collection_finish over the eager items); only its
        # descent stops at files. An instance attribute shadows Session.genitems meanwhile.
        session.genitems = self._walk  # type: ignore[method-assign]
        try:
            yield
        finally:
            del session.genitems
        # What pytest_collection_modifyitems left of the eager items.
        self.eager = list(session.items)
        for item in self.eager:
            self._add(item)

    def _walk(self, node: Node) -> Iterator[nodes.Item]:
        if isinstance(node, nodes.File):
            if node.nodeid in self.files:
                raise LazyDuplicate(f"file {node.nodeid!r} collected twice")
            self.files[node.nodeid] = node
            return
        if not isinstance(node, nodes.Directory):
            # An item or a class named on the command line: collected now, as pytest would.
            yield from self._genitems(node)
            return
        # Session.genitems for a directory, without expanding the files under it.
        rep, duplicate = self.session._collect_one_node(node, True)
        if rep.passed:
            for subnode in rep.result:
                yield from self._walk(subnode)
        if not duplicate:
            node.ihook.pytest_collectreport(report=rep)

    # -- on demand -----------------------------------------------------------------------------

    def item(self, test_id: str) -> Optional[nodes.Item]:
        """The item of ``test_id``, its file expanded first if needed (None: not collected here)."""
        found = self._items.get(test_id)
        if found is not None:
            return found
        self.expand(file_id(test_id))
        return self._items.get(test_id)

    def expand(self, file: str) -> Optional[List[str]]:
        """Imports and collects one file (once); returns its ids, None for a file not walked."""
        if file in self.expanded:
            return self.expanded[file]
        node = self.files.get(file)
        if node is None:
            return None
        session = self.session
        items = list(self._genitems(node))
        session.config.hook.pytest_collection_modifyitems(session=session, config=session.config, items=items)
        ids = [item.nodeid for item in items]
        self.expanded[file] = ids
        for item in items:
            self._add(item)
        session.testscollected += len(items)
        return ids

    def ids_of(self, file: str) -> Optional[List[str]]:
        """The ids this worker collected for ``file``, once expanded (None before)."""
        return self.expanded.get(file)

    def _add(self, item: nodes.Item) -> None:
        if item.nodeid in self._items and self._items[item.nodeid] is not item:
            raise LazyDuplicate(f"test id {item.nodeid!r} collected twice")
        self._items[item.nodeid] = item


def file_id(test_id: str) -> str:
    """The node id of a test's file: what the supervisor calls the test's scope."""
    return test_id.split("::", 1)[0]
