r"""Backpropagation: Task 1a's hidden-layer rule, the delta recurrence, Task 1b's batch form.

The proofs build small networks from symbolic weights and inputs, differentiate the loss with
:func:`sympy.diff` weight by weight, and compare with what the recurrence computes. The hidden
activation is an undefined function :math:`f`, so every proof holds for any differentiable
activation; the recurrence and the batched form are proved for an undefined loss
:math:`\ell` of the output logits too, since :data:`~backprop.derivations.softmax` shows that
softmax with cross-entropy gives :math:`\partial \ell / \partial z_k = \hat y_k - y_k`.
"""

from __future__ import annotations

from itertools import pairwise

import sympy as sp

from backprop.derivations.core import Derivation, Step, register
from backprop.derivations.softmax import softmax

f = sp.Function("f")
loss = sp.Function("ell")
_u = sp.Dummy("u")


def f_prime(z: sp.Basic) -> sp.Basic:
    """:math:`f'(z)` for the undefined activation :math:`f`."""
    return sp.Derivative(f(_u), _u).subs(_u, z)


def weight_matrix(name: str, rows: int, columns: int) -> sp.Matrix:
    """A matrix of distinct weight symbols ``name_rc``, counted from 1."""
    return sp.Matrix(rows, columns, lambda r, c: sp.Symbol(f"{name}_{r + 1}{c + 1}", real=True))


# Task 1a, in the course's notation: w_ji from input i to hidden unit j, w_kj from hidden unit
# j to output k, z_j = sum_i w_ji x_i, a_j = f(z_j), z_k = sum_j w_kj a_j.
TASK_1A_SIZES = {"I": 3, "J": 2, "K": 3}
i, j, k, I, J, K = sp.symbols("i j k I J K", integer=True, positive=True)
w = sp.IndexedBase("w", real=True)
x = sp.IndexedBase("x", real=True)
zz = sp.IndexedBase("z", real=True)
delta = sp.IndexedBase("delta", real=True)
y = sp.IndexedBase("y", real=True)
y_hat = sp.IndexedBase("\\hat{y}", real=True)
alpha, C = sp.symbols("alpha C")


def _task_1a_instances() -> list[sp.Basic]:
    sizes = TASK_1A_SIZES
    inputs = sp.Matrix(sp.symbols(f"x1:{sizes['I'] + 1}", real=True))
    hidden_weights = weight_matrix("w", sizes["J"], sizes["I"])
    output_weights = weight_matrix("v", sizes["K"], sizes["J"])
    targets = list(sp.symbols(f"y1:{sizes['K']}", real=True))
    targets.append(1 - sum(targets))

    def loss_of_hidden(z_hidden: sp.Matrix) -> tuple[sp.Basic, list[sp.Basic]]:
        z_output = output_weights * z_hidden.applyfunc(f)
        outputs = softmax(list(z_output))
        log_total = sp.log(sum(sp.exp(logit) for logit in z_output))
        cost = -sum(t * (logit - log_total) for t, logit in zip(targets, z_output, strict=True))
        return cost, outputs

    z_hidden = hidden_weights * inputs
    cost, outputs = loss_of_hidden(z_hidden)
    delta_output = [o - t for o, t in zip(outputs, targets, strict=True)]
    delta_hidden = [
        f_prime(z_hidden[jj]) * sum(output_weights[kk, jj] * delta_output[kk]
                                    for kk in range(sizes["K"]))
        for jj in range(sizes["J"])
    ]
    residuals = [
        sp.diff(cost, hidden_weights[jj, ii]) - delta_hidden[jj] * inputs[ii]
        for jj in range(sizes["J"])
        for ii in range(sizes["I"])
    ]
    # The middle step on its own: with the hidden pre-activations as free symbols, the loss's
    # derivative by z_j is delta_j.
    free = sp.Matrix(sp.symbols(f"u1:{sizes['J'] + 1}", real=True))
    free_cost, free_outputs = loss_of_hidden(free)
    residuals.extend(
        sp.diff(free_cost, free[jj])
        - f_prime(free[jj]) * sum(output_weights[kk, jj] * (free_outputs[kk] - targets[kk])
                                  for kk in range(sizes["K"]))
        for jj in range(sizes["J"])
    )
    return residuals


HIDDEN_LAYER_UPDATE = register(
    Derivation(
        name="hidden-layer-update",
        title="Task 1a: the update rule of a hidden-layer weight",
        claim=sp.Eq(sp.Derivative(C, w[j, i]), delta[j] * x[i]),
        steps=(
            Step(sp.Derivative(C, zz[j]) * sp.Derivative(zz[j], w[j, i]),
                 "chain rule: $w_{ji}$ reaches $C$ only through $z_j$",
                 lhs=sp.Derivative(C, w[j, i]), checked=False),
            Step(sp.Derivative(C, zz[j]) * x[i], "$z_j = \\sum_i w_{ji} x_i$", checked=False),
            Step(sp.Sum(sp.Derivative(C, zz[k]) * w[k, j], (k, 1, K)) * f_prime(zz[j]),
                 "chain rule through $a_j = f(z_j)$ and each $z_k$",
                 lhs=sp.Derivative(C, zz[j]), checked=False),
            Step(f_prime(zz[j]) * sp.Sum(w[k, j] * delta[k], (k, 1, K)),
                 "$\\delta_k = \\hat y_k - y_k$ (softmax-cross-entropy)", checked=False),
            Step(delta[j], "which defines $\\delta_j$", checked=False),
            Step(w[j, i] - alpha * delta[j] * x[i],
                 "gradient descent with learning rate $\\alpha$",
                 lhs=sp.Symbol("w_{ji}'"), checked=False),
        ),
        scope=(
            "for any differentiable activation f and one-hot (or any normalised) targets, "
            "with I = 3 inputs, J = 2 hidden and K = 3 output units: every derivative "
            "dC/dw_ji from sympy.diff, and dC/dz_j on its own"
        ),
        justifies=("backprop.network.MLP.backward", "backprop.network.MLP._backward"),
        instances=_task_1a_instances,
    )
)


def network_gradients(
    sizes: list[int], samples: int
) -> tuple[sp.Basic, list[sp.Matrix], list[sp.Matrix]]:
    r"""A symbolic network in the code's matrix notation, and its gradients by the recurrence.

    Parameters
    ----------
    sizes : list of int
        Units per layer, inputs first.
    samples : int
        Rows :math:`N` of the batch.

    Returns
    -------
    cost : sympy expression
        :math:`C = \frac1N \sum_n \ell(z^{(L)}_n)` for the undefined loss :math:`\ell`.
    weights : list of sympy.Matrix
        :math:`W^{(1)}, \dots, W^{(L)}`, each ``(fan_in, fan_out)`` of distinct symbols.
    gradients : list of sympy.Matrix
        :math:`A^{(l-1)\top} \Delta^{(l)} / N`, with :math:`\Delta^{(L)}` the rows
        :math:`\nabla \ell(z^{(L)}_n)` and
        :math:`\Delta^{(l)} = f'(Z^{(l)}) \odot \Delta^{(l+1)} W^{(l+1)\top}`.
    """
    weights = [weight_matrix(f"w{l}", n_in, n_out)
               for l, (n_in, n_out) in enumerate(pairwise(sizes), start=1)]
    a = [sp.Matrix(samples, sizes[0], lambda n, c: sp.Symbol(f"x_{n + 1}{c + 1}", real=True))]
    z = []
    for W in weights:
        z.append(a[-1] * W)
        a.append(z[-1].applyfunc(f))
    logits = z[-1]
    cost = sum(loss(*logits.row(n)) for n in range(samples)) / samples
    free = sp.symbols(f"t1:{sizes[-1] + 1}", real=True)
    Delta = sp.Matrix(
        samples, sizes[-1],
        lambda n, c: sp.diff(loss(*free), free[c]).subs(dict(zip(free, logits.row(n),
                                                                 strict=True))),
    )
    gradients = []
    for l in range(len(weights), 0, -1):
        gradients.append(a[l - 1].T * Delta / samples)
        if l > 1:
            Delta = z[l - 2].applyfunc(f_prime).multiply_elementwise(Delta * weights[l - 1].T)
    return cost, weights, gradients[::-1]


def _differences(sizes: list[int], samples: int) -> list[sp.Basic]:
    cost, weights, gradients = network_gradients(sizes, samples)
    return [
        derivative_matrix(cost, W) - gradient
        for W, gradient in zip(weights, gradients, strict=True)
    ]


def derivative_matrix(cost: sp.Basic, W: sp.Matrix) -> sp.Matrix:
    r""":math:`\partial C / \partial W` entry by entry, by :func:`sympy.diff`."""
    return W.applyfunc(lambda weight: sp.diff(cost, weight))


RECURRENCE_SIZES = [2, 3, 2, 2, 2]
BATCHED_SIZES, BATCH = [3, 2, 2], 3

n_, m_, N_ = sp.symbols("n m N", integer=True, positive=True)


def _matrix(latex: str, rows: sp.Basic = 1, columns: sp.Basic = n_) -> sp.MatrixSymbol:
    """A matrix the book names in LaTeX, e.g. ``delta^{(l)}``: for display only."""
    return sp.MatrixSymbol(latex, rows, columns)


GRADIENT = _matrix("\\frac{\\partial C}{\\partial W^{(l)}}", m_, n_)
A_PREVIOUS = _matrix("a^{(l-1)}", 1, m_)
DELTA = _matrix("\\delta^{(l)}")
BATCH_GRADIENT = _matrix("A^{(l-1)}", N_, m_).T * _matrix("\\Delta^{(l)}", N_) / N_


DELTA_RECURRENCE = register(
    Derivation(
        name="delta-recurrence",
        title="The delta recurrence, for any depth",
        claim=sp.Eq(GRADIENT, A_PREVIOUS.T * DELTA),
        steps=(
            Step(_matrix("\\frac{\\partial C}{\\partial z^{(L)}}"),
                 "$\\hat y - y$ for softmax with cross-entropy",
                 lhs=_matrix("\\delta^{(L)}"), checked=False),
            Step(sp.HadamardProduct(_matrix("f'(z^{(l)})"),
                                    _matrix("\\delta^{(l+1)}", 1, m_)
                                    * _matrix("W^{(l+1)}", n_, m_).T),
                 "chain rule through $a^{(l)}$ and $z^{(l+1)}$",
                 lhs=DELTA, checked=False),
            Step(A_PREVIOUS.T * DELTA, "$z^{(l)} = a^{(l-1)} W^{(l)}$ is linear in each weight",
                 lhs=GRADIENT, checked=False),
        ),
        scope=(
            "for any differentiable activation f and any loss of the output logits, for a "
            f"network of widths {'-'.join(map(str, RECURRENCE_SIZES))} (three hidden layers): "
            "every entry of every weight gradient"
        ),
        justifies=("backprop.network.MLP.backward", "backprop.network.MLP._backward"),
        instances=lambda: _differences(RECURRENCE_SIZES, 1),
    )
)

BATCHED_GRADIENT = register(
    Derivation(
        name="batched-gradient",
        title="Task 1b: the batched, vectorised gradient",
        claim=sp.Eq(GRADIENT, BATCH_GRADIENT),
        steps=(
            Step(sp.Sum(sp.Function("C_n")(sp.Symbol("W")), (n_, 1, N_)) / N_,
                 "the batch's loss is the mean of the samples' losses",
                 lhs=sp.Function("C")(sp.Symbol("W")), checked=False),
            Step(BATCH_GRADIENT,
                 "the rows of $A^{(l-1)}$ and $\\Delta^{(l)}$ are the samples'",
                 lhs=GRADIENT, checked=False),
        ),
        scope=(
            "for any differentiable activation f and any loss of the output logits, for a "
            f"batch of N = {BATCH} samples through a "
            f"{'-'.join(map(str, BATCHED_SIZES))} network: every entry of both weight "
            "gradients"
        ),
        justifies=("backprop.network.MLP.backward", "backprop.network.MLP._backward"),
        instances=lambda: _differences(BATCHED_SIZES, BATCH),
    )
)
