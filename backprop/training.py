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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

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
        Velocity, same shape, updated in place (zeros before the first step).
    g : array
        Gradient of the loss with respect to ``W``.
    learning_rate, momentum : float
        :math:`\alpha` and :math:`\gamma`.
    """
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
        if not (_is_whole(epochs) and epochs >= 1):
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        steps_per_epoch = X_train.shape[0] // self.batch_size
        if steps_per_epoch == 0:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the {X_train.shape[0]} training "
                "samples: there is no complete batch"
            )
        # An overflow is caught where it matters, as a loss that is no longer finite.
        with np.errstate(over="ignore", invalid="ignore"):
            return self._train(X_train, Y_train, X_val, Y_val, epochs, steps_per_epoch,
                               on_step or _ignore, on_check or _ignore)

    def _train(self, X_train, Y_train, X_val, Y_val, epochs, steps_per_epoch, on_step,
               on_check) -> History:
        model = self.model
        check_every = max(1, steps_per_epoch // 5)
        rng = np.random.default_rng(self.seed) if self.shuffle else None
        velocities = [np.zeros_like(W) for W in model.weights]
        history = History(steps_per_epoch=steps_per_epoch)
        checks_without_improvement = 0
        step = 0
        for _ in range(epochs):
            for batch in batch_indices(X_train.shape[0], self.batch_size, rng):
                if step % check_every == 0:
                    self._validate(history, step, X_train, Y_train, X_val, Y_val)
                    on_check(step, history)
                    if history.best_step == step:
                        checks_without_improvement = 0
                    else:
                        checks_without_improvement += 1
                    if checks_without_improvement == self.early_stopping:
                        history.stop_reason = StopReason.EARLY_STOPPING
                        return history
                a = model._forward(X_train[batch])
                loss = mean_cross_entropy(Y_train[batch], a[-1])
                history.train_loss[step] = loss
                if not math.isfinite(loss):
                    _diverged(history, step, "training loss", loss)
                gradients = model._backward(a, Y_train[batch])
                for W, v, g in zip(model.weights, velocities, gradients, strict=True):
                    momentum_step(W, v, g, self.learning_rate, self.momentum)
                on_step(step, loss)
                step += 1
        self._validate(history, step, X_train, Y_train, X_val, Y_val)
        on_check(step, history)
        history.stop_reason = StopReason.EPOCHS
        return history

    def _check_set(self, X: ArrayLike, Y: ArrayLike, name: str) -> tuple[Array, Array]:
        model = self.model
        X = check_matrix(X, f"X_{name}", columns=model.input_size, dtype=model.dtype)
        Y = check_targets(Y, model.num_classes, rows=X.shape[0], dtype=model.dtype)
        return X, Y

    def _validate(self, history: History, step: int, X_train, Y_train, X_val, Y_val) -> None:
        model = self.model
        y_hat_val = model._forward(X_val)[-1]
        val_loss = mean_cross_entropy(Y_val, y_hat_val)
        history.val_loss[step] = val_loss
        history.val_accuracy[step] = _accuracy(Y_val, y_hat_val)
        y_hat_train = model._forward(X_train)[-1]
        history.train_accuracy[step] = _accuracy(Y_train, y_hat_train)
        history.train_set_loss[step] = mean_cross_entropy(Y_train, y_hat_train)
        if not math.isfinite(val_loss):
            _diverged(history, step, "validation loss", val_loss)
        if val_loss < history.best_val_loss:
            history.best_step = step


def _ignore(*_: object) -> None:
    pass


def _accuracy(targets: Array, outputs: Array) -> float:
    return float(np.mean(np.argmax(outputs, axis=1) == np.argmax(targets, axis=1)))


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
