"""SymPy's proofs, their power to fail, and their agreement with the numpy code."""

import dataclasses
import inspect
from functools import cache
from itertools import pairwise

import numpy as np
import pytest
import sympy as sp
from conftest import make_inputs
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import backprop
from backprop import activations, losses, network, training
from backprop.derivations import (
    DERIVATIONS,
    Step,
    backpropagation,
    derivations_for,
    momentum,
    parameters,
    qualified_name,
)
from backprop.derivations import activations as activation_proofs
from backprop.derivations import softmax as softmax_proofs
from backprop.derivations.core import implementation, implementation_source


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_every_derivation_is_proved(name):
    assert DERIVATIONS[name].verify()


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_every_derivation_renders(name):
    derivation = DERIVATIONS[name]
    block = derivation.latex()
    assert block.startswith("\\begin{aligned}")
    assert block.count("&=") == len(derivation.steps)
    assert derivation.claim_latex()


# Wrong claims and wrong steps must fail, or the proofs above could pass vacuously.

sigma, z = activation_proofs.sigma, activation_proofs.z


def test_a_wrong_claim_fails():
    wrong = dataclasses.replace(
        activation_proofs.SIGMOID_DERIVATIVE,
        claim=sp.Eq(sp.Derivative(sigma(z), z), sigma(z) ** 2),
    )
    assert not wrong.verify()


def test_a_wrong_step_fails():
    derivation = activation_proofs.SIGMOID_DERIVATIVE
    steps = list(derivation.steps)
    steps[1] = Step(sp.exp(-z) / (1 + sp.exp(-z)), "forgot the square")
    assert not dataclasses.replace(derivation, steps=tuple(steps)).verify()


def test_a_wrong_improved_sigmoid_derivative_fails():
    derivation = activation_proofs.IMPROVED_SIGMOID_DERIVATIVE
    A, S, a = activation_proofs.A, activation_proofs.S, activation_proofs.a
    wrong = dataclasses.replace(derivation, claim=sp.Eq(derivation.claim.lhs, A * S * (1 - a**2)))
    assert not wrong.verify()


def test_a_recurrence_without_the_activation_derivative_fails(monkeypatch):
    monkeypatch.setattr(backpropagation, "f_prime", lambda z: sp.Integer(1))
    assert not backpropagation.HIDDEN_LAYER_UPDATE.verify()
    assert not backpropagation.BATCHED_GRADIENT.verify()


def test_a_batched_gradient_without_the_mean_fails():
    cost, weights, gradients = backpropagation.network_gradients([2, 2, 2], 2)
    wrong = backpropagation.derivative_matrix(cost, weights[0]) - 2 * gradients[0]
    assert not backprop.derivations.is_zero(wrong.doit())


def test_unequal_momentum_rules_are_told_apart():
    gradients = list(sp.symbols("g_0:3"))
    lecun, framework = momentum.lecun(gradients), momentum.framework(gradients)
    assert not backprop.derivations.is_zero(lecun[2] - framework[2].subs(momentum.alpha, 1))


# Every public activation, loss and backward rule has a registered derivation.

NOT_DERIVED = {
    "backprop.activations.get_activation": "looks a name up",
    "backprop.losses.one_hot": "encodes labels",
}
RULES = [network.MLP.backward, training.momentum_step, network.count_parameters]


def public_functions(module):
    return [
        member for name, member in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and member.__module__ == module.__name__
    ]


@pytest.mark.parametrize(
    "function", [*public_functions(activations), *public_functions(losses), *RULES],
    ids=qualified_name,
)
def test_every_function_has_a_verified_derivation_that_its_docstring_names(function):
    name = qualified_name(function)
    if name in NOT_DERIVED:
        return
    found = derivations_for(function)
    assert found, f"{name} has no registered derivation"
    # test_every_derivation_is_proved proves each one.
    for derivation in found:
        assert f"``{derivation.name}``" in inspect.getdoc(function)


def test_every_activation_and_its_derivative_are_covered():
    for activation in activations.ACTIVATIONS.values():
        assert derivations_for(activation.derivative)


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_what_a_derivation_justifies_exists_and_its_code_shows(name):
    for target in DERIVATIONS[name].justifies:
        assert qualified_name(implementation(target)) == target
        code = implementation_source(target)
        assert code.lstrip().startswith("def ")
        assert '"""' not in code


# The lambdified SymPy expressions agree with the numpy functions.

sigmoid_sympy = sp.lambdify(z, activation_proofs.SIGMOID(z), "numpy")
sigmoid_derivative_sympy = sp.lambdify(z, sp.diff(activation_proofs.SIGMOID(z), z), "numpy")
moderate = arrays(np.float64, st.integers(1, 30), elements=st.floats(-700, 700))


@given(moderate)
def test_sigmoid_matches_sympy(values):
    # The numpy form is the tanh identity; it differs from the textbook form by rounding only.
    np.testing.assert_allclose(activations.sigmoid(values), sigmoid_sympy(values), rtol=1e-12,
                               atol=1e-16)


@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-300, 300)))
def test_sigmoid_derivative_matches_sympy(values):
    # SymPy's e^{-z} / (1 + e^{-z})^2 squares an overflowing number below z = -355.
    np.testing.assert_allclose(activations.sigmoid_derivative(activations.sigmoid(values)),
                               sigmoid_derivative_sympy(values), rtol=1e-9, atol=1e-16)


def improved_in_numbers(expression):
    return expression.subs({activation_proofs.A: activation_proofs.IMPROVED_SIGMOID_SCALE,
                            activation_proofs.S: activation_proofs.IMPROVED_SIGMOID_SLOPE})


improved = improved_in_numbers(activation_proofs.A * sp.tanh(activation_proofs.S * z))
improved_sympy = sp.lambdify(z, improved, "numpy")
improved_derivative_sympy = sp.lambdify(z, sp.diff(improved, z), "numpy")


def test_the_improved_sigmoid_constants_are_the_same_in_both():
    assert float(activation_proofs.IMPROVED_SIGMOID_SCALE) == activations.IMPROVED_SIGMOID_SCALE
    assert float(activation_proofs.IMPROVED_SIGMOID_SLOPE) == activations.IMPROVED_SIGMOID_SLOPE


@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-1e4, 1e4)))
def test_improved_sigmoid_and_its_derivative_match_sympy(values):
    a = activations.improved_sigmoid(values)
    np.testing.assert_allclose(a, improved_sympy(values), rtol=1e-14, atol=1e-15)
    # f' from the output loses digits where tanh^2 is near 1: absolute error of order 1e-16
    # times the scale.
    np.testing.assert_allclose(activations.improved_sigmoid_derivative(a),
                               improved_derivative_sympy(values), rtol=1e-9, atol=1e-14)


relu_derivative_sympy = sp.lambdify(z, sp.diff(sp.Max(0, z), z), "numpy")


@given(arrays(np.float64, st.integers(1, 30),
              elements=st.floats(-1e6, 1e6).filter(lambda value: value != 0)))
def test_relu_derivative_matches_sympy(values):
    np.testing.assert_array_equal(activations.relu_derivative(activations.relu(values)),
                                  relu_derivative_sympy(values))


@cache
def softmax_functions(classes):
    logits = softmax_proofs._logits(classes)
    outputs = sp.Matrix(softmax_proofs.softmax(logits))
    targets = sp.symbols(f"y1:{classes + 1}")
    loss = -sum(t * sp.log(o) for t, o in zip(targets, outputs, strict=True))
    gradient = [sp.diff(loss, logit) for logit in logits]
    return (sp.lambdify([logits], list(outputs), "numpy"),
            sp.lambdify([logits], outputs.jacobian(logits), "numpy"),
            sp.lambdify([logits, targets], gradient, "numpy"))


@st.composite
def logit_rows(draw, bound=300.0):
    classes = draw(st.integers(2, 6))
    rows = draw(st.integers(1, 4))
    return draw(arrays(np.float64, (rows, classes), elements=st.floats(-bound, bound)))


@given(logit_rows(bound=1e4))
def test_softmax_matches_sympy_even_for_huge_logits(logits):
    outputs, _, _ = softmax_functions(logits.shape[1])
    # The SymPy form overflows past 709; shifting by the row's largest logit is exact
    # (softmax-shift-invariance), so it is compared on shifted logits.
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected = np.array([outputs(row) for row in shifted])
    np.testing.assert_allclose(activations.softmax(logits), expected, rtol=1e-12, atol=1e-300)


@given(logit_rows(bound=30.0))
def test_softmax_jacobian_matches_sympy(logits):
    _, jacobian, _ = softmax_functions(logits.shape[1])
    expected = np.array([jacobian(row) for row in logits])
    np.testing.assert_allclose(activations.softmax_derivative(activations.softmax(logits)),
                               expected, rtol=1e-10, atol=1e-15)


@given(logit_rows(bound=30.0), st.data())
def test_cross_entropy_delta_matches_sympy(logits, data):
    rows, classes = logits.shape
    _, _, gradient = softmax_functions(classes)
    labels = data.draw(arrays(np.int64, rows, elements=st.integers(0, classes - 1)))
    targets = losses.one_hot(labels, classes)
    expected = np.array([gradient(row, target) for row, target in zip(logits, targets,
                                                                      strict=True)]) / rows
    delta = losses.cross_entropy_delta(targets, activations.softmax(logits))
    np.testing.assert_allclose(delta, expected, rtol=1e-9, atol=1e-15)


@cache
def sympy_backward(activation_name):
    """dC/dW by sympy.diff, for the batched derivation's sizes and a concrete network."""
    sizes, samples = backpropagation.BATCHED_SIZES, backpropagation.BATCH
    u = sp.Symbol("u")
    activation = sp.Lambda(u, {
        "sigmoid": activation_proofs.SIGMOID(u),
        "improved_sigmoid": improved_in_numbers(activation_proofs.A
                                                * sp.tanh(activation_proofs.S * u)),
    }[activation_name])
    weights = [backpropagation.weight_matrix(f"w{l}", n_in, n_out)
               for l, (n_in, n_out) in enumerate(pairwise(sizes), start=1)]
    X = sp.Matrix(samples, sizes[0], lambda n, i: sp.Symbol(f"x_{n}{i}"))
    Y = sp.Matrix(samples, sizes[-1], lambda n, k: sp.Symbol(f"y_{n}{k}"))
    a = X
    for W in weights[:-1]:
        a = (a * W).applyfunc(activation)
    logits = a * weights[-1]
    cost = sum(
        -Y[n, k] * sp.log(output)
        for n in range(samples)
        for k, output in enumerate(softmax_proofs.softmax(list(logits.row(n))))
    ) / samples
    gradients = [backpropagation.derivative_matrix(cost, W) for W in weights]
    return sp.lambdify([list(X), list(Y), *[list(W) for W in weights]], gradients, "numpy")


@pytest.mark.parametrize("activation", ["sigmoid", "improved_sigmoid"])
@given(seed=st.integers(0, 2**32 - 1))
def test_backward_matches_sympy_diff(activation, seed):
    sizes, samples = backpropagation.BATCHED_SIZES, backpropagation.BATCH
    rng = np.random.default_rng(seed)
    model = network.MLP(sizes[1:], input_size=sizes[0], activation=activation, seed=seed)
    X = make_inputs(rng, samples, sizes[0])
    Y = losses.one_hot(rng.integers(0, sizes[-1], samples), sizes[-1])
    expected = sympy_backward(activation)(X.ravel(), Y.ravel(),
                                          *[W.ravel() for W in model.weights])
    for gradient, wanted in zip(model.backward(X, Y), expected, strict=True):
        np.testing.assert_allclose(gradient, np.asarray(wanted, dtype=float), rtol=1e-10,
                                   atol=1e-14)


framework_step = sp.lambdify(
    [sp.symbols("W v g alpha gamma")],
    [sp.Symbol("W") - sp.Symbol("alpha") * (sp.Symbol("g") + sp.Symbol("gamma") * sp.Symbol("v")),
     sp.Symbol("g") + sp.Symbol("gamma") * sp.Symbol("v")],
    "numpy",
)


@given(st.integers(1, 20), st.floats(1e-4, 1.0), st.one_of(st.just(0.0), st.floats(0, 0.99)),
       st.integers(0, 2**32 - 1))
def test_momentum_step_matches_the_framework_rule(size, learning_rate, gamma, seed):
    rng = np.random.default_rng(seed)
    W, v, g = rng.standard_normal((3, size))
    expected_W, expected_v = framework_step([W, v, g, learning_rate, gamma])
    training.momentum_step(W, v, g, learning_rate, gamma)
    np.testing.assert_allclose(W, expected_W, rtol=1e-15, atol=1e-15)
    if gamma:  # without momentum the velocity plays no part and is left alone
        np.testing.assert_allclose(v, expected_v, rtol=1e-15, atol=1e-15)


one_hidden = sp.lambdify(sp.symbols("I J K"), parameters.parameters_one_hidden(
    *sp.symbols("I J K")))
two_hidden = sp.lambdify(sp.symbols("I h K"), parameters.parameters_two_hidden(
    *sp.symbols("I h K")))


@given(st.integers(1, 1000), st.integers(1, 300), st.integers(2, 50))
def test_parameter_formulas_match_count_parameters(inputs, width, classes):
    assert network.count_parameters([width, classes], input_size=inputs + 1) == one_hidden(
        inputs, width, classes)
    assert network.count_parameters([width, width, classes], input_size=inputs + 1) == \
        two_hidden(inputs, width, classes)


def test_the_equal_width_lies_between_59_and_60():
    root = parameters.equal_width(784, 64, 10)
    target = network.count_parameters([64, 10])
    below, above = int(sp.floor(root)), int(sp.ceiling(root))
    assert (below, above) == (59, 60)
    assert network.count_parameters([below, below, 10]) < target
    assert network.count_parameters([above, above, 10]) > target
