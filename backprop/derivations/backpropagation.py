r"""Backpropagation: Task 1a's hidden-layer rule, the delta recurrence, Task 1b's batch form.

Each proof runs the package's own :func:`backprop.network.forward`,
:func:`backprop.losses.mean_cross_entropy`, :func:`backprop.losses.cross_entropy_delta` and
:func:`backprop.network.backward` on weights, inputs and targets that are SymPy symbols, and
compares every gradient entry with :func:`sympy.diff` of the package's own loss. With the
undefined activation :math:`f` a proof holds for every differentiable activation; with the
package's activations it holds for the code the trainer runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sympy as sp

from backprop import losses, network, training
from backprop.derivations.core import Derivation, Step, register
from backprop.derivations.softmax import SOFTMAX_CROSS_ENTROPY
from backprop.derivations.symbolic import (
    activation,
    matrix,
    network_residuals,
    targets,
    weight_matrices,
)

f = sp.Function("f")
_u = sp.Dummy("u")


def f_prime(z: sp.Basic) -> sp.Basic:
    """:math:`f'(z)` for the undefined activation :math:`f`."""
    return sp.Derivative(f(_u), _u).subs(_u, z)


# Task 1a, in the course's notation: w_ji from input i to hidden unit j, w_kj from hidden unit
# j to output k, z_j = sum_i w_ji x_i, a_j = f(z_j), z_k = sum_j w_kj a_j.
TASK_1A_SIZES = {"I": 3, "J": 2, "K": 3}
i, j, k, I, J, K = sp.symbols("i j k I J K", integer=True, positive=True)
w = sp.IndexedBase("w", real=True)
x = sp.IndexedBase("x", real=True)
zz = sp.IndexedBase("z", real=True)
delta = sp.IndexedBase("delta", real=True)
alpha = sp.Symbol("alpha")
C_n = sp.Symbol("C_n")
"""One sample's loss: Task 1a and the recurrence are written per sample, as the course does."""
C = sp.Symbol("C")
"""The batch's loss, the mean of the samples' C_n: what the trainer minimises."""


def _task_1a_instances() -> Iterator[sp.Basic]:
    sizes = TASK_1A_SIZES
    yield from network_residuals([sizes["I"], sizes["J"], sizes["K"]], 1, "f")


HIDDEN_LAYER_UPDATE = register(
    Derivation(
        name="hidden-layer-update",
        title="Task 1a: the update rule of a hidden-layer weight",
        claim=sp.Eq(sp.Derivative(C_n, w[j, i]), delta[j] * x[i]),
        steps=(
            Step(sp.Derivative(C_n, zz[j]) * sp.Derivative(zz[j], w[j, i]),
                 "chain rule: $w_{ji}$ reaches $C_n$ only through $z_j$",
                 lhs=sp.Derivative(C_n, w[j, i]), checked=False),
            Step(sp.Derivative(C_n, zz[j]) * x[i], "$z_j = \\sum_i w_{ji} x_i$", checked=False),
            Step(sp.Sum(sp.Derivative(C_n, zz[k]) * w[k, j], (k, 1, K)) * f_prime(zz[j]),
                 "chain rule through $a_j = f(z_j)$ and each $z_k = \\sum_j w_{kj} a_j$",
                 lhs=sp.Derivative(C_n, zz[j]), checked=False),
            Step(f_prime(zz[j]) * sp.Sum(w[k, j] * delta[k], (k, 1, K)),
                 "the output deltas $\\delta_k = \\partial C_n / \\partial z_k = \\hat y_k - y_k$ "
                 f"({SOFTMAX_CROSS_ENTROPY.name})", checked=False),
            Step(delta[j], "which defines $\\delta_j$", checked=False),
            Step(w[j, i] - alpha * delta[j] * x[i],
                 "gradient descent on one sample's loss, learning rate $\\alpha$ (a batch "
                 "averages this step over its samples: {ref}`derivation-batched-gradient`)",
                 lhs=sp.Symbol("w_{ji}'"), checked=False),
        ),
        scope=(
            "for one sample, any differentiable activation f and targets that sum to 1 "
            "(one-hot rows among them), with I = 3 inputs, J = 2 hidden and K = 3 output "
            "units: every "
            "entry of both gradients from the package's backward pass equals sympy.diff of "
            "the package's loss, through its forward pass and softmax"
        ),
        justifies=(
            "backprop.network.forward",
            "backprop.network.backward",
            "backprop.network.deltas",
            "backprop.losses.mean_cross_entropy",
            "backprop.losses.cross_entropy_delta",
            "backprop.activations.softmax",
        ),
        instances=_task_1a_instances,
    )
)


RECURRENCE_SIZES = ([2, 2, 2], [2, 2, 2, 2], [2, 2, 2, 2, 2])
"""Networks of one, two and three hidden layers, inputs first."""
RECURRENCE_ACTIVATIONS = ("f", "sigmoid", "improved_sigmoid", "relu")
BATCHED_SIZES, BATCH = [3, 2, 2], 3


def _batched_instances() -> Iterator[sp.Basic]:
    yield from network_residuals(BATCHED_SIZES, BATCH, "f")
    f = activation("f")
    weights = weight_matrices(BATCHED_SIZES)
    X, Y = matrix("x", BATCH, BATCHED_SIZES[0]), targets(BATCH, BATCHED_SIZES[-1])
    # The batch's gradient is the mean of the samples' gradients, each from its own delta
    # y_hat - y: the code's delta is the per-sample delta over N.
    a = network.forward(weights, X, f)
    batch = network.backward(weights, a, losses.cross_entropy_delta(Y, a[-1]), f)
    samples = [network.backward(weights, [layer[n : n + 1] for layer in a],
                                a[-1][n : n + 1] - Y[n : n + 1], f) for n in range(BATCH)]
    for l, gradient in enumerate(batch):
        mean = sum(sample[l] for sample in samples) / BATCH
        yield from (gradient - mean).flat
    # One step of the trainer's sgd_step, without momentum, moves every weight by -alpha
    # times SymPy's derivative of the package's loss.
    cost = losses.mean_cross_entropy(Y, a[-1])
    updated = [W.copy() for W in weights]
    velocities = [np.zeros(W.shape, dtype=object) for W in weights]
    training.sgd_step(updated, velocities, X, Y, f, alpha, 0)
    for W, after in zip(weights, updated, strict=True):
        for index in np.ndindex(W.shape):
            yield after[index] - (W[index] - alpha * sp.diff(cost, W[index]))


def _recurrence_instances() -> Iterator[sp.Basic]:
    # Shallow networks first: a wrong function is caught in seconds, not after the deep ones.
    for sizes in RECURRENCE_SIZES:
        for name in RECURRENCE_ACTIVATIONS:
            # The ReLU has no derivative at 0: positive inputs and weights keep every unit
            # active.
            signs = {"positive": True} if name == "relu" else {}
            yield from network_residuals(sizes, 1, name, **signs)

n_, m_, N_ = sp.symbols("n m N", integer=True, positive=True)


def _matrix(latex: str, rows: sp.Basic = 1, columns: sp.Basic = n_) -> sp.MatrixSymbol:
    """A matrix the book names in LaTeX, e.g. ``delta^{(l)}``: for display only."""
    return sp.MatrixSymbol(latex, rows, columns)


SAMPLE_GRADIENT = _matrix("\\frac{\\partial C_n}{\\partial W^{(l)}}", m_, n_)
GRADIENT = _matrix("\\frac{\\partial C}{\\partial W^{(l)}}", m_, n_)
A_PREVIOUS = _matrix("a^{(l-1)}", 1, m_)
DELTA = _matrix("\\delta^{(l)}")
A_BATCH, DELTA_BATCH = _matrix("A^{(l-1)}", N_, m_), _matrix("\\Delta^{(l)}", N_)
BATCH_GRADIENT = A_BATCH.T * DELTA_BATCH / N_
CODE_GRADIENT = A_BATCH.T * _matrix("\\left(\\Delta^{(l)} / N\\right)", N_)

W_l = sp.IndexedBase("W^{(l)}", real=True)
A_l = sp.IndexedBase("A^{(l-1)}", real=True)
D_l = sp.IndexedBase("\\Delta^{(l)}", real=True)
n, N = sp.symbols("n N", integer=True, positive=True)
PRODUCT_ENTRY = sp.Symbol("\\left(A^{(l-1)\\top} \\Delta^{(l)}\\right)_{ij}")


DELTA_RECURRENCE = register(
    Derivation(
        name="delta-recurrence",
        title="The delta recurrence, for any depth",
        claim=sp.Eq(SAMPLE_GRADIENT, A_PREVIOUS.T * DELTA),
        steps=(
            Step(_matrix("\\frac{\\partial C_n}{\\partial z^{(L)}}"),
                 "one sample's output delta, $\\hat y - y$ for softmax with cross-entropy",
                 lhs=_matrix("\\delta^{(L)}"), checked=False),
            Step(sp.HadamardProduct(_matrix("f'(z^{(l)})"),
                                    _matrix("\\delta^{(l+1)}", 1, m_)
                                    * _matrix("W^{(l+1)}", n_, m_).T),
                 "chain rule through $a^{(l)}$ and $z^{(l+1)}$",
                 lhs=DELTA, checked=False),
            Step(A_PREVIOUS.T * DELTA, "$z^{(l)} = a^{(l-1)} W^{(l)}$ is linear in each weight",
                 lhs=SAMPLE_GRADIENT, checked=False),
        ),
        scope=(
            "for networks of one, two and three hidden layers of width 2 with 2 inputs and 2 "
            "classes, each with an undefined activation f, the sigmoid, the improved sigmoid "
            "(for every amplitude A and slope S) and the ReLU (with positive inputs and "
            "weights, so every unit is active): every entry of every weight gradient from the "
            "package's backward pass equals sympy.diff of the package's loss"
        ),
        justifies=(
            "backprop.network.forward",
            "backprop.network.backward",
            "backprop.network.deltas",
            "backprop.activations.sigmoid",
            "backprop.activations.sigmoid_derivative",
            "backprop.activations.improved_sigmoid",
            "backprop.activations.improved_sigmoid_derivative",
            "backprop.activations.relu_derivative",
        ),
        instances=_recurrence_instances,
    )
)

BATCHED_GRADIENT = register(
    Derivation(
        name="batched-gradient",
        title="Task 1b: the batched, vectorised gradient",
        claim=sp.Eq(GRADIENT, CODE_GRADIENT),
        steps=(
            Step(sp.Sum(sp.Function("C_n")(sp.Symbol("W")), (n, 1, N)) / N,
                 "the batch's loss is the mean of the samples' losses",
                 lhs=sp.Function("C")(sp.Symbol("W")), checked=False),
            Step(sp.Sum(sp.Derivative(C_n, W_l[i, j]), (n, 1, N)) / N,
                 "the derivative of a mean is the mean of the derivatives",
                 lhs=sp.Derivative(C, W_l[i, j]), checked=False),
            Step(sp.Sum(A_l[n, i] * D_l[n, j], (n, 1, N)) / N,
                 "each sample's gradient, by the recurrence: $a^{(l-1)}_i \\delta^{(l)}_j$ "
                 "of sample $n$, row $n$ of $A^{(l-1)}$ and of $\\Delta^{(l)}$",
                 checked=False),
            Step(PRODUCT_ENTRY / N,
                 "a sum over the shared index $n$ is an entry of a matrix product",
                 checked=False),
            Step(BATCH_GRADIENT, "for every $i$ and $j$ at once", lhs=GRADIENT,
                 checked=False),
            Step(CODE_GRADIENT,
                 "the code divides the output delta by $N$ (`cross_entropy_delta`); the "
                 "recurrence is linear in $\\delta$, so every layer's delta carries the "
                 "$1/N$", checked=False),
        ),
        scope=(
            f"for any differentiable activation f, for a batch of N = {BATCH} samples "
            f"through a {'-'.join(map(str, BATCHED_SIZES))} network: every entry of both "
            "weight gradients from the package's backward pass equals sympy.diff of the "
            "package's mean loss over the batch, and equals the mean over the samples of "
            "each sample's gradient (the package's backward pass from that sample's delta "
            "y_hat - y, with no 1/N); and one sgd_step without momentum moves each weight by "
            "-alpha times that derivative"
        ),
        justifies=(
            "backprop.network.forward",
            "backprop.network.backward",
            "backprop.network.deltas",
            "backprop.losses.mean_cross_entropy",
            "backprop.losses.cross_entropy_delta",
            "backprop.training.sgd_step",
        ),
        instances=lambda: _batched_instances(),
    )
)
