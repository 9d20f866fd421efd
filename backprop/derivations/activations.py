r"""Derivatives of the hidden-layer activations, in terms of what the forward pass keeps.

Each proof runs the activation and its derivative as the trainer finds them
(:data:`backprop.activations.ACTIVATIONS`) on a SymPy symbol, and compares the derivative
the package computes from the output :math:`a` with :func:`sympy.diff` of the package's own
activation.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sympy as sp

from backprop import activations
from backprop.derivations.core import Derivation, Step, register
from backprop.derivations.symbolic import activation

z = sp.Symbol("z", real=True)
a = sp.Symbol("a", real=True)
sigma = sp.Function("sigma")
SIGMOID = sp.Lambda(z, 1 / (1 + sp.exp(-z)))

A, S = sp.symbols("A S", positive=True)
IMPROVED_SIGMOID_SCALE = sp.Rational(17159, 10000)
IMPROVED_SIGMOID_SLOPE = sp.Rational(2, 3)


def _derivative_residual(name: str, z: sp.Symbol) -> sp.Basic:
    """SymPy's derivative of the package's activation, minus the package's derivative."""
    f = activation(name)
    a = f.function(np.array([z], dtype=object))
    return sp.diff(a[0], z) - f.derivative(a)[0]


def _unevaluated_product(*factors: sp.Basic) -> sp.Basic:
    """A product shown factor by factor, as a student writes it, not merged into one fraction."""
    return sp.Mul(*(sp.UnevaluatedExpr(factor) for factor in factors), evaluate=False)


SIGMOID_DERIVATIVE = register(
    Derivation(
        name="sigmoid-derivative",
        title="The derivative of the sigmoid",
        claim=sp.Eq(sp.Derivative(sigma(z), z), a * (1 - a)),
        steps=(
            Step(sp.Derivative((1 + sp.exp(-z)) ** -1, z), "definition of the sigmoid",
                 lhs=sp.Derivative(sigma(z), z)),
            Step(sp.exp(-z) / (1 + sp.exp(-z)) ** 2,
                 "chain rule, twice"),
            Step(_unevaluated_product(1 / (1 + sp.exp(-z)), sp.exp(-z) / (1 + sp.exp(-z))),
                 "split the fraction in two"),
            Step(_unevaluated_product(1 / (1 + sp.exp(-z)), 1 - 1 / (1 + sp.exp(-z))),
                 "$e^{-z}/(1+e^{-z}) = 1 - 1/(1+e^{-z})$"),
            Step(sigma(z) * (1 - sigma(z)), "definition of the sigmoid again"),
            Step(a * (1 - a), "with the output $a = \\sigma(z)$"),
        ),
        scope=(
            "for every real z: sigmoid_derivative of the package's sigmoid(z) equals "
            "sympy.diff of sigmoid(z)"
        ),
        justifies=("backprop.activations.sigmoid", "backprop.activations.sigmoid_derivative"),
        definitions={a: sigma(z), sigma: SIGMOID},
        claim_checked=True,
        instances=lambda: iter([_derivative_residual("sigmoid", z)]),
    )
)

SIGMOID_TANH_FORM = register(
    Derivation(
        name="sigmoid-tanh-form",
        title="The sigmoid through tanh, a form that cannot overflow",
        claim=sp.Eq(sigma(z), (1 + sp.tanh(z / 2)) / 2),
        steps=(
            Step(1 / (1 + sp.exp(-z)), "definition of the sigmoid", lhs=sigma(z)),
            Step(sp.exp(z / 2) / (sp.exp(z / 2) + sp.exp(-z / 2)),
                 "multiply above and below by $e^{z/2}$"),
            Step((1 + (sp.exp(z / 2) - sp.exp(-z / 2)) / (sp.exp(z / 2) + sp.exp(-z / 2))) / 2,
                 "add and subtract $e^{-z/2}$ above"),
            Step((1 + sp.tanh(z / 2)) / 2, "definition of $\\tanh$"),
        ),
        scope="for every real z: the package's sigmoid(z) equals 1 / (1 + exp(-z))",
        justifies=("backprop.activations.sigmoid",),
        definitions={sigma: SIGMOID},
        claim_checked=True,
        instances=lambda: iter([
            activations.sigmoid(np.array([z], dtype=object))[0] - SIGMOID(z)
        ]),
    )
)

f = sp.Function("f")
IMPROVED_SIGMOID_DERIVATIVE = register(
    Derivation(
        name="improved-sigmoid-derivative",
        title="The derivative of the improved sigmoid",
        claim=sp.Eq(sp.Derivative(f(z), z), S * (A - a**2 / A)),
        steps=(
            Step(sp.Derivative(A * sp.tanh(S * z), z), "definition: $f(z) = A \\tanh(S z)$",
                 lhs=sp.Derivative(f(z), z)),
            Step(A * S * (1 - sp.tanh(S * z) ** 2),
                 "chain rule, with $\\tanh'(u) = 1 - \\tanh^2(u)$"),
            Step(S * (A - (A * sp.tanh(S * z)) ** 2 / A), "take $A$ inside the bracket"),
            Step(S * (A - a**2 / A), "in terms of the output $a = f(z)$"),
        ),
        scope=(
            "for every real z and every amplitude A > 0 and slope S > 0, passed to the "
            "package's functions as symbols; the package's defaults are A = 1.7159 and "
            "S = 2/3 in floating point"
        ),
        justifies=(
            "backprop.activations.improved_sigmoid",
            "backprop.activations.improved_sigmoid_derivative",
        ),
        definitions={a: f(z), f: sp.Lambda(z, A * sp.tanh(S * z))},
        claim_checked=True,
        instances=lambda: iter([_derivative_residual("improved_sigmoid", z)]),
    )
)

z_positive = sp.Symbol("z", positive=True)
z_negative = sp.Symbol("z", negative=True)


def _relu_cases() -> Iterator[sp.Basic]:
    """The package's derivative against SymPy's on each side of the kink."""
    for case in (z_positive, z_negative):
        yield _derivative_residual("relu", case)


RELU_DERIVATIVE = register(
    Derivation(
        name="relu-derivative",
        title="The derivative of the ReLU",
        claim=sp.Eq(sp.Derivative(sp.Max(0, z), z), sp.Piecewise((1, a > 0), (0, True))),
        steps=(
            # Max as written: SymPy would reduce it to z (or 0) at once, and the step would
            # read as its own result. The cases prove it (_relu_cases).
            Step(sp.Derivative(z_positive, z_positive), "for $z > 0$, $\\max(0, z) = z$",
                 lhs=sp.Derivative(sp.Max(0, z_positive, evaluate=False), z_positive),
                 checked=False),
            Step(sp.Integer(1), "whose slope is 1, and $a = z > 0$"),
            Step(sp.Derivative(sp.Integer(0), z_negative), "for $z < 0$, $\\max(0, z) = 0$",
                 lhs=sp.Derivative(sp.Max(0, z_negative, evaluate=False), z_negative),
                 checked=False),
            Step(sp.Integer(0), "whose slope is 0, and $a = 0$"),
        ),
        scope=(
            "for every real z other than 0, by its two cases, on the package's relu and "
            "relu_derivative; at z = 0 there is no derivative and the code takes 0"
        ),
        justifies=("backprop.activations.relu", "backprop.activations.relu_derivative"),
        instances=_relu_cases,
    )
)
