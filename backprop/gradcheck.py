r"""Checking backpropagation against central differences.

For a loss :math:`C(w)` and a small :math:`\epsilon`, Taylor's theorem gives

.. math::

    \frac{C(w + \epsilon) - C(w - \epsilon)}{2\epsilon}
    = \frac{\partial C}{\partial w} + \frac{\epsilon^2}{6}\frac{\partial^3 C}{\partial w^3}
    + O(\epsilon^4),

so the central difference agrees with the true derivative to :math:`O(\epsilon^2)`: with the
course's :math:`\epsilon = 10^{-3}`, to about :math:`10^{-6}` where the third derivative is of
order one. Rounding adds an error of about :math:`u\,|C| / \epsilon`, with :math:`u` the unit
roundoff: :math:`10^{-13}` in float64, but :math:`10^{-4}` in float32, which is why the check
runs in float64 only.

The step is therefore bounded on both sides. Below :math:`\sqrt{u}` (:func:`smallest_epsilon`,
:math:`1.5 \cdot 10^{-8}` in float64) the two perturbed losses differ by little more than their
own rounding: the rounding error :math:`u|C|/\epsilon` exceeds :math:`\sqrt{u}\,|C|`, as large
as the discrepancies of a wrong gradient, and the check would report rounding as if it were a
measurement (at :math:`\epsilon = 10^{-300}` the perturbation vanishes altogether:
:math:`w + \epsilon = w`). Above :data:`LARGEST_EPSILON` the step is no longer small against
weights whose scale is 1 or less, and the truncation error
:math:`\frac{\epsilon^2}{6} \partial^3 C / \partial w^3` approaches the derivative itself.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from backprop.checks import int_in_range, look_up, real_in_range
from backprop.checks import seed as seed_value
from backprop.losses import cross_entropy_delta, mean_cross_entropy
from backprop.network import MLP, backward, forward

MAX_DIRECTIONS = 100_000
"""The most random directions per layer a check may ask for."""

LARGEST_EPSILON = 0.1
"""The largest step :func:`gradient_check` takes: beyond it a difference is no derivative."""


def smallest_epsilon(dtype: DTypeLike = np.float64) -> float:
    r"""The smallest step whose central difference measures more than rounding: :math:`\sqrt{u}`.

    :math:`u` is the machine epsilon of ``dtype``: :math:`1.5 \cdot 10^{-8}` in float64.
    """
    return float(np.sqrt(np.finfo(dtype).eps))


def gradient_check(
    model: MLP,
    X: ArrayLike,
    targets: ArrayLike,
    epsilon: float = 1e-3,
    *,
    method: Literal["every_weight", "random_directions"] = "every_weight",
    num_directions: int = 10,
    seed: int = 0,
) -> NDArray[np.float64]:
    r"""Compare :meth:`MLP.backward` with central differences of the loss.

    ``"every_weight"`` perturbs each weight :math:`w` in turn, as the assignment's appendix
    does, and compares :math:`(C(w + \epsilon) - C(w - \epsilon)) / 2\epsilon` with the
    backpropagated :math:`\partial C / \partial w`: two forward passes per weight.

    ``"random_directions"`` is the cheap check for deep or wide networks: for each layer it
    draws ``num_directions`` random unit directions :math:`d` in that layer's weight space and
    compares :math:`(C(W + \epsilon d) - C(W - \epsilon d)) / 2\epsilon` with the directional
    derivative :math:`\langle \nabla_W C, d \rangle`: two forward passes per direction.
    A wrong gradient entry shows up in almost every random direction.

    The network's weights are restored exactly afterwards.

    Parameters
    ----------
    model : MLP
        A float64 network (see :meth:`MLP.astype`).
    X : array, shape (N, input_size)
        Inputs.
    targets : array, shape (N, num_classes) or (N,)
        One-hot targets, or integer class labels.
    epsilon : float
        The step :math:`\epsilon`.
    method : {"every_weight", "random_directions"}
        Which check to run.
    num_directions : int
        Directions per layer, for ``"random_directions"``.
    seed : int
        Seeds the random directions.

    Returns
    -------
    array of float64, shape (L,)
        The largest absolute discrepancy between the two derivatives in each weight matrix.

    Raises
    ------
    ValueError
        If the network is not float64, ``epsilon`` lies outside :math:`[\sqrt{u}, 0.1]`
        (see :func:`smallest_epsilon`), or the inputs or targets are malformed.
    FloatingPointError
        If the inputs overflow a layer (see :meth:`MLP.check_inputs`), or a perturbed loss
        does.
    """
    if not isinstance(model, MLP):
        raise ValueError(f"model must be a backprop.MLP, got {type(model).__name__}")
    if model.dtype != np.float64:
        raise ValueError(
            f"gradient_check needs a float64 network, this one is {model.dtype}: rounding in "
            "lower precision swamps the central difference; use model.astype(numpy.float64)"
        )
    smallest = smallest_epsilon(model.dtype)
    try:
        epsilon = real_in_range(epsilon, "epsilon", smallest, LARGEST_EPSILON, high_open=False)
    except ValueError as error:
        raise ValueError(f"{error}: below {smallest:.2g} the central difference measures the "
                         f"loss's rounding, above {LARGEST_EPSILON} it is no derivative"
                         ) from None
    check = look_up(
        {"every_weight": _every_weight, "random_directions": _random_directions},
        method,
        "method",
    )
    # More directions than weights is never needed (every_weight is then exact and cheaper).
    num_directions = int_in_range(num_directions, "num_directions", 1, MAX_DIRECTIONS)
    seed = seed_value(seed)
    X, targets = model.check_batch(X, targets)
    weights, activation = model.weights, model.activation
    a = forward(weights, X, activation)
    delta = cross_entropy_delta(targets, a[-1])
    gradients = backward(weights, a, delta, activation)

    def loss() -> float:
        return float(mean_cross_entropy(targets, forward(weights, X, activation)[-1]))

    discrepancies = np.array(
        [
            check(W, gradient, loss, epsilon, num_directions, seed + layer)
            for layer, (W, gradient) in enumerate(zip(model.weights, gradients, strict=True))
        ]
    )
    if not np.isfinite(discrepancies).all():
        raise FloatingPointError(
            f"a central difference is not finite (discrepancies {discrepancies.tolist()}): "
            "the perturbed losses overflowed")
    return discrepancies


def _nan_first(discrepancy: float) -> float:
    """Order discrepancies so that a NaN is the largest, and is never dropped by max()."""
    return np.inf if np.isnan(discrepancy) else discrepancy


def _every_weight(W, gradient, loss, epsilon, num_directions, seed) -> float:
    largest = 0.0
    for index in np.ndindex(W.shape):
        w = W[index]
        W[index] = w + epsilon
        loss_plus = loss()
        W[index] = w - epsilon
        loss_minus = loss()
        W[index] = w
        numerical = (loss_plus - loss_minus) / (2 * epsilon)
        largest = max(largest, abs(numerical - gradient[index]), key=_nan_first)
    return largest


def _random_directions(W, gradient, loss, epsilon, num_directions, seed) -> float:
    rng = np.random.default_rng(seed)
    original = W.copy()
    largest = 0.0
    for _ in range(num_directions):
        d = rng.standard_normal(W.shape)
        d /= np.linalg.norm(d)
        W[...] = original + epsilon * d
        loss_plus = loss()
        W[...] = original - epsilon * d
        loss_minus = loss()
        W[...] = original
        numerical = (loss_plus - loss_minus) / (2 * epsilon)
        largest = max(largest, abs(numerical - np.sum(gradient * d)), key=_nan_first)
    return largest
