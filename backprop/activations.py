r"""Activation functions, each written beside its derivative.

Backpropagation needs :math:`f'(z)` at every hidden unit. Each derivative here is written in
terms of the activation :math:`a = f(z)` that the forward pass has already computed, so the
backward pass needs no second look at :math:`z`:

====================  ==============================  =========================================
name                  the function :math:`a = f(z)`   :math:`f'(z)` in terms of :math:`a`
====================  ==============================  =========================================
``sigmoid``           :math:`1 / (1 + e^{-z})`        :math:`a (1 - a)`
``improved_sigmoid``  :math:`1.7159 \tanh(2z/3)`      :math:`\tfrac{2}{3}(1.7159 - a^2/1.7159)`
``relu``              :math:`\max(0, z)`              :math:`[a > 0]`
====================  ==============================  =========================================

The output layer is always :func:`softmax`, whose derivative :func:`softmax_derivative` is a
Jacobian; combined with the cross-entropy loss it collapses to :math:`\hat y - y` per sample,
:math:`(\hat y - y)/N` for the batch's mean (see :func:`backprop.losses.cross_entropy_delta`).

Every function here is plain mathematics: it checks nothing, and runs on float arrays and on
object arrays of SymPy expressions alike (through :mod:`backprop.elementary`), which is how
:mod:`backprop.derivations` proves these very functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop import elementary
from backprop.checks import look_up

Array = NDArray[np.floating]


def sigmoid(z: Array) -> Array:
    r"""The logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    Computed as :math:`\tfrac12 + \tfrac12\tanh(z/2)`, an identity that never overflows: the
    textbook form evaluates :math:`e^{-z}`, which overflows for :math:`z < -709` in float64
    (and :math:`z < -88` in float32).

    Parameters
    ----------
    z : array of floats
        Pre-activations, any shape.

    Returns
    -------
    array of floats
        :math:`\sigma(z)` in :math:`[0, 1]`, same shape and dtype as ``z``.

    Notes
    -----
    Derivations: ``sigmoid-derivative``, ``sigmoid-tanh-form``, ``delta-recurrence``,
    ``output-delta-general`` and ``sigmoid-slope-bound`` (:mod:`backprop.derivations`) run it
    on symbols.
    """
    # Halving is exact in binary floating point, so (1 + t) / 2 rounds as 0.5 + 0.5 t does.
    a = np.divide(z, 2)
    elementary.tanh(a, out=a)
    a += 1
    a /= 2
    return a


def sigmoid_derivative(a: Array) -> Array:
    r"""Derivative of :func:`sigmoid`, from its output: :math:`\sigma'(z) = a (1 - a)`.

    Parameters
    ----------
    a : array of floats
        The sigmoid's output :math:`a = \sigma(z)`.

    Returns
    -------
    array of floats
        :math:`\sigma'(z)`, same shape and dtype as ``a``.

    Notes
    -----
    Derivations: ``sigmoid-derivative``, ``delta-recurrence``, ``output-delta-general`` and
    ``sigmoid-slope-bound`` (:mod:`backprop.derivations`) run it on symbols.
    """
    return a * (1 - a)


IMPROVED_SIGMOID_SCALE = 1.7159
r"""The amplitude :math:`A = 1.7159` of LeCun's improved sigmoid, chosen so that
:math:`f(\pm 1) = \pm 1`."""

IMPROVED_SIGMOID_SLOPE = 2 / 3
r"""The slope :math:`S = 2/3` inside LeCun's improved sigmoid :math:`A \tanh(S z)`."""


def improved_sigmoid(
    z: Array, scale: float = IMPROVED_SIGMOID_SCALE, slope: float = IMPROVED_SIGMOID_SLOPE
) -> Array:
    r"""LeCun's improved sigmoid :math:`f(z) = A \tanh(S z) = 1.7159 \tanh(2z/3)`.

    Symmetric about the origin (so the next layer's inputs have mean near zero), with
    :math:`f(\pm1) = \pm1` and its steepest, most useful region around :math:`|z| \le 1`
    (LeCun et al., *Efficient BackProp*, 1998).

    Parameters
    ----------
    z : array of floats
        Pre-activations, any shape.
    scale, slope : float
        :math:`A` and :math:`S`; the derivation passes symbols to prove the pair for all.

    Returns
    -------
    array of floats
        :math:`f(z)` in :math:`(-1.7159, 1.7159)`, same shape and dtype as ``z``.

    Notes
    -----
    Derivations: ``improved-sigmoid-derivative`` and ``delta-recurrence``
    (:mod:`backprop.derivations`) run it on symbols.
    """
    a = np.multiply(z, slope)
    elementary.tanh(a, out=a)
    a *= scale
    return a


def improved_sigmoid_derivative(
    a: Array, scale: float = IMPROVED_SIGMOID_SCALE, slope: float = IMPROVED_SIGMOID_SLOPE
) -> Array:
    r"""Derivative of :func:`improved_sigmoid`, from its output.

    With :math:`A = 1.7159`, :math:`S = 2/3` and :math:`a = A\tanh(Sz)`,

    .. math::

        f'(z) = A S \left(1 - \tanh^2(Sz)\right) = S\left(A - \frac{a^2}{A}\right).

    Parameters
    ----------
    a : array of floats
        The improved sigmoid's output :math:`a = f(z)`.
    scale, slope : float
        :math:`A` and :math:`S`, as given to :func:`improved_sigmoid`.

    Returns
    -------
    array of floats
        :math:`f'(z)`, same shape and dtype as ``a``.

    Notes
    -----
    Derivations: ``improved-sigmoid-derivative`` and ``delta-recurrence``
    (:mod:`backprop.derivations`) run it on symbols.
    """
    return slope * (scale - a * a / scale)


def relu(z: Array) -> Array:
    r"""The rectified linear unit :math:`\max(0, z)`.

    Parameters
    ----------
    z : array of floats
        Pre-activations, any shape.

    Returns
    -------
    array of floats
        :math:`\max(0, z)`, same shape and dtype as ``z``.

    Notes
    -----
    Derivation: ``relu-derivative`` (:mod:`backprop.derivations`) run it on symbols.
    """
    return elementary.positive_part(z)


def relu_derivative(a: Array) -> Array:
    r"""Derivative of :func:`relu`, from its output: :math:`1` where :math:`a > 0`, else :math:`0`.

    At :math:`z = 0` the ReLU has no derivative; like every framework we take the
    subgradient :math:`0` there.

    Parameters
    ----------
    a : array of floats
        The ReLU's output :math:`a = \max(0, z)`.

    Returns
    -------
    array of floats
        :math:`[a > 0]` as 0.0 or 1.0, same shape and dtype as ``a``.

    Notes
    -----
    Derivations: ``relu-derivative`` and ``delta-recurrence`` (:mod:`backprop.derivations`)
    run it on symbols.
    """
    return elementary.indicator_positive(a)


def softmax(z: Array) -> Array:
    r"""The softmax over the last axis, :math:`\hat y_k = e^{z_k} / \sum_{k'} e^{z_{k'}}`.

    Softmax is unchanged by adding a constant to every logit of a row, so each row's largest
    logit is subtracted first: every exponent is then at most :math:`0` and nothing can
    overflow, whatever the logits' size (the largest term is exactly :math:`e^0 = 1`, so the
    sum is at least 1 and nothing divides by zero).

    Parameters
    ----------
    z : array of floats, shape (N, K)
        Logits: one row per sample, one column per class.

    Returns
    -------
    array of floats, shape (N, K)
        Probabilities; every row sums to 1.

    Notes
    -----
    Derivations: ``softmax-shift-invariance``, ``softmax-jacobian``,
    ``softmax-cross-entropy`` and ``hidden-layer-update`` (:mod:`backprop.derivations`) run it
    on symbols.
    """
    e = z - elementary.row_max(z)
    elementary.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_derivative(a: Array) -> Array:
    r"""The Jacobian of :func:`softmax`, from its output: :math:`\partial \hat y_k / \partial z_m`.

    .. math::

        \frac{\partial \hat y_k}{\partial z_m} = \hat y_k\,([k = m] - \hat y_m).

    The network never builds this :math:`K \times K` matrix: followed by the cross-entropy
    loss, the product of this Jacobian with one sample's loss gradient collapses to
    :math:`\hat y - y` (over :math:`N` for the batch's mean:
    :func:`backprop.losses.cross_entropy_delta`).

    Parameters
    ----------
    a : array of floats, shape (N, K)
        Softmax outputs.

    Returns
    -------
    array of floats, shape (N, K, K)
        One Jacobian per sample; entry ``[n, k, m]`` is :math:`\partial a_{nk}/\partial z_{nm}`.

    Notes
    -----
    Derivation: ``softmax-jacobian`` (:mod:`backprop.derivations`) run it on symbols.
    """
    return a[:, :, None] * (np.eye(a.shape[-1], dtype=a.dtype) - a[:, None, :])


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation function paired with its derivative.

    Attributes
    ----------
    name : str
        The name :class:`backprop.MLP` accepts for it.
    function : callable
        :math:`a = f(z)`, elementwise.
    derivative : callable
        :math:`f'(z)` computed from :math:`a`, elementwise.
    """

    name: str
    function: Callable[[Array], Array]
    derivative: Callable[[Array], Array]


ACTIVATIONS: dict[str, Activation] = {
    activation.name: activation
    for activation in (
        Activation("sigmoid", sigmoid, sigmoid_derivative),
        Activation("improved_sigmoid", improved_sigmoid, improved_sigmoid_derivative),
        Activation("relu", relu, relu_derivative),
    )
}
"""The hidden-layer activations by name.

:meta hide-value:
"""


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name (an :class:`Activation` is returned as it is).

    Raises
    ------
    ValueError
        If no activation has that name; the message lists the names there are.
    """
    if isinstance(name, Activation):
        return name
    return look_up(ACTIVATIONS, name, "activation")
