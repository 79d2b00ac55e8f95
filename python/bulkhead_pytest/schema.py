"""The shapes of JSON values, for protocol.py's message and command definitions.

Each shape checks a value the way the zod schema it mirrors does on the supervisor's side
(src/adapters/pytest/protocol.ts), including where plain Python would differ: an integer is a
safe integer (JavaScript's numbers hold no more), a number is finite (JSON.parse gives Infinity
for 1e400 and zod refuses it), a bool is not a number, an object's unknown keys are dropped, and
an absent field with a default gets it. ``check`` returns the value as zod would parse it, or
raises ProtocolError with the path of the first bad field (``report.skip.line``, ``indices.1``).
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Mapping, Optional as Opt

MAX_SAFE_INTEGER = 2**53 - 1


class ProtocolError(ValueError):
    """A message or command that breaks the protocol: where (a dotted path) and what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or '(message)'}: {problem}")
        self.path = path
        self.problem = problem


def _at(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:40] + "..."
        return f"the string {text!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Shape:
    def check(self, value: Any, path: str = "") -> Any:
        raise NotImplementedError


class Str(Shape):
    def __init__(self, min_length: int = 0, pattern: Opt[str] = None) -> None:
        self.min_length = min_length
        self.pattern = re.compile(pattern) if pattern is not None else None

    def check(self, value: Any, path: str = "") -> Any:
        if not isinstance(value, str):
            raise ProtocolError(path, f"expected a string, got {_got(value)}")
        if len(value) < self.min_length:
            raise ProtocolError(path, f"expected a string of at least {self.min_length} character(s)")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise ProtocolError(path, f"expected a string matching {self.pattern.pattern}, got {_got(value)}")
        return value


def _number(value: Any, path: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(path, f"expected {what}, got {_got(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError(path, f"expected {what}, got {value!r}")
    return value


class Num(Shape):
    def __init__(self, minimum: Opt[float] = None) -> None:
        self.minimum = minimum

    def check(self, value: Any, path: str = "") -> Any:
        number = _number(value, path, "a number")
        if self.minimum is not None and number < self.minimum:
            raise ProtocolError(path, f"expected a number >= {self.minimum}, got {number!r}")
        return value


class Int(Shape):
    def __init__(self, minimum: Opt[int] = None) -> None:
        self.minimum = minimum

    def check(self, value: Any, path: str = "") -> Any:
        number = _number(value, path, "an integer")
        if isinstance(number, float):
            if not number.is_integer():
                raise ProtocolError(path, f"expected an integer, got {number!r}")
            number = int(number)  # JSON's 1.0 is JavaScript's 1
        if abs(number) > MAX_SAFE_INTEGER:
            raise ProtocolError(path, f"expected a safe integer (at most 2**53 - 1 in size), got {number}")
        if self.minimum is not None and number < self.minimum:
            raise ProtocolError(path, f"expected an integer >= {self.minimum}, got {number}")
        return number


class Bool(Shape):
    def check(self, value: Any, path: str = "") -> Any:
        if not isinstance(value, bool):
            raise ProtocolError(path, f"expected a boolean, got {_got(value)}")
        return value


class OneOf(Shape):
    def __init__(self, *values: str) -> None:
        self.values = values

    def check(self, value: Any, path: str = "") -> Any:
        if value not in self.values or not isinstance(value, str):
            raise ProtocolError(path, f"expected one of {', '.join(map(repr, self.values))}, got {_got(value)}")
        return value


class Nullable(Shape):
    def __init__(self, inner: Shape) -> None:
        self.inner = inner

    def check(self, value: Any, path: str = "") -> Any:
        return None if value is None else self.inner.check(value, path)


class ListOf(Shape):
    def __init__(self, item: Shape) -> None:
        self.item = item

    def check(self, value: Any, path: str = "") -> Any:
        if not isinstance(value, list):
            raise ProtocolError(path, f"expected an array, got {_got(value)}")
        return [self.item.check(item, _at(path, i)) for i, item in enumerate(value)]


class TupleOf(Shape):
    def __init__(self, *items: Shape) -> None:
        self.items = items

    def check(self, value: Any, path: str = "") -> Any:
        if not isinstance(value, list) or len(value) != len(self.items):
            raise ProtocolError(path, f"expected an array of {len(self.items)} items, got {_got(value)}")
        return [shape.check(item, _at(path, i)) for i, (shape, item) in enumerate(zip(self.items, value))]


class MapOf(Shape):
    """A JSON object used as a map (zod's record): every key and every value checked."""

    def __init__(self, key: Str, value: Shape) -> None:
        self.key = key
        self.value = value

    def check(self, value: Any, path: str = "") -> Any:
        if not isinstance(value, dict):
            raise ProtocolError(path, f"expected an object, got {_got(value)}")
        out = {}
        for key, item in value.items():
            self.key.check(key, _at(path, key))
            out[key] = self.value.check(item, _at(path, key))
        return out


class AnyJson(Shape):
    def check(self, value: Any, path: str = "") -> Any:
        return value


class Default:
    """A field that may be absent, and then has this value (zod's ``.default(...)``)."""

    def __init__(self, shape: Shape, value: Any) -> None:
        self.shape = shape
        self.value = value


class Optional:
    """A field that may be absent, and then stays absent (zod's ``.optional()``)."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape


Field = Any  # a Shape, a Default or an Optional


class Obj(Shape):
    """A JSON object with these fields, in this order; other keys are dropped (as zod does)."""

    def __init__(self, **fields: Field) -> None:
        self.fields: Dict[str, Field] = fields

    def required(self) -> List[str]:
        return [name for name, field in self.fields.items() if isinstance(field, Shape)]

    def check(self, value: Any, path: str = "") -> Any:
        if not isinstance(value, dict):
            raise ProtocolError(path, f"expected an object, got {_got(value)}")
        out: Dict[str, Any] = {}
        for name, field in self.fields.items():
            if name not in value:
                if isinstance(field, Default):
                    out[name] = _copy(field.value)
                    continue
                if isinstance(field, Optional):
                    continue
                raise ProtocolError(_at(path, name), "missing")
            shape = field.shape if isinstance(field, (Default, Optional)) else field
            out[name] = shape.check(value[name], _at(path, name))
        return out


class Tagged(Shape):
    """Objects told apart by their ``type`` field (zod's discriminated union)."""

    def __init__(self, variants: Mapping[str, Obj]) -> None:
        self.variants = dict(variants)

    def check(self, value: Any, path: str = "") -> Any:
        if not isinstance(value, dict):
            raise ProtocolError(path, f"expected an object, got {_got(value)}")
        kind = value.get("type")
        variant = self.variants.get(kind) if isinstance(kind, str) else None
        if variant is None:
            if "type" not in value:
                problem = "missing"
            elif isinstance(kind, str):
                problem = f"unknown type {kind!r}"
            else:
                problem = f"expected a string, got {_got(kind)}"
            raise ProtocolError(_at(path, "type"), f"{problem}; expected one of: {', '.join(self.variants)}")
        return {"type": kind, **variant.check(value, path)}


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value

