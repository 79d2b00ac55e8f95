"""The worker protocol's contract, worker side: the sample lines in
test/fixtures/protocol-samples.json, which test/adapters/pytest/contract.test.ts checks against the
supervisor's zod schemas. protocol.py must define every message and command type the samples
have (and no other), read each sample as the sample says (defaults filled, unknown fields
dropped), build each message with ``message`` as the sample writes it, and reject the invalid
lines at the same place as the supervisor's side does.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from bulkhead_pytest import PROTOCOL_VERSION
from bulkhead_pytest.protocol import COMMANDS, MESSAGES, ProtocolError, message, parse_command, parse_message, validate_message

SAMPLES: Dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "test" / "fixtures" / "protocol-samples.json").read_text("utf-8")
)


def named(kind: str):
    return pytest.mark.parametrize("sample", SAMPLES[kind], ids=[sample["name"] for sample in SAMPLES[kind]])


def test_the_samples_are_of_this_protocol_version() -> None:
    assert SAMPLES["protocol"] == PROTOCOL_VERSION


def test_every_message_and_command_type_has_a_sample() -> None:
    assert {sample["message"]["type"] for sample in SAMPLES["messages"]} == set(MESSAGES.variants)
    assert {sample["command"]["type"] for sample in SAMPLES["commands"]} == set(COMMANDS.variants)


@named("messages")
def test_a_sample_message_reads_as_the_sample_says(sample: Dict[str, Any]) -> None:
    expected = sample.get("normalized", sample["message"])
    assert validate_message(sample["message"]) == expected
    # As a line, too (json.dumps keeps 3.0 a float: the integer check takes it as 3).
    assert parse_message(json.dumps(sample["message"]).encode()) == expected


@named("messages")
def test_message_builds_the_sample_message(sample: Dict[str, Any]) -> None:
    fields = {name: value for name, value in sample["message"].items() if name != "type"}
    known = MESSAGES.variants[sample["message"]["type"]].fields
    # A worker never sends a field the protocol does not know: those samples are of other senders.
    if set(fields) <= set(known):
        assert message(sample["message"]["type"], **fields) == sample["message"]


def test_message_refuses_a_wrong_name() -> None:
    with pytest.raises(ProtocolError, match="no message 'hullo'"):
        message("hullo", pid=1)
    with pytest.raises(ProtocolError, match=r"missing fields \['id'\]"):
        message("started")
    with pytest.raises(ProtocolError, match=r"unknown fields \['nodeid'\]"):
        message("started", id="t", nodeid="t")


@named("commands")
def test_a_sample_command_reads_as_the_sample_says(sample: Dict[str, Any]) -> None:
    expected = sample.get("normalized", sample["command"])
    line = json.dumps(sample["command"]).encode()
    assert parse_command(line) == expected
    assert parse_command(line.decode()) == expected


@named("invalidMessages")
def test_an_invalid_message_is_rejected_where_the_sample_says(sample: Dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as raised:
        parse_message(sample["line"].encode())
    assert raised.value.path == sample["path"], str(raised.value)


@named("invalidCommands")
def test_an_invalid_command_is_rejected_where_the_sample_says(sample: Dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as raised:
        parse_command(sample["line"].encode())
    assert raised.value.path == sample["path"], str(raised.value)
    # The error names the place and the problem: it is what the supervisor is told.
    assert str(raised.value).startswith(f"{sample['path'] or '(message)'}: ")


def test_a_command_that_is_not_utf8_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="not UTF-8"):
        parse_command(b'{"type":"run","indices":[0]}\xff')
