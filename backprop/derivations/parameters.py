r"""Counting parameters, and the width of two hidden layers that matches one of 64 units.

Both proofs run the package's own :func:`backprop.network.parameter_count` on symbolic layer
sizes.
"""

from __future__ import annotations

from collections.abc import Iterator

import sympy as sp

from backprop import network
from backprop.derivations.core import Derivation, Step, register

I, J, K, L = sp.symbols("I J K L", integer=True, positive=True)
# A width that solves the equation need not be whole: h is only positive.
h = sp.Symbol("h", positive=True)
l = sp.Symbol("l", integer=True)
n = sp.IndexedBase("n")
P = sp.Symbol("P")


def parameters_one_hidden(inputs: sp.Basic, hidden: sp.Basic, classes: sp.Basic) -> sp.Basic:
    """Weights of an inputs-hidden-classes network whose bias is an extra input, as written."""
    return (inputs + 1) * hidden + hidden * classes


def parameters_two_hidden(inputs: sp.Basic, width: sp.Basic, classes: sp.Basic) -> sp.Basic:
    """Weights of two hidden layers of the same width, bias as an input, by the package."""
    return network.parameter_count([inputs + 1, width, width, classes])


def equal_width(inputs: sp.Basic = I, hidden: sp.Basic = J, classes: sp.Basic = K) -> sp.Basic:
    """The width of two equal hidden layers with as many weights as one hidden layer.

    SymPy solves the quadratic :math:`(I + 1)h + h^2 + hK = (I + 1)J + JK` for :math:`h`,
    both sides counted by the package's :func:`~backprop.network.parameter_count`; as ``h``
    is declared positive, SymPy keeps only the positive one of its two roots.
    """
    roots = sp.solve(
        sp.Eq(parameters_two_hidden(inputs, h, classes),
              network.parameter_count([inputs + 1, hidden, classes])),
        h,
    )
    (positive,) = roots
    return positive


# The quadratic and its root as a reader writes them, with s = I + K + 1 kept whole: the
# instances prove that this root is the one SymPy solved for.
_S = I + K + 1
QUADRATIC = sp.Add(h**2, _S * h, evaluate=False)
ROOT = sp.Mul(sp.Rational(1, 2), sp.Add(sp.sqrt(_S * (_S + 4 * J)), -_S, evaluate=False),
              evaluate=False)


def _equal_width_instances() -> Iterator[sp.Basic]:
    yield parameters_two_hidden(I, equal_width(), K) - parameters_one_hidden(I, J, K)
    yield ROOT - equal_width()
    yield (QUADRATIC - J * _S) - (parameters_two_hidden(I, h, K)
                                  - parameters_one_hidden(I, J, K))


PARAMETER_COUNT = register(
    Derivation(
        name="parameter-count",
        title="Parameters of a network with the bias as an input",
        claim=sp.Eq(parameters_one_hidden(I, J, K), I * J + J + J * K),
        steps=(
            Step(sp.Sum(n[l - 1] * n[l], (l, 1, L)),
                 "one weight per pair of units in consecutive layers", lhs=P, checked=False),
            Step(parameters_one_hidden(I, J, K),
                 "$n_0 = I + 1$ (the bias input), $n_1 = J$, $n_2 = K$",
                 checked=False),
            Step(I * J + J + J * K,
                 "$I J$ weights, $J$ hidden biases, $J K$ weights"),
        ),
        scope=(
            "for every number of inputs I, hidden units J and classes K: the package's "
            "parameter_count of the sizes I + 1, J, K"
        ),
        justifies=("backprop.network.parameter_count",),
        claim_checked=True,
        instances=lambda: iter([network.parameter_count([I + 1, J, K]) - (I * J + J + J * K)]),
    )
)

EQUAL_WIDTH = register(
    Derivation(
        name="equal-width",
        title="Two hidden layers with the parameters of one",
        # The claim a reader reads is the root; what is proved is that, put back into the
        # package's count of two layers, it gives the count of one (the instances).
        claim=sp.Eq(h, ROOT),
        steps=(
            Step(parameters_one_hidden(I, J, K),
                 "ask two hidden layers of width $h$ for as many weights as one of $J$",
                 lhs=parameters_two_hidden(I, h, K), checked=False),
            Step(J * _S, "a quadratic in $h$: both sides gathered",
                 lhs=QUADRATIC, checked=False),
            Step(ROOT, "its positive root", lhs=h, checked=False),
        ),
        scope=(
            "for every I, J and K: the root SymPy finds now, with the package's "
            "parameter_count on both sides, is proved to give two hidden layers the "
            "parameters of one as written out; for 784 inputs, 64 hidden units and 10 "
            "classes it is not a whole number, so the book compares the widths on either side"
        ),
        justifies=("backprop.network.parameter_count",),
        instances=_equal_width_instances,
    )
)
