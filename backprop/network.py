r"""The multilayer perceptron: a forward pass, and a backward pass by the delta recurrence.

Notation, for a network with :math:`L` weight matrices and a batch of :math:`N` samples:

- :math:`a^{(0)} = X`, shape :math:`(N, I)`: the inputs, whose last column is the constant 1
  of the bias trick (so :math:`I = 785` for MNIST);
- :math:`W^{(l)}`, shape :math:`(\mathrm{fan\_in}, \mathrm{fan\_out})`, maps layer
  :math:`l - 1` to layer :math:`l`;
- :math:`z^{(l)} = a^{(l-1)} W^{(l)}` and :math:`a^{(l)} = f(z^{(l)})` for hidden layers,
  :math:`\hat y = a^{(L)} = \operatorname{softmax}(z^{(L)})` at the output.

The loss :math:`C = \frac1N \sum_n C_n` is the batch's mean of the samples' losses
:math:`C_n`. Backpropagation computes :math:`\delta^{(l)} = \partial C / \partial z^{(l)}`, one
row per sample, from the output back. Each row is that sample's own delta
:math:`\partial C_n / \partial z^{(l)}_n` over :math:`N` (the book's :math:`\Delta^{(l)} / N`),
since the sample's loss enters the mean with weight :math:`1/N`:

.. math::

    \delta^{(L)} = \frac{\hat y - y}{N}, \qquad
    \delta^{(l)} = f'(z^{(l)}) \odot \left(\delta^{(l+1)} {W^{(l+1)}}^{\top}\right), \qquad
    \frac{\partial C}{\partial W^{(l)}} = {a^{(l-1)}}^{\top} \delta^{(l)}.

Written for one sample, one hidden unit :math:`j`, input :math:`i` and output unit :math:`k`,
with the sample's own deltas (no :math:`1/N`), this is the course's rule
:math:`\delta_j = f'(z_j) \sum_k w_{kj} \delta_k` and
:math:`w_{ji} \leftarrow w_{ji} - \alpha \delta_j x_i`; over a batch the step is that rule's
mean over the samples.

The functions :func:`forward`, :func:`deltas`, :func:`backward`, :func:`evaluate` and
:func:`parameter_count` are that mathematics, unchecked (:func:`overflowing_layer` bounds
what :func:`forward` computes); they run on float arrays and on object arrays of SymPy
symbols, which is how :mod:`backprop.derivations` proves them. :class:`MLP` and
:func:`count_parameters` check their arguments once and then call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from backprop.activations import Activation, get_activation, softmax
from backprop.checks import (
    check_layer_sizes,
    check_matrix,
    check_targets,
    float_dtype,
    largest_magnitude,
    memory_fits,
)
from backprop.checks import seed as seed_value
from backprop.initialization import get_initializer
from backprop.losses import cross_entropy_delta, mean_cross_entropy, negative_log_likelihood

Array = NDArray[np.floating]

EVALUATION_CHUNK = 4096
"""Rows per forward pass when a whole set is evaluated."""


def forward(weights: Sequence[Array], X: Array, activation: Activation) -> list[Array]:
    r"""The forward pass: every layer's activations, from the inputs to the softmax output.

    .. math::

        a^{(0)} = X, \qquad a^{(l)} = f\big(a^{(l-1)} W^{(l)}\big), \qquad
        \hat y = a^{(L)} = \operatorname{softmax}\big(a^{(L-1)} W^{(L)}\big).

    Parameters
    ----------
    weights : sequence of arrays
        :math:`W^{(1)}, \dots, W^{(L)}`, each shaped ``(fan_in, fan_out)``.
    X : array, shape (N, I)
        Inputs, the bias column last.
    activation : Activation
        The hidden layers' :math:`f`.

    Returns
    -------
    list of arrays
        :math:`a^{(0)}, \dots, a^{(L)}`; the backward pass needs them all.

    Notes
    -----
    Derivations: ``hidden-layer-update``, ``delta-recurrence`` and ``batched-gradient``
    (:mod:`backprop.derivations`) run it on symbols.
    """
    a = [X]
    for W in weights[:-1]:
        z = a[-1] @ W
        a.append(activation.function(z))
    a.append(softmax(a[-1] @ weights[-1]))
    return a


def deltas(
    weights: Sequence[Array], a: Sequence[Array], delta: Array, activation: Activation
) -> list[Array]:
    r"""The delta recurrence: every layer's :math:`\delta^{(l)}`, from the output layer's back.

    .. math::

        \delta^{(l-1)} = f'(z^{(l-1)}) \odot \big(\delta^{(l)} {W^{(l)}}^{\top}\big)

    Parameters
    ----------
    weights, a, delta, activation
        As :func:`backward` takes them.

    Returns
    -------
    list of arrays
        :math:`\delta^{(1)}, \dots, \delta^{(L)}`, each shaped like :math:`z^{(l)}`: one row
        per sample, each the sample's own delta over :math:`N`.

    Notes
    -----
    :func:`backprop.walkthrough.worked_example` shows each of them, step by step; the
    derivations prove them through :func:`backward`.
    """
    W = weights  # W[l - 1] is the book's W^(l): Python counts from 0, the book from 1
    found = [delta]
    for l in range(len(W), 1, -1):
        # delta^(l-1) = f'(z^(l-1)) * (delta^(l) W^(l)^T), f' taken from a^(l-1)
        found.append(activation.derivative(a[l - 1]) * (found[-1] @ W[l - 1].T))
    return found[::-1]


def backward(
    weights: Sequence[Array], a: Sequence[Array], delta: Array, activation: Activation
) -> list[Array]:
    r"""The backward pass: from the output layer's delta to every weight's gradient.

    .. math::

        \frac{\partial C}{\partial W^{(l)}} = {a^{(l-1)}}^{\top} \delta^{(l)},

    with every :math:`\delta^{(l)}` from the recurrence :func:`deltas`.

    Parameters
    ----------
    weights : sequence of arrays
        :math:`W^{(1)}, \dots, W^{(L)}`.
    a : sequence of arrays
        The activations :func:`forward` returned.
    delta : array, shape (N, K)
        :math:`\delta^{(L)} = \partial C / \partial z^{(L)}`: for the mean cross-entropy after
        softmax, :func:`backprop.losses.cross_entropy_delta`.
    activation : Activation
        The hidden layers' :math:`f`, whose derivative is taken from :math:`a`.

    Returns
    -------
    list of arrays
        :math:`\partial C / \partial W^{(l)}`, shaped like ``weights``.

    Notes
    -----
    Derivations: ``hidden-layer-update``, ``delta-recurrence`` and ``batched-gradient``
    (:mod:`backprop.derivations`) run it on symbols.
    """
    # dC/dW^(l) = a^(l-1)^T delta^(l); counting from 0, a[l] pairs with delta^(l+1)
    return [a[l].T @ delta_l for l, delta_l in enumerate(deltas(weights, a, delta, activation))]


def evaluate(
    weights: Sequence[Array], X: Array, labels: NDArray[np.intp], activation: Activation
) -> tuple[float, float]:
    r"""Mean cross-entropy and accuracy on a whole set, :data:`EVALUATION_CHUNK` rows at a time.

    A few thousand rows at a time keep the activations in cache and run the matrix products
    at their best rate; only the true class's probability enters the loss
    (:func:`backprop.losses.negative_log_likelihood`), so no one-hot copy of the set is made.

    Parameters
    ----------
    weights : sequence of arrays
        :math:`W^{(1)}, \dots, W^{(L)}`.
    X : array, shape (N, I)
        Inputs, the bias column last.
    labels : array of int, shape (N,)
        The true classes.
    activation : Activation
        The hidden layers' :math:`f`.

    Returns
    -------
    (float, float)
        The loss, and the fraction of samples whose most probable class is the label.
    """
    loss, correct = 0.0, 0
    for start in range(0, X.shape[0], EVALUATION_CHUNK):
        y_hat = forward(weights, X[start : start + EVALUATION_CHUNK], activation)[-1]
        y = labels[start : start + EVALUATION_CHUNK]
        loss += float(negative_log_likelihood(y, y_hat))
        correct += int(np.count_nonzero(np.argmax(y_hat, axis=1) == y))
    return loss / X.shape[0], correct / X.shape[0]


def overflowing_layer(
    weights: Sequence[Array], X: Array, activation: Activation, largest: float | None = None
) -> int | None:
    r"""The first layer :math:`l` whose pre-activation :math:`z^{(l)}` overflows on ``X``.

    A saturating activation hides an overflow: :math:`\sigma(\infty) = 1` is finite, and so is
    every loss computed after it. Where it can, the check costs no forward pass: for the
    monotone activations here,

    .. math::

        |z^{(l)}_j| \le B_l = \max|a^{(l-1)}| \, \max_j \sum_i |W^{(l)}_{ij}|,

        \max|a^{(l)}| \le \max\big(|f(B_l)|, |f(-B_l)|\big),

    from the largest input on. Only where a bound exceeds the largest number of the dtype is
    the forward pass run, :data:`EVALUATION_CHUNK` rows at a time, and each :math:`z^{(l)}`
    computed.

    Parameters
    ----------
    weights : sequence of arrays
        :math:`W^{(1)}, \dots, W^{(L)}`.
    X : array, shape (N, I)
        Inputs, the bias column last.
    activation : Activation
        The hidden layers' :math:`f`.
    largest : float, optional
        :math:`\max|X|`, where it is already known.

    Returns
    -------
    int or None
        :math:`l`, counted from 1 for the first weight matrix, or None if no layer overflows.
    """
    limit, eps = float(np.finfo(X.dtype).max), float(np.finfo(X.dtype).eps)
    bound = largest_magnitude(X) if largest is None else largest
    with np.errstate(over="ignore", invalid="ignore"):
        for W in weights:
            # In float64, and widened by the most that rounding each of the fan_in products
            # and partial sums can add in the dtype: the matrix product may round up.
            bound *= float(np.abs(W).sum(axis=0, dtype=np.float64).max())
            bound *= 1 + 2 * W.shape[0] * eps
            if not bound <= limit:
                return _first_overflow(weights, X, activation)
            bound = largest_magnitude(activation.function(np.array([-bound, bound], X.dtype)))
    return None


def _first_overflow(weights: Sequence[Array], X: Array, activation: Activation) -> int | None:
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], EVALUATION_CHUNK):
            a = forward(weights, X[start : start + EVALUATION_CHUNK], activation)
            for l, W in enumerate(weights):
                if not np.isfinite(a[l] @ W).all():
                    return l + 1
    return None


def parameter_count(layer_sizes: Sequence[int]) -> int:
    r"""The number of weights of a bias-trick network: :math:`\sum_l n_{l-1} n_l`.

    Parameters
    ----------
    layer_sizes : sequence of int
        :math:`n_0, n_1, \dots, n_L`: inputs (the bias input included), then each layer.

    Returns
    -------
    int
        (A SymPy expression, for symbolic sizes.)

    Notes
    -----
    Derivations: ``parameter-count`` and ``equal-width`` (:mod:`backprop.derivations`) run
    it on symbols.
    """
    return sum(n_in * n_out for n_in, n_out in pairwise(layer_sizes))


def check_memory(layer_sizes: Sequence[int], dtype: DTypeLike) -> None:
    """Refuse, before allocating, a network whose weights cannot fit in this machine's memory.

    The weights are drawn in float64 and then rounded to ``dtype``: both copies must fit.

    Raises
    ------
    ValueError
        Naming the number of weights and the memory they need.
    """
    count = parameter_count(layer_sizes)
    memory_fits(count * (8 + np.dtype(dtype).itemsize), f"a network of {count:,} weights")


def count_parameters(neurons_per_layer: Sequence[int], input_size: int = 785) -> int:
    r"""The number of weights of a bias-trick network, checked: :math:`\sum_l n_{l-1} n_l`.

    The bias is the last of the ``input_size`` inputs and hidden layers have no bias of their
    own, so every parameter is a weight. For 784-64-10 with the bias input,
    :math:`785 \cdot 64 + 64 \cdot 10 = 50\,880`.

    Parameters
    ----------
    neurons_per_layer : sequence of int
        Units in each layer after the input, the output layer last.
    input_size : int
        Inputs, the bias input included.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If a size is not a positive integer, or the output layer has fewer than 2 units.

    Notes
    -----
    Derivations: ``parameter-count`` and ``equal-width`` prove :func:`parameter_count`,
    which this calls.
    """
    return parameter_count(check_layer_sizes(neurons_per_layer, input_size))


class MLP:
    r"""A multilayer perceptron with sigmoid-like hidden layers and a softmax output.

    Parameters
    ----------
    neurons_per_layer : sequence of int
        Units in each layer after the input, the output layer last: ``[64, 10]`` is the
        assignment's 784-64-10 network.
    input_size : int
        Inputs per sample, the bias input included (785 for MNIST).
    activation : str
        The hidden layers' activation: ``"sigmoid"``, ``"improved_sigmoid"`` or ``"relu"``.
    init : str
        ``"uniform"`` (:math:`U(-1, 1)`, the course's default) or ``"fan_in"``
        (:math:`\mathcal N(0, 1/\mathrm{fan\_in})`).
    seed : int
        Seeds the :class:`numpy.random.Generator` that draws the weights, layer by layer. The
        weights are drawn in float64 and then rounded to ``dtype``, so a float32 network starts
        from the rounded weights of the float64 network with the same seed.
    dtype : numpy float dtype
        ``numpy.float64`` (for checks) or ``numpy.float32`` (for speed), used end to end.

    Examples
    --------
    >>> model = MLP([64, 10])
    >>> model.num_parameters
    50880
    >>> [w.shape for w in model.weights]
    [(785, 64), (64, 10)]
    """

    def __init__(
        self,
        neurons_per_layer: Sequence[int],
        input_size: int = 785,
        activation: str | Activation = "sigmoid",
        init: str = "uniform",
        seed: int = 0,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.layer_sizes = check_layer_sizes(neurons_per_layer, input_size)
        self.activation = get_activation(activation)
        initializer = get_initializer(init)
        self.init = init
        self.seed = seed_value(seed)
        self.dtype = float_dtype(dtype)
        check_memory(self.layer_sizes, self.dtype)
        rng = np.random.default_rng(self.seed)
        self._weights = [
            initializer(rng, fan_in, fan_out).astype(self.dtype)
            for fan_in, fan_out in pairwise(self.layer_sizes)
        ]

    def __repr__(self) -> str:
        return (
            f"MLP({list(self.neurons_per_layer)}, input_size={self.input_size}, "
            f"activation={self.activation.name!r}, init={self.init!r}, seed={self.seed}, "
            f"dtype=numpy.{self.dtype})"
        )

    @property
    def input_size(self) -> int:
        """Inputs per sample, the bias input included."""
        return self.layer_sizes[0]

    @property
    def neurons_per_layer(self) -> tuple[int, ...]:
        """Units in each layer after the input."""
        return self.layer_sizes[1:]

    @property
    def num_classes(self) -> int:
        """Units of the softmax output layer."""
        return self.layer_sizes[-1]

    @property
    def num_parameters(self) -> int:
        """The number of weights (see :func:`count_parameters`)."""
        return sum(w.size for w in self._weights)

    @property
    def weights(self) -> list[Array]:
        r"""The weight matrices :math:`W^{(1)}, \dots, W^{(L)}`, shaped ``(fan_in, fan_out)``.

        The list holds the network's own arrays, so editing one in place changes the network.
        Assigning a new list checks every shape and copies the values into the network's
        dtype.
        """
        return self._weights

    @weights.setter
    def weights(self, new_weights: Sequence[ArrayLike]) -> None:
        if isinstance(new_weights, np.ndarray | str) or not isinstance(new_weights, Sequence):
            raise ValueError(f"weights must be a list of {len(self._weights)} matrices, got "
                             f"{type(new_weights).__name__}")
        if len(new_weights) != len(self._weights):
            raise ValueError(
                f"the network has {len(self._weights)} weight matrices, got {len(new_weights)}"
            )
        checked = []
        for index, (old, new) in enumerate(zip(self._weights, new_weights, strict=True)):
            new = check_matrix(new, f"weights[{index}]", dtype=self.dtype)
            if new.shape != old.shape:
                raise ValueError(
                    f"weights[{index}] must have shape {old.shape}, got {new.shape}"
                )
            checked.append(new.copy())
        self._weights = checked

    def astype(self, dtype: DTypeLike) -> MLP:
        """A copy of the network with its weights converted to ``dtype``."""
        copy = object.__new__(MLP)
        copy.__dict__.update(self.__dict__)
        copy.dtype = float_dtype(dtype)
        copy._weights = [w.astype(copy.dtype) for w in self._weights]
        return copy

    def forward(self, X: ArrayLike) -> Array:
        r"""The network's prediction :math:`\hat y`: softmax probabilities.

        Parameters
        ----------
        X : array, shape (N, input_size)
            Inputs, one row per sample, the bias column last.

        Returns
        -------
        array, shape (N, num_classes)
            Class probabilities; every row sums to 1.

        Raises
        ------
        ValueError
            If ``X`` is not a finite, non-empty 2-D array of ``input_size`` columns.
        FloatingPointError
            If a layer's pre-activations overflow the dtype on ``X``, though a saturating
            activation would hide it (:func:`overflowing_layer`); the other methods that
            take inputs raise it too.
        """
        return self._forward(self.check_inputs(X))[-1]

    def layer_outputs(self, X: ArrayLike) -> list[Array]:
        r"""Every layer's activations :math:`a^{(0)} = X, a^{(1)}, \dots, a^{(L)} = \hat y`.

        Parameters
        ----------
        X : array, shape (N, input_size)
            Inputs, one row per sample, the bias column last.

        Returns
        -------
        list of arrays
            ``L + 1`` arrays; entry ``l`` has shape ``(N, layer_sizes[l])``.
        """
        return self._forward(self.check_inputs(X))

    def backward(self, X: ArrayLike, targets: ArrayLike) -> list[Array]:
        r"""Gradients of the mean cross-entropy with respect to every weight matrix.

        Runs :func:`forward`, then :func:`backward` from the output delta
        :math:`(\hat y - y)/N` (:func:`backprop.losses.cross_entropy_delta`).

        Parameters
        ----------
        X : array, shape (N, input_size)
            Inputs, one row per sample, the bias column last.
        targets : array, shape (N, num_classes) or (N,)
            One-hot targets, or integer class labels.

        Returns
        -------
        list of arrays
            :math:`\partial C / \partial W^{(l)}`, shaped like :attr:`weights`.

        Notes
        -----
        Derivations: ``hidden-layer-update`` (Task 1a), ``delta-recurrence`` and
        ``batched-gradient`` (Task 1b) in :mod:`backprop.derivations` run the functions
        this calls on symbols.
        """
        X, targets = self.check_batch(X, targets)
        a = self._forward(X)
        return backward(self._weights, a, cross_entropy_delta(targets, a[-1]), self.activation)

    def loss(self, X: ArrayLike, targets: ArrayLike) -> float:
        """The mean cross-entropy of the network's predictions on ``X``.

        Parameters
        ----------
        X : array, shape (N, input_size)
            Inputs, one row per sample, the bias column last.
        targets : array, shape (N, num_classes) or (N,)
            One-hot targets, or integer class labels.

        Returns
        -------
        float
        """
        X, targets = self.check_batch(X, targets)
        return float(mean_cross_entropy(targets, self._forward(X)[-1]))

    def evaluate(self, X: ArrayLike, targets: ArrayLike) -> tuple[float, float]:
        """Mean cross-entropy and accuracy on a whole set, in chunks of rows.

        Parameters
        ----------
        X : array, shape (N, input_size)
            Inputs, one row per sample, the bias column last.
        targets : array, shape (N, num_classes) or (N,)
            One-hot targets, or integer class labels.

        Returns
        -------
        (float, float)
            The loss, and the fraction of samples whose most probable class is the target.
        """
        X, targets = self.check_batch(X, targets)
        return evaluate(self._weights, X, np.argmax(targets, axis=1), self.activation)

    def predict(self, X: ArrayLike) -> NDArray[np.intp]:
        """The most probable class of each sample.

        Parameters
        ----------
        X : array, shape (N, input_size)
            Inputs, one row per sample, the bias column last.

        Returns
        -------
        array of int, shape (N,)
        """
        return np.argmax(self.forward(X), axis=1)

    def _forward(self, X: Array) -> list[Array]:
        return forward(self._weights, X, self.activation)

    def check_inputs(self, X: ArrayLike, name: str = "X") -> Array:
        """``X`` as an array of this network's dtype with ``input_size`` columns.

        Raises
        ------
        ValueError
            If ``X`` is not a finite, non-empty 2-D array of that width.
        FloatingPointError
            If a layer's pre-activations overflow the dtype on ``X`` with these weights
            (:func:`overflowing_layer`).
        """
        X = check_matrix(X, name, columns=self.input_size, dtype=self.dtype)
        layer = overflowing_layer(self._weights, X, self.activation)
        if layer is not None:
            raise FloatingPointError(
                f"the pre-activations of layer {layer} overflow {self.dtype} on {name}, whose "
                f"largest value is {largest_magnitude(X):.3g} in absolute value: standardise "
                "the inputs (backprop.preprocessing.normalize)")
        return X

    def check_batch(self, X: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
        """``X`` as :meth:`check_inputs` returns it, and its targets as one-hot rows.

        Raises
        ------
        ValueError
            If either is malformed, or their numbers of rows differ.
        """
        X = self.check_inputs(X)
        return X, check_targets(targets, self.num_classes, rows=X.shape[0], dtype=self.dtype)
