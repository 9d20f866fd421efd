r"""Pre-processing as the assignment does it: standardise the pixels, append the bias input.

Every pixel :math:`x` of every set becomes :math:`(x - \mu) / \sigma`, with :math:`\mu` and
:math:`\sigma` the mean and standard deviation of *all pixels of the training set*. The
validation and test sets use the training set's values, never their own: they stand for
data the network has not seen, whose statistics it cannot know. Then a column of ones is
appended, the bias input whose weights play the part of each first-layer unit's bias.

:func:`assignment_data` does all of it to the assignment's split of MNIST and returns a
:class:`Dataset`, whose digest keys the results store.
"""

from __future__ import annotations

import hashlib
import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from backprop.checks import (
    check_matrix,
    float_dtype,
    largest_magnitude,
    positive_int,
    real_in_range,
)
from backprop.data import load_assignment_split


def pixel_statistics(images: ArrayLike) -> tuple[float, float]:
    r"""Mean :math:`\mu` and standard deviation :math:`\sigma` over all pixels of a set.

    .. math::

        \mu = \frac{1}{NP}\sum_{n,p} x_{np}, \qquad
        \sigma = \sqrt{\frac{1}{NP}\sum_{n,p} (x_{np} - \mu)^2},

    computed in float64 whatever the images' dtype (the population standard deviation, as
    numpy's ``std`` computes it).

    Parameters
    ----------
    images : array, shape (N, P)
        One flattened image per row.

    Returns
    -------
    (float, float)
        :math:`\mu` and :math:`\sigma`.

    Raises
    ------
    ValueError
        If the images are not a finite, non-empty 2-D array.
    FloatingPointError
        If either figure overflows float64 (a standard deviation of pixels near its largest
        value); a sum that overflows on the way is computed again on scaled pixels.
    """
    images = check_matrix(images, "images")
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(images.mean(dtype=np.float64)), float(images.std(dtype=np.float64))
        if not (math.isfinite(mean) and math.isfinite(std)):
            # A sum or a square overflowed on the way: the same figures of the pixels scaled
            # into [-1, 1], scaled back, overflow only if the figures themselves do.
            scale = largest_magnitude(images)
            scaled = images / scale
            mean, std = scale * float(scaled.mean()), scale * float(scaled.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise FloatingPointError(
            f"the pixel statistics of images overflowed (mean {mean}, standard deviation "
            f"{std}): their largest value is {largest_magnitude(images):.3g} in absolute value")
    return mean, std


def normalize(
    images: ArrayLike, mean: float, std: float, *, dtype: DTypeLike = np.float64
) -> NDArray[np.floating]:
    r"""Standardise pixels with a given mean and deviation and append the bias column.

    Parameters
    ----------
    images : array, shape (N, P)
        One flattened image per row (``P = 784`` for MNIST).
    mean, std : float
        :math:`\mu` and :math:`\sigma`, from :func:`pixel_statistics` of the *training* set.
    dtype : numpy float dtype
        The dtype of the result.

    Returns
    -------
    array, shape (N, P + 1)
        :math:`(x - \mu)/\sigma` for every pixel, then a column of ones.

    Raises
    ------
    ValueError
        If the images are not a finite 2-D array, or ``std`` is not positive.
    FloatingPointError
        If a standardised value overflows the dtype (huge pixels, or a tiny ``std``).
    """
    mean = real_in_range(mean, "mean")
    std = real_in_range(std, "std", 0, low_open=True)
    dtype = float_dtype(dtype)
    images = check_matrix(images, "images")
    X = np.empty((images.shape[0], images.shape[1] + 1), dtype=dtype)
    # Computed in float64 and rounded once, so float32 inputs are the rounded float64 ones.
    with np.errstate(over="ignore", invalid="ignore"):
        X[:, :-1] = (images - np.float64(mean)) / np.float64(std)
    if not np.isfinite(X[:, :-1]).all():
        raise FloatingPointError(
            f"standardising images overflowed {dtype}: their largest value is "
            f"{largest_magnitude(images):.3g} in absolute value, and (x - {mean:.3g}) / "
            f"{std:.3g} does not fit")
    X[:, -1] = 1
    return X


class Dataset(NamedTuple):
    """Pre-processed inputs (bias column last) and integer labels, with their digest."""

    X_train: NDArray[np.floating]
    y_train: NDArray[np.int64]
    X_val: NDArray[np.floating]
    y_val: NDArray[np.int64]
    digest: str


def make_dataset(
    X_train: NDArray, y_train: NDArray, X_val: NDArray, y_val: NDArray
) -> Dataset:
    """Wrap prepared arrays with the SHA-256 of their bytes, which keys the results."""
    arrays = [np.ascontiguousarray(a) for a in (X_train, y_train, X_val, y_val)]
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return Dataset(*arrays, digest.hexdigest())


def with_dtype(data: Dataset, dtype: str) -> Dataset:
    """The dataset with its inputs rounded to ``dtype`` (itself, if they already are).

    Rounding float64 inputs to float32 gives the same bits as normalising in float32, since
    :func:`normalize` rounds once from float64.
    """
    dtype = float_dtype(dtype)
    if data.X_train.dtype == dtype and data.X_val.dtype == dtype:
        return data
    return make_dataset(data.X_train.astype(dtype), data.y_train, data.X_val.astype(dtype),
                        data.y_val)


def assignment_data(
    train_size: int = 20_000, dtype: str = "float32", data_dir: str | None = None
) -> Dataset:
    """MNIST as the assignment prepares it: the split, standardised by the training set.

    Raises
    ------
    ValueError
        If ``train_size`` is not a positive integer or ``dtype`` not float32 or float64.
    """
    train_size = positive_int(train_size, "train_size")
    dtype = float_dtype(dtype)
    split = load_assignment_split(data_dir, train_size=train_size)
    mean, std = pixel_statistics(split.train_images)
    return make_dataset(
        normalize(split.train_images, mean, std, dtype=dtype),
        split.train_labels,
        normalize(split.val_images, mean, std, dtype=dtype),
        split.val_labels,
    )
