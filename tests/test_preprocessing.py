import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backprop.preprocessing import normalize, pixel_statistics

pixels = arrays(np.uint8, st.tuples(st.integers(1, 20), st.integers(2, 30)))


@given(pixels)
def test_statistics_are_those_of_all_pixels(images):
    mean, std = pixel_statistics(images)
    flat = images.astype(np.float64).ravel()
    assert mean == pytest.approx(flat.sum() / flat.size, rel=1e-12)
    assert std == pytest.approx(np.sqrt(np.mean((flat - flat.mean()) ** 2)), rel=1e-9, abs=1e-12)


@given(pixels.filter(lambda images: images.min() != images.max()))
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
        (np.ones((2, 3)), 0.0, 0.0, r"positive std, got mean=0.0, std=0.0"),
        (np.ones((2, 3)), np.nan, 1.0, r"finite mean"),
        (np.ones(3), 0.0, 1.0, r"images must be a 2-D array"),
        (np.array([[np.inf, 1]]), 0.0, 1.0, r"images holds non-finite values"),
    ],
)
def test_bad_input(images, mean, std, message):
    with pytest.raises(ValueError, match=message):
        normalize(images, mean, std)
