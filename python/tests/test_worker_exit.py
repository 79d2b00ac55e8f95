"""The worker's way out: after the session, one full garbage collection instead of pytest's five
(pytest >= 8.4 collects five times in a row to catch exceptions raised in finalizers). Counted
with ``gc.callbacks`` by a conftest, in a real worker and in plain pytest on the same project.
"""
from __future__ import annotations

import pytest

from driver import plain_pytest, run_worker

COUNTING_CONFTEST = """
import atexit, gc, os
counted = []
def _count(phase, info):
    if phase == "start" and info["generation"] == 2 and counted:
        counted[0] += 1
def pytest_sessionfinish(session):
    counted.append(0)
gc.callbacks.append(_count)
def _write():
    with open(os.path.join(os.path.dirname(__file__), "collections.txt"), "w") as f:
        f.write(str(counted[0] if counted else -1))
atexit.register(_write)
"""

FINALIZER_RAISES = """
class Cycle:
    def __init__(self):
        self.me = self
    def __del__(self):
        raise RuntimeError("raised in a finalizer")

def test_leaves_garbage():
    Cycle()
"""


def _pytest_collects_at_end() -> bool:
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _pytest_collects_at_end(), reason="this pytest does not collect garbage after the session")
def test_one_full_collection_after_the_session_where_pytest_makes_five(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COUNTING_CONFTEST)
    pytester.makepyfile(test_garbage=FINALIZER_RAISES)

    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    assert plain.returncode == 0, plain.stdout
    assert int((pytester.path / "collections.txt").read_text()) >= 5

    messages = run_worker(pytester.path, ["-p", "no:cacheprovider"])
    finished = [m for m in messages if m["type"] == "finished"]
    assert [m["id"] for m in finished] == ["test_garbage.py::test_leaves_garbage"]
    # One for the end of the session; an automatic one may fall in the same stretch.
    assert 1 <= int((pytester.path / "collections.txt").read_text()) <= 2
