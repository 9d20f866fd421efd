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

:func:`momentum_step` and :func:`sgd_step` are that mathematics, unchecked, and
:class:`Trainer` is the loop around them: batches, checks of the whole sets, early stopping.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop.activations import Activation
from backprop.checks import (
    boolean,
    callable_or_none,
    check_matrix,
    check_targets,
    largest_magnitude,
    positive_int,
    real_in_range,
)
from backprop.checks import dense_checks as check_dense_checks
from backprop.checks import seed as seed_value
from backprop.inplace import NonFiniteError, Scorer, Step
from backprop.losses import cross_entropy_delta, mean_cross_entropy
from backprop.network import EVALUATION_CHUNK, MLP, backward, forward, overflowing_layer
from backprop.threads import ThreadPolicy, largest_product

Array = NDArray[np.floating]


class StopReason(enum.StrEnum):
    """Why :meth:`Trainer.fit` stopped."""

    EPOCHS = "epochs"
    """Every epoch asked for was run."""
    EARLY_STOPPING = "early_stopping"
    """The validation loss had not improved for ``early_stopping`` checks."""
    DIVERGED = "diverged"
    """Training diverged by :func:`diverged`'s rule (:class:`TrainingDivergedError` was
    raised)."""


@dataclass
class History:
    """What happened during :meth:`Trainer.fit`, keyed by global step.

    The global step counts the weight updates made so far: the numbers stored under step
    :math:`s` describe the weights after :math:`s` updates.

    Two losses are recorded, and named apart: ``batch_loss`` is the loss of the one batch a
    step trains on, noisy from step to step; ``train_loss`` is the loss of the training set
    (or of its first ``train_check_size`` images, see :class:`Trainer`), measured at each
    check like ``val_loss``.

    Attributes
    ----------
    batch_loss : dict[int, float]
        Mean cross-entropy of each step's batch, measured before that step's update.
    val_loss, val_accuracy : dict[int, float]
        Loss and accuracy on the whole validation set at every check: the course's five per
        epoch, the first before any update, and the denser checks of :class:`Trainer`'s
        ``dense_checks``.
    train_loss, train_accuracy : dict[int, float]
        Loss and accuracy on the training set (or its first ``train_check_size`` images) at
        the course's checks only (:attr:`course_steps`).
    steps_per_epoch : int
        Updates in one epoch (complete batches only).
    stop_reason : StopReason or None
        Why training stopped; ``None`` while it runs.
    best_step : int or None
        The course's check (five per epoch, or the last) with the lowest validation loss so
        far: the network early stopping keeps.
    """

    batch_loss: dict[int, float] = field(default_factory=dict)
    train_loss: dict[int, float] = field(default_factory=dict)
    train_accuracy: dict[int, float] = field(default_factory=dict)
    val_loss: dict[int, float] = field(default_factory=dict)
    val_accuracy: dict[int, float] = field(default_factory=dict)
    steps_per_epoch: int = 0
    stop_reason: StopReason | None = None
    best_step: int | None = None

    @property
    def steps(self) -> int:
        """Updates made."""
        return len(self.batch_loss)

    @property
    def course_steps(self) -> NDArray[np.int64]:
        """The steps of the course's checks: those that score the training images too."""
        return np.fromiter(self.train_loss.keys(), np.int64)

    @property
    def best_val_loss(self) -> float:
        """The validation loss at :attr:`best_step` (``inf`` before the first check)."""
        return self.val_loss[self.best_step] if self.best_step is not None else math.inf

    def series(self, name: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """One record as two arrays, steps and values, ready to plot.

        Parameters
        ----------
        name : {"batch_loss", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}
        """
        record: dict[int, float] = getattr(self, name)
        return np.fromiter(record.keys(), np.int64), np.fromiter(record.values(), np.float64)


CHECKS_PER_EPOCH = 5
"""The course's validation checks an epoch, at the first step of each fifth of it; early
stopping counts these."""

TRAIN_CHECK_SIZE = 5_000
"""Training images (the first ones) a check scores by default: scoring is most of a run's
cost, and the loss of 5,000 images estimates the training set's to about 1%."""

DIVERGENCE_FACTOR = 10
r"""A batch loss above this many times :math:`\ln K`, the loss of uniform guessing, is far off."""
DIVERGENCE_STEPS = 100
"""Consecutive far-off batch losses after which training has diverged."""


def divergence_limit(num_classes: int) -> float:
    r"""The batch loss above which a step counts as far off: :math:`10 \ln K`.

    Training has *diverged* when a loss is NaN or infinite, or when the batch loss stays
    above this limit for :data:`DIVERGENCE_STEPS` steps in a row. A network that guesses
    uniformly scores :math:`\ln K` (2.3 for ten classes); bounded activations keep even a
    wildly wrong network's loss finite (the floored logarithm caps each sample's loss near
    708), so without this rule a learning rate of :math:`10^6` would train to the end.
    """
    return DIVERGENCE_FACTOR * math.log(num_classes)


class TrainingDivergedError(FloatingPointError):
    """Training diverged, by the rule of :func:`divergence_limit`.

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

    This framework convention and LeCun's :math:`\Delta w \leftarrow \alpha g + \gamma
    \Delta w` produce the same weights.

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

    Notes
    -----
    Derivation: ``momentum-conventions`` (:mod:`backprop.derivations`) run it on symbols.
    """
    if momentum == 0:
        # Plain gradient descent: v would be g itself, so the two passes over it are saved.
        W -= learning_rate * g
        return
    v *= momentum
    v += g
    W -= learning_rate * v


def sgd_step(
    weights: Sequence[Array],
    velocities: Sequence[Array],
    X: Array,
    targets: Array,
    activation: Activation,
    learning_rate: float,
    momentum: float,
) -> np.floating:
    r"""One update on one batch, unchecked: forward, loss, backward, and a momentum step.

    Parameters
    ----------
    weights, velocities : sequences of arrays
        :math:`W^{(l)}` and :math:`v^{(l)}`, updated in place.
    X : array, shape (B, I)
        The batch's inputs.
    targets : array, shape (B, K)
        Its one-hot targets.
    activation : Activation
        The hidden layers' :math:`f`.
    learning_rate, momentum : float
        :math:`\alpha` and :math:`\gamma`.

    Returns
    -------
    scalar
        The batch's mean cross-entropy before the update.

    Notes
    -----
    Derivation: ``batched-gradient`` (:mod:`backprop.derivations`) run it on symbols.
    """
    a = forward(weights, X, activation)
    loss = mean_cross_entropy(targets, a[-1])
    delta = cross_entropy_delta(targets, a[-1])
    gradients = backward(weights, a, delta, activation)
    for W, v, g in zip(weights, velocities, gradients, strict=True):
        momentum_step(W, v, g, learning_rate, momentum)
    return loss


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


class Display(Protocol):
    """What :meth:`Trainer.fit` shows a run on: :class:`backprop.progress.StepsProgress`, say."""

    def step(self, step: int, loss: float) -> None:
        """After each update, with its batch's loss."""

    def check(self, step: int, history: History) -> None:
        """After each validation check."""


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
    threads : ThreadPolicy
        BLAS threads for the steps and for the checks (:mod:`backprop.threads`): by the size
        of their products unless told otherwise.
    train_check_size : int or None
        How many training images (the first ones) each check scores, :data:`TRAIN_CHECK_SIZE`
        by default, as the book's runs do; ``None`` scores them all. The validation set is
        always scored whole, since early stopping decides on it. Scoring is most of a run's
        time, and a fixed sample of a few thousand images estimates the training loss to
        about 1%.
    dense_checks : (int, int) or None
        ``(every, epochs)``: check also every ``every`` steps during the first ``epochs``
        epochs, where runs move fastest, so that the steps a run takes to reach an accuracy
        are known to ``every`` steps rather than to a fifth of an epoch. ``None`` checks
        five times an epoch only, as the course does. A dense check scores the validation
        set only: the steps to an accuracy and the early validation loss need nothing else,
        and the training images would double its cost.

    Notes
    -----
    Early stopping counts the course's checks only: the first step of each fifth of an
    epoch, and the last check. A dense check between them is recorded in the
    :class:`History` but neither resets nor advances the count, and never becomes
    :attr:`History.best_step`; so a run stops at the same step, keeping the same network,
    whatever its ``dense_checks``.
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
        threads: ThreadPolicy | None = None,
        train_check_size: int | None = TRAIN_CHECK_SIZE,
        dense_checks: tuple[int, int] | None = None,
    ) -> None:
        if not isinstance(model, MLP):
            raise ValueError(f"model must be a backprop.MLP, got {type(model).__name__}")
        if threads is not None and not isinstance(threads, ThreadPolicy):
            raise ValueError(f"threads must be a ThreadPolicy, got {type(threads).__name__}")
        self._model = model
        self.learning_rate = real_in_range(learning_rate, "learning_rate", 0, low_open=True)
        self.batch_size = positive_int(batch_size, "batch_size")
        self.momentum = real_in_range(momentum, "momentum", 0, 1)
        self.shuffle = boolean(shuffle, "shuffle")
        self.early_stopping = positive_int(early_stopping, "early_stopping", optional=True)
        self.seed = seed_value(seed)
        self.threads = threads or ThreadPolicy()
        self.train_check_size = positive_int(train_check_size, "train_check_size",
                                             optional=True)
        self.dense_checks = check_dense_checks(dense_checks)
        self.velocities = [np.zeros_like(W) for W in model.weights]
        # The arithmetic of sgd_step and network.evaluate, in buffers kept between calls.
        self._steps: dict[tuple[int, ThreadPolicy], tuple[Step, AbstractContextManager[None]]] = {}
        self._scorer = Scorer(model.layer_sizes, model.dtype)
        self._eye = np.eye(model.num_classes, dtype=model.dtype)

    @property
    def model(self) -> MLP:
        """The network this trainer trains; its buffers are shaped for it, so it stays."""
        return self._model

    def _step(self, rows: int) -> tuple[Step, AbstractContextManager[None]]:
        # The step for batches of `rows`, and its threads under the policy set now; the
        # last batch size's is kept.
        key = rows, self.threads
        if key not in self._steps:
            step = Step(self.model.layer_sizes, rows, self.model.dtype)
            self._steps = {key: (step, self.threads.steps(step.work))}
        return self._steps[key]

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
        display: Display | None = None,
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
            stopping is decided; the network holds the weights that were checked. A course
            check has scored the training images: its step is in ``history.train_loss``.
        display : Display, optional
            Shown each step and each check, after ``on_step`` and ``on_check``: a
            :class:`backprop.progress.StepsProgress` shows the steps, the batch loss and the
            validation accuracy as training goes.

        Returns
        -------
        History
            The losses and accuracies, and why training stopped.

        Raises
        ------
        ValueError
            If the data are malformed, or the training set holds fewer samples than a batch.
        FloatingPointError
            If the inputs overflow a layer's pre-activations at the first check (see
            :func:`backprop.network.overflowing_layer`).
        TrainingDivergedError
            If a loss becomes NaN or infinite, or the pre-activations overflow later; it
            names the step and carries the history.
        """
        epochs = positive_int(epochs, "epochs")
        on_step = callable_or_none(on_step, "on_step") or _ignore
        on_check = callable_or_none(on_check, "on_check") or _ignore
        if display is not None:
            on_step, on_check = _both(on_step, display.step), _both(on_check, display.check)
        X_train, Y_train = self._check_set(X_train, Y_train, "train")
        X_val, Y_val = self._check_set(X_val, Y_val, "val")
        # A slice of the first rows: a view, so scoring a sample copies nothing.
        scored = slice(self.train_check_size)
        sets = _Sets(X_train, Y_train, X_train[scored], np.argmax(Y_train[scored], axis=1),
                     X_val, np.argmax(Y_val, axis=1),
                     max(largest_magnitude(X_train), largest_magnitude(X_val)))
        steps_per_epoch = X_train.shape[0] // self.batch_size
        if steps_per_epoch == 0:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the {X_train.shape[0]} training "
                "samples: there is no complete batch"
            )
        # An overflow is caught where it matters, as a loss that is no longer finite.
        work = self._step(self.batch_size)[0].work
        with np.errstate(over="ignore", invalid="ignore"), self.threads.steps(work):
            return self._train(sets, epochs, steps_per_epoch, on_step, on_check)

    def _train(self, sets: _Sets, epochs, steps_per_epoch, on_step, on_check) -> History:
        model = self.model
        check_every = max(1, steps_per_epoch // CHECKS_PER_EPOCH)
        dense_every, dense_epochs = self.dense_checks or (check_every, 0)
        dense_until = dense_epochs * steps_per_epoch
        rng = np.random.default_rng(self.seed) if self.shuffle else None
        self.velocities = [np.zeros_like(W) for W in model.weights]
        history = History(steps_per_epoch=steps_per_epoch)
        checks_without_improvement = 0
        limit, far_off = divergence_limit(model.num_classes), 0
        sgd, _ = self._step(self.batch_size)
        step = 0
        for _ in range(epochs):
            for batch in batch_indices(sets.X_train.shape[0], self.batch_size, rng):
                counted = step % check_every == 0
                if counted or (step < dense_until and step % dense_every == 0):
                    self._validate(history, step, sets, counted)
                    on_check(step, history)
                if counted:
                    checks_without_improvement = (
                        0 if history.best_step == step else checks_without_improvement + 1)
                    if checks_without_improvement == self.early_stopping:
                        history.stop_reason = StopReason.EARLY_STOPPING
                        return history
                loss = float(sgd(model.weights, self.velocities, sets.X_train[batch],
                                 sets.Y_train[batch], model.activation, self.learning_rate,
                                 self.momentum))
                history.batch_loss[step] = loss
                if not math.isfinite(loss):
                    _diverged(history, step, f"the batch loss became {loss}")
                far_off = far_off + 1 if loss > limit else 0
                if far_off == DIVERGENCE_STEPS:
                    _diverged(history, step, f"the batch loss stayed above {limit:.3g} "
                                             f"(10 ln K) for {DIVERGENCE_STEPS} steps")
                on_step(step, loss)
                step += 1
        self._validate(history, step, sets, counted=True)
        on_check(step, history)
        history.stop_reason = StopReason.EPOCHS
        return history

    def step(self, X: ArrayLike, targets: ArrayLike) -> float:
        """One update on one batch, checked: :func:`sgd_step` with this trainer's settings.

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

        Raises
        ------
        ValueError
            If the batch is malformed.
        FloatingPointError
            If it overflows a layer's pre-activations (see :meth:`MLP.check_inputs`).
        """
        model = self.model
        X, targets = self._batch(X, targets)
        sgd, threads = self._step(X.shape[0])
        with threads:
            try:
                return float(sgd(model.weights, self.velocities, X, targets, model.activation,
                                 self.learning_rate, self.momentum, checked=True))
            except NonFiniteError as error:
                # An input that is not finite, or one whose products overflow: the full
                # checks name it, before any weight has changed.
                self._check_set(X, targets, "batch")
                model.check_inputs(X, "X_batch")
                raise FloatingPointError(f"{error} on X_batch") from None

    def _batch(self, X: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
        # The cheapest checks that still name every problem: what a batch should be is
        # looked at here; whether its values are finite, and stay so through the products,
        # the step sees in each layer's z (Step's checked form), and the full checks then
        # name what it saw. Anything else goes through the full checks at once.
        model = self.model
        # Subclasses (a masked array, a matrix) go through the full checks, which name them.
        fits = (type(X) is np.ndarray and X.dtype == model.dtype and X.ndim == 2
                and X.shape[0] > 0 and X.shape[1] == model.input_size
                and type(targets) is np.ndarray and targets.ndim in (1, 2)
                and len(targets) == X.shape[0])
        if fits and targets.ndim == 1 and targets.dtype.kind in "iu" \
                and np.minimum.reduce(targets) >= 0 \
                and np.maximum.reduce(targets) < model.num_classes:
            return X, self._eye[targets]
        if fits and targets.shape == (X.shape[0], model.num_classes) \
                and targets.dtype == model.dtype and np.count_nonzero(targets) == X.shape[0] \
                and (targets.sum(axis=1) == 1).all():
            return X, targets
        return self._check_set(X, targets, "batch")

    def _check_set(self, X: ArrayLike, Y: ArrayLike, name: str) -> tuple[Array, Array]:
        model = self.model
        X = check_matrix(X, f"X_{name}", columns=model.input_size, dtype=model.dtype)
        Y = check_targets(Y, model.num_classes, rows=X.shape[0], dtype=model.dtype)
        return X, Y

    def _validate(self, history: History, step: int, sets: _Sets, counted: bool) -> None:
        weights, activation = self.model.weights, self.model.activation
        # At the checks, not the steps: the bound costs a pass over the weights, no more.
        for name, X in (("X_train", sets.X_train), ("X_val", sets.X_val)):
            layer = overflowing_layer(weights, X, activation, sets.largest)
            if layer is None:
                continue
            what = (f"the pre-activations of layer {layer} overflow {self.model.dtype} on "
                    f"{name}, whose largest value is {largest_magnitude(X):.3g} in absolute "
                    "value")
            if step == 0:
                raise FloatingPointError(f"{what}: standardise the inputs "
                                         "(backprop.preprocessing.normalize)")
            _diverged(history, step, f"{what}; the weights have grown too large")
        rows = min(EVALUATION_CHUNK, max(len(sets.X_val), len(sets.X_scored)))
        with self.threads.checks(largest_product(self.model.layer_sizes, rows)):
            val_loss, history.val_accuracy[step] = self._scorer(weights, sets.X_val,
                                                                sets.y_val, activation)
            if counted:
                history.train_loss[step], history.train_accuracy[step] = self._scorer(
                    weights, sets.X_scored, sets.y_scored, activation
                )
        history.val_loss[step] = val_loss
        if not math.isfinite(val_loss):
            _diverged(history, step, f"the validation loss became {val_loss}")
        if counted and val_loss < history.best_val_loss:
            history.best_step = step


class _Sets(NamedTuple):
    X_train: Array
    Y_train: Array
    X_scored: Array
    y_scored: NDArray[np.intp]
    X_val: Array
    y_val: NDArray[np.intp]
    largest: float


def _ignore(*_: object) -> None:
    pass


def _both(first: Callable[..., None], second: Callable[..., None]) -> Callable[..., None]:
    def call(*arguments: object) -> None:
        first(*arguments)
        second(*arguments)

    return call


def _diverged(history: History, step: int, what: str) -> None:
    history.stop_reason = StopReason.DIVERGED
    raise TrainingDivergedError(
        f"training diverged at step {step} (epoch {step // history.steps_per_epoch + 1}): "
        f"{what}; try a smaller learning rate",
        step,
        history,
    )
