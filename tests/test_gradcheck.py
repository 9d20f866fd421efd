"""Backpropagation against central differences.

Tolerances. For a step epsilon, the central difference differs from the derivative by the
truncation error epsilon^2/6 |C'''| plus a rounding error of about u |C| / epsilon (u = 1.1e-16
in float64). At epsilon = 1e-6 they are 1.7e-13 |C'''| and 1.1e-10 |C|. Over 1,800 random
networks of the kinds drawn here the largest discrepancy measured was 1.6e-9; the tolerance
1e-7 leaves a factor of 60 above it, and a wrong derivative (see the mutation tests) exceeds it
by more than three orders of magnitude.

The ReLU has a kink at 0, where a central difference averages two slopes: the random networks
use the smooth activations, and the ReLU is checked on a fixed network whose pre-activations
all lie clear of the kink (its rule is proved on symbols by ``relu-derivative`` and
``delta-recurrence``).
"""

import numpy as np
import pytest
from conftest import architectures, make_inputs
from hypothesis import given
from hypothesis import strategies as st

from backprop import MLP, gradient_check
from backprop.activations import Activation, sigmoid

EPSILON = 1e-6
TOLERANCE = 1e-7
SMOOTH = ["sigmoid", "improved_sigmoid"]


def sample(arch, rows):
    rng = np.random.default_rng(arch["seed"])
    X = make_inputs(rng, rows, arch["input_size"])
    labels = rng.integers(0, arch["neurons_per_layer"][-1], size=rows)
    return X, labels


def smallest_pre_activation(model, X):
    """The hidden pre-activation nearest the ReLU's kink, in absolute value."""
    a, smallest = X, np.inf
    for W in model.weights[:-1]:
        z = a @ W
        smallest = min(smallest, np.abs(z).min())
        a = model.activation.function(z)
    return smallest


@given(architectures(activations=SMOOTH), st.integers(1, 8))
def test_backward_matches_central_differences(arch, rows):
    model = MLP(**arch)
    X, labels = sample(arch, rows)
    discrepancy = gradient_check(model, X, labels, EPSILON)
    assert discrepancy.shape == (len(arch["neurons_per_layer"]),)
    assert discrepancy.max() < TOLERANCE


@given(architectures(max_hidden_layers=10, max_width=64, activations=SMOOTH, deep=True),
       st.integers(1, 8))
def test_backward_matches_random_directions_in_deep_networks(arch, rows):
    # With U(-1, 1) weights the improved sigmoid amplifies each layer's outputs by about
    # sqrt(width / 3): ten such layers make the loss so large and so curved that the central
    # difference itself loses its digits. Deep networks are tested with the fan-in rule, and
    # with the plain sigmoid under both rules (Task 4e with and without tricks).
    model = MLP(**arch)
    X, labels = sample(arch, rows)
    discrepancy = gradient_check(model, X, labels, EPSILON, method="random_directions",
                                 num_directions=3, seed=arch["seed"] % 1000)
    assert discrepancy.max() < TOLERANCE


def test_a_relu_network_clear_of_its_kinks_matches_central_differences():
    arch = {"neurons_per_layer": [6, 5, 3], "input_size": 4, "activation": "relu",
            "init": "fan_in", "seed": 3}
    model = MLP(**arch)
    X, labels = sample(arch, 6)
    # A perturbation of 1e-6 moves a pre-activation by far less than this.
    assert smallest_pre_activation(model, X) > 1e-3
    assert gradient_check(model, X, labels, EPSILON).max() < TOLERANCE


def test_assignment_network_passes_the_appendix_check():
    """784-64-10 at the course's epsilon = 1e-3 and its tolerance epsilon^2."""
    rng = np.random.default_rng(0)
    model = MLP([64, 10])
    X = make_inputs(rng, 4, 785)
    discrepancy = gradient_check(model, X, rng.integers(0, 10, 4), epsilon=1e-3)
    assert discrepancy.max() <= 1e-3**2


def test_ten_hidden_layers_of_64_pass_the_directional_check():
    rng = np.random.default_rng(1)
    model = MLP([64] * 10 + [10], init="fan_in", activation="improved_sigmoid")
    X = make_inputs(rng, 8, 785)
    discrepancy = gradient_check(model, X, rng.integers(0, 10, 8), EPSILON,
                                 method="random_directions")
    assert discrepancy.shape == (11,)
    assert discrepancy.max() < TOLERANCE


def wrong_sigmoid(derivative):
    return Activation("sigmoid", sigmoid, derivative)


@pytest.mark.parametrize("method", ["every_weight", "random_directions"])
@pytest.mark.parametrize(
    "derivative",
    [lambda a: a, lambda a: a * a, lambda a: 0.99 * a * (1 - a)],
    ids=["a", "a^2", "0.99 a(1-a)"],
)
def test_a_wrong_derivative_is_caught(derivative, method):
    rng = np.random.default_rng(2)
    model = MLP([6, 5, 3], input_size=4, init="fan_in", activation=wrong_sigmoid(derivative))
    X = make_inputs(rng, 5, 4)
    discrepancy = gradient_check(model, X, rng.integers(0, 3, 5), EPSILON, method=method)
    # The output layer's gradient does not use f', so it still passes.
    assert discrepancy[-1] < TOLERANCE
    assert discrepancy[:-1].min() > 1e3 * TOLERANCE


def test_weights_are_restored_exactly():
    rng = np.random.default_rng(3)
    model = MLP([4, 3], input_size=5)
    before = [w.copy() for w in model.weights]
    X = make_inputs(rng, 2, 5)
    gradient_check(model, X, [0, 1])
    gradient_check(model, X, [0, 1], method="random_directions")
    for w, v in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(w, v)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epsilon": 0.0}, r"epsilon must be a real number in \[1.49012e-08, 0.1\]"),
        ({"epsilon": float("nan")}, r"epsilon must be a real number in \[1.49012e-08, 0.1\]"),
        ({"method": "forward"}, r"unknown method 'forward'"),
    ],
)
def test_bad_arguments(kwargs, message):
    model = MLP([4, 3], input_size=5)
    with pytest.raises(ValueError, match=message):
        gradient_check(model, np.ones((2, 5)), [0, 1], **kwargs)


def test_float32_network_is_refused():
    model = MLP([4, 3], input_size=5, dtype=np.float32)
    with pytest.raises(ValueError, match=r"needs a float64 network.*astype"):
        gradient_check(model, np.ones((2, 5)), [0, 1])


@pytest.mark.parametrize("epsilon", [1e-300, 1e-9, 0.5])
def test_a_step_too_small_to_measure_or_too_large_to_differentiate_is_refused(epsilon):
    model = MLP([3, 2], input_size=3)
    with pytest.raises(ValueError, match=r"epsilon must be a real number in \[1.49012e-08, 0.1\]"
                                          r".*measures the loss's rounding"):
        gradient_check(model, np.ones((2, 3)), [0, 1], epsilon)
