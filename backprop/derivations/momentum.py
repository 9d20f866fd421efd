r"""The two momentum conventions of the assignment give the same weights.

LeCun's *Efficient BackProp* writes :math:`\Delta w(t+1) = \alpha g(t) + \gamma \Delta w(t)`,
:math:`w \leftarrow w - \Delta w(t+1)`; PyTorch and this package keep a velocity
:math:`v(t) = g(t) + \gamma v(t-1)` and take :math:`w \leftarrow w - \alpha v(t)`. With a
constant learning rate the first is :math:`\alpha` times the second at every step, by
induction, so both take the same path. The proof runs the package's own
:func:`backprop.training.momentum_step`, in place on arrays of symbols, step after step, beside
LeCun's rule written out here.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from backprop import training
from backprop.derivations.core import Derivation, Step, register

alpha, gamma, w0 = sp.symbols("alpha gamma w_0", real=True)
g_t, v_t = sp.symbols("g v_t", real=True)
STEPS = 6


def lecun(gradients: list[sp.Basic]) -> list[sp.Basic]:
    r"""Weights after each step of :math:`\Delta w \leftarrow \alpha g + \gamma \Delta w`."""
    step, weights = sp.Integer(0), [w0]
    for g in gradients:
        step = alpha * g + gamma * step
        weights.append(weights[-1] - step)
    return weights


def package(gradients: list[sp.Basic]) -> list[sp.Basic]:
    """Weights after each step of the package's :func:`~backprop.training.momentum_step`."""
    W = np.array([w0], dtype=object)
    v = np.array([sp.Integer(0)], dtype=object)
    weights = [w0]
    for g in gradients:
        training.momentum_step(W, v, np.array([g], dtype=object), alpha, gamma)
        weights.append(W[0])
    return weights


def _instances() -> list[sp.Basic]:
    # The gradient of step t is taken at the weights of step t; while the two paths agree,
    # so do their gradients, which may therefore be the same symbols g_0, g_1, ...
    gradients = list(sp.symbols(f"g_0:{STEPS}", real=True))
    return [u - v for u, v in zip(lecun(gradients), package(gradients), strict=True)]


DELTA_W = sp.Function("\\Delta w")
V = sp.Function("v")
t = sp.Symbol("t", integer=True)

MOMENTUM_CONVENTIONS = register(
    Derivation(
        name="momentum-conventions",
        title="LeCun's momentum and the framework's give the same weights",
        claim=sp.Eq(DELTA_W(t), alpha * V(t)),
        steps=(
            Step(alpha * g_t + gamma * DELTA_W(t), "LeCun's rule", lhs=DELTA_W(t + 1),
                 checked=False),
            Step(alpha * g_t + gamma * alpha * v_t,
                 "induction hypothesis $\\Delta w(t) = \\alpha v(t)$", checked=False),
            Step(alpha * (g_t + gamma * v_t), "factor out $\\alpha$"),
            Step(alpha * V(t + 1), "the framework's rule $v(t+1) = g + \\gamma v(t)$",
                 checked=False),
        ),
        scope=(
            "for a constant learning rate alpha and momentum gamma: the induction step as "
            f"shown, and the weights after each of {STEPS} steps of the package's "
            "momentum_step and of LeCun's rule from the same start, with symbolic gradients"
        ),
        justifies=("backprop.training.momentum_step",),
        instances=_instances,
    )
)
