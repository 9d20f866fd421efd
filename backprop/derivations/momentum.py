r"""The two momentum conventions of the assignment give the same weights.

LeCun's *Efficient BackProp* writes :math:`\Delta w(t+1) = \alpha g(t) + \gamma \Delta w(t)`,
:math:`w \leftarrow w - \Delta w(t+1)`; PyTorch and this package keep a velocity
:math:`v(t) = g(t) + \gamma v(t-1)` and take :math:`w \leftarrow w - \alpha v(t)`. With a
constant learning rate the first is :math:`\alpha` times the second at every step, by
induction, so both take the same path.
"""

from __future__ import annotations

import sympy as sp

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


def framework(gradients: list[sp.Basic]) -> list[sp.Basic]:
    r"""Weights after each step of :math:`v \leftarrow g + \gamma v, w \leftarrow w - \alpha v`."""
    velocity, weights = sp.Integer(0), [w0]
    for g in gradients:
        velocity = g + gamma * velocity
        weights.append(weights[-1] - alpha * velocity)
    return weights


def _instances() -> list[sp.Basic]:
    # The gradient of step t is taken at the weights of step t; while the two paths agree,
    # so do their gradients, which may therefore be the same symbols g_0, g_1, ...
    gradients = list(sp.symbols(f"g_0:{STEPS}", real=True))
    return [u - v for u, v in zip(lecun(gradients), framework(gradients), strict=True)]


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
            f"shown, and the weights of both rules after each of {STEPS} steps from the same "
            "start, with symbolic gradients"
        ),
        justifies=("backprop.training.momentum_step",),
        instances=_instances,
    )
)
