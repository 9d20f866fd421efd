r"""The cross-entropy loss, one-hot targets, and the loss's gradient at the output layer.

For a batch of :math:`N` samples with one-hot targets :math:`y` and softmax outputs
:math:`\hat y` over :math:`K` classes, the loss the network minimises is

.. math::

    C = -\frac{1}{N} \sum_{n=1}^{N} \sum_{k=1}^{K} y_{nk} \ln \hat y_{nk},

and its gradient with respect to the output layer's pre-activations is the famous
:math:`\partial C / \partial z_{nk} = (\hat y_{nk} - y_{nk}) / N`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from backprop._checks import check_labels, check_matrix, encode_one_hot

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
    return encode_one_hot(check_labels(labels, num_classes), num_classes, dtype)


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
    outputs = check_matrix(outputs, "outputs")
    if outputs.dtype.kind != "f":
        outputs = outputs.astype(np.float64)
    targets = check_matrix(targets, "targets", dtype=outputs.dtype)
    if targets.shape != outputs.shape:
        raise ValueError(
            f"targets have shape {targets.shape} but outputs have shape {outputs.shape}; "
            "they must match"
        )
    if outputs.min() < 0 or outputs.max() > 1:
        raise ValueError(
            f"outputs must be probabilities in [0, 1], got values from {outputs.min()} "
            f"to {outputs.max()}"
        )
    return mean_cross_entropy(targets, outputs)


def mean_cross_entropy(targets: Array, outputs: Array) -> float:
    """:func:`cross_entropy` without its input checks, for arrays known to be good.

    Derivation: ``softmax-cross-entropy`` (:mod:`backprop.derivations`).
    """
    tiny = np.finfo(outputs.dtype).tiny
    return float(-np.sum(targets * np.log(np.maximum(outputs, tiny))) / outputs.shape[0])


def cross_entropy_delta(targets: Array, outputs: Array) -> Array:
    r"""Gradient of the mean cross-entropy with respect to the softmax layer's logits.

    Chaining the loss's gradient :math:`-y_k / \hat y_k` through the softmax Jacobian
    :math:`\hat y_k([k = m] - \hat y_m)` leaves, for one-hot (indeed any normalised)
    targets,

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
    Derivation: ``softmax-cross-entropy`` (:mod:`backprop.derivations`).
    """
    delta = outputs - targets
    delta /= outputs.shape[0]
    return delta
