"""What the ``collected`` message says about each test: its id, where it is defined (locations.py),
its markers and the scheduling settings they carry (markers.py), and its scope."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import pytest

from .locations import Locator
from .markers import bulkhead_marker, xdist_group


def collected_tests(items: Sequence[pytest.Item]) -> List[Dict[str, Any]]:
    locator = Locator()
    tests = []
    for item in items:
        file, line = locator.locate(item)
        tests.append(
            {
                "id": item.nodeid,
                "file": file,
                "line": line,
                "markers": sorted({mark.name for mark in item.iter_markers()}),
                "timeout": _marker_timeout(item),
                "scope": item.nodeid.split("::", 1)[0],
                "bulkheadMarker": bulkhead_marker(item),
                "xdistGroup": xdist_group(item),
            }
        )
    return tests


def _marker_timeout(item: pytest.Item) -> Optional[float]:
    """pytest-timeout's ``@pytest.mark.timeout(N)`` (or ``timeout=N``), honoured by bulkhead."""
    marker = item.get_closest_marker("timeout")
    if marker is None:
        return None
    value = marker.kwargs.get("timeout", marker.args[0] if marker.args else None)
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
