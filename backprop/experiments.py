"""Running the report's experiments: train each configuration, or serve it from the store.

:func:`run` trains one :class:`~backprop.runs.Config` on a
:class:`~backprop.preprocessing.Dataset`, recording the per-layer gradient norms at every
check, and keeps the result in the store (:mod:`backprop.store`); :func:`run_experiment`
runs an experiment's configurations and those it is compared with.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import backprop
from backprop.checks import look_up
from backprop.network import MLP
from backprop.preprocessing import Dataset
from backprop.runs import EXPERIMENTS, GRADIENT_PROBE, Config, RunResult
from backprop.store import (
    CorruptResultError,
    check_writable,
    load_result,
    quarantine,
    result_key,
    result_path,
    results_directory,
    save_result,
)
from backprop.training import History, Trainer

EPOCHS_ENVIRONMENT_VARIABLE = "BACKPROP_EPOCHS"
"""Shortens every experiment to this many epochs where set: for quick runs of the book."""


class CorruptResultWarning(UserWarning):
    """A stored result was corrupt; it was moved aside and computed again."""


def run(
    config: Config,
    data: Dataset,
    results_dir: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    progress: Callable[[Config, int], Any] | None = None,
) -> RunResult:
    """Train one configuration, or serve it from the results store.

    Parameters
    ----------
    config : Config
        What to train.
    data : Dataset
        The data to train and validate on (see
        :func:`backprop.preprocessing.assignment_data`).
    results_dir : path-like, optional
        The results store (see :func:`backprop.store.results_directory`).
    force : bool
        Train even where a saved result exists, and replace it.
    progress : callable, optional
        ``progress(config, total_steps)`` returns a context manager with ``step(loss)`` and
        ``check(history)`` methods, shown while training (see :mod:`backprop.cli`).

    Returns
    -------
    RunResult

    Raises
    ------
    StoreNotWritableError
        Before any training, if the result could not be saved.

    Warns
    -----
    CorruptResultWarning
        When a stored result was corrupt: it is moved aside and computed again.
    """
    store = results_directory(results_dir)
    key = result_key(config, data.digest)
    path = result_path(store, config, key)
    if path.exists() and not force:
        try:
            return load_result(path)
        except CorruptResultError as error:
            aside = quarantine(path)
            warnings.warn(f"{error}; moved to {aside} and computed again",
                          CorruptResultWarning, stacklevel=2)
    check_writable(store)
    model = MLP(config.neurons_per_layer, input_size=data.X_train.shape[1],
                activation=config.activation, init=config.init, seed=config.seed,
                dtype=config.dtype)
    trainer = Trainer(model, config.learning_rate, config.batch_size, config.momentum,
                      config.shuffle, config.early_stopping, config.seed)
    probe_X = data.X_train[:GRADIENT_PROBE]
    probe_y = data.y_train[:GRADIENT_PROBE]
    norms: list[list[float]] = []

    total = config.epochs * (len(data.X_train) // config.batch_size)
    with _progress(progress, config, total) as bar:

        def on_check(step: int, history: History) -> None:
            norms.append([float(np.linalg.norm(g)) for g in model.backward(probe_X, probe_y)])
            bar.check(history)

        start = time.perf_counter()
        history = trainer.fit(data.X_train, data.y_train, data.X_val, data.y_val,
                              config.epochs, on_step=bar.step, on_check=on_check)
        wall_time = time.perf_counter() - start
    result = RunResult(config, key, history, np.array(norms), wall_time,
                       meta={"input_size": data.X_train.shape[1], "numpy": np.__version__,
                             "backprop": backprop.__version__})
    save_result(result, path)
    return result


class _Silent:
    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def step(self, step: int, loss: float) -> None:
        pass

    def check(self, history: History) -> None:
        pass


def _progress(progress, config: Config, total: int):
    return _Silent() if progress is None else progress(config, total)


def run_experiment(
    name: str,
    data: Dataset,
    results_dir: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    epochs: int | None = None,
    progress: Callable[[Config, int], Any] | None = None,
) -> list[RunResult]:
    """Every run of an experiment and of its comparisons, trained or served from the store.

    Parameters
    ----------
    name : str
        A key of :data:`EXPERIMENTS`.
    epochs : int, optional
        Shorten (or lengthen) every run to this many epochs; without it, the environment
        variable ``BACKPROP_EPOCHS`` where set, else each run's own (50).

    Returns
    -------
    list of RunResult
        In the order of :attr:`backprop.runs.Experiment.all_runs`.
    """
    configs = look_up(EXPERIMENTS, name, "experiment").all_runs
    if epochs is None and os.environ.get(EPOCHS_ENVIRONMENT_VARIABLE):
        text = os.environ[EPOCHS_ENVIRONMENT_VARIABLE]
        if not text.strip().isdigit() or int(text) < 1:
            raise ValueError(f"the environment variable {EPOCHS_ENVIRONMENT_VARIABLE} must be a "
                             f"positive whole number of epochs, got {text!r}")
        epochs = int(text)
    if epochs is not None:
        configs = tuple(config.replace(epochs=epochs) for config in configs)
    return [run(config, data, results_dir, force=force, progress=progress)
            for config in configs]


