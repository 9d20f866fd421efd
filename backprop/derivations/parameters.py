r"""Counting parameters, and the width of two hidden layers that matches one of 64 units."""

from __future__ import annotations

import sympy as sp

from backprop.derivations.core import Derivation, Step, register

I, J, K, L = sp.symbols("I J K L", integer=True, positive=True)
# A width that solves the equation need not be whole: h is only positive.
h = sp.Symbol("h", positive=True)
l = sp.Symbol("l", integer=True)
n = sp.IndexedBase("n")
P = sp.Symbol("P")


def parameters_one_hidden(inputs: sp.Basic, hidden: sp.Basic, classes: sp.Basic) -> sp.Basic:
    """Weights of an inputs-hidden-classes network whose bias is an extra input."""
    return (inputs + 1) * hidden + hidden * classes


def parameters_two_hidden(inputs: sp.Basic, width: sp.Basic, classes: sp.Basic) -> sp.Basic:
    """Weights of a network with two hidden layers of the same width, bias as an input."""
    return (inputs + 1) * width + width * width + width * classes


def equal_width(inputs: sp.Basic = I, hidden: sp.Basic = J, classes: sp.Basic = K) -> sp.Basic:
    """The width of two equal hidden layers with as many weights as one hidden layer.

    SymPy solves the quadratic :math:`(I + 1)h + h^2 + hK = (I + 1)J + JK` for :math:`h`;
    as ``h`` is declared positive, SymPy keeps only the positive one of its two roots.
    """
    roots = sp.solve(
        sp.Eq(parameters_two_hidden(inputs, h, classes),
              parameters_one_hidden(inputs, hidden, classes)),
        h,
    )
    (positive,) = roots
    return positive


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
        scope="for every number of inputs I, hidden units J and classes K",
        justifies=("backprop.network.count_parameters",),
    )
)

EQUAL_WIDTH = register(
    Derivation(
        name="equal-width",
        title="Two hidden layers with the parameters of one",
        claim=sp.Eq(parameters_two_hidden(I, equal_width(), K), parameters_one_hidden(I, J, K)),
        steps=(
            Step(parameters_one_hidden(I, J, K),
                 "ask two hidden layers of width $h$ for as many weights as one of $J$",
                 lhs=parameters_two_hidden(I, h, K), checked=False),
            Step(sp.Integer(0), "a quadratic in $h$",
                 lhs=h**2 + (I + 1 + K) * h - parameters_one_hidden(I, J, K), checked=False),
            Step(equal_width(), "its positive root", lhs=h, checked=False),
        ),
        scope=(
            "for every I, J and K: the root is proved to solve the equation; for 784 inputs, "
            "64 hidden units and 10 classes it is not a whole number, so the book compares "
            "the widths on either side"
        ),
        justifies=("backprop.network.count_parameters",),
    )
)
