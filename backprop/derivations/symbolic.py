"""Arrays of SymPy symbols, and the package's own functions run on them.

The proofs of :mod:`backprop.derivations` feed these arrays to the very functions the trainer
calls, looked up where the package keeps them at the moment of the proof, and compare what
comes out with SymPy's own differentiation.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from itertools import pairwise

import numpy as np
import sympy as sp

from backprop import activations, elementary, losses, network
from backprop.activations import Activation

ObjectArray = np.ndarray


def matrix(name: str, rows: int, columns: int, **assumptions: bool) -> ObjectArray:
    """An object array of distinct symbols ``name_rc``, counted from 1 (real unless told)."""
    assumptions = {"real": True, **assumptions}
    entries = np.empty((rows, columns), dtype=object)
    for r, c in np.ndindex(rows, columns):
        entries[r, c] = sp.Symbol(f"{name}_{r + 1}{c + 1}", **assumptions)
    return entries


def weight_matrices(sizes: list[int], **assumptions: bool) -> list[ObjectArray]:
    r""":math:`W^{(1)}, \dots, W^{(L)}` of symbols ``wl_rc``, each ``(fan_in, fan_out)``."""
    return [matrix(f"w{l}", n_in, n_out, **assumptions)
            for l, (n_in, n_out) in enumerate(pairwise(sizes), start=1)]


def targets(samples: int, classes: int) -> ObjectArray:
    """Target rows of symbols that sum to 1: one-hot rows are the case that matters."""
    rows = np.empty((samples, classes), dtype=object)
    for n in range(samples):
        free = sp.symbols(f"y_{n + 1}1:{n + 1}{classes}", real=True)
        rows[n, :-1] = free
        rows[n, -1] = 1 - sum(free)
    return rows


_f = sp.Function("f")
_t = sp.Symbol("t")


ANY_ACTIVATION = Activation(
    "f",
    lambda z: elementary.each(_f, z),
    lambda a: elementary.each(lambda entry: sp.Derivative(_f(_t), _t).subs(_t, entry.args[0]),
                              a),
)
"""An undefined differentiable activation :math:`f`, with :math:`f'` read off :math:`a = f(z)`:
a proof through it holds for every activation."""

A, S = sp.symbols("A S", positive=True)


def activation(name: str) -> Activation:
    """The activation the trainer would use under ``name``, as the package holds it now.

    The improved sigmoid's amplitude and slope become the symbols :data:`A` and :data:`S`,
    so that a proof holds for all of them (and so for 1.7159 and 2/3) in exact arithmetic.
    """
    if name == "f":
        return ANY_ACTIVATION
    record = activations.ACTIVATIONS[name]
    if name == "improved_sigmoid":
        return Activation(name, partial(record.function, scale=A, slope=S),
                          partial(record.derivative, scale=A, slope=S))
    return record


def network_residuals(
    sizes: list[int], samples: int, activation_name: str, **assumptions: bool
) -> Iterator[sp.Basic]:
    """Backpropagation against :func:`sympy.diff`, through the package's own network.

    Builds weights ``(fan_in, fan_out)``, inputs and targets of symbols; runs
    :func:`backprop.network.forward`, :func:`backprop.losses.mean_cross_entropy`,
    :func:`backprop.losses.cross_entropy_delta` and :func:`backprop.network.backward`; and
    yields, for every weight, SymPy's derivative of the package's loss minus the package's
    gradient.
    """
    f = activation(activation_name)
    weights = weight_matrices(sizes, **assumptions)
    X = matrix("x", samples, sizes[0], **assumptions)
    Y = targets(samples, sizes[-1])
    a = network.forward(weights, X, f)
    cost = losses.mean_cross_entropy(Y, a[-1])
    gradients = network.backward(weights, a, losses.cross_entropy_delta(Y, a[-1]), f)
    for W, gradient in zip(weights, gradients, strict=True):
        for index in np.ndindex(W.shape):
            yield sp.diff(cost, W[index]) - gradient[index]
