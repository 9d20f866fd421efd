r"""The two momentum conventions of the assignment give the same weights.

LeCun's *Efficient BackProp* writes :math:`\Delta w_{t+1} = \alpha g_{t+1} + \gamma \Delta w_t`,
:math:`w_{t+1} = w_t - \Delta w_{t+1}`; PyTorch and this package keep a velocity
:math:`v_{t+1} = g_{t+1} + \gamma v_t` and take :math:`w_{t+1} = w_t - \alpha v_{t+1}`. With a
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


# Every quantity carries its step: the gradient of step t + 1 is g_{t+1}, and both rules
# start from zero, Delta w_0 = v_0 = 0.
t = sp.Symbol("t", integer=True)
DELTA_W_T, DELTA_W_NEXT = sp.symbols("\\Delta\\ w_t \\Delta\\ w_{t+1}", real=True)
V_T, V_NEXT, G_NEXT = sp.symbols("v_t v_{t+1} g_{t+1}", real=True)
W_T, W_NEXT = sp.symbols("w_t w_{t+1}", real=True)

MOMENTUM_CONVENTIONS = register(
    Derivation(
        name="momentum-conventions",
        title="LeCun's momentum and the framework's give the same weights",
        claim=sp.Eq(DELTA_W_T, alpha * V_T),
        steps=(
            Step(alpha * G_NEXT + gamma * DELTA_W_T,
                 "LeCun's rule, $\\Delta w_0 = 0$", lhs=DELTA_W_NEXT, checked=False),
            Step(alpha * G_NEXT + gamma * alpha * V_T,
                 "induction hypothesis $\\Delta w_t = \\alpha v_t$ (true at $t = 0$, "
                 "$v_0 = 0$)", checked=False),
            Step(alpha * (G_NEXT + gamma * V_T), "factor out $\\alpha$"),
            Step(alpha * V_NEXT, "the framework's rule $v_{t+1} = g_{t+1} + \\gamma v_t$",
                 checked=False),
            Step(W_T - DELTA_W_NEXT, "LeCun's update of the weights", lhs=W_NEXT,
                 checked=False),
            Step(W_T - alpha * V_NEXT, "by (d): the framework's update, "
                 "$w_{t+1} = w_t - \\alpha v_{t+1}$", checked=False),
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
