"""What a run is: its configuration, the report's experiments, and the result it records.

Each run is a :class:`Config`; each experiment of the report (``task2``, ``task3``,
``task4a``, ``task4b``, ``task4d``, ``task4e``) is a group of runs and the runs it is
compared with. :mod:`backprop.experiments` trains them, :mod:`backprop.store` keeps their
:class:`RunResult`, and :mod:`backprop.reports` turns results into tables.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop.activations import ACTIVATIONS
from backprop.checks import (
    boolean,
    check_layer_sizes,
    dense_checks,
    float_dtype,
    int_in_range,
    look_up,
    positive_int,
    real_in_range,
    seed,
)
from backprop.initialization import INITIALIZERS
from backprop.network import count_parameters
from backprop.training import TRAIN_CHECK_SIZE, History

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""What a run's name may be: it is part of the names of the files that store its result."""

GRADIENT_PROBE = 2_000
"""Training images whose mean-loss gradient is measured at every check."""

BOOK_SEEDS = 5
"""Seeds of every run in the book: each experiment is trained from seeds 0 to 4."""

DENSE_CHECKS = (25, 2)
"""``(every, epochs)`` of every run in the book: a check every 25 steps over the first two
epochs, besides the course's five an epoch, so that the steps a run takes to reach 90%
validation accuracy are counted to 25 steps where the tricks get there, in a few hundred."""


@dataclass(frozen=True)
class Config:
    """One training run, complete: the network, the optimiser and the data it sees.

    The defaults are the assignment's Task 2: 784-64-10 with a sigmoid hidden layer,
    :math:`U(-1, 1)` weights, learning rate 0.1, batches of 32, no momentum, at most 50
    epochs, early stopping after 50 checks without a lower validation loss, trained on the
    first 20,000 training images in float32, of which the first
    :data:`~backprop.training.TRAIN_CHECK_SIZE` are scored at each check (``None``: all).
    Besides the course's five checks an epoch, which early stopping counts, ``dense_checks``
    checks every 25 steps over the first two epochs (:data:`DENSE_CHECKS`; ``None``: the
    course's checks only; see :class:`backprop.training.Trainer`). ``seed`` seeds both the
    weights and the shuffling.

    Raises
    ------
    ValueError
        Naming the first field that is not valid; the name must be safe as part of a file
        name.
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
    dtype: str = "float32"
    train_check_size: int | None = TRAIN_CHECK_SIZE
    dense_checks: tuple[int, int] | None = DENSE_CHECKS

    def __post_init__(self) -> None:
        # Every option is checked here, before any data is loaded or any network is built.
        if not (isinstance(self.name, str) and NAME.fullmatch(self.name)):
            raise ValueError(f"a run's name is letters, digits, '-', '_' and '.', starting with "
                             f"a letter or digit (it names files), got {type(self.name).__name__} "
                             f"{' '.join(str(self.name).split())[:40]!r}")
        if not isinstance(self.label, str):
            raise ValueError(f"label must be a string, got {type(self.label).__name__}")
        check_layer_sizes(self.neurons_per_layer, 785)
        look_up(ACTIVATIONS, self.activation, "activation")
        look_up(INITIALIZERS, self.init, "init")
        real_in_range(self.learning_rate, "learning_rate", 0, low_open=True)
        real_in_range(self.momentum, "momentum", 0, 1)
        positive_int(self.batch_size, "batch_size")
        positive_int(self.epochs, "epochs")
        positive_int(self.early_stopping, "early_stopping", optional=True)
        boolean(self.shuffle, "shuffle")
        seed(self.seed)
        int_in_range(self.train_size, "train_size", 1, 60_000)
        float_dtype(self.dtype)
        positive_int(self.train_check_size, "train_check_size", optional=True)
        # Read back from JSON as a list: held as a tuple, so that equal schedules compare equal.
        object.__setattr__(self, "dense_checks", dense_checks(self.dense_checks))

    @property
    def stem(self) -> str:
        """The run's name and seed, as the names of its stored files begin."""
        return f"{self.name}-seed{self.seed}"

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (and checked)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["neurons_per_layer"] = list(self.neurons_per_layer)
        if self.dense_checks is not None:
            values["dense_checks"] = list(self.dense_checks)
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

BOOK_EXTRA_RUNS = (TASK2.replace(dtype="float64"),)
"""Runs the book trains once each besides its experiments' seeds: Task 2 of seed 0 in float64,
which the performance chapter compares with float32 check by check."""


def widest_dtype(configs: Sequence[Config]) -> str:
    """The dtype to normalise the data in for all of ``configs``: float64 if any needs it.

    Float64 inputs rounded to float32 are float32's own normalisation, bit for bit
    (:func:`~backprop.preprocessing.with_dtype`); float32 inputs widened would not be
    float64's.
    """
    return "float64" if any(config.dtype == "float64" for config in configs) else "float32"


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
    gradient_norms : array, shape (course checks, layers)
        The Frobenius norm of each layer's weight gradient, on the first
        :data:`GRADIENT_PROBE` training images, at each of the course's checks
        (:attr:`course_steps`), not at the dense ones.
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
        """The steps of every validation check, the dense ones included."""
        return self.history.series("val_loss")[0]

    @property
    def course_steps(self) -> NDArray[np.int64]:
        """The steps of the course's checks, the rows of :attr:`gradient_norms`."""
        return self.history.course_steps

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
            "seed": self.config.seed,
            "parameters": count_parameters(self.config.neurons_per_layer,
                                           self.meta["input_size"]),
            "train_loss": history.train_loss[final],
            "val_loss": history.val_loss[final],
            "train_accuracy": history.train_accuracy[final],
            "val_accuracy": history.val_accuracy[final],
            "best_val_loss": history.best_val_loss,
            "best_val_accuracy": history.val_accuracy[history.best_step],
            "best_step": history.best_step,
            "stopped_at": final,
            "epochs": final / history.steps_per_epoch,
            "stop_reason": str(history.stop_reason),
            "wall_time": self.wall_time,
        }


@dataclass(frozen=True)
class SeededRuns:
    """One configuration trained from seeds 0 to S-1: the unit every comparison is made of.

    Attributes
    ----------
    config : Config
        The configuration, as the experiment lists it (seed 0).
    results : tuple of RunResult
        One per seed, in order of seed.
    """

    config: Config
    results: tuple[RunResult, ...]

    @property
    def seeds(self) -> int:
        """S, the number of seeds."""
        return len(self.results)

    def values(self, key: str) -> NDArray[np.float64]:
        """One figure of :meth:`RunResult.summary` for each seed."""
        return np.array([result.summary()[key] for result in self.results], dtype=float)


def iter_experiments(names: list[str]) -> Iterator[Experiment]:
    """The experiments named (``"all"`` for every one), each once, in the report's order.

    Raises
    ------
    ValueError
        Naming the first unknown name and listing the known ones.
    """
    wanted = list(EXPERIMENTS) if "all" in names else names
    for name in wanted:
        if name not in EXPERIMENTS:
            raise ValueError(
                f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)} or all"
            )
    yield from (EXPERIMENTS[name] for name in EXPERIMENTS if name in wanted)
