r"""Why sigmoid gradients vanish: the factor a sigmoid layer puts on the backpropagated delta.

A chain of single sigmoid units, :math:`z_{l+1} = w_{l+1} \sigma(z_l)`, backpropagates
:math:`\partial C / \partial z_l = w_{l+1} \sigma'(z_l) \, \partial C / \partial z_{l+1}`: each
layer multiplies the delta by :math:`w \sigma'(z)`. The proof runs the package's own
:func:`backprop.activations.sigmoid_derivative` and :func:`backprop.activations.sigmoid` on
SymPy symbols and shows that :math:`\sigma'(z) = \tfrac14 - (a - \tfrac12)^2` is never above
:math:`\tfrac14`, and reaches it at :math:`z = 0`, so that
:math:`|w \sigma'(z)| \le |w|/4` for every weight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import sympy as sp

from backprop import activations
from backprop.derivations.activations import SIGMOID, SIGMOID_DERIVATIVE, a, sigma, z
from backprop.derivations.core import Derivation, Step, register

w = sp.Symbol("w", real=True)
HALF, QUARTER = sp.Rational(1, 2), sp.Rational(1, 4)


def _on_symbols(function: Callable[[np.ndarray], np.ndarray], value: sp.Basic) -> sp.Basic:
    """One of the package's activation functions run on a single SymPy expression."""
    return function(np.array([value], dtype=object))[0]


def _bound_instances() -> Iterator[sp.Basic]:
    """The package's slope is 1/4 minus a square, so at most 1/4, and 1/4 at z = 0."""
    slope = _on_symbols(activations.sigmoid_derivative, a)
    yield slope - (QUARTER - (a - HALF) ** 2)
    # SymPy drops |.| only from what it proves non-negative: |1/4 - slope| = 1/4 - slope for
    # every real a says that the slope never exceeds 1/4.
    gap = QUARTER - slope
    yield sp.Abs(sp.factor(gap)) - gap
    # The steps take a = 1/(1 + e^-z); the package's sigmoid is that function.
    yield _on_symbols(activations.sigmoid, z) - SIGMOID(z)
    # The bound is reached, at z = 0, where a = 1/2.
    at_zero = _on_symbols(activations.sigmoid, sp.Integer(0))
    yield _on_symbols(activations.sigmoid_derivative, at_zero) - QUARTER


SIGMOID_SLOPE_BOUND = register(
    Derivation(
        name="sigmoid-slope-bound",
        title="A sigmoid layer multiplies the delta by at most a quarter of its weight",
        claim=sp.Le(sp.Abs(w * sp.Derivative(sigma(z), z)), sp.Abs(w) / 4),
        steps=(
            Step(a * (1 - a), f"the sigmoid's derivative ({SIGMOID_DERIVATIVE.name})",
                 lhs=sp.Derivative(sigma(z), z)),
            Step(a - a**2, "multiply out"),
            Step(QUARTER - (a - HALF) ** 2,
                 "complete the square: $(a - \\tfrac12)^2 = a^2 - a + \\tfrac14$"),
            Step(sp.Abs(w) * (QUARTER - (a - HALF) ** 2),
                 "$\\sigma'(z) > 0$, so $|w \\sigma'(z)| = |w| \\, \\sigma'(z)$",
                 lhs=sp.Abs(w * sp.Derivative(sigma(z), z))),
        ),
        scope=(
            "for every real z and every real weight w: the package's sigmoid_derivative(a) "
            "equals 1/4 - (a - 1/2)^2 for every real a, which SymPy proves is never above "
            "1/4 (a square is never negative) and is 1/4 at the package's sigmoid(0) = 1/2; "
            "the steps hold for the package's sigmoid, which equals 1/(1 + exp(-z))"
        ),
        justifies=("backprop.activations.sigmoid", "backprop.activations.sigmoid_derivative"),
        definitions={a: sigma(z), sigma: SIGMOID},
        instances=_bound_instances,
    )
)
