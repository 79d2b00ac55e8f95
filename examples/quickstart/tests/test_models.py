"""Heavy tests: each module builds one large model and trains it in several tests."""
import time

import pytest

MODEL_BYTES = 64 * 1024 * 1024
PAGE = 4096


class Model:
    def __init__(self, size: int) -> None:
        self.weights = bytearray(size)
        # Touch every page so the memory is really resident, as a loaded model is.
        for offset in range(0, size, PAGE):
            self.weights[offset] = 1

    def train(self, seconds: float) -> float:
        time.sleep(seconds)
        return sum(self.weights[::PAGE]) / (len(self.weights) // PAGE)


@pytest.fixture(scope="module")
def model():
    return Model(MODEL_BYTES)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_training_converges(model, seed):
    assert model.train(1.0) == pytest.approx(1.0)


def test_model_is_resident(model):
    assert len(model.weights) == MODEL_BYTES
