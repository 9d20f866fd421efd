"""The in-place step and scorer give what the readable sgd_step and evaluate give, to the bit."""

import numpy as np
import pytest
from conftest import architectures, make_inputs
from hypothesis import given
from hypothesis import strategies as st

from backprop import MLP, one_hot
from backprop.activations import Activation
from backprop.inplace import NonFiniteError, Scorer, Step
from backprop.network import evaluate
from backprop.training import sgd_step

DTYPES = st.sampled_from([np.float32, np.float64])


def network_and_batch(architecture, dtype, rows, seed):
    model = MLP(**architecture, dtype=dtype)
    rng = np.random.default_rng(seed)
    X = make_inputs(rng, rows, model.input_size).astype(dtype)
    return model, X, rng.integers(0, model.num_classes, rows)


@given(architectures(max_hidden_layers=3, max_width=6), DTYPES, st.integers(1, 6),
       st.floats(0.001, 1), st.sampled_from([0.0, 0.5, 0.9]), st.integers(0, 2**32 - 1))
def test_three_steps_leave_the_weights_velocities_and_losses_of_sgd_step(
        architecture, dtype, rows, learning_rate, momentum, seed):
    model, X, y = network_and_batch(architecture, dtype, rows, seed)
    targets = one_hot(y, model.num_classes, dtype)
    fast = [W.copy() for W in model.weights]
    readable = [W.copy() for W in model.weights]
    fast_v, readable_v = ([np.zeros_like(W) for W in fast] for _ in range(2))
    step = Step(model.layer_sizes, rows, model.dtype)
    for _ in range(3):
        loss = step(fast, fast_v, X, targets, model.activation, learning_rate, momentum)
        assert loss == sgd_step(readable, readable_v, X, targets, model.activation,
                                learning_rate, momentum)
        assert loss.dtype == dtype
    for ours, theirs in zip(fast + fast_v, readable + readable_v, strict=True):
        np.testing.assert_array_equal(ours, theirs)


@given(architectures(max_hidden_layers=3, max_width=6), DTYPES, st.integers(1, 20),
       st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_the_scorer_gives_the_loss_and_accuracy_of_evaluate(architecture, dtype, rows, chunk,
                                                            seed):
    model, X, y = network_and_batch(architecture, dtype, rows, seed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("backprop.network.EVALUATION_CHUNK", chunk)
        expected = evaluate(model.weights, X, y, model.activation)
    assert Scorer(model.layer_sizes, model.dtype, chunk)(model.weights, X, y,
                                                         model.activation) == expected


def test_a_readers_own_activation_steps_as_sgd_step_does_whatever_its_name():
    tanh = Activation("sigmoid", np.tanh, lambda a: 1 - a * a)
    model, X, y = network_and_batch({"neurons_per_layer": [4, 3], "input_size": 5}, np.float64,
                                    6, 0)
    targets = one_hot(y, 3)
    fast, readable = ([W.copy() for W in model.weights] for _ in range(2))
    velocities = [np.zeros_like(W) for W in fast]
    loss = Step(model.layer_sizes, 6, model.dtype)(fast, velocities, X, targets, tanh, 0.1, 0)
    assert loss == sgd_step(readable, velocities, X, targets, tanh, 0.1, 0)
    for ours, theirs in zip(fast, readable, strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("value", "scales", "layer"),
                         [(np.nan, (1, 1), 1), (np.inf, (1, 1), 1), (1.0, (1e300, 1e10), 2)])
def test_the_checked_step_stops_before_any_weight_changes(value, scales, layer):
    model = MLP([3, 2], input_size=4, activation="relu")
    model.weights = [scale * np.abs(W) for W, scale in zip(model.weights, scales, strict=True)]
    before = [W.copy() for W in model.weights]
    X = np.ones((2, 4))
    X[1, 0] = value
    step = Step(model.layer_sizes, 2, model.dtype)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(NonFiniteError) as raised:
        step(model.weights, [np.zeros_like(W) for W in before], X, one_hot([0, 1], 2),
             model.activation, 0.1, 0, checked=True)
    assert raised.value.layer == layer
    for now, then in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(now, then)
