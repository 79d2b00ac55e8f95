"""The scheduling markers of a collected test, as plain JSON for the supervisor.

``@pytest.mark.bulkhead(...)`` carries a test's own scheduling settings and
``@pytest.mark.xdist_group(name)`` pytest-xdist's grouping, which bulkhead honours. Nothing is
validated here: the supervisor checks keys and values and names the test in its message. A value
that JSON cannot carry is sent as its ``repr`` so that the check sees (and shows) something
invalid instead of a value silently changed into a valid one.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional

import pytest

MARKER_NAME = "bulkhead"
XDIST_GROUP_MARKER = "xdist_group"
POSITIONAL_KEY = "__args__"

_MARKER_LINES = {
    MARKER_NAME: "bulkhead(**settings): this test's scheduling settings when it runs under bulkhead "
    "(timeout, memory, cpus, resources, group, exclusive, retries); ignored by plain pytest",
    XDIST_GROUP_MARKER: "xdist_group(name): tests of one group run in one worker, one after another "
    "(pytest-xdist's --dist loadgroup; bulkhead honours it)",
}


def register_markers(config: pytest.Config) -> None:
    """Declares our markers, so that suites run with ``--strict-markers`` accept them."""
    declared = {_marker_name(line) for line in config.getini("markers")}
    if config.pluginmanager.has_plugin("xdist"):
        declared.add(XDIST_GROUP_MARKER)  # pytest-xdist declares it (whenever, in its own configure)
    for name, line in _MARKER_LINES.items():
        if name not in declared:
            config.addinivalue_line("markers", line)


def bulkhead_marker(item: pytest.Item) -> Optional[Dict[str, Any]]:
    """The closest ``bulkhead`` marker's keyword arguments; positional ones under ``__args__``."""
    marker = item.get_closest_marker(MARKER_NAME)
    if marker is None:
        return None
    settings: Dict[str, Any] = {}
    if marker.args:
        settings[POSITIONAL_KEY] = json_safe(list(marker.args))
    for key, value in marker.kwargs.items():
        settings[str(key)] = json_safe(value)
    return settings


def xdist_group(item: pytest.Item) -> Optional[str]:
    """The group name as pytest-xdist reads it: first positional argument, else ``name``."""
    marker = item.get_closest_marker(XDIST_GROUP_MARKER)
    if marker is None:
        return None
    name = marker.args[0] if marker.args else marker.kwargs.get("name", "default")
    return str(name)


def json_safe(value: Any) -> Any:
    """``value`` itself if JSON represents it exactly, else its ``repr``.

    The whole value is replaced, not just the part JSON cannot carry: ``["gpu", some_function]``
    must reach the supervisor as one invalid string, never as a valid-looking list of two names.
    """
    return _copy_if_representable(value) if _representable(value) else repr(value)


def _representable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)  # NaN and infinities are not JSON, whatever json.dumps says
    if isinstance(value, (list, tuple)):
        return all(_representable(element) for element in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _representable(element) for key, element in value.items())
    return False


def _copy_if_representable(value: Any) -> Any:
    # Plain copies: tuples become lists, and subclasses (an IntEnum, a str subclass) their base.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_copy_if_representable(element) for element in value]
    return {str(key): _copy_if_representable(element) for key, element in value.items()}


def _marker_name(line: str) -> str:
    return line.split(":", 1)[0].split("(", 1)[0].strip()
