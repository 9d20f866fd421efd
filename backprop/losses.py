r"""The cross-entropy loss, one-hot targets, and the loss's gradient at the output layer.

For a batch of :math:`N` samples with one-hot targets :math:`y` and softmax outputs
:math:`\hat y` over :math:`K` classes, the loss the network minimises is

.. math::

    C = -\frac{1}{N} \sum_{n=1}^{N} \sum_{k=1}^{K} y_{nk} \ln \hat y_{nk},

the mean of the samples' losses :math:`C_n = -\sum_k y_{nk} \ln \hat y_{nk}`. One sample's
delta is the famous :math:`\partial C_n / \partial z_{nk} = \hat y_{nk} - y_{nk}`; the
gradient of the mean, which :func:`cross_entropy_delta` returns and the backward pass carries,
is that over :math:`N`: :math:`\partial C / \partial z_{nk} = (\hat y_{nk} - y_{nk}) / N`.

:func:`cross_entropy` and :func:`one_hot` check their inputs; :func:`mean_cross_entropy`,
:func:`negative_log_likelihood` and :func:`cross_entropy_delta` are the plain mathematics
that the network and the trainer call, and that :mod:`backprop.derivations` runs on symbols.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from backprop import elementary
from backprop.checks import (
    check_labels,
    check_probabilities,
    encode_one_hot,
    float_dtype,
    memory_fits,
    positive_int,
)

Array = NDArray[np.floating]


def one_hot(labels: ArrayLike, num_classes: int, dtype: DTypeLike = np.float64) -> Array:
    """Encode integer class labels as one-hot rows.

    Parameters
    ----------
    labels : array of ints, shape (N,)
        Class labels in ``[0, num_classes)``.
    num_classes : int
        The number of classes :math:`K`.
    dtype : numpy float dtype
        The dtype of the result.

    Returns
    -------
    array, shape (N, K)
        Row :math:`n` is all zeros but a one in column ``labels[n]``.

    Raises
    ------
    ValueError
        If ``labels`` is not a 1-D array of integers or a label lies outside
        ``[0, num_classes)``.
    """
    num_classes = positive_int(num_classes, "num_classes")
    labels, dtype = check_labels(labels, num_classes), float_dtype(dtype)
    memory_fits(labels.shape[0] * num_classes * dtype.itemsize, "the one-hot rows")
    return encode_one_hot(labels, num_classes, dtype)


def cross_entropy(targets: ArrayLike, outputs: ArrayLike) -> float:
    r"""Mean cross-entropy of predicted probabilities against targets.

    .. math::

        C = -\frac{1}{N} \sum_{n,k} y_{nk} \ln \hat y_{nk}

    A probability that rounds to zero would make :math:`\ln \hat y = -\infty` and
    :math:`0 \cdot \ln 0` a NaN, so probabilities are clipped from below at the smallest
    positive normal number of their dtype: a confidently wrong prediction costs a large
    finite loss (about 708 in float64, 87 in float32), never ``inf`` or ``nan``.

    Parameters
    ----------
    targets : array, shape (N, K)
        Target distributions, usually one-hot rows (see :func:`one_hot`).
    outputs : array, shape (N, K)
        Predicted probabilities, e.g. from :func:`backprop.activations.softmax`.

    Returns
    -------
    float
        The loss :math:`C`, averaged over the batch.

    Raises
    ------
    ValueError
        If the two arrays differ in shape, are not 2-D, are empty or hold non-finite values,
        or if an output lies outside :math:`[0, 1]`.

    Notes
    -----
    Derivation: ``softmax-cross-entropy`` (:mod:`backprop.derivations`) differentiates it.
    """
    targets, outputs = check_probabilities(targets, outputs)
    return float(mean_cross_entropy(targets, outputs))


def mean_cross_entropy(targets: Array, outputs: Array) -> np.floating:
    r"""The mean cross-entropy :math:`-\frac1N \sum_{n,k} y_{nk} \ln \hat y_{nk}`, unchecked.

    The reference form of the loss: every target enters, one-hot or not. Probabilities are
    floored as :func:`backprop.elementary.floored_log` says.

    Parameters
    ----------
    targets : array, shape (N, K)
        Target rows.
    outputs : array, shape (N, K)
        Predicted probabilities.

    Returns
    -------
    scalar
        The loss, in the outputs' dtype (a SymPy expression on symbols).

    Notes
    -----
    Derivations: ``softmax-cross-entropy``, ``hidden-layer-update`` and
    ``batched-gradient`` (:mod:`backprop.derivations`) run it on symbols.
    """
    return -np.sum(targets * elementary.floored_log(outputs)) / outputs.shape[0]


def negative_log_likelihood(labels: NDArray[np.intp], outputs: Array) -> np.floating:
    r"""The summed loss of labelled samples, :math:`-\sum_n \ln \hat y_{n, y_n}`, unchecked.

    With one-hot targets only the true class's term of the cross-entropy survives, so this
    is :math:`N` times :func:`mean_cross_entropy` with ``one_hot(labels)``, computed from
    :math:`N` probabilities instead of :math:`NK` products: the form that scores whole sets.
    A test ties the two to rounding.

    Parameters
    ----------
    labels : array of int, shape (N,)
        The true classes.
    outputs : array, shape (N, K)
        Predicted probabilities.

    Returns
    -------
    scalar
        The sum, not the mean, so that chunks of a set add up.

    Notes
    -----
    Derivation: ``softmax-cross-entropy`` (:mod:`backprop.derivations`) run it on symbols.
    """
    return -elementary.floored_log(outputs[np.arange(len(labels)), labels]).sum()


def cross_entropy_delta(targets: Array, outputs: Array) -> Array:
    r"""Gradient of the mean cross-entropy with respect to the softmax layer's logits.

    Chaining one sample's loss gradient :math:`-y_k / \hat y_k` through the softmax Jacobian
    :math:`\hat y_k([k = m] - \hat y_m)` leaves, for one-hot (indeed any normalised)
    targets, the sample's delta :math:`\hat y - y`; the mean over the batch divides each
    row by :math:`N`:

    .. math::

        \delta^{(L)} = \frac{\partial C}{\partial z^{(L)}} = \frac{\hat y - y}{N}.

    Parameters
    ----------
    targets : array, shape (N, K)
        Target rows, each summing to 1.
    outputs : array, shape (N, K)
        Softmax outputs :math:`\hat y`.

    Returns
    -------
    array, shape (N, K)
        :math:`\delta^{(L)}`, one row per sample.

    Notes
    -----
    Derivations: ``softmax-cross-entropy``, ``hidden-layer-update`` and
    ``batched-gradient`` (:mod:`backprop.derivations`) run it on symbols.
    """
    delta = outputs - targets
    delta /= outputs.shape[0]
    return delta
