r"""The softmax output layer and the cross-entropy loss.

Each claim here is stated for any number of classes :math:`K`. The proofs split the sum
:math:`\sum_j e^{z_j}` into the terms that depend on the logit being varied and a positive
rest :math:`R` that does not, which makes them hold for every :math:`K \ge 2` at once; they are
then checked in full, every entry of every Jacobian, for :math:`K = 2, \dots, 6`.
"""

from __future__ import annotations

import sympy as sp

from backprop.derivations.core import Derivation, Step, register

K = sp.Symbol("K", integer=True, positive=True)
j, k, m = sp.symbols("j k m", integer=True, positive=True)
z = sp.IndexedBase("z", real=True)
a = sp.IndexedBase("a", real=True)
y = sp.IndexedBase("y", real=True)
C = sp.Symbol("C")
c = sp.Symbol("c", real=True)
R = sp.Symbol("R", positive=True)
z_k, z_m = sp.symbols("z_k z_m", real=True)
CHECKED_CLASSES = range(2, 7)


def softmax(logits: list[sp.Basic]) -> list[sp.Basic]:
    """The softmax of a list of logits, written out."""
    total = sum(sp.exp(logit) for logit in logits)
    return [sp.exp(logit) / total for logit in logits]


def _logits(classes: int) -> list[sp.Symbol]:
    return list(sp.symbols(f"z1:{classes + 1}", real=True))


def _shift_instances() -> list[sp.Basic]:
    general = sp.exp(z_k - c) / (sp.exp(z_k - c) + sp.exp(-c) * R) - sp.exp(z_k) / (
        sp.exp(z_k) + R
    )
    explicit = []
    for classes in CHECKED_CLASSES:
        logits = _logits(classes)
        shifted = softmax([logit - c for logit in logits])
        explicit.extend(s - t for s, t in zip(shifted, softmax(logits), strict=True))
    return [general, *explicit]


SOFTMAX_SHIFT = register(
    Derivation(
        name="softmax-shift-invariance",
        title="Softmax ignores a shift of all logits",
        claim=sp.Eq(
            sp.exp(z[k] - c) / sp.Sum(sp.exp(z[j] - c), (j, 1, K)),
            sp.exp(z[k]) / sp.Sum(sp.exp(z[j]), (j, 1, K)),
        ),
        steps=(
            Step(sp.exp(-c) * sp.exp(z[k]) / (sp.exp(-c) * sp.Sum(sp.exp(z[j]), (j, 1, K))),
                 "$e^{z - c} = e^{-c} e^{z}$ in every term",
                 lhs=sp.exp(z[k] - c) / sp.Sum(sp.exp(z[j] - c), (j, 1, K)), checked=False),
            Step(sp.exp(z[k]) / sp.Sum(sp.exp(z[j]), (j, 1, K)), "cancel $e^{-c}$",
                 checked=False),
        ),
        scope=(
            "for every number of classes K >= 2 and every shift c (the other classes enter "
            "through their sum R), and written out in full for K = 2 to 6; the code shifts "
            "by each row's largest logit, so that no exponent is positive"
        ),
        justifies=("backprop.activations.softmax",),
        instances=_shift_instances,
    )
)


def _jacobian_instances() -> list[sp.Basic]:
    own = sp.exp(z_m) / (sp.exp(z_m) + R)
    other_total = sp.exp(z_k) + sp.exp(z_m) + R
    other, varied = sp.exp(z_k) / other_total, sp.exp(z_m) / other_total
    residuals = [sp.diff(own, z_m) - own * (1 - own), sp.diff(other, z_m) + other * varied]
    for classes in CHECKED_CLASSES:
        logits = _logits(classes)
        outputs = sp.Matrix(softmax(logits))
        jacobian = outputs.jacobian(logits)
        expected = sp.diag(*outputs) - outputs * outputs.T  # a_k ([k = m] - a_m)
        residuals.append(jacobian - expected)
    return residuals


SOFTMAX_JACOBIAN = register(
    Derivation(
        name="softmax-jacobian",
        title="The Jacobian of the softmax",
        claim=sp.Eq(sp.Derivative(a[k], z[m]), a[k] * (sp.KroneckerDelta(k, m) - a[m])),
        steps=(
            Step(sp.Derivative(sp.exp(z_m) / (sp.exp(z_m) + R), z_m),
                 "for $k = m$: the other classes' terms sum to $R$, free of $z_m$",
                 lhs=sp.Derivative(a[m], z[m]), checked=False),
            Step(sp.exp(z_m) * R / (sp.exp(z_m) + R) ** 2, "quotient rule"),
            Step(a[m] * (1 - a[m]), "since $R / (e^{z_m} + R) = 1 - a_m$", checked=False),
            Step(sp.Derivative(sp.exp(z_k) / (sp.exp(z_k) + sp.exp(z_m) + R), z_m),
                 "for $k \\ne m$: only the denominator depends on $z_m$",
                 lhs=sp.Derivative(a[k], z[m]), checked=False),
            Step(-sp.exp(z_k) * sp.exp(z_m) / (sp.exp(z_k) + sp.exp(z_m) + R) ** 2,
                 "derivative of $1/u$"),
            Step(-a[k] * a[m], "a product of two outputs", checked=False),
        ),
        scope=(
            "for every number of classes K >= 2 by the two cases k = m and k != m, and entry "
            "by entry for K = 2 to 6"
        ),
        justifies=("backprop.activations.softmax_derivative",),
        instances=_jacobian_instances,
    )
)


def _cross_entropy_instances() -> list[sp.Basic]:
    y_m, rest = sp.symbols("y_m T", real=True)
    # With the targets summing to 1, C = -sum_k y_k z_k + log sum_j e^{z_j}; T collects the
    # terms y_k z_k of the other classes, which do not depend on z_m.
    general = sp.diff(-y_m * z_m - rest + sp.log(sp.exp(z_m) + R), z_m) - (
        sp.exp(z_m) / (sp.exp(z_m) + R) - y_m
    )
    residuals = [general]
    for classes in CHECKED_CLASSES:
        logits = _logits(classes)
        targets = list(sp.symbols(f"y1:{classes}", real=True))
        targets.append(1 - sum(targets))
        outputs = softmax(logits)
        loss = -sum(t * sp.log(o) for t, o in zip(targets, outputs, strict=True))
        residuals.extend(
            sp.expand_log(sp.diff(loss, logit), force=True) - (o - t)
            for logit, o, t in zip(logits, outputs, targets, strict=True)
        )
    return residuals


SOFTMAX_CROSS_ENTROPY = register(
    Derivation(
        name="softmax-cross-entropy",
        title="Cross-entropy after softmax: the output layer's delta",
        claim=sp.Eq(sp.Derivative(C, z[m]), a[m] - y[m]),
        steps=(
            Step(-sp.Sum(y[k] * sp.log(a[k]), (k, 1, K)), "definition of the loss",
                 lhs=C, checked=False),
            Step(-sp.Sum(y[k] * z[k], (k, 1, K))
                 + sp.Sum(y[k], (k, 1, K)) * sp.log(sp.Sum(sp.exp(z[j]), (j, 1, K))),
                 "$\\log a_k = z_k - \\log \\sum_j e^{z_j}$", checked=False),
            Step(-sp.Sum(y[k] * z[k], (k, 1, K)) + sp.log(sp.Sum(sp.exp(z[j]), (j, 1, K))),
                 "the targets sum to 1 (one-hot, or any distribution)", checked=False),
            Step(-y[m] + sp.exp(z[m]) / sp.Sum(sp.exp(z[j]), (j, 1, K)),
                 "differentiate by $z_m$", lhs=sp.Derivative(C, z[m]), checked=False),
            Step(a[m] - y[m], "definition of the softmax", checked=False),
        ),
        scope=(
            "for every number of classes K >= 2 and targets that sum to 1 (the other classes "
            "enter through R and T), and written out in full for K = 2 to 6; averaged over a "
            "batch of N samples each row is divided by N"
        ),
        justifies=(
            "backprop.losses.cross_entropy",
            "backprop.losses.mean_cross_entropy",
            "backprop.losses.cross_entropy_delta",
        ),
        instances=_cross_entropy_instances,
    )
)
