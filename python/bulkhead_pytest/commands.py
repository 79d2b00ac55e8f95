"""The worker's command reader: a thread that reads the supervisor's commands from the channel,
each one validated by protocol.py, and hands them to the run queue, the thread caps and the locks.

A command it cannot read (not JSON, an unknown type, a field of the wrong type, a test index past
the collection) ends the reading: the worker says so in a ``protocol_error`` message and ends its
session in order (the running test finishes, nothing more starts, a test waiting for a lock gets a
LockError), rather than guess what was meant. The supervisor takes that message for a protocol
violation and ends the worker. A channel that breaks ends the session the same way, told as an
``internal_error``.
"""
from __future__ import annotations

import os
import threading
from typing import Callable, Optional

from .channel import Channel
from .locks import LockClient
from .processes import SUPERVISOR_GONE_EXIT, kill_descendants
from .protocol import Message, ProtocolError, message, parse_command, protocol_error
from .run_queue import RunQueue
from .thread_caps import ThreadCaps


class CommandReader:
    def __init__(self, channel: Channel, queue: RunQueue, thread_caps: ThreadCaps, locks: LockClient,
                 collected: Callable[[], Optional[int]]) -> None:
        self._channel = channel
        self._queue = queue
        self._thread_caps = thread_caps
        self._locks = locks
        # How many tests were collected, once the collection was reported (None before).
        self._collected = collected

    def start(self) -> threading.Thread:
        reader = threading.Thread(target=self._read, name="bulkhead-commands", daemon=True)
        reader.start()
        return reader

    def _read(self) -> None:
        why = "the supervisor closed the channel"
        line = b""
        try:
            for line in self._channel.lines():
                command = parse_command(line)
                self._check_indices(command)
                self._obey(command)
            # The end of the commands: the supervisor is gone (it closes the channel only once
            # this process has exited), killed or OOM-killed. Nobody is left to take a result, so
            # the running test is not waited for: what the tests started dies now, then this
            # worker. (Should the main thread hold the GIL in C, this thread never gets here: the
            # kernel's PR_SET_PDEATHSIG and the run's reaper see to it.)
            kill_descendants(os.getpid())
            os._exit(SUPERVISOR_GONE_EXIT)
        except ProtocolError as error:
            why = f"the worker stopped reading commands ({error})"
            self._tell(protocol_error(error, line))
        except Exception as exc:  # a broken channel: end the session rather than hang
            why = f"the command channel failed ({exc!r})"
            self._tell(message("internal_error", text=f"command channel failed: {exc!r}"))
        # No more work can come, and no grant: what waits for a lock fails, the session ends.
        self._locks.close(why)
        self._queue.stop()

    def _check_indices(self, command: Message) -> None:
        count = self._collected()
        if command["type"] != "run" or count is None:
            return
        for position, index in enumerate(command["indices"]):
            if index >= count:
                raise ProtocolError(f"indices.{position}", f"test index {index} is past the collection ({count} tests)")

    def _obey(self, command: Message) -> None:
        kind = command["type"]
        if kind == "run":
            self._thread_caps.expect(command.get("threads", {}))
            self._queue.add(command["indices"])
        elif kind == "steal":
            self._channel.send(message("stolen", indices=self._queue.steal(command["indices"])))
        elif kind == "finish":
            self._queue.finish()
        elif kind == "flush":
            self._queue.flush()
        elif kind == "stop":
            self._channel.send(message("stolen", indices=self._queue.stop()))
        elif kind == "lock_granted":
            self._locks.granted(command["token"], command["waitedSeconds"])
        else:  # protocol.COMMANDS names every kind above; a new one must be obeyed here
            raise ProtocolError("type", f"the worker does not obey {kind!r} commands")

    def _tell(self, what: Message) -> None:
        try:
            self._channel.send(what)
        except OSError:
            pass  # the supervisor is gone: nobody to tell
