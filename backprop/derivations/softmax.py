r"""The softmax output layer and the cross-entropy loss.

Each claim here is stated for any number of classes :math:`K`. The proofs split the sum
:math:`\sum_j e^{z_j}` into the terms that depend on the logit being varied and a positive
rest :math:`R` that does not, which makes them hold for every :math:`K \ge 2` at once. Then
they run the package's own :func:`~backprop.activations.softmax`,
:func:`~backprop.activations.softmax_derivative` and losses on rows of symbolic logits, for
the numbers of classes in :data:`CHECKED_CLASSES`, and compare every entry with SymPy's
differentiation of the package's softmax and loss, the shift by each row's maximum included.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sympy as sp

from backprop import activations, losses
from backprop.derivations.core import Derivation, Step, register
from backprop.derivations.symbolic import matrix, targets

K = sp.Symbol("K", integer=True, positive=True)
j, k, m = sp.symbols("j k m", integer=True, positive=True)
z = sp.IndexedBase("z", real=True)
# The softmax's outputs are the network's: written \hat y, as backprop.network writes them.
a = sp.IndexedBase(r"\hat{y}", real=True)
y = sp.IndexedBase("y", real=True)
C = sp.Symbol("C")
c = sp.Symbol("c", real=True)
R = sp.Symbol("R", positive=True)
z_k, z_m = sp.symbols("z_k z_m", real=True)
CHECKED_CLASSES = range(2, 5)
"""The numbers of classes at which the package's functions run on symbols."""
BATCH = 2
"""Rows of logits the package's functions see at once."""


def softmax(logits: list[sp.Basic]) -> list[sp.Basic]:
    """The softmax of a list of logits, written out."""
    total = sum(sp.exp(logit) for logit in logits)
    return [sp.exp(logit) / total for logit in logits]


def _logit_rows(classes: int) -> np.ndarray:
    return matrix("z", BATCH, classes)


def _shift_instances() -> Iterator[sp.Basic]:
    yield sp.exp(z_k - c) / (sp.exp(z_k - c) + sp.exp(-c) * R) - sp.exp(z_k) / (
        sp.exp(z_k) + R
    )
    for classes in CHECKED_CLASSES:
        logits = _logit_rows(classes)
        # The package subtracts each row's largest logit; the definition subtracts nothing.
        computed = activations.softmax(logits)
        for n in range(BATCH):
            yield from (s - t for s, t in zip(computed[n], softmax(list(logits[n])),
                                               strict=True))


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
            "through their sum R); and the package's softmax, which shifts each row by its "
            "largest logit so that no exponent is positive, equals the unshifted definition "
            f"entry by entry for K = {CHECKED_CLASSES.start} to {CHECKED_CLASSES.stop - 1}"
        ),
        justifies=("backprop.activations.softmax",),
        instances=_shift_instances,
    )
)


def _jacobian_instances() -> Iterator[sp.Basic]:
    own = sp.exp(z_m) / (sp.exp(z_m) + R)
    other_total = sp.exp(z_k) + sp.exp(z_m) + R
    other, varied = sp.exp(z_k) / other_total, sp.exp(z_m) / other_total
    yield sp.diff(own, z_m) - own * (1 - own)
    yield sp.diff(other, z_m) + other * varied
    for classes in CHECKED_CLASSES:
        logits = _logit_rows(classes)
        outputs = activations.softmax(logits)
        jacobians = activations.softmax_derivative(outputs)
        for n, k, m in np.ndindex(BATCH, classes, classes):
            yield sp.diff(outputs[n, k], logits[n, m]) - jacobians[n, k, m]


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
            Step(a[m] * (1 - a[m]), "since $R / (e^{z_m} + R) = 1 - \\hat y_m$", checked=False),
            Step(sp.Derivative(sp.exp(z_k) / (sp.exp(z_k) + sp.exp(z_m) + R), z_m),
                 "for $k \\ne m$: only the denominator depends on $z_m$",
                 lhs=sp.Derivative(a[k], z[m]), checked=False),
            Step(-sp.exp(z_k) * sp.exp(z_m) / (sp.exp(z_k) + sp.exp(z_m) + R) ** 2,
                 "derivative of $1/u$"),
            Step(-a[k] * a[m], "a product of two outputs", checked=False),
        ),
        scope=(
            "for every number of classes K >= 2 by the two cases k = m and k != m; and the "
            "package's softmax_derivative of its softmax equals sympy.diff of the package's "
            f"softmax entry by entry for K = {CHECKED_CLASSES.start} to "
            f"{CHECKED_CLASSES.stop - 1}"
        ),
        justifies=("backprop.activations.softmax", "backprop.activations.softmax_derivative"),
        instances=_jacobian_instances,
    )
)


def _cross_entropy_instances() -> Iterator[sp.Basic]:
    y_m, rest = sp.symbols("y_m T", real=True)
    # With the targets summing to 1, C = -sum_k y_k z_k + log sum_j e^{z_j}; T collects the
    # terms y_k z_k of the other classes, which do not depend on z_m.
    yield sp.diff(-y_m * z_m - rest + sp.log(sp.exp(z_m) + R), z_m) - (
        sp.exp(z_m) / (sp.exp(z_m) + R) - y_m
    )
    for classes in CHECKED_CLASSES:
        logits, rows = _logit_rows(classes), targets(BATCH, classes)
        outputs = activations.softmax(logits)
        cost = losses.mean_cross_entropy(rows, outputs)
        delta = losses.cross_entropy_delta(rows, outputs)
        for index in np.ndindex(logits.shape):
            yield sp.diff(cost, logits[index]) - delta[index]
        # With one-hot rows (the class of row n is n), the summed form is N times the mean.
        labels = np.arange(BATCH) % classes
        one_hot = np.eye(classes, dtype=int)[labels]
        yield (losses.negative_log_likelihood(labels, outputs)
               - BATCH * losses.mean_cross_entropy(one_hot, outputs))


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
                 "$\\ln \\hat y_k = z_k - \\ln \\sum_j e^{z_j}$", checked=False),
            Step(-sp.Sum(y[k] * z[k], (k, 1, K)) + sp.log(sp.Sum(sp.exp(z[j]), (j, 1, K))),
                 "the targets sum to 1 (one-hot, or any distribution)", checked=False),
            Step(-y[m] + sp.exp(z[m]) / sp.Sum(sp.exp(z[j]), (j, 1, K)),
                 "differentiate by $z_m$", lhs=sp.Derivative(C, z[m]), checked=False),
            Step(a[m] - y[m], "definition of the softmax", checked=False),
        ),
        scope=(
            "for every number of classes K >= 2 and targets that sum to 1 (the other classes "
            "enter through R and T); and for a batch of N = 2 rows and K = "
            f"{CHECKED_CLASSES.start} to {CHECKED_CLASSES.stop - 1}, the package's "
            "cross_entropy_delta equals sympy.diff of its mean_cross_entropy of its softmax "
            "(each row divided by N), and negative_log_likelihood of one-hot rows is N times "
            "the mean; the floor on tiny probabilities plays no part on symbols"
        ),
        justifies=(
            "backprop.activations.softmax",
            "backprop.losses.mean_cross_entropy",
            "backprop.losses.negative_log_likelihood",
            "backprop.losses.cross_entropy_delta",
        ),
        instances=_cross_entropy_instances,
    )
)
