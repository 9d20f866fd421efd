import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from backprop.preprocessing import make_dataset

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
def architectures(draw, max_hidden_layers=4, max_width=16, activations=ACTIVATION_NAMES,
                  deep=False):
    """A random small network: hidden widths, input size, classes, activation, init and seed.

    With ``deep``, only the pairs that keep activations bounded through many layers: the
    sigmoid under either rule, the others under the fan-in rule.
    """
    hidden = draw(st.lists(st.integers(1, max_width), min_size=1, max_size=max_hidden_layers))
    activation = draw(st.sampled_from(activations))
    inits = ["fan_in"] if deep and activation != "sigmoid" else ["uniform", "fan_in"]
    return {
        "neurons_per_layer": [*hidden, draw(st.integers(2, 6))],
        "input_size": draw(st.integers(2, 10)),
        "activation": activation,
        "init": draw(st.sampled_from(inits)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file's bytes: the header for ``array``'s shape and type ``code``, then its data."""
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def ten_class_dataset(seed=0, train=320, val=100, features=16):
    """Ten classes of Gaussian blobs, bias column last: learnable, and quick to train on."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(10, features + 1))
    y_train, y_val = rng.integers(0, 10, train), rng.integers(0, 10, val)
    X_train = make_inputs(rng, train, features + 1) + centres[y_train]
    X_val = make_inputs(rng, val, features + 1) + centres[y_val]
    X_train[:, -1] = X_val[:, -1] = 1
    return make_dataset(X_train, y_train, X_val, y_val)


@pytest.fixture
def data():
    """The ten-class dataset, as :func:`backprop.preprocessing.make_dataset` wraps it."""
    return ten_class_dataset()


@pytest.fixture
def other_data():
    """A second ten-class dataset, drawn with another seed."""
    return ten_class_dataset(seed=1)


@pytest.fixture
def blobs():
    """Four well-separated Gaussian clusters in 8 dimensions, with a bias column: 9 inputs."""
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 4, size=(4, 8))
    labels = rng.integers(0, 4, size=600)
    X = np.hstack([centres[labels] + rng.normal(size=(600, 8)), np.ones((600, 1))])
    return X[:400], labels[:400], X[400:], labels[400:]
