"""The worker protocol on the worker's side, in one place: every message a worker sends and every
command it accepts, with their fields and types, and the protocol version.

Messages and commands are newline-delimited JSON objects with a ``type`` field, on the channel
(channel.py). The supervisor's side is src/adapters/pytest/protocol.ts (zod schemas of the same
shapes); test/fixtures/protocol-samples.json holds samples both sides must accept and reject
alike (python/tests/test_protocol_contract.py, test/adapters/pytest/contract.test.ts).

Commands are validated here as they are read: a command that is not JSON, of an unknown type or
with a field of the wrong type is a ``ProtocolError``, which the worker reports as a
``protocol_error`` message before it ends (commands.py). Messages are built with ``message``,
which checks their field names; their values are checked in the plugin's own tests, where every
message a real worker sends is validated (python/tests/driver.py).
"""
from __future__ import annotations

import json
from typing import Any, Dict, Union

from .schema import (AnyJson, Bool, Default, Int, ListOf, MapOf, Nullable, Num, Obj, OneOf, Optional,
                     ProtocolError, Str, Tagged, TupleOf)

PROTOCOL_VERSION = 1

Message = Dict[str, Any]

# -- the parts of messages -------------------------------------------------------------------------

PAIR = TupleOf(Str(), Str())

# A skip as pytest's (path, line, reason) triple, and where its short summary folds it.
SKIP_INFO = Obj(path=Str(), line=Nullable(Int()), reason=Str(), foldPath=Str(), foldLine=Nullable(Int()))

# JUnit as pytest's junitxml rendered it (junit.py; src/model/junit.ts).
JUNIT_FRAGMENT = Obj(
    cases=ListOf(Str()),
    open=Nullable(Obj(attrs=ListOf(PAIR), time=Num(), children=Str())),
    stats=Obj(passed=Int(), failure=Int(), error=Int(), skipped=Int()),
    doubleFail=Int(),
    suiteProperties=ListOf(PAIR),
)
JUNIT_COLLECT_CASE = Obj(xml=Str(), order=Int())
JUNIT_SESSION = Obj(
    xmlpath=Nullable(Str()),
    prefix=Nullable(Str()),
    family=Str(),
    envelope=Obj(declaration=Str(), testsuites=ListOf(PAIR), testsuite=ListOf(PAIR)),
)

COVERAGE_SESSION = Obj(options=MapOf(Str(), AnyJson()), topdir=Str())

# One phase report, rendered with pytest's own code (render.py).
PHASE_REPORT = Obj(
    testId=Str(),
    when=OneOf("setup", "call", "teardown"),
    outcome=OneOf("passed", "failed", "skipped"),
    category=Str(),
    letter=Str(),
    word=Str(),
    duration=Num(),
    longrepr=Str(),
    longreprTerminal=Str(),
    crashMessage=Nullable(Str()),
    skip=Nullable(SKIP_INFO),
    wasxfail=Nullable(Str()),
    headLine=Str(),
    sections=ListOf(PAIR),
    userProperties=ListOf(PAIR),
    summaryLine=Str(),
    location=Obj(file=Str(), line=Nullable(Int()), domain=Str()),
    junit=Default(Nullable(JUNIT_FRAGMENT), None),
)

COLLECT_ERROR = Obj(
    nodeid=Str(),
    summaryLine=Str(),
    longrepr=Str(),
    longreprTerminal=Str(),
    crashMessage=Nullable(Str()),
    junit=Default(Nullable(JUNIT_COLLECT_CASE), None),
)

COLLECT_SKIP = Obj(nodeid=Str(), longrepr=Str(), skip=SKIP_INFO, junit=Default(Nullable(JUNIT_COLLECT_CASE), None))

COLLECTED_TEST = Obj(
    id=Str(),
    file=Str(),
    line=Nullable(Int()),
    markers=ListOf(Str()),
    scope=Str(),
    timeout=Nullable(Num()),
    bulkheadMarker=Default(Nullable(MapOf(Str(), AnyJson())), None),
    xdistGroup=Default(Nullable(Str()), None),
)

LEAKED_PROCESS = Obj(pid=Int(), cmd=Str(), startTime=Int())

# One lock a test took, and how long it waited for it.
LOCK_ACQUISITION = Obj(name=Str(), waitedSeconds=Num(minimum=0))

TEST_MEMORY = Obj(baselineBytes=Num(), peakBytes=Num(), residentBytes=Default(Nullable(Num()), None))

WARNING = Obj(
    message=Str(), location=Str(), category=Str(), filename=Str(), lineno=Int(), nodeid=Str(), when=Str()
)

# -- what a worker sends -------------------------------------------------------------------------

MESSAGES = Tagged({
    "hello": Obj(protocol=Int(), pid=Int(), python=Str(), pytest=Str()),
    "session": Obj(
        rootdir=Str(),
        headerLines=ListOf(Str()),
        verbosity=Int(),
        color=Bool(),
        reportChars=Str(),
        durations=Nullable(Int()),
        durationsMin=Nullable(Num()),
        tbStyle=Str(),
        showCapture=Str(),
        maxfail=Int(),
        continueOnCollectionErrors=Bool(),
        xdistRequested=Nullable(Str()),
        iniTimeout=Nullable(Num()),
        pythonVersion=Str(),
        pytestVersion=Str(),
        junit=Default(Nullable(JUNIT_SESSION), None),
        coverage=Default(Nullable(COVERAGE_SESSION), None),
    ),
    "collect_error": Obj(report=COLLECT_ERROR),
    "collect_skip": Obj(report=COLLECT_SKIP),
    # Set when pytest ended the session during collection (e.g. 4: a path that does not exist).
    "collected": Obj(
        tests=ListOf(COLLECTED_TEST), deselected=Int(), errors=Int(), interrupted=Nullable(Str()),
        exitstatus=Nullable(Int()),
    ),
    "started": Obj(id=Str()),
    "report": Obj(report=PHASE_REPORT),
    "finished": Obj(
        id=Str(), leaked=ListOf(LEAKED_PROCESS), memory=Nullable(TEST_MEMORY),
        locks=Default(ListOf(LOCK_ACQUISITION), []),
        # The test's phases that passed with nothing to show, as [when, duration]: their report
        # messages are not sent (render.py, Renderer.plain_phase).
        plain=Default(ListOf(TupleOf(OneOf("setup", "call", "teardown"), Num())), []),
    ),
    "heartbeat": Obj(),
    "warning": Obj(warning=WARNING),
    "stolen": Obj(indices=ListOf(Int())),
    "internal_error": Obj(text=Str()),
    # A command the worker could not read: what was wrong with it (with the path of the bad field).
    "protocol_error": Obj(error=Str(), command=Str()),
    "done": Obj(exitstatus=Int()),
    # Cross-worker locks (locks.py): a test's thread asks, and gives back by token.
    "lock_acquire": Obj(name=Str(min_length=1), permits=Int(minimum=1), token=Str(min_length=1)),
    "lock_release": Obj(token=Str(min_length=1)),
})

# -- what a worker accepts -----------------------------------------------------------------------

# A test's index in the collection, and the same as a JSON object key.
INDEX = Int(minimum=0)
INDEX_KEY = Str(pattern=r"(0|[1-9][0-9]*)")

COMMANDS = Tagged({
    # `threads`: tests (by index) that reserve more than one CPU slot, and how many threads they get.
    "run": Obj(indices=ListOf(INDEX), threads=Optional(MapOf(INDEX_KEY, Int(minimum=1)))),
    "steal": Obj(indices=ListOf(INDEX)),
    # Run what is held, then end the session.
    "finish": Obj(),
    # Run the lone held test without a successor, then wait for more.
    "flush": Obj(),
    # End after the running test; what is held goes back (as `stolen`).
    "stop": Obj(),
    "lock_granted": Obj(token=Str(min_length=1), waitedSeconds=Num(minimum=0)),
})


def message(kind: str, **fields: Any) -> Message:
    """A message to send, its field names checked against the protocol (a mistake is ours: it raises)."""
    shape = MESSAGES.variants.get(kind)
    if shape is None:
        raise ProtocolError("type", f"the protocol has no message {kind!r}")
    missing = [name for name in shape.required() if name not in fields]
    unknown = [name for name in fields if name not in shape.fields]
    if missing or unknown:
        raise ProtocolError(kind, f"missing fields {missing}, unknown fields {unknown}")
    return {"type": kind, **fields}


def validate_message(value: Any) -> Message:
    """A message as the supervisor reads it (defaults filled, unknown keys dropped), or ProtocolError."""
    return MESSAGES.check(value)


def parse_message(line: Union[bytes, str]) -> Message:
    return validate_message(_json(line))


def parse_command(line: Union[bytes, str]) -> Message:
    """One command line, validated: the command as the worker obeys it, or ProtocolError."""
    return COMMANDS.check(_json(line))


def protocol_error(error: ProtocolError, line: Union[bytes, str]) -> Message:
    """What the worker tells the supervisor about a command it could not read."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    text = text.rstrip("\n")
    return message("protocol_error", error=str(error), command=text if len(text) <= 200 else text[:200] + "...")


def _json(line: Union[bytes, str]) -> Any:
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as error:
        raise ProtocolError("", f"not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        # JSON as JavaScript reads it: no NaN or Infinity (Python's json would take them).
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as error:
        raise ProtocolError("", f"not JSON ({error})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
