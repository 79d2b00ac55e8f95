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


EXIT_CONFTEST = """
import atexit, os, weakref
HERE = os.path.dirname(__file__)

def mark(name):
    open(os.path.join(HERE, name), "w").close()

# A module-level file that is never closed: its buffer is written when the module is cleared.
LOG = open(os.path.join(HERE, "log.txt"), "w")
LOG.write("buffered, never flushed by hand")

class Anchor:
    pass

ANCHOR = Anchor()
weakref.finalize(ANCHOR, mark, "finalize-ran")

class Cycle:
    def __init__(self):
        self.me = self
    def __del__(self):
        mark("cycle-finalized")

def pytest_sessionfinish(session):
    atexit.register(mark, "atexit-ran")
    # Garbage in a cycle, made by an exit handler: only a collection at shutdown finds it.
    atexit.register(Cycle)
"""


def test_the_worker_exit_runs_exit_handlers_and_flushes_files_but_leaves_cycles_to_the_kernel(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(EXIT_CONFTEST)
    pytester.makepyfile(test_one="def test_one(): pass")

    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    assert plain.returncode == 0, plain.stdout
    made = {name for name in ("atexit-ran", "finalize-ran", "cycle-finalized") if (pytester.path / name).exists()}
    assert made == {"atexit-ran", "finalize-ran", "cycle-finalized"}
    assert (pytester.path / "log.txt").read_text() == "buffered, never flushed by hand"
    for name in made | {"log.txt"}:
        (pytester.path / name).unlink()

    run_worker(pytester.path, ["-p", "no:cacheprovider"])
    # Every exit handler ran (the tests', weakref.finalize's), and the module's file was written...
    assert (pytester.path / "atexit-ran").exists()
    assert (pytester.path / "finalize-ran").exists()
    assert (pytester.path / "log.txt").read_text() == "buffered, never flushed by hand"
    # ...but the collection Python runs while it shuts down was skipped: cycles are the kernel's.
    assert not (pytester.path / "cycle-finalized").exists()
