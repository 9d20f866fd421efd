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
C = sp.Symbol("C_n")
"""One sample's loss; the batch's, the mean of these, is C (``batched-gradient``)."""
c = sp.Symbol("c", real=True)
R = sp.Symbol("R", positive=True)
R_other = sp.Symbol("R'", positive=True)
IVERSON = sp.Symbol("[k = m]")
"""1 where k = m, else 0: the Iverson bracket, which keeps the letter delta for the errors."""
z_k, z_m = sp.symbols("z_k z_m", real=True)
CHECKED_CLASSES = range(2, 5)
"""The numbers of classes at which the package's functions run on symbols."""
BATCH = 2
"""Rows of logits the package's functions see at once."""


def softmax(logits: list[sp.Basic]) -> list[sp.Basic]:
    """The softmax of a list of logits, written out."""
    total = sum(sp.exp(logit) for logit in logits)
    return [sp.exp(logit) / total for logit in logits]


def _unevaluated_quotient(numerator: sp.Basic, denominator: sp.Basic) -> sp.Basic:
    """``numerator / denominator`` as written: SymPy would cancel a common factor at once."""
    return sp.Mul(numerator, sp.Pow(denominator, -1, evaluate=False), evaluate=False)


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
            Step(_unevaluated_quotient(sp.Mul(sp.exp(-c), sp.exp(z[k]), evaluate=False),
                                       sp.Mul(sp.exp(-c), sp.Sum(sp.exp(z[j]), (j, 1, K)),
                                              evaluate=False)),
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
    other_total = sp.exp(z_k) + sp.exp(z_m) + R_other
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
        claim=sp.Eq(sp.Derivative(a[k], z[m]), a[k] * (IVERSON - a[m])),
        steps=(
            Step(sp.Derivative(sp.exp(z_m) / (sp.exp(z_m) + R), z_m),
                 "for $k = m$: the other classes' terms sum to $R = \\sum_{j \\ne m} e^{z_j}$, "
                 "free of $z_m$",
                 lhs=sp.Derivative(a[m], z[m]), checked=False),
            Step(sp.exp(z_m) * R / (sp.exp(z_m) + R) ** 2, "quotient rule"),
            Step(a[m] * (1 - a[m]), "since $R / (e^{z_m} + R) = 1 - \\hat y_m$", checked=False),
            Step(sp.Derivative(sp.exp(z_k) / (sp.exp(z_k) + sp.exp(z_m) + R_other), z_m),
                 "for $k \\ne m$: only the denominator depends on $z_m$; "
                 "$R' = \\sum_{j \\ne k, m} e^{z_j}$",
                 lhs=sp.Derivative(a[k], z[m]), checked=False),
            Step(-sp.exp(z_k) * sp.exp(z_m) / (sp.exp(z_k) + sp.exp(z_m) + R_other) ** 2,
                 "derivative of $1/u$"),
            Step(-a[k] * a[m], "a product of two outputs; with (c), "
                 "$\\hat y_k([k = m] - \\hat y_m)$, where the Iverson bracket $[k = m]$ is 1 "
                 "for $k = m$ and 0 otherwise", checked=False),
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
            Step(-sp.Sum(y[k] * sp.log(a[k]), (k, 1, K)),
                 "one sample's loss, its targets $y_k$ and outputs $\\hat y_k$",
                 lhs=C, checked=False),
            Step(-sp.Sum(y[k] * z[k], (k, 1, K))
                 + sp.Sum(y[k], (k, 1, K)) * sp.log(sp.Sum(sp.exp(z[j]), (j, 1, K))),
                 "$\\ln \\hat y_k = z_k - \\ln \\sum_j e^{z_j}$", checked=False),
            Step(-sp.Sum(y[k] * z[k], (k, 1, K)) + sp.log(sp.Sum(sp.exp(z[j]), (j, 1, K))),
                 "the targets sum to 1 (one-hot, or any distribution)", checked=False),
            Step(-y[m] + sp.exp(z[m]) / sp.Sum(sp.exp(z[j]), (j, 1, K)),
                 "differentiate by $z_m$", lhs=sp.Derivative(C, z[m]), checked=False),
            Step(a[m] - y[m], "definition of the softmax; the code's delta, "
                 "`cross_entropy_delta`, is this over $N$, the derivative of the batch's mean",
                 checked=False),
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


def _squared_error_instances() -> Iterator[sp.Basic]:
    sigmoid = activations.ACTIVATIONS["sigmoid"]
    for classes in CHECKED_CLASSES:
        logits, rows = _logit_rows(classes), matrix("y", BATCH, classes)
        outputs = sigmoid.function(logits)
        cost = sum((output - row) ** 2 for output, row in zip(outputs.flat, rows.flat,
                                                              strict=True)) / 2
        # The general rule: the loss's gradient by each output, times f' read off a.
        delta = (outputs - rows) * sigmoid.derivative(outputs)
        for index in np.ndindex(logits.shape):
            yield sp.diff(cost, logits[index]) - delta[index]


f_out = sp.Function("f")
SQUARED_ERROR_OUTPUT_DELTA = register(
    Derivation(
        name="output-delta-general",
        title="The output delta in general, and for squared error with sigmoid outputs",
        claim=sp.Eq(sp.Derivative(C, z[k]),
                    sp.Derivative(C, a[k]) * sp.Derivative(f_out(z[k]), z[k])),
        steps=(
            Step(sp.Derivative(C, a[k]) * sp.Derivative(a[k], z[k]),
                 "chain rule: with an elementwise output activation $\\hat y_k = f(z_k)$, "
                 "$z_k$ reaches $C_n$ only through $\\hat y_k$",
                 lhs=sp.Derivative(C, z[k]), checked=False),
            Step(sp.Derivative(sp.Sum((a[j] - y[j]) ** 2, (j, 1, K)) / 2, a[k])
                 * sp.Derivative(f_out(z[k]), z[k]),
                 "for the squared error $C_n = \\frac12 \\sum_j (\\hat y_j - y_j)^2$",
                 checked=False),
            Step((a[k] - y[k]) * a[k] * (1 - a[k]),
                 "only the $k$-th term depends on $\\hat y_k$; and the sigmoid's "
                 "$f'(z_k) = \\hat y_k (1 - \\hat y_k)$ ({ref}`derivation-sigmoid-derivative`)",
                 checked=False),
        ),
        scope=(
            "the chain rule for every elementwise output activation; and for sigmoid outputs "
            f"and the squared error, for a batch of N = {BATCH} rows and K = "
            f"{CHECKED_CLASSES.start} to {CHECKED_CLASSES.stop - 1} outputs, sympy.diff of the "
            "loss through the package's sigmoid equals (y_hat - y) times the package's "
            "sigmoid_derivative of its outputs, entry by entry. The softmax is not "
            "elementwise: its delta goes through its Jacobian (softmax-jacobian) and, with "
            "the cross-entropy, comes to y_hat - y (softmax-cross-entropy), with no factor "
            "f'(z) left"
        ),
        justifies=("backprop.activations.sigmoid", "backprop.activations.sigmoid_derivative"),
        instances=_squared_error_instances,
    )
)
