"""Each collected test's file and line, exactly as pytest's ``item.location`` gives them, at a
fraction of its cost.

Every worker reports the whole suite's locations before its first test, and ``item.location``
costs about 64 µs a test (``reportinfo`` twice, a stat, path arithmetic): 0.64 s of every
worker's start with 10,000 tests. For a plain test function its file depends only on its code's
``co_filename`` and its line is ``co_firstlineno - 1`` (pytest's ``getfslineno``), so pytest's own
answer for the first test of each file is kept and reused for the others. Anything else (another
item type, a ``reportinfo`` or ``location`` of its own, ``place_as``, nose's
``compat_co_firstlineno``) asks pytest every time.
"""
from __future__ import annotations

import types
from typing import Dict, Optional, Tuple

import pytest
from _pytest.compat import get_real_func
from _pytest.python import PyobjMixin

_REPORTINFO = PyobjMixin.reportinfo
_LOCATION = pytest.Item.__dict__.get("location")


class Locator:
    def __init__(self) -> None:
        # co_filename -> the file pytest reported for a test whose code came from it.
        self._files: Dict[str, str] = {}
        self.reused = 0

    def locate(self, item: pytest.Item) -> Tuple[str, Optional[int]]:
        code = _plain_code(item)
        if code is not None:
            file = self._files.get(code.co_filename)
            if file is not None:
                self.reused += 1
                return file, code.co_firstlineno - 1
        file, line, _domain = item.location
        file = str(file)
        if code is not None and line == code.co_firstlineno - 1:
            self._files[code.co_filename] = file
        return file, line


def _plain_code(item: pytest.Item) -> Optional[types.CodeType]:
    """The code pytest's ``getfslineno`` would read the location from; None: ask pytest."""
    cls = type(item)
    if _LOCATION is None or getattr(cls, "reportinfo", None) is not _REPORTINFO or getattr(cls, "location", None) is not _LOCATION:
        return None
    try:
        obj = item.obj  # type: ignore[attr-defined]
        if getattr(obj, "compat_co_firstlineno", None) is not None:
            return None
        real = get_real_func(obj)
        if hasattr(real, "place_as"):
            return None
        code = getattr(real, "__code__", None)
    except Exception:
        return None
    return code if isinstance(code, types.CodeType) else None
