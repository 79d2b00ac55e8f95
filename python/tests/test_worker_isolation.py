"""A real worker: what it must not do (start xdist workers, let test output reach the channel), and the plugin without a channel."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from driver import of_type, plain_pytest, reports
from worker_helpers import StartWorker, xdist_env, ids_of


# -- what the worker must not do -----------------------------------------------------------------


@pytest.mark.parametrize("where", ["args", "ini"])
def test_xdist_n_auto_does_not_start_xdist_workers(
    pytester: pytest.Pytester, worker: StartWorker, tmp_path_factory: pytest.TempPathFactory, where: str
) -> None:
    env = xdist_env(tmp_path_factory.mktemp("xdist"), sys.executable)
    pytester.makepyfile(
        test_xd="""
        import os

        def test_in_the_worker_itself():
            assert "PYTEST_XDIST_WORKER" not in os.environ
            with open("pids.txt", "a") as f:
                f.write(f"{os.getpid()}\\n")

        def test_again():
            test_in_the_worker_itself()
        """
    )
    args: List[str] = []
    if where == "args":
        args = ["-n", "auto"]
    else:
        pytester.makeini("[pytest]\naddopts = -n auto\n")
    # First: this xdist really does start workers for plain pytest here (where the tests fail).
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider", *args], env=env)
    assert re.search(r"^gw0 ", plain.stdout, re.MULTILINE), plain.stdout
    assert "PYTEST_XDIST_WORKER" in plain.stdout

    w = worker("-p", "no:cacheprovider", *args, env=env)
    hello = w.read()
    session = w.read_until("session")[-1]
    assert any("xdist-" in line for line in session["headerLines"]), session["headerLines"]
    assert session["xdistRequested"] == "auto"
    collected = w.read_until("collected")[-1]
    assert len(collected["tests"]) == 2
    w.run([0, 1])
    w.finish()
    run = w.read_until("done")
    assert run[-1]["exitstatus"] == 0
    assert [r["outcome"] for r in reports(run)] == ["passed"] * 6
    assert (pytester.path / "pids.txt").read_text().split() == [str(hello["pid"])] * 2
    assert "worker" not in w.stdout().lower(), w.stdout()


FAKE_LINES = [
    '{"type":"done","exitstatus":77}',
    '{"type":"stolen","indices":[12345]}',
    '{"type":"started","id":"fake::id"}',
]


@pytest.mark.parametrize("capture", ["fd", "no"])
def test_test_output_never_reaches_the_channel(pytester: pytest.Pytester, worker: StartWorker, capture: str) -> None:
    pytester.makepyfile(
        test_noise=f"""
        import json, os, subprocess, sys

        FAKE = {FAKE_LINES!r}

        def test_prints():
            for line in FAKE:
                print(line)
                sys.stderr.write(line + "\\n")
                os.write(1, (line + "\\n").encode())
                os.write(2, (line + "\\n").encode())
                sys.__stdout__.write(line + "\\n")
            sys.stdout.flush()
            sys.__stdout__.flush()

        def test_child_process_writes_everywhere():
            code = (
                "import os, json\\n"
                "lines = " + repr(FAKE) + "\\n"
                "links = []\\n"
                "for name in os.listdir('/proc/self/fd'):\\n"
                "    try:\\n"
                "        links.append(os.readlink('/proc/self/fd/' + name))\\n"
                "    except OSError:\\n"
                "        pass\\n"
                "for fd in range(0, 256):\\n"
                "    for line in lines:\\n"
                "        try:\\n"
                "            os.write(fd, (line + '\\\\n').encode())\\n"
                "        except OSError:\\n"
                "            pass\\n"
                "print(json.dumps(links))\\n"
            )
            result = subprocess.run([sys.executable, "-c", code], close_fds=False,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
            links = json.loads(result.stdout.decode().splitlines()[-1])
            assert not [link for link in links if link.startswith("socket:")], links
            # And one that shares our stdout and stderr.
            subprocess.run([sys.executable, "-c", "print(" + repr(FAKE[0]) + ")"], close_fds=False, timeout=60)
        """
    )
    w = worker(f"--capture={capture}")
    w.read_until("collected")
    w.run([0, 1])
    w.finish()
    run = w.read_until("done")
    assert w.wait_exit() == 0, w.output()
    assert [r["outcome"] for r in reports(run)] == ["passed"] * 6
    assert len(of_type(w.messages, "done")) == 1 and run[-1]["exitstatus"] == 0
    assert of_type(w.messages, "stolen") == []
    assert ids_of(w.messages, "started") == ["test_noise.py::test_prints", "test_noise.py::test_child_process_writes_everywhere"]
    if capture == "no":
        for line in FAKE_LINES:
            assert line in w.stdout().splitlines()  # it went where the test sent it


# -- without a channel ---------------------------------------------------------------------------


INERT_TEST = """
    def test_plugin_loaded_but_inert(request):
        manager = request.config.pluginmanager
        assert manager.has_plugin("bulkhead_pytest.plugin")
        assert manager.get_plugin("bulkhead-worker") is None

    def test_fails():
        assert 0
"""


def test_plugin_is_inert_without_a_channel_in_process(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULKHEAD_CHANNEL_FD", raising=False)
    pytester.makepyfile(textwrap.dedent(INERT_TEST))
    result = pytester.runpytest("-p", "bulkhead_pytest.plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test session starts*", "collected 2 items", "*short test summary info*"])


def test_plugin_is_inert_without_a_channel_in_a_subprocess(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULKHEAD_CHANNEL_FD", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    pytester.makepyfile(textwrap.dedent(INERT_TEST))
    result = pytester.runpytest_subprocess("-p", "bulkhead_pytest.plugin", timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 1


def test_launcher_without_a_channel_is_plain_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent(INERT_TEST))
    plain = plain_pytest(pytester.path, ["-p", "no:cacheprovider"])
    assert plain.returncode == 1
    assert "1 failed, 1 passed" in plain.stdout
