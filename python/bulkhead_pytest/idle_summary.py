"""A worker's terminal summary, without the work nobody sees.

A worker's terminal reporter writes to nowhere (worker.py, ``_discarding_writer``): the run's
summary is the supervisor's, rendered from the messages. What plugins do in their
``pytest_terminal_summary`` still runs, for its side effects (hypothesis writes the patches of its
failing examples there). Hypothesis's plugin imports all of hypothesis in that hook, 0.15-0.2 s,
only to learn that no observation was written: every one of its other hooks first checks
``"hypothesis" in sys.modules``. A session that never imported hypothesis ran no hypothesis test,
so there are no statistics, no failing examples and no observations: its plugin is unregistered
before the summary, and the worker's end, the last thing a run waits for, is that much shorter.
"""
from __future__ import annotations

import sys

import pytest

HYPOTHESIS_PLUGIN = "hypothesispytest"
HYPOTHESIS_MODULE = "_hypothesis_pytestplugin"


def drop_idle_summaries(config: pytest.Config) -> None:
    """Called after the session's tests, before the terminal reporter's summary."""
    if "hypothesis" in sys.modules:
        return
    plugin = config.pluginmanager.get_plugin(HYPOTHESIS_PLUGIN)
    if plugin is not None and getattr(plugin, "__name__", None) == HYPOTHESIS_MODULE:
        config.pluginmanager.unregister(plugin)
