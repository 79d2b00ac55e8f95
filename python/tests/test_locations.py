"""Locator gives each test's (file, line) exactly as ``item.location`` does, reusing pytest's
answer per source file for plain test functions, and asking pytest for everything else. Checked
on a project of many kinds of tests, item by item, against a fresh ``item.location``.
"""
from __future__ import annotations

import pytest

from bulkhead_pytest.locations import Locator

PROJECT = {
    "helpers.py": """
import functools

def wrapping(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper

def hiding(fn):
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper

def test_shared():
    pass
""",
    "test_kinds.py": """
import unittest
import pytest
from helpers import hiding, wrapping, test_shared


def test_plain():
    pass


@pytest.mark.parametrize("n", [1, 2, 3])
def test_params(n):
    pass


@wrapping
def test_wrapped():
    pass


@hiding
def test_hidden():
    pass


class TestClass:
    def test_method(self):
        pass

    @staticmethod
    def test_static():
        pass

    class TestInner:
        def test_inner(self):
            pass


class TestCase(unittest.TestCase):
    def test_unittest(self):
        pass


def test_doctest_host():
    '''
    >>> 1 + 1
    2
    '''
""",
    "sub/test_deeper.py": """
def test_one():
    pass

def test_two():
    pass
""",
}


def test_every_item_located_as_pytest_locates_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(**PROJECT)
    pytester.syspathinsert()
    items, _ = pytester.inline_genitems("--doctest-modules", "-p", "no:cacheprovider")
    assert len(items) >= 14
    locator = Locator()
    located = [(item.nodeid, locator.locate(item)) for item in items]
    expected = [(item.nodeid, (str(item.location[0]), item.location[1])) for item in items]
    assert located == expected
    by_id = dict(located)
    # The function defined elsewhere, and the wrapper that hides its test, are where their code is.
    assert by_id["test_kinds.py::test_shared"][0] == "helpers.py"
    assert by_id["test_kinds.py::test_hidden"][0] == "helpers.py"
    assert by_id["test_kinds.py::test_wrapped"][0] == "test_kinds.py"
    # pytest was asked once per source file (and for the doctest and unittest items); the rest reused.
    assert locator.reused >= 8


def test_a_suite_of_plain_functions_asks_pytest_once_per_file(pytester: pytest.Pytester) -> None:
    for module in range(3):
        pytester.makepyfile(**{f"test_m{module}": "\n".join(f"def test_{n}(): pass" for n in range(20))})
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider")
    locator = Locator()
    located = [locator.locate(item) for item in items]
    assert locator.reused == 60 - 3
    assert located == [(str(item.location[0]), item.location[1]) for item in items]
