"""The assignment's experiments as named, reproducible runs with a results store.

Each run is a :class:`Config`; each experiment of the report (``task2``, ``task3``,
``task4a``, ``task4b``, ``task4d``, ``task4e``) is a group of runs and the runs it is
compared with. :func:`run` trains one configuration, or serves it from the results store: a
result is saved under a key made of the configuration, a digest of the package's source code
and a digest of the data, so a rerun of the same code on the same data is instant and any
change recomputes. Results are JSON with the arrays beside it in ``.npz``; both are written
to a temporary name and renamed into place, the JSON last, so an interrupted run leaves no
result behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

import backprop
from backprop.data import load_assignment_split
from backprop.network import MLP, count_parameters
from backprop.preprocessing import normalize, pixel_statistics
from backprop.training import History, StopReason, Trainer

GRADIENT_PROBE = 2_000
"""Training images whose mean-loss gradient is measured at every check."""

RESULTS_ENVIRONMENT_VARIABLE = "BACKPROP_RESULTS_DIR"
EPOCHS_ENVIRONMENT_VARIABLE = "BACKPROP_EPOCHS"
"""Shortens every experiment to this many epochs where set: for quick runs of the book."""


@dataclass(frozen=True)
class Config:
    """One training run, complete: the network, the optimiser and the data it sees.

    The defaults are the assignment's Task 2: 784-64-10 with a sigmoid hidden layer,
    :math:`U(-1, 1)` weights, learning rate 0.1, batches of 32, no momentum, at most 50
    epochs, early stopping after 50 checks without a lower validation loss, trained on the
    first 20,000 training images. ``seed`` seeds both the weights and the shuffling.
    """

    name: str
    label: str
    neurons_per_layer: tuple[int, ...] = (64, 10)
    activation: str = "sigmoid"
    init: str = "uniform"
    learning_rate: float = 0.1
    momentum: float = 0.0
    batch_size: int = 32
    epochs: int = 50
    early_stopping: int | None = 50
    shuffle: bool = True
    seed: int = 0
    train_size: int = 20_000
    dtype: str = "float64"

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["neurons_per_layer"] = list(self.neurons_per_layer)
        return values


TASK2 = Config("task2", "Task 2: sigmoid, uniform init, lr 0.1")
TASK3_FAN_IN = TASK2.replace(name="task3-fan-in", label="+ fan-in init", init="fan_in")
TASK3_IMPROVED_SIGMOID = TASK3_FAN_IN.replace(
    name="task3-improved-sigmoid", label="+ improved sigmoid", activation="improved_sigmoid"
)
TASK3_MOMENTUM = TASK3_IMPROVED_SIGMOID.replace(
    name="task3-momentum", label="+ momentum 0.9, lr 0.02", momentum=0.9, learning_rate=0.02
)
TEN_LAYERS = (64,) * 10 + (10,)


@dataclass(frozen=True)
class Experiment:
    """One experiment of the report: its runs, and the runs its figures compare them with."""

    name: str
    title: str
    runs: tuple[Config, ...]
    compare_with: tuple[Config, ...] = ()

    @property
    def all_runs(self) -> tuple[Config, ...]:
        """The comparison runs first, then the experiment's own."""
        return self.compare_with + self.runs


EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        Experiment("task2", "Task 2: one hidden layer of 64 sigmoid units", (TASK2,)),
        Experiment(
            "task3",
            "Task 3: the tricks of the trade, added one at a time",
            (TASK3_FAN_IN, TASK3_IMPROVED_SIGMOID, TASK3_MOMENTUM),
            compare_with=(TASK2,),
        ),
        Experiment(
            "task4a",
            "Task 4a: 32 hidden units",
            (TASK3_MOMENTUM.replace(name="task4a", label="32 hidden units",
                                    neurons_per_layer=(32, 10)),),
            compare_with=(TASK3_MOMENTUM,),
        ),
        Experiment(
            "task4b",
            "Task 4b: 128 hidden units",
            (TASK3_MOMENTUM.replace(name="task4b", label="128 hidden units",
                                    neurons_per_layer=(128, 10)),),
            compare_with=(TASK3_MOMENTUM,),
        ),
        Experiment(
            "task4d",
            "Task 4d: two hidden layers with about the same number of parameters",
            (
                TASK3_MOMENTUM.replace(name="task4d-59", label="two hidden layers of 59",
                                       neurons_per_layer=(59, 59, 10)),
                TASK3_MOMENTUM.replace(name="task4d-60", label="two hidden layers of 60",
                                       neurons_per_layer=(60, 60, 10)),
            ),
            compare_with=(TASK3_MOMENTUM,),
        ),
        Experiment(
            "task4e",
            "Task 4e: ten hidden layers of 64 units",
            (
                TASK3_MOMENTUM.replace(name="task4e", label="ten layers, with the tricks",
                                       neurons_per_layer=TEN_LAYERS),
                TASK2.replace(name="task4e-no-tricks", label="ten layers, no tricks",
                              neurons_per_layer=TEN_LAYERS),
            ),
            compare_with=(TASK3_MOMENTUM,),
        ),
    )
}
"""The report's experiments by name.

:meta hide-value:
"""


class Dataset(NamedTuple):
    """Pre-processed inputs (bias column last) and integer labels, with their digest."""

    X_train: NDArray[np.floating]
    y_train: NDArray[np.int64]
    X_val: NDArray[np.floating]
    y_val: NDArray[np.int64]
    digest: str


def make_dataset(
    X_train: NDArray, y_train: NDArray, X_val: NDArray, y_val: NDArray
) -> Dataset:
    """Wrap prepared arrays with the SHA-256 of their bytes, which keys the results."""
    arrays = [np.ascontiguousarray(a) for a in (X_train, y_train, X_val, y_val)]
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return Dataset(*arrays, digest.hexdigest())


def assignment_data(
    train_size: int = 20_000, dtype: str = "float64", data_dir: str | None = None
) -> Dataset:
    """MNIST as the assignment prepares it: the split, standardised by the training set."""
    split = load_assignment_split(data_dir, train_size=train_size)
    mean, std = pixel_statistics(split.train_images)
    return make_dataset(
        normalize(split.train_images, mean, std, dtype=dtype),
        split.train_labels,
        normalize(split.val_images, mean, std, dtype=dtype),
        split.val_labels,
    )


def source_digest() -> str:
    """SHA-256 of the package's source files, so that a change to the code recomputes."""
    digest = hashlib.sha256()
    root = Path(backprop.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class RunResult:
    """Everything one run recorded.

    Attributes
    ----------
    config : Config
    key : str
        The results-store key: configuration, source digest and data digest.
    history : History
        Losses and accuracies by step, and why training stopped.
    gradient_norms : array, shape (checks, layers)
        The Frobenius norm of each layer's weight gradient, on the first
        :data:`GRADIENT_PROBE` training images, at every validation check.
    wall_time : float
        Seconds of training, checks included.
    meta : dict
        The input size, and the versions that produced the result.
    """

    config: Config
    key: str
    history: History
    gradient_norms: NDArray[np.float64]
    wall_time: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def check_steps(self) -> NDArray[np.int64]:
        """The steps of the validation checks, the rows of :attr:`gradient_norms`."""
        return self.history.series("val_loss")[0]

    @property
    def final_step(self) -> int:
        """The step of the last check: where training stopped."""
        return int(self.check_steps[-1])

    def summary(self) -> dict[str, Any]:
        """The run's final figures, as the summary table shows them."""
        history, final = self.history, self.final_step
        return {
            "run": self.config.name,
            "label": self.config.label,
            "parameters": count_parameters(self.config.neurons_per_layer,
                                           self.meta["input_size"]),
            "train_loss": history.train_set_loss[final],
            "val_loss": history.val_loss[final],
            "train_accuracy": history.train_accuracy[final],
            "val_accuracy": history.val_accuracy[final],
            "best_val_loss": history.best_val_loss,
            "best_step": history.best_step,
            "stopped_at": final,
            "epochs": final / history.steps_per_epoch,
            "stop_reason": str(history.stop_reason),
            "wall_time": self.wall_time,
        }


def result_key(config: Config, data: Dataset) -> str:
    """The results-store key of a configuration on a dataset with the current code."""
    identity = {"config": config.as_dict(), "source": source_digest(), "data": data.digest}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def results_directory(results_dir: str | os.PathLike[str] | None = None) -> Path:
    """``results_dir``, else ``$BACKPROP_RESULTS_DIR``, else ``results`` here."""
    if results_dir is not None:
        return Path(results_dir)
    return Path(os.environ.get(RESULTS_ENVIRONMENT_VARIABLE, "results"))


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
        The data to train and validate on (see :func:`assignment_data`).
    results_dir : path-like, optional
        The results store (see :func:`results_directory`).
    force : bool
        Train even where a saved result exists, and replace it.
    progress : callable, optional
        ``progress(config, total_steps)`` returns a context manager with ``step(loss)`` and
        ``check(history)`` methods, shown while training (see :mod:`backprop.cli`).

    Returns
    -------
    RunResult
    """
    store = results_directory(results_dir)
    key = result_key(config, data)
    path = store / f"{config.name}-{key}.json"
    if path.exists() and not force:
        return load_result(path)
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


_RECORDS = ("train_loss", "train_accuracy", "train_set_loss", "val_loss", "val_accuracy")


def save_result(result: RunResult, path: Path) -> None:
    """Write a result as ``path`` (JSON) and the ``.npz`` beside it, each atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"gradient_norms": result.gradient_norms}
    for name in _RECORDS:
        arrays[f"{name}_steps"], arrays[name] = result.history.series(name)
    arrays_path = path.with_suffix(".npz")
    _write_atomically(arrays_path, lambda file: np.savez(file, **arrays))
    history = result.history
    document = {
        "key": result.key,
        "config": result.config.as_dict(),
        "summary": result.summary(),
        "steps_per_epoch": history.steps_per_epoch,
        "stop_reason": str(history.stop_reason),
        "best_step": history.best_step,
        "wall_time": result.wall_time,
        "arrays": arrays_path.name,
        "meta": result.meta,
    }
    _write_atomically(
        path, lambda file: file.write(json.dumps(document, indent=2).encode() + b"\n")
    )


def load_result(path: Path) -> RunResult:
    """Read a result that :func:`save_result` wrote."""
    document = json.loads(path.read_text())
    config_values = document["config"]
    config_values["neurons_per_layer"] = tuple(config_values["neurons_per_layer"])
    with np.load(path.parent / document["arrays"], allow_pickle=False) as arrays:
        records = {
            name: dict(zip(arrays[f"{name}_steps"].tolist(), arrays[name].tolist(),
                           strict=True))
            for name in _RECORDS
        }
        gradient_norms = arrays["gradient_norms"]
    history = History(**records, steps_per_epoch=document["steps_per_epoch"],
                      stop_reason=StopReason(document["stop_reason"]),
                      best_step=document["best_step"])
    return RunResult(Config(**config_values), document["key"], history, gradient_norms,
                     document["wall_time"], document["meta"])


def _write_atomically(path: Path, write: Callable[[Any], Any]) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


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
        In the order of :attr:`Experiment.all_runs`.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    configs = EXPERIMENTS[name].all_runs
    if epochs is None and os.environ.get(EPOCHS_ENVIRONMENT_VARIABLE):
        epochs = int(os.environ[EPOCHS_ENVIRONMENT_VARIABLE])
    if epochs is not None:
        configs = tuple(config.replace(epochs=epochs) for config in configs)
    return [run(config, data, results_dir, force=force, progress=progress)
            for config in configs]


def iter_experiments(names: list[str]) -> Iterator[Experiment]:
    """The experiments named (``"all"`` for every one), each once, in the report's order."""
    wanted = list(EXPERIMENTS) if "all" in names else names
    for name in wanted:
        if name not in EXPERIMENTS:
            raise ValueError(
                f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)} or all"
            )
    yield from (EXPERIMENTS[name] for name in EXPERIMENTS if name in wanted)


SUMMARY_COLUMNS = (
    ("run", "run", "{}"),
    ("label", "what changes", "{}"),
    ("parameters", "parameters", "{:,}"),
    ("train_loss", "training loss", "{:.4f}"),
    ("val_loss", "validation loss", "{:.4f}"),
    ("train_accuracy", "training accuracy", "{:.2%}"),
    ("val_accuracy", "validation accuracy", "{:.2%}"),
    ("best_val_loss", "best validation loss", "{:.4f}"),
    ("best_step", "at step", "{:,}"),
    ("stopped_at", "stopped at step", "{:,}"),
    ("epochs", "epochs", "{:.1f}"),
    ("stop_reason", "because", "{}"),
    ("wall_time", "wall time (s)", "{:.1f}"),
)


def summary_table(results: list[RunResult]) -> str:
    """A Markdown table of the runs' final figures, one row per run."""
    header = "| " + " | ".join(title for _, title, _ in SUMMARY_COLUMNS) + " |"
    rule = "|" + "|".join(" --- " for _ in SUMMARY_COLUMNS) + "|"
    rows = []
    for result in results:
        summary = result.summary()
        cells = (form.format(summary[key]) for key, _, form in SUMMARY_COLUMNS)
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows]) + "\n"


def steps_to_accuracy(result: RunResult, threshold: float) -> int | None:
    """The first check at which the validation accuracy reached ``threshold`` (or ``None``)."""
    for step, accuracy in result.history.val_accuracy.items():
        if accuracy >= threshold:
            return step
    return None


def gradient_ratio(result: RunResult, check: int) -> float:
    """First layer's gradient norm over the output layer's, at the check of that index."""
    norms = result.gradient_norms[check]
    return float(norms[0] / norms[-1])
