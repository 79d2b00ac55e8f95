"""Many quick tests."""
import pytest


@pytest.mark.parametrize("n", range(50))
def test_square_is_non_negative(n):
    assert n * n >= 0


@pytest.mark.parametrize("word", ["bulkhead", "pytest", "worker", "crash"])
def test_roundtrip_upper_lower(word):
    assert word.upper().lower() == word


@pytest.mark.skip(reason="shows how skips are reported")
def test_not_today():
    raise AssertionError("never runs")
