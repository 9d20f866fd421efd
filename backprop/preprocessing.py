r"""Pre-processing as the assignment does it: standardise the pixels, append the bias input.

Every pixel :math:`x` of every set becomes :math:`(x - \mu) / \sigma`, with :math:`\mu` and
:math:`\sigma` the mean and standard deviation of *all pixels of the training set*. The
validation and test sets use the training set's values, never their own: they stand for
data the network has not seen, whose statistics it cannot know. Then a column of ones is
appended, the bias input whose weights play the part of each first-layer unit's bias.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from backprop._checks import check_matrix


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
    """
    images = check_matrix(images, "images")
    return float(images.mean(dtype=np.float64)), float(images.std(dtype=np.float64))


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
    """
    if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
        raise ValueError(f"need a finite mean and a positive std, got mean={mean}, std={std}")
    images = check_matrix(images, "images")
    X = np.empty((images.shape[0], images.shape[1] + 1), dtype=dtype)
    # Computed in float64 and rounded once, so float32 inputs are the rounded float64 ones.
    X[:, :-1] = (images - np.float64(mean)) / np.float64(std)
    X[:, -1] = 1
    return X
