import numpy as np
import pytest
from conftest import architectures, make_inputs
from hypothesis import given

from backprop import MLP, count_parameters
from backprop.activations import softmax


@pytest.mark.parametrize(
    ("layers", "expected"),
    [([64, 10], 785 * 64 + 64 * 10), ([59, 59, 10], 785 * 59 + 59 * 59 + 59 * 10),
     ([64] * 10 + [10], 785 * 64 + 9 * 64 * 64 + 64 * 10)],
)
def test_parameter_counts_of_the_assignment(layers, expected):
    assert count_parameters(layers) == expected
    assert MLP(layers).num_parameters == expected


def test_assignment_counts_are_the_reports():
    assert count_parameters([64, 10]) == 50_880
    assert count_parameters([59, 59, 10]) == 50_386


def test_weights_shapes_and_reproducible_init():
    model = MLP([64, 10])
    assert [w.shape for w in model.weights] == [(785, 64), (64, 10)]
    assert all(np.abs(w).max() <= 1 for w in model.weights)
    again = MLP([64, 10])
    for w, v in zip(model.weights, again.weights, strict=True):
        np.testing.assert_array_equal(w, v)
    other = MLP([64, 10], seed=1)
    assert not np.array_equal(model.weights[0], other.weights[0])


def test_init_does_not_touch_global_random_state():
    np.random.seed(3)  # noqa: NPY002 -- the legacy global state is what is under test
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(3)  # noqa: NPY002
    MLP([8, 3], input_size=5, init="fan_in")
    assert np.random.random() == expected  # noqa: NPY002


def test_fan_in_init_has_the_fan_in_spread():
    model = MLP([256, 10], input_size=785, init="fan_in")
    first = model.weights[0]
    assert abs(first.mean()) < 3 / np.sqrt(first.size) / np.sqrt(785)
    # Sample std of 200,960 normals: relative standard error 1/sqrt(2n) = 0.16 %.
    assert first.std() * np.sqrt(785) == pytest.approx(1, rel=0.01)


def test_uniform_init_has_the_uniform_spread():
    weights = MLP([256, 10]).weights[0]
    # U(-1, 1) has variance 1/3; relative standard error of the sample std is under 0.2 %.
    assert weights.std() == pytest.approx(np.sqrt(1 / 3), rel=0.01)


def test_float32_network_starts_from_rounded_float64_weights():
    double, single = MLP([16, 4], input_size=9), MLP([16, 4], input_size=9, dtype=np.float32)
    for w64, w32 in zip(double.weights, single.weights, strict=True):
        assert w32.dtype == np.float32
        np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_end_to_end(dtype):
    model = MLP([16, 4], input_size=9, dtype=dtype)
    X = make_inputs(np.random.default_rng(0), 5, 9)
    assert model.forward(X).dtype == dtype
    assert all(g.dtype == dtype for g in model.backward(X, [0, 1, 2, 3, 0]))


def test_float32_forward_matches_float64_to_single_precision():
    model = MLP([32, 10], input_size=20, init="fan_in", activation="improved_sigmoid")
    X = make_inputs(np.random.default_rng(1), 50, 20)
    np.testing.assert_allclose(model.astype(np.float32).forward(X), model.forward(X),
                               atol=1e-6)


@given(architectures())
def test_forward_is_the_composition_of_layers(arch):
    model = MLP(**arch)
    X = make_inputs(np.random.default_rng(arch["seed"]), 4, arch["input_size"])
    a = X
    for W in model.weights[:-1]:
        a = model.activation.function(a @ W)
    expected = softmax(a @ model.weights[-1])
    np.testing.assert_array_equal(model.forward(X), expected)
    outputs = model.layer_outputs(X)
    assert [o.shape[1] for o in outputs] == list(model.layer_sizes)
    np.testing.assert_array_equal(outputs[-1], expected)


def test_backward_twice_gives_the_same_gradients_and_leaves_weights_alone():
    model = MLP([7, 5, 3], input_size=6, activation="improved_sigmoid")
    X = make_inputs(np.random.default_rng(2), 8, 6)
    before = [w.copy() for w in model.weights]
    first, second = model.backward(X, np.arange(8) % 3), model.backward(X, np.arange(8) % 3)
    for g, h, w, v in zip(first, second, before, model.weights, strict=True):
        np.testing.assert_array_equal(g, h)
        np.testing.assert_array_equal(w, v)


def test_backward_accepts_labels_or_one_hot():
    model = MLP([5, 3], input_size=4)
    X = make_inputs(np.random.default_rng(3), 3, 4)
    for g, h in zip(model.backward(X, [2, 0, 1]), model.backward(X, np.eye(3)[[2, 0, 1]]),
                    strict=True):
        np.testing.assert_array_equal(g, h)


def test_weights_are_assignable_and_copied():
    model = MLP([3, 2], input_size=4)
    new = [np.zeros((4, 3)), np.ones((3, 2))]
    model.weights = new
    new[1][0, 0] = 5
    assert model.weights[1][0, 0] == 1
    np.testing.assert_array_equal(model.forward(np.ones((1, 4))), [[0.5, 0.5]])


def test_predict_and_loss():
    model = MLP([3, 2], input_size=4)
    model.weights = [np.eye(4, 3), np.array([[5.0, -5], [-5, 5], [0, 0]])]
    X = np.array([[9, -9, 0, 1.0], [-9, 9, 0, 1.0]])
    np.testing.assert_array_equal(model.predict(X), [0, 1])
    assert model.loss(X, [0, 1]) < model.loss(X, [1, 0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"neurons_per_layer": []}, r"neurons_per_layer is empty"),
        ({"neurons_per_layer": [4, 0, 3]}, r"positive integers, got 0"),
        ({"neurons_per_layer": [4, 2.5]}, r"positive integers, got 2.5"),
        ({"neurons_per_layer": 10}, r"must be a sequence"),
        ({"neurons_per_layer": [4, 1]}, r"softmax needs at least 2 classes"),
        ({"neurons_per_layer": [4, 3], "input_size": 0}, r"positive integers, got 0"),
        ({"neurons_per_layer": [4, 3], "activation": "tanh"}, r"unknown activation 'tanh'"),
        ({"neurons_per_layer": [4, 3], "init": "xavier"},
         r"unknown init 'xavier'; choose one of 'uniform', 'fan_in'"),
        ({"neurons_per_layer": [4, 3], "dtype": np.float16},
         r"float32 or float64, got <class .numpy.float16.>"),
    ],
)
def test_bad_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(**kwargs)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.ones((2, 5)), r"X has 5 columns but 4 are expected"),
        (np.ones(4), r"X must be a 2-D array"),
        (np.ones((0, 4)), r"X is empty"),
        (np.array([[1, 2, np.inf, 1.0]]), r"X holds non-finite values.*row 0, column 2: inf"),
        (np.array([[1, 2, 1, np.nan]]), r"X holds non-finite values.*column 3: nan"),
        (np.array([["a", "b", "c", "d"]]), r"X has dtype <U1"),
        ([[1, 2], [3]], r"X is not a rectangular numeric array"),
    ],
)
def test_bad_inputs(X, message):
    model = MLP([3, 2], input_size=4)
    with pytest.raises(ValueError, match=message):
        model.forward(X)


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ([0, 2], r"label 2 at position 1 lies outside \[0, 2\)"),
        (np.array([[0.5, 0.5], [1, 0]]), r"one-hot.*row 0 is \[0.5, 0.5\]"),
        (np.array([[1, 1], [1, 0]]), r"one-hot.*row 0 is \[1, 1\]"),
        (np.eye(3)[:2], r"shape \(N, 2\).*got shape \(2, 3\)"),
        ([0, 1, 1], r"targets have 3 rows but the inputs have 2"),
    ],
)
def test_bad_targets(targets, message):
    model = MLP([3, 2], input_size=4)
    with pytest.raises(ValueError, match=message):
        model.backward(np.ones((2, 4)), targets)


def test_bad_weight_assignment():
    model = MLP([3, 2], input_size=4)
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(3, 2\), got \(2, 3\)"):
        model.weights = [np.zeros((4, 3)), np.zeros((2, 3))]
    with pytest.raises(ValueError, match=r"has 2 weight matrices, got 1"):
        model.weights = [np.zeros((4, 3))]
    with pytest.raises(ValueError, match=r"weights\[0\] holds non-finite"):
        model.weights = [np.full((4, 3), np.nan), np.zeros((3, 2))]


@pytest.mark.parametrize("chunk", [1, 3, 4096])
def test_evaluate_in_chunks_matches_the_whole_set(chunk, monkeypatch):
    monkeypatch.setattr("backprop.network.EVALUATION_CHUNK", chunk)
    model = MLP([8, 4], input_size=6, init="fan_in")
    rng = np.random.default_rng(4)
    X, labels = make_inputs(rng, 10, 6), rng.integers(0, 4, 10)
    loss, accuracy = model.evaluate(X, labels)
    assert loss == pytest.approx(model.loss(X, labels), rel=1e-12)
    assert accuracy == np.mean(model.predict(X) == labels)


def summing_network(activation="sigmoid"):
    """Ones for weights: the first layer sums its inputs, so inputs of 1e308 overflow it."""
    model = MLP([3, 2], input_size=3, activation=activation)
    model.weights = [np.ones((3, 3)), np.ones((3, 2))]
    return model


@pytest.mark.parametrize("method", ["forward", "predict", "layer_outputs"])
def test_a_pre_activation_that_overflows_is_an_error_though_the_sigmoid_saturates(method):
    with pytest.raises(FloatingPointError, match=r"pre-activations of layer 1 overflow float64 "
                                                 r"on X, whose largest value is 1e\+308"):
        getattr(summing_network(), method)(np.full((2, 3), 1e308))


def test_a_saturated_but_finite_network_answers():
    probabilities = summing_network().forward(np.full((2, 3), 1e300))
    np.testing.assert_allclose(probabilities, 0.5)


def test_a_bound_that_overflows_is_checked_exactly_before_refusing():
    # 1e308 meets a weight of 0: the bound overflows, the pre-activation does not.
    model = summing_network()
    model.weights = [np.array([[0.0, 0, 0], [1, 1, 1], [1, 1, 1]]), np.ones((3, 2))]
    assert np.isfinite(model.forward(np.array([[1e308, 1.0, 1.0]]))).all()


@pytest.mark.parametrize(
    "X",
    [np.ma.masked_array(np.ones((2, 3)), mask=[[True, False, False], [False] * 3]),
     [np.ma.masked_array([1.0, 2, 3], mask=[0, 1, 0]), np.ones(3)]],
    ids=["a masked array", "a list of masked rows"],
)
def test_a_masked_array_is_refused_not_unmasked(X):
    with pytest.raises(ValueError, match="X is or holds a masked array, whose mask would be"):
        MLP([3, 2], input_size=3).forward(X)


def test_a_float32_product_that_rounds_up_to_infinity_is_caught():
    # The exact sum of these weights lies just below float32's largest number; the rounding
    # of the matrix product carries it to infinity.
    w = [1.606032180850752e38, 3.0706665572701267e37, 3.7634850204273026e37,
         1.1133761024117816e38]
    model = MLP([2, 2], input_size=4, activation="relu", dtype=np.float32)
    model.weights = [np.array([w, w], np.float32).T, 0.5 * np.eye(2)]
    with pytest.raises(FloatingPointError, match="layer 1 overflow float32"):
        model.forward(np.ones((1, 4)))


def test_gradient_check_refuses_inputs_that_overflow():
    from backprop import gradient_check

    with pytest.raises(FloatingPointError, match="layer 1 overflow float64 on X"):
        gradient_check(summing_network(), np.full((2, 3), 1e308), [0, 1])
