"""What xdist's controller would add to a worker's ``workerinput``, for plugins that expect it.

Under xdist, plugins pass values from the controller to every worker in their
``pytest_configure_node`` hook (``node.workerinput[key] = ...``); their workers then read
``config.workerinput[key]`` and fail with a KeyError where it is missing. bulkhead has no
controller process: the values a controller would draw once for the run come from the supervisor
(the run seed), the rest are what the controller would compute on this same machine.
"""
from __future__ import annotations

from typing import Any, Dict

import pytest


def controller_input(config: pytest.Config, seed: int) -> Dict[str, Any]:
    extra: Dict[str, Any] = {}
    # pytest-randomly: its workers take this seed when --randomly-seed is left at "default"; a
    # number or "last" given by the user is read by each worker itself.
    randomly = getattr(config.option, "randomly_seed", None)
    extra["randomly_seed"] = randomly if isinstance(randomly, int) else seed
    # pytest-random-order: its workers always read this (unenabled, it stays a "default:" value,
    # drawn as its own default is, from 1 to 1000000).
    order = getattr(config.option, "random_order_seed", None)
    given = isinstance(order, str) and not order.startswith("default:")
    extra["random_order_seed"] = order if given else f"default:{seed % 1000000 + 1}"
    # pytest-cov would start an xdist worker's controller on seeing `workerinput` and read its
    # controller's `cov_master_*` keys: bulkhead's coverage worker (coverage_worker.py on main)
    # tells pytest-cov it is not an xdist worker, so none are needed here.
    return extra
