"""A worker given xdist's identity: config.workerinput and workeroutput, the fixtures without
xdist, the seeds plugins expect from a controller, and pytest's own junitxml and cache kept."""
from __future__ import annotations

import importlib.util
import json
import sys
from typing import Dict

import pytest

from driver import of_type, reports
from worker_helpers import StartWorker, xdist_env

IDENTITY = {
    "PYTEST_XDIST_WORKER": "gw3",
    "PYTEST_XDIST_WORKER_COUNT": "4",
    "PYTEST_XDIST_TESTRUNUID": "0123456789abcdef0123456789abcdef",
    "BULKHEAD_RUN_SEED": "2718281828",
}

SEEN = """
import json, os

def test_seen(request, worker_id, testrun_uid):
    config = request.config
    with open("seen.json", "w") as f:
        json.dump({
            "workerinput": {k: v for k, v in config.workerinput.items() if k != "mainargv"},
            "mainargv": config.workerinput["mainargv"],
            "workeroutput": config.workeroutput,
            "worker_id": worker_id,
            "testrun_uid": testrun_uid,
            "env": {k: v for k, v in os.environ.items() if k.startswith("PYTEST_XDIST_")},
        }, f)
"""


def run_one(worker: StartWorker, pytester: pytest.Pytester, *args: str, env: Dict[str, str]) -> Dict:
    w = worker("-p", "no:randomly", *args, env=env)
    w.read_until("collected")
    w.run([0])
    w.finish()
    run = w.read_until("done")
    assert [r["outcome"] for r in reports(run)] == ["passed"] * 3, w.output()
    assert w.wait_exit() == 0, w.output()
    return json.loads((pytester.path / "seen.json").read_text())


def test_workerinput_as_xdist_sends_it_and_the_fixtures_without_xdist(pytester: pytest.Pytester, worker: StartWorker) -> None:
    if importlib.util.find_spec("xdist") is not None:
        pytest.skip("xdist is importable by this python: this checks bulkhead's own fixtures")
    pytester.makepyfile(test_seen=SEEN)
    seen = run_one(worker, pytester, env=IDENTITY)
    assert seen["workerinput"] == {
        "workerid": "gw3",
        "workercount": 4,
        "testrunuid": IDENTITY["PYTEST_XDIST_TESTRUNUID"],
        "randomly_seed": 2718281828,
        "random_order_seed": f"default:{2718281828 % 1000000 + 1}",
    }
    assert seen["mainargv"][0] == "pytest"
    assert seen["workeroutput"] == {}
    assert (seen["worker_id"], seen["testrun_uid"]) == ("gw3", IDENTITY["PYTEST_XDIST_TESTRUNUID"])
    assert seen["env"] == {k: v for k, v in IDENTITY.items() if k.startswith("PYTEST_XDIST_")}


def test_the_fixtures_are_xdists_own_where_it_is_installed(
    pytester: pytest.Pytester, worker: StartWorker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = xdist_env(tmp_path_factory.mktemp("xdist"), sys.executable)
    pytester.makepyfile(test_seen=SEEN + "\n\ndef test_xdist_fixture_is_xdists(request):\n"
                        "    manager = request.config.pluginmanager\n"
                        "    assert manager.has_plugin('xdist') and manager.get_plugin('bulkhead-xdist-fixtures') is None\n")
    w = worker("-p", "no:randomly", env={**env, **IDENTITY})
    w.read_until("collected")
    w.run([0, 1])
    w.finish()
    run = w.read_until("done")
    assert [r["outcome"] for r in reports(run)] == ["passed"] * 6, w.output()
    seen = json.loads((pytester.path / "seen.json").read_text())
    assert (seen["worker_id"], seen["testrun_uid"]) == ("gw3", IDENTITY["PYTEST_XDIST_TESTRUNUID"])


def test_no_identity_without_the_supervisors_variables(pytester: pytest.Pytester, worker: StartWorker) -> None:
    pytester.makepyfile(test_plain="""
        def test_plain(request):
            assert not hasattr(request.config, "workerinput")
    """)
    w = worker(env={"PYTEST_XDIST_WORKER": "gw9"})  # inherited from somewhere, without a run seed
    w.read_until("collected")
    w.run([0])
    w.finish()
    run = w.read_until("done")
    assert [r["outcome"] for r in reports(run)] == ["passed"] * 3, w.output()


def test_junitxml_and_the_last_failed_cache_work_as_without_identity(pytester: pytest.Pytester, worker: StartWorker) -> None:
    # pytest's junitxml and cacheprovider skip their work in an xdist worker; a bulkhead worker
    # renders JUnit itself and saves --lf state as it always did.
    pytester.makepyfile(test_lf="""
        def test_fails():
            assert 0

        def test_passes():
            pass
    """)
    w = worker("--junitxml", "out.xml", env=IDENTITY)
    w.read_until("collected")
    w.run([0, 1])
    w.finish()
    run = w.read_until("done")
    assert [r["outcome"] for r in reports(run, "call")] == ["failed", "passed"], w.output()
    session = of_type(w.messages, "session")[0]
    assert session["junit"] is not None and session["junit"]["xmlpath"].endswith("/out.xml"), session["junit"]
    assert w.wait_exit() == 1
    lastfailed = json.loads((pytester.path / ".pytest_cache/v/cache/lastfailed").read_text())
    assert lastfailed == {"test_lf.py::test_fails": True}
