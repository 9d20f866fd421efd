import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backprop.activations import softmax
from backprop.losses import cross_entropy, mean_cross_entropy, negative_log_likelihood, one_hot


@st.composite
def predictions(draw):
    rows, classes = draw(st.integers(1, 6)), draw(st.integers(2, 8))
    z = draw(arrays(np.float64, (rows, classes), elements=st.floats(-30, 30)))
    labels = draw(arrays(np.int64, rows, elements=st.integers(0, classes - 1)))
    return labels, softmax(z)


@given(predictions())
def test_the_summed_form_is_n_times_the_mean_to_rounding(prediction):
    labels, y_hat = prediction
    N = len(labels)
    mean = mean_cross_entropy(one_hot(labels, y_hat.shape[1]), y_hat)
    # Both add the same N logarithms in different orders: each sum is within N u of exact.
    tolerance = 2 * N * np.finfo(np.float64).eps * N * max(abs(mean), 1.0)
    assert abs(negative_log_likelihood(labels, y_hat) - N * mean) <= tolerance


@given(predictions())
def test_cross_entropy_checks_then_computes_the_mean(prediction):
    labels, y_hat = prediction
    targets = one_hot(labels, y_hat.shape[1])
    assert cross_entropy(targets, y_hat) == mean_cross_entropy(targets, y_hat)


def test_cross_entropy_is_finite_at_probability_zero():
    targets = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss = cross_entropy(targets, np.array([[0.0, 1.0], [0.0, 1.0]]))
    # Half the batch costs -ln(smallest normal float64) = 708.4; the other half costs 0.
    assert loss == pytest.approx(-np.log(np.finfo(np.float64).tiny) / 2)
    assert cross_entropy(targets, targets) == 0.0


def test_cross_entropy_in_float32_is_finite_at_probability_zero():
    loss = cross_entropy(np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32)[::-1])
    assert np.isfinite(loss)


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert one_hot(np.array([1], dtype=np.uint8), 2, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 3], r"label 3 at position 1 lies outside \[0, 3\)"),
        ([-1], r"label -1 at position 0 lies outside"),
        ([[0, 1]], r"labels must be a 1-D array.*shape \(1, 2\)"),
        ([0.5], r"whole numbers"),
        (["a"], r"labels has dtype <U1"),
        ([1e20], r"label 1e\+20 at position 0 lies outside \[0, 3\)"),
    ],
)
def test_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        one_hot(labels, 3)


@pytest.mark.parametrize(
    ("targets", "outputs", "message"),
    [
        (np.eye(2), np.eye(3), r"targets have shape \(2, 2\) but outputs have shape \(3, 3\)"),
        (np.eye(2), np.array([[np.nan, 1], [0, 1]]), r"outputs holds non-finite.*row 0, col"),
        (np.eye(2), np.array([[2.0, -1], [0, 1]]), r"outputs must be probabilities in \[0, 1\]"),
        (np.eye(2), np.ones(2), r"outputs must be a 2-D array"),
        (np.eye(2)[:0], np.eye(2)[:0], r"outputs is empty"),
        (np.eye(1024, dtype=np.float16)[:1], np.zeros((1, 1024), np.float16),
         r"outputs must be distributions .*within 0.004.*sums to 0"),
        (np.full((1, 2), 1e300), np.full((1, 2), 0.5, np.float32),
         r"targets holds values beyond the range of float32 \(the largest is 1e\+300"),
    ],
)
def test_cross_entropy_rejects_bad_input(targets, outputs, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(targets, outputs)


@pytest.mark.parametrize(
    ("outputs", "sums"),
    [([[1.0, 1.0]], "sums to 2"), ([[0.5, 0.4]], "sums to 0.9"), ([[0.0, 0.0]], "sums to 0")],
    ids=["all ones", "short of 1", "all zeros"],
)
def test_outputs_that_are_not_distributions_are_refused(outputs, sums):
    with pytest.raises(ValueError, match=f"outputs must be distributions.*row 0.*{sums}"):
        cross_entropy([[1.0, 0.0]], outputs)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_a_softmax_in_any_float_dtype_is_a_distribution(dtype):
    rng = np.random.default_rng(0)
    outputs = softmax(rng.normal(0, 5, (1000, 10))).astype(dtype)
    assert np.isfinite(cross_entropy(one_hot(rng.integers(0, 10, 1000), 10), outputs))


def test_one_hot_rows_that_cannot_fit_in_memory_are_refused_before_allocating():
    with pytest.raises(ValueError, match=r"the one-hot rows needs .* GiB, more than"):
        one_hot([1], 10**15)
