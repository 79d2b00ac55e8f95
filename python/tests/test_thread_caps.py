"""ThreadCaps: a test that reserved N CPU slots sees N in the capped thread variables, then the cap again."""
from __future__ import annotations

import os

import pytest

from bulkhead_pytest.thread_caps import ThreadCaps


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULKHEAD_THREAD_CAPPED", "OMP_NUM_THREADS,MKL_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MKL_NUM_THREADS", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")  # the user's own: never touched


def test_a_test_with_more_slots_gets_its_threads_while_it_runs(capped: None) -> None:
    caps = ThreadCaps()
    caps.expect({"3": 4})
    with caps.applied(3):
        assert os.environ["OMP_NUM_THREADS"] == "4"
        assert os.environ["MKL_NUM_THREADS"] == "4"
        assert os.environ["OPENBLAS_NUM_THREADS"] == "7"
    assert os.environ["OMP_NUM_THREADS"] == "1"
    assert os.environ["MKL_NUM_THREADS"] == "1"


def test_other_tests_and_a_second_run_keep_the_worker_cap(capped: None) -> None:
    caps = ThreadCaps()
    caps.expect({"3": 4})
    with caps.applied(2):
        assert os.environ["OMP_NUM_THREADS"] == "1"
    with caps.applied(3):
        pass
    with caps.applied(3):  # consumed: a later run of the same index is told again if it needs it
        assert os.environ["OMP_NUM_THREADS"] == "1"


def test_without_capped_variables_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULKHEAD_THREAD_CAPPED", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    caps = ThreadCaps()
    caps.expect({"0": 8})
    with caps.applied(0):
        assert os.environ["OMP_NUM_THREADS"] == "2"
