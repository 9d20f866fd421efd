r"""Mini-batch gradient descent with momentum, validation checks and early stopping.

Each step takes a batch of :math:`B` samples, computes the gradient :math:`g` of the batch's
mean cross-entropy by backpropagation and moves every weight matrix against it:

.. math::

    v \leftarrow g + \gamma v, \qquad W \leftarrow W - \alpha v,

with learning rate :math:`\alpha`, momentum :math:`\gamma` and velocity :math:`v` starting at
zero: the convention of PyTorch's ``SGD``. With :math:`\gamma = 0` this is plain gradient
descent, :math:`W \leftarrow W - \alpha g`. For a constant :math:`\alpha` it produces the
same weights as LeCun's :math:`\Delta w \leftarrow \alpha g + \gamma \Delta w`,
:math:`w \leftarrow w - \Delta w`, whose :math:`\Delta w` is :math:`\alpha v`.
"""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import ThreadpoolController

from backprop._checks import check_matrix, check_targets
from backprop.losses import mean_cross_entropy
from backprop.network import MLP

Array = NDArray[np.floating]


class StopReason(enum.StrEnum):
    """Why :meth:`Trainer.fit` stopped."""

    EPOCHS = "epochs"
    """Every epoch asked for was run."""
    EARLY_STOPPING = "early_stopping"
    """The validation loss had not improved for ``early_stopping`` checks."""
    DIVERGED = "diverged"
    """A loss became NaN or infinite (:class:`TrainingDivergedError` was raised)."""


@dataclass
class History:
    """What happened during :meth:`Trainer.fit`, keyed by global step.

    The global step counts the weight updates made so far: the numbers stored under step
    :math:`s` describe the weights after :math:`s` updates.

    Attributes
    ----------
    train_loss : dict[int, float]
        Mean cross-entropy of each step's batch, measured before that step's update.
    train_accuracy, train_set_loss, val_loss, val_accuracy : dict[int, float]
        Accuracy and loss on the whole training set, and loss and accuracy on the whole
        validation set, at every validation check (five per epoch, the first before any
        update).
    steps_per_epoch : int
        Updates in one epoch (complete batches only).
    stop_reason : StopReason or None
        Why training stopped; ``None`` while it runs.
    best_step : int or None
        The check with the lowest validation loss so far.
    """

    train_loss: dict[int, float] = field(default_factory=dict)
    train_accuracy: dict[int, float] = field(default_factory=dict)
    train_set_loss: dict[int, float] = field(default_factory=dict)
    val_loss: dict[int, float] = field(default_factory=dict)
    val_accuracy: dict[int, float] = field(default_factory=dict)
    steps_per_epoch: int = 0
    stop_reason: StopReason | None = None
    best_step: int | None = None

    @property
    def steps(self) -> int:
        """Updates made."""
        return len(self.train_loss)

    @property
    def best_val_loss(self) -> float:
        """The lowest validation loss of any check (``inf`` before the first)."""
        return self.val_loss[self.best_step] if self.best_step is not None else math.inf

    def series(self, name: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """One record as two arrays, steps and values, ready to plot.

        Parameters
        ----------
        name : {"train_loss", "train_accuracy", "train_set_loss", "val_loss", "val_accuracy"}
        """
        record: dict[int, float] = getattr(self, name)
        return np.fromiter(record.keys(), np.int64), np.fromiter(record.values(), np.float64)


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite during training.

    Attributes
    ----------
    step : int
        The global step at which it happened.
    history : History
        Everything recorded up to that step, with ``stop_reason`` set to ``"diverged"``.
    """

    def __init__(self, message: str, step: int, history: History) -> None:
        super().__init__(message)
        self.step = step
        self.history = history


def momentum_step(W: Array, v: Array, g: Array, learning_rate: float, momentum: float) -> None:
    r"""One gradient-descent step with momentum, in place.

    .. math::

        v \leftarrow g + \gamma v, \qquad W \leftarrow W - \alpha v

    Derivation: ``momentum-conventions`` in :mod:`backprop.derivations` shows that this
    framework convention and LeCun's :math:`\Delta w \leftarrow \alpha g + \gamma \Delta w`
    produce the same weights.

    Parameters
    ----------
    W : array
        Weights, updated in place.
    v : array
        Velocity, same shape, updated in place (zeros before the first step); with
        ``momentum = 0`` it plays no part and is left as it is.
    g : array
        Gradient of the loss with respect to ``W``.
    learning_rate, momentum : float
        :math:`\alpha` and :math:`\gamma`.
    """
    if momentum == 0:
        # Plain gradient descent: v would be g itself, so the two passes over it are saved.
        W -= learning_rate * g
        return
    v *= momentum
    v += g
    W -= learning_rate * v


def batch_indices(
    num_samples: int, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[NDArray[np.intp] | slice]:
    """The rows of each batch of one epoch; the last incomplete batch is dropped.

    Parameters
    ----------
    num_samples : int
        Rows in the training set.
    batch_size : int
        Rows in each batch.
    rng : numpy.random.Generator, optional
        Shuffles the rows (a new permutation per call); without it, batches are consecutive
        slices in order.

    Yields
    ------
    array of int or slice
        Indexes one batch's rows: ``X[batch]``.
    """
    num_batches = num_samples // batch_size
    if rng is None:
        for start in range(0, num_batches * batch_size, batch_size):
            yield slice(start, start + batch_size)
        return
    order = rng.permutation(num_samples)
    for start in range(0, num_batches * batch_size, batch_size):
        yield order[start : start + batch_size]


class Trainer:
    r"""Trains an :class:`MLP` the way the MNIST assignment does.

    Parameters
    ----------
    model : MLP
        The network, updated in place.
    learning_rate : float
        :math:`\alpha`.
    batch_size : int
        Samples per step.
    momentum : float
        :math:`\gamma` in :math:`[0, 1)`; 0 is plain gradient descent.
    shuffle : bool
        Draw a new order of the training samples every epoch.
    early_stopping : int or None
        Stop after this many validation checks in a row without a lower validation loss;
        ``None`` runs every epoch.
    seed : int
        Seeds the shuffling generator, which is the trainer's own: the same seed and network
        give bit-identical weights and histories.
    blas_threads : int or None
        BLAS threads for the training steps (``None`` leaves the library's setting). A batch
        of 32 makes matrix products too small to share well: one thread is the robust
        choice on a shared machine (see the benchmarks). The validation checks, whose
        products are large, use every core.
    """

    def __init__(
        self,
        model: MLP,
        learning_rate: float = 0.1,
        batch_size: int = 32,
        momentum: float = 0.0,
        shuffle: bool = True,
        early_stopping: int | None = 50,
        seed: int = 0,
        blas_threads: int | None = 1,
    ) -> None:
        if not isinstance(model, MLP):
            raise ValueError(f"model must be a backprop.MLP, got {type(model).__name__}")
        if not (_is_real(learning_rate) and 0 < learning_rate < math.inf):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        if not (_is_whole(batch_size) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not (_is_real(momentum) and 0 <= momentum < 1):
            raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
        if early_stopping is not None and not (_is_whole(early_stopping) and early_stopping >= 1):
            raise ValueError(
                f"early_stopping must be a positive integer or None, got {early_stopping!r}"
            )
        self.model = model
        self.learning_rate = float(learning_rate)
        self.batch_size = int(batch_size)
        self.momentum = float(momentum)
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.seed = seed
        if blas_threads is not None and not (_is_whole(blas_threads) and blas_threads >= 1):
            raise ValueError(f"blas_threads must be a positive integer or None, got "
                             f"{blas_threads!r}")
        self.blas_threads = blas_threads
        self._velocities: list[Array] = []

    def fit(
        self,
        X_train: ArrayLike,
        Y_train: ArrayLike,
        X_val: ArrayLike,
        Y_val: ArrayLike,
        epochs: int = 50,
        *,
        on_step: Callable[[int, float], None] | None = None,
        on_check: Callable[[int, History], None] | None = None,
    ) -> History:
        """Train the network, checking it on the validation set five times an epoch.

        Parameters
        ----------
        X_train, X_val : array, shape (N, input_size)
            Inputs, the bias column last.
        Y_train, Y_val : array, shape (N, num_classes) or (N,)
            One-hot targets, or integer class labels.
        epochs : int
            The most epochs to run.
        on_step : callable, optional
            Called as ``on_step(step, loss)`` after every update, with the batch's loss.
        on_check : callable, optional
            Called as ``on_check(step, history)`` after every validation check, before early
            stopping is decided; the network holds the weights that were checked.

        Returns
        -------
        History
            The losses and accuracies, and why training stopped.

        Raises
        ------
        ValueError
            If the data are malformed, or the training set holds fewer samples than a batch.
        TrainingDivergedError
            If a loss becomes NaN or infinite; it names the step and carries the history.
        """
        X_train, Y_train = self._check_set(X_train, Y_train, "train")
        X_val, Y_val = self._check_set(X_val, Y_val, "val")
        sets = _Sets(X_train, Y_train, np.argmax(Y_train, axis=1), X_val,
                     np.argmax(Y_val, axis=1))
        if not (_is_whole(epochs) and epochs >= 1):
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        steps_per_epoch = X_train.shape[0] // self.batch_size
        if steps_per_epoch == 0:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the {X_train.shape[0]} training "
                "samples: there is no complete batch"
            )
        # An overflow is caught where it matters, as a loss that is no longer finite.
        with np.errstate(over="ignore", invalid="ignore"), blas_threads(self.blas_threads):
            return self._train(sets, epochs, steps_per_epoch, on_step or _ignore,
                               on_check or _ignore)

    def _train(self, sets: _Sets, epochs, steps_per_epoch, on_step, on_check) -> History:
        model = self.model
        check_every = max(1, steps_per_epoch // 5)
        rng = np.random.default_rng(self.seed) if self.shuffle else None
        self._velocities = [np.zeros_like(W) for W in model.weights]
        history = History(steps_per_epoch=steps_per_epoch)
        checks_without_improvement = 0
        step = 0
        for _ in range(epochs):
            for batch in batch_indices(sets.X_train.shape[0], self.batch_size, rng):
                if step % check_every == 0:
                    self._validate(history, step, sets)
                    on_check(step, history)
                    if history.best_step == step:
                        checks_without_improvement = 0
                    else:
                        checks_without_improvement += 1
                    if checks_without_improvement == self.early_stopping:
                        history.stop_reason = StopReason.EARLY_STOPPING
                        return history
                loss = self._step(sets.X_train[batch], sets.Y_train[batch])
                history.train_loss[step] = loss
                if not math.isfinite(loss):
                    _diverged(history, step, "training loss", loss)
                on_step(step, loss)
                step += 1
        self._validate(history, step, sets)
        on_check(step, history)
        history.stop_reason = StopReason.EPOCHS
        return history

    def step(self, X: ArrayLike, targets: ArrayLike) -> float:
        """One update on one batch: forward, loss, backward, momentum step.

        Parameters
        ----------
        X : array, shape (B, input_size)
            The batch's inputs.
        targets : array, shape (B, num_classes) or (B,)
            Its one-hot targets, or integer labels.

        Returns
        -------
        float
            The batch's loss before the update.
        """
        X, targets = self._check_set(X, targets, "batch")
        if not self._velocities:
            self._velocities = [np.zeros_like(W) for W in self.model.weights]
        with blas_threads(self.blas_threads):
            return self._step(X, targets)

    def _step(self, X: Array, targets: Array) -> float:
        a = self.model._forward(X)
        loss = mean_cross_entropy(targets, a[-1])
        gradients = self.model._backward(a, targets)
        for W, v, g in zip(self.model.weights, self._velocities, gradients, strict=True):
            momentum_step(W, v, g, self.learning_rate, self.momentum)
        return loss

    def _check_set(self, X: ArrayLike, Y: ArrayLike, name: str) -> tuple[Array, Array]:
        model = self.model
        X = check_matrix(X, f"X_{name}", columns=model.input_size, dtype=model.dtype)
        Y = check_targets(Y, model.num_classes, rows=X.shape[0], dtype=model.dtype)
        return X, Y

    def _validate(self, history: History, step: int, sets: _Sets) -> None:
        # Whole sets make large matrix products, which every core speeds up.
        with blas_threads(os.cpu_count()):
            val_loss, history.val_accuracy[step] = self.model._evaluate(sets.X_val, sets.y_val)
            history.train_set_loss[step], history.train_accuracy[step] = self.model._evaluate(
                sets.X_train, sets.y_train
            )
        history.val_loss[step] = val_loss
        if not math.isfinite(val_loss):
            _diverged(history, step, "validation loss", val_loss)
        if val_loss < history.best_val_loss:
            history.best_step = step


class _Sets(NamedTuple):
    X_train: Array
    Y_train: Array
    y_train: NDArray[np.intp]
    X_val: Array
    y_val: NDArray[np.intp]


# One controller for the process: inspecting the loaded BLAS libraries is slow.
_BLAS = ThreadpoolController()


def blas_threads(count: int | None) -> Any:
    """A context in which BLAS uses ``count`` threads (``None``: leave the setting alone)."""
    return _BLAS.limit(limits=count, user_api="blas")


def _ignore(*_: object) -> None:
    pass


def _diverged(history: History, step: int, what: str, value: float) -> None:
    history.stop_reason = StopReason.DIVERGED
    raise TrainingDivergedError(
        f"the {what} became {value} at step {step} (epoch {step // history.steps_per_epoch + 1})"
        ": training diverged; try a smaller learning rate",
        step,
        history,
    )


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool
    )


def _is_whole(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)
