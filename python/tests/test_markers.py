"""Scheduling markers in the collection: ``bulkhead(...)`` as JSON, ``xdist_group``, their registration."""
from __future__ import annotations

import enum
import json
import re
import textwrap
from typing import Any, Callable, Dict

import pytest

from bulkhead_pytest.markers import json_safe
from driver import Message, Worker, plain_pytest

StartWorker = Callable[..., Worker]


class Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "value, sent",
    [
        (None, None),
        (True, True),
        (3, 3),
        (2.5, 2.5),
        ("2G", "2G"),
        ((1, "a"), [1, "a"]),
        ({"gpu": 1, "nested": {"a": [True, None]}}, {"gpu": 1, "nested": {"a": [True, None]}}),
        (Color.RED, 1),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ({1: "a"}, "{1: 'a'}"),
        ({"a", "b"} - {"b"}, "{'a'}"),
        (["gpu", len], "['gpu', <built-in function len>]"),  # the whole value, never half of it
        (b"x", "b'x'"),
    ],
)
def test_json_safe_keeps_json_values_and_sends_the_rest_as_repr(value: Any, sent: Any) -> None:
    assert json_safe(value) == sent
    json.loads(json.dumps(json_safe(value), allow_nan=False))


MARKED = """
    import pytest

    pytestmark = pytest.mark.bulkhead(cpus=1)

    def test_module_level():
        pass

    @pytest.mark.bulkhead(cpus=4, memory="2G", resources={"gpu": 1}, exclusive=True, retries=0)
    def test_own_wins():
        pass

    @pytest.mark.bulkhead("exclusive", cpus=2)
    def test_positional():
        pass

    @pytest.mark.bulkhead(timeout=lambda: 1, memory=object, cpus=float("nan"))
    def test_not_json():
        pass

    @pytest.mark.bulkhead(resources=("gpu", "disk"))
    class TestClass:
        def test_method(self):
            pass

    @pytest.mark.xdist_group("models")
    def test_group_positional():
        pass

    @pytest.mark.xdist_group(name="db")
    def test_group_keyword():
        pass

    @pytest.mark.xdist_group(7)
    def test_group_not_a_string():
        pass
"""


def collected_by_name(w: Worker) -> Dict[str, Message]:
    collected = w.read_until("collected")[-1]
    assert collected["errors"] == 0, w.messages
    return {t["id"].split("::")[-1]: t for t in collected["tests"]}


def test_collected_tests_carry_their_bulkhead_marker_and_xdist_group(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(test_marked=textwrap.dedent(MARKED))
    tests = collected_by_name(worker("--strict-markers"))
    markers = {name: t["bulkheadMarker"] for name, t in tests.items()}
    assert markers["test_module_level"] == {"cpus": 1}
    assert markers["test_own_wins"] == {"cpus": 4, "memory": "2G", "resources": {"gpu": 1}, "exclusive": True, "retries": 0}
    assert markers["test_positional"] == {"__args__": ["exclusive"], "cpus": 2}
    not_json = markers["test_not_json"]
    assert not_json["timeout"].startswith("<function <lambda> at 0x")
    assert not_json["memory"] == "<class 'object'>"
    assert not_json["cpus"] == "nan"
    assert markers["test_method"] == {"resources": ["gpu", "disk"]}  # the class's, closer than the module's
    assert markers["test_group_positional"] == {"cpus": 1}
    groups = {name: t["xdistGroup"] for name, t in tests.items()}
    assert groups == {
        "test_module_level": None,
        "test_own_wins": None,
        "test_positional": None,
        "test_not_json": None,
        "test_method": None,
        "test_group_positional": "models",
        "test_group_keyword": "db",
        "test_group_not_a_string": "7",
    }
    assert "bulkhead" in tests["test_own_wins"]["markers"]
    assert "xdist_group" in tests["test_group_keyword"]["markers"]


def test_unmarked_tests_have_neither(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile("def test_plain(): pass")
    (test,) = collected_by_name(worker()).values()
    assert (test["bulkheadMarker"], test["xdistGroup"]) == (None, None)


def test_strict_markers_suites_pass_under_plain_pytest_with_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=textwrap.dedent(MARKED))
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider", "--strict-markers"])
    assert plain.returncode == 0, plain.stdout
    assert "8 passed" in plain.stdout


def test_markers_are_declared_once(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "bulkhead_pytest.plugin", "--markers")
    for name in ("bulkhead", "xdist_group"):
        lines = [line for line in result.stdout.lines if re.match(rf"@pytest\.mark\.{name}\b", line)]
        assert len(lines) == 1, result.stdout.lines


def test_a_suite_that_declares_xdist_group_itself_keeps_its_own_line(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    xdist_group(name): our own words\n")
    result = pytester.runpytest("-p", "bulkhead_pytest.plugin", "--markers")
    lines = [line for line in result.stdout.lines if line.startswith("@pytest.mark.xdist_group")]
    assert "@pytest.mark.xdist_group(name): our own words" in lines
    assert not [line for line in lines if "bulkhead" in line]  # (pytest-xdist adds its own anyway)
