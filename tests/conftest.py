import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# CI reruns must see the same examples; at a desk, fresh ones find more.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ACTIVATION_NAMES = ["sigmoid", "improved_sigmoid", "relu"]


def make_inputs(rng: np.random.Generator, rows: int, input_size: int) -> np.ndarray:
    """Standard normal inputs with the bias column of ones last, as the data layer makes."""
    X = rng.standard_normal((rows, input_size))
    X[:, -1] = 1.0
    return X


@st.composite
def architectures(draw, max_hidden_layers=4, max_width=16):
    """A random small network: hidden widths, input size, classes and a batch to feed it."""
    hidden = draw(st.lists(st.integers(1, max_width), min_size=1, max_size=max_hidden_layers))
    return {
        "neurons_per_layer": [*hidden, draw(st.integers(2, 6))],
        "input_size": draw(st.integers(2, 10)),
        "activation": draw(st.sampled_from(ACTIVATION_NAMES)),
        "init": draw(st.sampled_from(["uniform", "fan_in"])),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@pytest.fixture
def blobs():
    """Four well-separated Gaussian clusters in 8 dimensions, with a bias column: 9 inputs."""
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 4, size=(4, 8))
    labels = rng.integers(0, 4, size=600)
    X = np.hstack([centres[labels] + rng.normal(size=(600, 8)), np.ones((600, 1))])
    return X[:400], labels[:400], X[400:], labels[400:]
