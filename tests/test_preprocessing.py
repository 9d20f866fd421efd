import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backprop.preprocessing import assignment_data, normalize, pixel_statistics

pixels = arrays(np.uint8, st.tuples(st.integers(1, 20), st.integers(2, 30)))


@given(pixels)
def test_statistics_are_those_of_all_pixels(images):
    mean, std = pixel_statistics(images)
    flat = images.astype(np.float64).ravel()
    assert mean == pytest.approx(flat.sum() / flat.size, rel=1e-12)
    assert std == pytest.approx(np.sqrt(np.mean((flat - flat.mean()) ** 2)), rel=1e-9, abs=1e-12)


@st.composite
def varied_pixels(draw):
    """Images with at least two distinct pixel values, so that their deviation is positive."""
    images = draw(pixels)
    images[0, 0], images[-1, -1] = 0, 255
    return images


@given(varied_pixels())
def test_training_set_becomes_zero_mean_unit_deviation_with_bias(images):
    X = normalize(images, *pixel_statistics(images))
    assert X.shape == (images.shape[0], images.shape[1] + 1)
    np.testing.assert_array_equal(X[:, -1], 1)
    assert abs(X[:, :-1].mean()) < 1e-9
    assert X[:, :-1].std() == pytest.approx(1, rel=1e-9)


def test_other_sets_use_the_given_statistics():
    X = normalize(np.array([[0, 100], [200, 50]], dtype=np.uint8), mean=50.0, std=25.0)
    np.testing.assert_array_equal(X, [[-2, 2, 1], [6, 0, 1]])


def test_float32_is_the_rounded_float64():
    images = np.random.default_rng(0).integers(0, 256, (5, 784), dtype=np.uint8)
    single = normalize(images, 33.55, 78.88, dtype=np.float32)
    assert single.dtype == np.float32
    np.testing.assert_array_equal(single, normalize(images, 33.55, 78.88).astype(np.float32))


@pytest.mark.parametrize(
    ("images", "mean", "std", "message"),
    [
        (np.ones((2, 3)), 0.0, 0.0, r"std must be a real number in \(0, inf\), got 0.0"),
        (np.ones((2, 3)), np.nan, 1.0, r"mean must be a real number in \(-inf, inf\), got nan"),
        (np.ones(3), 0.0, 1.0, r"images must be a 2-D array"),
        (np.array([[np.inf, 1]]), 0.0, 1.0, r"images holds non-finite values"),
    ],
)
def test_bad_input(images, mean, std, message):
    with pytest.raises(ValueError, match=message):
        normalize(images, mean, std)


@pytest.mark.skipif(not os.environ.get("BACKPROP_DATA_DIR"),
                    reason="set BACKPROP_DATA_DIR to a directory with the MNIST files")
def test_assignment_data_is_the_assignment_split():
    data = assignment_data(dtype="float64")
    assert data.X_train.shape == (20_000, 785)
    assert data.X_val.shape == (10_000, 785)
    np.testing.assert_array_equal(data.X_train[:, -1], 1)
    assert abs(data.X_train[:, :-1].mean()) < 1e-9
    # The runs' float32 inputs are the float64 ones, each rounded once.
    single = assignment_data()
    assert single.X_train.dtype == np.float32
    np.testing.assert_array_equal(single.X_train, data.X_train.astype(np.float32))
    assert data.y_train[0] == 5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: normalize(np.full((2, 3), 1e308), 0.0, 1e-10),
         r"standardising images overflowed float64: their largest value is 1e\+308"),
        (lambda: normalize(np.full((2, 3), 1e39), 0.0, 1.0, dtype=np.float32),
         r"standardising images overflowed float32: their largest value is 1e\+39"),
    ],
    ids=["normalised float64", "normalised float32"],
)
def test_arithmetic_that_overflows_is_an_error(call, message):
    with pytest.raises(FloatingPointError, match=message):
        call()


@pytest.mark.parametrize(
    ("images", "mean", "std"),
    [(np.full((2, 3), 1e308), 1e308, 0.0), (np.array([[1e308, -1e308]]), 0.0, 1e308),
     (np.array([[1e154, -1e154]]), 0.0, 1e154)],
    ids=["a sum beyond float64", "squares beyond float64", "squares beyond float64, small"],
)
def test_statistics_whose_sums_overflow_are_computed_on_scaled_pixels(images, mean, std):
    assert pixel_statistics(images) == pytest.approx((mean, std), rel=1e-15)
