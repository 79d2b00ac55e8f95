"""pytest-xdist's ``worker_id`` and ``testrun_uid`` fixtures, for bulkhead workers where xdist is
not installed (with xdist, its own fixtures read the same ``config.workerinput``)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """This worker's id, ``gw0``, ``gw1``, ... (``master`` outside a worker, as xdist says)."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput is not None else "master"


@pytest.fixture(scope="session")
def testrun_uid(request: pytest.FixtureRequest) -> str:
    """The id of this run, the same in every worker."""
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput is not None:
        return workerinput["testrunuid"]
    import uuid

    return uuid.uuid4().hex
