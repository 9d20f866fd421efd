"""Running the report's experiments: train each configuration, or serve it from the store.

:func:`train` trains one :class:`~backprop.runs.Config` on a
:class:`~backprop.preprocessing.Dataset`, recording the per-layer gradient norms at every
check; it depends on nothing but its arguments, so it gives the same bits in this process,
in a worker or on a cluster. :func:`run_many` serves what the store holds and computes the
rest (:mod:`backprop.parallel`), saving each result here as it arrives;
:func:`run_experiment` does that for an experiment over seeds 0 to S-1.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import backprop
from backprop.checks import int_in_range, look_up
from backprop.network import MLP
from backprop.parallel import check_jobs, compute
from backprop.preprocessing import Dataset, with_dtype
from backprop.progress import RunsProgress, StepsProgress, wanted
from backprop.runs import EXPERIMENTS, GRADIENT_PROBE, Config, RunResult, SeededRuns
from backprop.store import (
    CorruptResultError,
    check_writable,
    load_result,
    quarantine,
    result_key,
    result_path,
    results_directory,
    save_result,
    source_digest,
)
from backprop.threads import ONE_THREAD
from backprop.training import History, Trainer

EPOCHS_ENVIRONMENT_VARIABLE = "BACKPROP_EPOCHS"
"""Shortens every experiment to this many epochs where set: for quick runs of the book."""

MAX_SEEDS = 1_000
"""The most seeds a sweep may ask for: each is a whole training run per configuration."""

class CorruptResultWarning(UserWarning):
    """A stored result was corrupt; it was moved aside and computed again."""


def train(
    config: Config,
    data: Dataset,
    progress: bool | None = False,
    key: str = "",
) -> RunResult:
    """Train one configuration: no store, one BLAS thread, the same bits wherever it runs.

    Parameters
    ----------
    config : Config
        What to train; the data are rounded to its ``dtype`` first.
    data : Dataset
        The data to train and validate on (see
        :func:`backprop.preprocessing.assignment_data`).
    progress : bool or None
        Show the run's steps as it trains (see :mod:`backprop.progress`); ``None`` shows
        them in Jupyter and on a terminal.
    key : str
        The results-store key to record in the result.

    Returns
    -------
    RunResult
    """
    data = with_dtype(data, config.dtype)
    model = MLP(config.neurons_per_layer, input_size=data.X_train.shape[1],
                activation=config.activation, init=config.init, seed=config.seed,
                dtype=config.dtype)
    trainer = Trainer(model, config.learning_rate, config.batch_size, config.momentum,
                      config.shuffle, config.early_stopping, config.seed, threads=ONE_THREAD,
                      train_check_size=config.train_check_size,
                      dense_checks=config.dense_checks)
    probe_X = data.X_train[:GRADIENT_PROBE]
    probe_y = data.y_train[:GRADIENT_PROBE]
    norms: list[list[float]] = []

    # The probe runs inside fit, under its one thread.
    def on_check(step: int, history: History) -> None:
        if step not in history.train_loss:
            return  # a dense check: it times the climb, the course's checks do the rest
        norms.append([float(np.linalg.norm(g)) for g in model.backward(probe_X, probe_y)])

    steps = config.epochs * (len(data.X_train) // config.batch_size)
    start = time.perf_counter()
    with StepsProgress(steps, wanted(progress)) as display:
        history = trainer.fit(data.X_train, data.y_train, data.X_val, data.y_val,
                              config.epochs, on_check=on_check, display=display)
    wall_time = time.perf_counter() - start
    return RunResult(config, key, history, np.array(norms), wall_time,
                     meta={"input_size": data.X_train.shape[1], "numpy": np.__version__,
                           "backprop": backprop.__version__})


def run(
    config: Config,
    data: Dataset,
    results_dir: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    progress: bool | None = None,
) -> RunResult:
    """Train one configuration here, or serve it from the results store.

    Parameters
    ----------
    config : Config
        What to train.
    data : Dataset
        The data to train and validate on.
    results_dir : path-like, optional
        The results store (see :func:`backprop.store.results_directory`).
    force : bool
        Train even where a saved result exists, and replace it.
    progress : bool or None
        As for :func:`train`; ``None`` shows the steps in Jupyter and on a terminal.

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
    progress = wanted(progress)
    data = with_dtype(data, config.dtype)
    (planned,) = _plan([config], {config.dtype: data}, store, force)
    if isinstance(planned, RunResult):
        return planned
    check_writable(store)
    result = train(config, data, progress, planned)
    save_result(result, result_path(store, config, planned))
    return result


def run_many(
    configs: Sequence[Config],
    data: Dataset,
    results_dir: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    jobs: int | None = None,
    dask: str | None = None,
    on_result: Callable[[RunResult, bool], Any] | None = None,
    progress: bool | None = None,
) -> list[RunResult]:
    """Serve what the store holds, compute the rest in parallel, and save each as it arrives.

    Parameters
    ----------
    configs : sequence of Config
        What to train.
    data : Dataset
        The data, sent once to each worker (memory-mapped on this machine).
    results_dir : path-like, optional
        The results store; only this process writes to it.
    force : bool
        Train every configuration again, replacing saved results.
    jobs : int, optional
        Worker processes on this machine (every core by default; 1 trains here).
    dask : str, optional
        A Dask scheduler's address, ``tcp://host:port``, to train on its workers instead.
    on_result : callable, optional
        ``on_result(result, computed)`` for each result as it is served or saved.
    progress : bool or None
        Show the runs done over the total, those training now and the time left (see
        :mod:`backprop.progress`); ``None`` shows them in Jupyter and on a terminal.

    Returns
    -------
    list of RunResult
        In the order of ``configs``, each the same, to the bit, however it was computed.
    """
    store = results_directory(results_dir)
    on_result = on_result or _ignore
    shown = wanted(progress)
    # Which runs a cluster's workers hold is the cluster's to know; here it is in order.
    workers = check_jobs(jobs) if dask is None else 0
    # Rounded once per dtype here, so that workers receive the data they train on.
    by_dtype = {dtype: with_dtype(data, dtype) for dtype in {c.dtype for c in configs}}
    planned = _plan(configs, by_dtype, store, force)
    with RunsProgress(len(configs), shown) as display:
        for result in planned:
            if isinstance(result, RunResult):
                on_result(result, False)
                display(result, False)
        missing = [(index, config, key) for index, (config, key)
                   in enumerate(zip(configs, planned, strict=True)) if isinstance(key, str)]
        if missing:
            check_writable(store)
        display.start([config for _, config, _ in missing], workers)
        for index, result in compute(_train_task, missing, by_dtype, jobs=jobs, dask=dask):
            save_result(result, result_path(store, result.config, result.key))
            planned[index] = result
            on_result(result, True)
            display(result, True)
    return planned


def _train_task(
    task: tuple[int, Config, str], by_dtype: dict[str, Dataset]
) -> tuple[int, RunResult]:
    index, config, key = task
    return index, train(config, by_dtype[config.dtype], key=key)


def _plan(
    configs: Sequence[Config], by_dtype: dict[str, Dataset], store, force: bool
) -> list[RunResult | str]:
    """Each configuration's stored result, or its key where it must be computed."""
    source = source_digest()
    planned: list[RunResult | str] = []
    for config in configs:
        key = result_key(config, by_dtype[config.dtype].digest, source)
        path = result_path(store, config, key)
        planned.append(key)
        if path.exists() and not force:
            try:
                planned[-1] = load_result(path, config)
            except CorruptResultError as error:
                aside = quarantine(path)
                warnings.warn(f"{error}; moved to {aside} and computed again",
                              CorruptResultWarning, stacklevel=3)
    return planned


def _ignore(*_: object) -> None:
    pass


def run_experiment(
    name: str,
    data: Dataset,
    results_dir: str | os.PathLike[str] | None = None,
    *,
    seeds: int = 1,
    force: bool = False,
    epochs: int | None = None,
    jobs: int | None = None,
    dask: str | None = None,
    on_result: Callable[[RunResult, bool], Any] | None = None,
    progress: bool | None = None,
) -> list[SeededRuns]:
    """Every run of an experiment and of its comparisons, over seeds, trained or served.

    Parameters
    ----------
    name : str
        A key of :data:`EXPERIMENTS`.
    seeds : int
        Train each configuration from seeds 0 to ``seeds - 1``; at most :data:`MAX_SEEDS`.
    epochs : int, optional
        Shorten (or lengthen) every run to this many epochs; without it, the environment
        variable ``BACKPROP_EPOCHS`` where set, else each run's own (50).
    force, jobs, dask, on_result, progress
        As for :func:`run_many`: in Jupyter, a display counts the runs as they finish.

    Returns
    -------
    list of SeededRuns
        One per configuration, in the order of :attr:`backprop.runs.Experiment.all_runs`.
    """
    return run_experiments([name], data, results_dir, seeds=seeds, force=force, epochs=epochs,
                           jobs=jobs, dask=dask, on_result=on_result, progress=progress)[name]


def run_experiments(
    names: Sequence[str],
    data: Dataset,
    results_dir: str | os.PathLike[str] | None = None,
    *,
    seeds: int = 1,
    force: bool = False,
    epochs: int | None = None,
    jobs: int | None = None,
    dask: str | None = None,
    on_result: Callable[[RunResult, bool], Any] | None = None,
    progress: bool | None = None,
    extra: Sequence[Config] = (),
) -> dict[str, list[SeededRuns]]:
    """Several experiments in one sweep: each run once, however many experiments share it.

    The deepest networks are sent to the workers first, so that the longest runs do not
    start last. Parameters as for :func:`run_experiment`, and ``extra``: configurations
    trained once each in the same sweep, with their own seeds, shortened as the
    experiments' runs are (:data:`~backprop.runs.BOOK_EXTRA_RUNS` for the book); they are
    stored, not returned.

    Returns
    -------
    dict of str to list of SeededRuns
        Each experiment's :func:`run_experiment`, by name.
    """
    seeds = int_in_range(seeds, "seeds", 1, MAX_SEEDS)
    configs = {name: experiment_configs(name, epochs) for name in names}
    unique = list(dict.fromkeys(config for found in configs.values() for config in found))
    unique.sort(key=lambda config: -len(config.neurons_per_layer))
    seeded = [config.replace(seed=seed) for config in unique for seed in range(seeds)]
    extra = [config for config in dict.fromkeys(shortened(extra, epochs)) if config not in seeded]
    # The extra runs go first among the networks of their depth: they are single and long.
    every = sorted([*extra, *seeded], key=lambda config: -len(config.neurons_per_layer))
    found = dict(zip(every, run_many(every, data, results_dir, force=force, jobs=jobs,
                                     dask=dask, on_result=on_result, progress=progress),
                     strict=True))
    results = [found[config] for config in seeded]
    by_config = {config: tuple(results[index * seeds : (index + 1) * seeds])
                 for index, config in enumerate(unique)}
    return {name: [SeededRuns(config, by_config[config]) for config in found]
            for name, found in configs.items()}


def experiment_configs(name: str, epochs: int | None = None) -> tuple[Config, ...]:
    """An experiment's configurations, shortened to ``epochs`` or ``$BACKPROP_EPOCHS``.

    Raises
    ------
    ValueError
        For an unknown experiment, or a malformed ``BACKPROP_EPOCHS``.
    """
    return shortened(look_up(EXPERIMENTS, name, "experiment").all_runs, epochs)


def shortened(configs: Sequence[Config], epochs: int | None = None) -> tuple[Config, ...]:
    """The configurations shortened to ``epochs`` or ``$BACKPROP_EPOCHS``, where either is set.

    Raises
    ------
    ValueError
        For a malformed ``BACKPROP_EPOCHS``.
    """
    if epochs is None and os.environ.get(EPOCHS_ENVIRONMENT_VARIABLE):
        text = os.environ[EPOCHS_ENVIRONMENT_VARIABLE]
        if not text.strip().isdigit() or int(text) < 1:
            raise ValueError(f"the environment variable {EPOCHS_ENVIRONMENT_VARIABLE} must be a "
                             f"positive whole number of epochs, got {text!r}")
        epochs = int(text)
    if epochs is not None:
        configs = [config.replace(epochs=epochs) for config in configs]
    return tuple(configs)
