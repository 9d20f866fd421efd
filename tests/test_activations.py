import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backprop.activations import (
    ACTIVATIONS,
    Activation,
    get_activation,
    improved_sigmoid,
    sigmoid,
    softmax,
)

finite = st.floats(-50, 50, allow_nan=False)
logit_rows = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 8)), elements=finite)


@given(z=arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e4, 1e4)))
def test_sigmoid_matches_textbook_formula_without_overflow(z):
    with np.errstate(over="ignore"):
        textbook = 1 / (1 + np.exp(-z))
    a = sigmoid(z)
    np.testing.assert_allclose(a, textbook, rtol=0, atol=2e-16)
    assert np.all((a >= 0) & (a <= 1))


def test_improved_sigmoid_passes_through_plus_minus_one():
    np.testing.assert_allclose(improved_sigmoid(np.array([-1.0, 0.0, 1.0])), [-1, 0, 1],
                               atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_dtype(name, dtype):
    activation = ACTIVATIONS[name]
    a = activation.function(np.linspace(-3, 3, 7, dtype=dtype))
    assert a.dtype == dtype
    assert activation.derivative(a).dtype == dtype


@given(z=logit_rows)
def test_softmax_rows_sum_to_one_and_are_shift_invariant(z):
    a = softmax(z)
    np.testing.assert_allclose(a.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(softmax(z + 123.0), a, atol=1e-12)


@given(z=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 8)),
                elements=st.floats(-1e4, 1e4)))
def test_softmax_is_finite_for_huge_logits(z):
    a = softmax(z)
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a.sum(axis=1), 1, rtol=1e-12)


def test_softmax_of_opposed_huge_logits_is_certain():
    np.testing.assert_array_equal(softmax(np.array([[1e4, -1e4], [-1e4, 1e4]])),
                                  [[1, 0], [0, 1]])


def test_get_activation_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'tanh'.*'sigmoid'"):
        get_activation("tanh")
    custom = Activation("identity", lambda z: z, np.ones_like)
    assert get_activation(custom) is custom


@given(arrays(st.sampled_from([np.float32, np.float64]),
              st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 12)),
              elements=st.floats(-1e6, 1e6, width=32) | st.just(np.nan)))
def test_the_row_maximum_is_numpy_s_to_the_bit(z):
    from backprop.elementary import row_max

    np.testing.assert_array_equal(row_max(z), z.max(axis=-1, keepdims=True))
