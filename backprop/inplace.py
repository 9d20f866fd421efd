r"""The training step and the scoring of a whole set, in arrays allocated once.

:func:`backprop.training.sgd_step` and :func:`backprop.network.evaluate` are the mathematics
written to be read: each operation makes a new array, and they run on arrays of SymPy
symbols, which is how :mod:`backprop.derivations` proves them. At the assignment's size a
step is two products of a few million multiply-adds and some twenty operations on arrays of a
few thousand numbers, so allocating those arrays and numpy's cost per call are a large part
of it. :class:`Step` and :class:`Scorer` do the same operations, in the same order, into
buffers they keep from call to call: they give the weights, the velocities, the losses and
the accuracies of the readable functions to the bit (``tests/test_inplace.py`` checks it on
random networks), and :class:`~backprop.training.Trainer` trains and checks with them.

They run on float arrays only, and check nothing: the trainer has checked what it passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from backprop.activations import (
    ACTIVATIONS,
    IMPROVED_SIGMOID_SCALE,
    IMPROVED_SIGMOID_SLOPE,
    Activation,
)
from backprop.network import EVALUATION_CHUNK
from backprop.threads import largest_product

Array = NDArray[np.floating]


def sigmoid_(z: Array) -> None:
    r""":math:`\sigma(z)` in place, as :func:`~backprop.activations.sigmoid` computes it."""
    # Halving is exact, so a product by 1/2 gives the bits of a division by 2, sooner.
    z *= 0.5
    np.tanh(z, out=z)
    z += 1
    z *= 0.5


def improved_sigmoid_(z: Array) -> None:
    r""":math:`A \tanh(S z)` in place, as :func:`~backprop.activations.improved_sigmoid`."""
    z *= IMPROVED_SIGMOID_SLOPE
    np.tanh(z, out=z)
    z *= IMPROVED_SIGMOID_SCALE


def relu_(z: Array) -> None:
    r""":math:`\max(0, z)` in place, as :func:`~backprop.activations.relu`."""
    np.maximum(z, 0, out=z)


def times_sigmoid_derivative(m: Array, a: Array, spare: Array) -> None:
    r""":math:`m \leftarrow m \odot a(1 - a)`: :math:`\sigma'` from the output, in place."""
    np.subtract(1, a, out=spare)
    spare *= a
    m *= spare


def times_improved_sigmoid_derivative(m: Array, a: Array, spare: Array) -> None:
    r""":math:`m \leftarrow m \odot S(A - a^2/A)`, in place."""
    np.multiply(a, a, out=spare)
    spare /= IMPROVED_SIGMOID_SCALE
    np.subtract(IMPROVED_SIGMOID_SCALE, spare, out=spare)
    spare *= IMPROVED_SIGMOID_SLOPE
    m *= spare


def times_relu_derivative(m: Array, a: Array, spare: Array) -> None:
    r""":math:`m \leftarrow m \odot [a > 0]`, in place."""
    np.greater(a, 0, out=spare)
    m *= spare


IN_PLACE: dict[str, tuple[Callable[[Array], None], Callable[[Array, Array, Array], None]]] = {
    "sigmoid": (sigmoid_, times_sigmoid_derivative),
    "improved_sigmoid": (improved_sigmoid_, times_improved_sigmoid_derivative),
    "relu": (relu_, times_relu_derivative),
}
"""Each activation's function and its derivative's product, in place, by name."""


def in_place(activation: Activation) -> tuple[Callable[[Array], None],
                                              Callable[[Array, Array, Array], None]]:
    """The in-place pair of ``activation``; for one of a reader's own, its functions' results.

    A reader's own activation may share a name with the package's: only the package's own
    activations get the package's in-place forms.
    """
    if activation.name in IN_PLACE and ACTIVATIONS[activation.name] is activation:
        return IN_PLACE[activation.name]

    def function(z: Array) -> None:
        z[...] = activation.function(z)

    def times_derivative(m: Array, a: Array, spare: Array) -> None:
        m *= activation.derivative(a)

    return function, times_derivative


def softmax_(z: Array, row: Array, spare: Array) -> None:
    r"""The softmax of each row in place, as :func:`~backprop.activations.softmax`.

    ``row`` is a column of as many rows as ``z``; ``spare`` has ``z``'s shape transposed.
    """
    # The largest of each row, across the rows of a transposed copy: for ten classes ten
    # times faster than along each short row, and a maximum is exact either way.
    np.copyto(spare, z.T)
    # The ufuncs' own reductions: np.max and np.sum cost a microsecond more a call.
    np.maximum.reduce(spare, axis=0, out=row[:, 0])
    z -= row
    np.exp(z, out=z)
    np.add.reduce(z, axis=1, keepdims=True, out=row)
    z /= row


class NonFiniteError(FloatingPointError):
    """A layer's pre-activations :math:`z^{(l)}` were not all finite (``layer`` counts from 1)."""

    def __init__(self, layer: int) -> None:
        super().__init__(f"the pre-activations of layer {layer} are not all finite")
        self.layer = layer


def all_finite(z: Array) -> bool:
    """Whether every entry of ``z`` is finite (a test that warns of nothing)."""
    return bool(np.isfinite(z).all())


class Forward:
    """The forward pass into buffers for at most ``rows`` rows of a network's layer sizes."""

    def __init__(self, layer_sizes: Sequence[int], rows: int, dtype: np.dtype) -> None:
        self.a = [np.empty((rows, n), dtype) for n in layer_sizes[1:]]
        self.row = np.empty((rows, 1), dtype)
        self.spare = np.empty((layer_sizes[-1], rows), dtype)

    def __call__(self, weights: Sequence[Array], X: Array,
                 function: Callable[[Array], None], checked: bool = False) -> list[Array]:
        r""":math:`a^{(0)} = X, \dots, a^{(L)}`, as :func:`~backprop.network.forward`.

        Raises
        ------
        NonFiniteError
            With ``checked``, as soon as a layer's :math:`z^{(l)}` is not all finite.
        """
        n = X.shape[0]
        a = [X]
        # Checked, an overflowing product is refused by name rather than warned of.
        with np.errstate(over="ignore", invalid="ignore") if checked else nullcontext():
            for W, buffer in zip(weights, self.a, strict=True):
                a.append(np.matmul(a[-1], W, out=buffer[:n]))
                if checked and not all_finite(a[-1]):
                    raise NonFiniteError(len(a) - 1)
                if len(a) <= len(weights):
                    function(a[-1])
        softmax_(a[-1], self.row[:n], self.spare[:, :n])
        return a


class Step:
    r""":func:`~backprop.training.sgd_step` in buffers kept for one batch size.

    Parameters
    ----------
    layer_sizes : sequence of int
        The network's :math:`n_0, \dots, n_L`.
    batch_size : int
        Rows of every batch it takes.
    dtype : numpy dtype
        The network's.
    """

    def __init__(self, layer_sizes: Sequence[int], batch_size: int, dtype: np.dtype) -> None:
        self.work = largest_product(layer_sizes, batch_size)
        """Multiply-adds of the step's largest product, which set its threads."""
        self.forward = Forward(layer_sizes, batch_size, dtype)
        self.deltas = [np.empty((batch_size, n), dtype) for n in layer_sizes[1:]]
        self.spares = [np.empty((batch_size, n), dtype) for n in layer_sizes[1:]]
        self.gradients = [np.empty((n_in, n_out), dtype) for n_in, n_out in pairwise(layer_sizes)]
        self.tiny = np.finfo(dtype).tiny

    def __call__(
        self,
        weights: Sequence[Array],
        velocities: Sequence[Array],
        X: Array,
        targets: Array,
        activation: Activation,
        learning_rate: float,
        momentum: float,
        checked: bool = False,
    ) -> np.floating:
        """One update, as :func:`~backprop.training.sgd_step` makes it; the loss before it.

        Raises
        ------
        NonFiniteError
            With ``checked``, before any weight changes, if a layer's pre-activations are not
            all finite: an input that is not, or one so large that a product overflows.
        """
        function, times_derivative = in_place(activation)
        a = self.forward(weights, X, function, checked)
        y_hat, N = a[-1], X.shape[0]
        # The mean cross-entropy, as losses.mean_cross_entropy computes it.
        log = self.spares[-1]
        np.maximum(y_hat, self.tiny, out=log)
        np.log(log, out=log)
        log *= targets
        loss = -np.add.reduce(log, axis=None) / N
        # delta^(L) = (y_hat - y) / N, then the recurrence of network.deltas
        delta = self.deltas
        np.subtract(y_hat, targets, out=delta[-1])
        delta[-1] /= N
        for l in range(len(weights) - 1, 0, -1):
            np.matmul(delta[l], weights[l].T, out=delta[l - 1])
            times_derivative(delta[l - 1], a[l], self.spares[l - 1])
        for l, (W, v, g) in enumerate(zip(weights, velocities, self.gradients, strict=True)):
            np.matmul(a[l].T, delta[l], out=g)
            if momentum == 0:
                g *= learning_rate
                W -= g
            else:
                v *= momentum
                v += g
                np.multiply(v, learning_rate, out=g)
                W -= g
        return loss


class Scorer:
    r""":func:`~backprop.network.evaluate` in buffers of ``chunk`` rows.

    Parameters
    ----------
    layer_sizes : sequence of int
        The network's :math:`n_0, \dots, n_L`.
    dtype : numpy dtype
        The network's.
    chunk : int
        Rows per forward pass: :data:`~backprop.network.EVALUATION_CHUNK`, as ``evaluate``
        takes them.
    """

    def __init__(self, layer_sizes: Sequence[int], dtype: np.dtype,
                 chunk: int = EVALUATION_CHUNK) -> None:
        self.chunk = chunk
        self.forward = Forward(layer_sizes, chunk, dtype)
        self.rows = np.arange(chunk)
        self.tiny = np.finfo(dtype).tiny

    def __call__(self, weights: Sequence[Array], X: Array, labels: NDArray[np.intp],
                 activation: Activation) -> tuple[float, float]:
        """The mean cross-entropy and the accuracy, as :func:`~backprop.network.evaluate`."""
        function, _ = in_place(activation)
        loss, correct = 0.0, 0
        for start in range(0, X.shape[0], self.chunk):
            y_hat = self.forward(weights, X[start : start + self.chunk], function)[-1]
            y = labels[start : start + self.chunk]
            # Only the true class's probability enters the loss, as in
            # losses.negative_log_likelihood; the most probable class, the accuracy.
            true = y_hat[self.rows[: len(y)], y]
            loss -= float(np.add.reduce(np.log(np.maximum(true, self.tiny))))
            correct += int(np.count_nonzero(np.argmax(y_hat, axis=1) == y))
        return loss / X.shape[0], correct / X.shape[0]
