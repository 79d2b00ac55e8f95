"""A thread that tells the supervisor every second that this worker's interpreter is alive.

It needs the GIL to run, so a test stuck in C code that holds the GIL (catastrophic regex
backtracking, a tight loop in an extension) silences it: that silence is what the supervisor
reports as "unresponsive".
"""
from __future__ import annotations

import threading

from .channel import Channel
from .protocol import message


def start_heartbeat(channel: Channel, interval: float) -> threading.Event:
    stopped = threading.Event()

    def beat() -> None:
        while not stopped.wait(interval):
            try:
                channel.send(message("heartbeat"))
            except OSError:  # the supervisor is gone; nobody to tell
                return

    threading.Thread(target=beat, name="bulkhead-heartbeat", daemon=True).start()
    return stopped
