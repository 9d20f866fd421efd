"""Side-by-side benchmarks of backprop against PyTorch and scikit-learn, on MNIST.

Run it from the repository's root, with MNIST in ``BACKPROP_DATA_DIR`` (or downloadable)::

    python benchmarks/run.py [--rounds 5] [--task2-rounds 3] [--json results.json]

or call :func:`cases`, :func:`measure` and :func:`report` from a notebook, as the book's
performance chapter does.

Every case is timed in the same run, the implementations interleaved round after round, and
reported as medians and as ratios pair by pair: absolute times drift between runs on shared
machines, ratios much less. Each implementation's validation accuracy after its timed epoch
stands beside its time, so a broken fast path cannot win. The peers are optional: without
PyTorch (``pip install torch==2.13.0`` for the CPU build) or scikit-learn their rows are
left out, and so are the targets that need them. The exit code is 1 when a target ratio is
missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from backprop import MLP, Trainer
from backprop.inplace import Scorer, Step
from backprop.network import EVALUATION_CHUNK
from backprop.preprocessing import Dataset, assignment_data
from backprop.runs import GRADIENT_PROBE
from backprop.threads import ONE_THREAD, ThreadPolicy, blas_description, largest_product
from backprop.training import CHECKS_PER_EPOCH, TRAIN_CHECK_SIZE, batch_indices, sgd_step

try:
    import torch
except ImportError:
    torch = None
try:
    from sklearn.neural_network import MLPClassifier
except ImportError:
    MLPClassifier = None

BATCH, LEARNING_RATE = 32, 0.1

PROTOCOL_EPOCHS = 2
"""Epochs of the protocol cases: ten checks of both sets, and a last one."""

TASK2_EPOCHS = 50
"""Epochs of the Task 2 experiment, every one of them run."""


Score = Callable[[], float] | None
"""What a timed run returns: how to measure its validation accuracy afterwards, untimed."""


@dataclass
class Case:
    """One thing to time: a group, an implementation, and the run, which returns a Score."""

    group: str
    implementation: str
    run: Callable[[], Score]


STEPPERS = ("in place", "Trainer.step", "sgd_step")
"""How :func:`backprop_epoch` can step: as ``Trainer.fit`` does (the in-place
:class:`~backprop.inplace.Step`), through the checked ``Trainer.step``, or through the
readable :func:`~backprop.training.sgd_step` that the derivations prove."""


def backprop_epoch(
    data: Dataset, layers, dtype: str, batch: int = BATCH, threads: int | None = None,
    stepper: str = "in place",
) -> Callable[[], Score]:
    """One epoch of shuffled batches, stepped by ``stepper`` (:data:`STEPPERS`), then accuracy.

    The steps are timed without the checks of the whole sets that ``Trainer.fit`` makes five
    times an epoch (those are the evaluation case), on the threads that
    :class:`~backprop.threads.ThreadPolicy` gives them unless ``threads`` is given.
    """

    def run() -> Score:
        model = MLP(layers, dtype=dtype)
        trainer = Trainer(model, LEARNING_RATE, batch, threads=ThreadPolicy(step_threads=threads))
        step = {"in place": Step(model.layer_sizes, batch, model.dtype), "sgd_step": sgd_step,
                "Trainer.step": None}[stepper]
        rng = np.random.default_rng(0)
        X, y = data.X_train, data.y_train
        Y = np.eye(10, dtype=dtype)[y]
        if step is None:
            # As a reader's own loop calls it: each call sets its threads, and restores them.
            for rows in batch_indices(len(X), batch, rng):
                trainer.step(X[rows], y[rows])
        else:
            with trainer.threads.steps(largest_product(model.layer_sizes, batch)):
                for rows in batch_indices(len(X), batch, rng):
                    step(model.weights, trainer.velocities, X[rows], Y[rows], model.activation,
                         trainer.learning_rate, trainer.momentum)
        return lambda: _accuracy(model.predict(data.X_val), data.y_val)

    return run


def products_epoch(data: Dataset) -> Callable[[], None]:
    """What no step can do without, for an epoch on one thread: the floor of its time.

    Each step gathers its batch's rows, multiplies them by :math:`W^{(1)}` and their transpose
    by the hidden delta; nothing else a step does is timed.
    """
    model = MLP([64, 10], dtype="float32")
    W = model.weights[0]
    z, gradient = np.empty((BATCH, W.shape[1]), W.dtype), np.empty_like(W)
    delta = np.random.default_rng(0).standard_normal(z.shape).astype(W.dtype)

    def run() -> None:
        with ONE_THREAD.steps(0):
            for rows in batch_indices(len(data.X_train), BATCH, np.random.default_rng(0)):
                X = data.X_train[rows]
                np.matmul(X, W, out=z)
                np.matmul(X.T, delta, out=gradient)

    return run


def backprop_evaluation(data: Dataset, dtype: str) -> Callable[[], None]:
    """One evaluation pass over the training and validation sets, as a check makes it.

    The network is untrained: its accuracy means nothing, and none is reported.
    """
    model = MLP([64, 10], dtype=dtype, init="fan_in")
    scorer = Scorer(model.layer_sizes, model.dtype)

    def run() -> None:
        with ThreadPolicy().checks(largest_product(model.layer_sizes, EVALUATION_CHUNK)):
            scorer(model.weights, data.X_train, data.y_train, model.activation)
            scorer(model.weights, data.X_val, data.y_val, model.activation)

    return run


def backprop_check(data: Dataset, train_rows: int | None,
                   probe: bool = True) -> Callable[[], None]:
    """One check as a stored run makes it, on one BLAS thread, in float32.

    The whole validation set and the first ``train_rows`` training images are scored (none
    for 0), and with ``probe`` the gradient of the first
    :data:`~backprop.runs.GRADIENT_PROBE` images is computed for the gradient norms. The
    validation set alone is the least a check that early stopping decides on can score.
    """
    model = MLP([64, 10], dtype="float32", init="fan_in")
    scorer = Scorer(model.layer_sizes, model.dtype)
    X_probe, y_probe = data.X_train[:GRADIENT_PROBE], data.y_train[:GRADIENT_PROBE]

    def run() -> None:
        with ONE_THREAD.checks(0):
            scorer(model.weights, data.X_val, data.y_val, model.activation)
            if train_rows != 0:
                scorer(model.weights, data.X_train[:train_rows], data.y_train[:train_rows],
                       model.activation)
            if probe:
                model.backward(X_probe, y_probe)

    return run


CHECKS = ("check", "check, whole training set", "check, validation set alone")
"""The groups of the three kinds of check that :func:`check_share` compares."""


def check_share(medians: dict) -> tuple[float, float, float]:
    """The share of a run's time its five checks an epoch take, one thread throughout.

    Returns
    -------
    (float, float, float)
        As the runs make the checks; with the whole training set scored instead; and
        scoring the validation set alone, with no training images and no gradient probe.
    """
    steps = medians["epoch", "backprop float32"]
    checks = [CHECKS_PER_EPOCH * medians[group, "backprop float32"] for group in CHECKS]
    return tuple(seconds / (steps + seconds) for seconds in checks)


def backprop_fit(data: Dataset, dtype: str, epochs: int, **options: Any) -> Callable[[], Score]:
    """``Trainer.fit`` for ``epochs`` epochs, with its defaults but for ``options``.

    Five checks an epoch and a last one, each of the whole validation set and the first
    :data:`~backprop.training.TRAIN_CHECK_SIZE` training images, BLAS threads as
    :class:`~backprop.threads.ThreadPolicy` sets them. For :data:`PROTOCOL_EPOCHS`, what a
    student's first run of the package costs; for Task 2, 50 epochs without early stopping.
    """

    def run() -> Score:
        model = MLP([64, 10], dtype=dtype)
        history = Trainer(model, **options).fit(data.X_train, data.y_train, data.X_val,
                                                data.y_val, epochs=epochs)
        return lambda: history.val_accuracy[history.steps]

    return run


def torch_network(layers, dtype):
    """PyTorch's version of the network: bias-free linear layers, sigmoid, U(-1, 1) init."""
    sizes = [785, *layers]
    modules = []
    for index, (n_in, n_out) in enumerate(pairwise(sizes)):
        linear = torch.nn.Linear(n_in, n_out, bias=False, dtype=dtype)
        torch.nn.init.uniform_(linear.weight, -1, 1)
        modules.append(linear)
        if index < len(layers) - 1:
            modules.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*modules)


class TorchRun:
    """PyTorch eager training of the same network on the same data: autograd, optim.SGD."""

    def __init__(self, data: Dataset, layers, dtype: str, batch: int = BATCH) -> None:
        self.sets = {name: (torch.from_numpy(X.astype(dtype)), torch.from_numpy(y))
                     for name, X, y in (("train", data.X_train, data.y_train),
                                        ("val", data.X_val, data.y_val))}
        self.layers, self.dtype, self.batch = layers, getattr(torch, dtype), batch

    def start(self) -> None:
        """A fresh network and optimiser, seeded."""
        torch.manual_seed(0)
        self.network = torch_network(self.layers, self.dtype)
        self.optimiser = torch.optim.SGD(self.network.parameters(), lr=LEARNING_RATE)

    def epoch(self, checks: int = 0, train_rows: int | None = None) -> None:
        """One epoch of shuffled batches, with ``checks`` evaluations spread over it."""
        X, y = self.sets["train"]
        order = torch.randperm(len(X))
        steps = len(X) // self.batch
        for step in range(steps):
            if checks and step % (steps // checks) == 0:
                self.evaluate(train_rows)
            rows = order[step * self.batch : (step + 1) * self.batch]
            loss = torch.nn.functional.cross_entropy(self.network(X[rows]), y[rows])
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()

    def evaluate(self, train_rows: int | None = None) -> float:
        """Loss and accuracy on both sets under no_grad; returns the validation accuracy.

        ``train_rows`` scores only the first training images, as ``Trainer`` does.
        """
        with torch.no_grad():
            for name, (X, y) in self.sets.items():
                if name == "train" and train_rows is not None:
                    X, y = X[:train_rows], y[:train_rows]
                logits = self.network(X)
                torch.nn.functional.cross_entropy(logits, y)
                accuracy = float((logits.argmax(1) == y).float().mean())
        return accuracy


def torch_epoch(data: Dataset, layers, dtype: str, batch: int = BATCH) -> Callable[[], Score]:
    """One epoch of PyTorch eager, then validation accuracy."""
    run = TorchRun(data, layers, dtype, batch)

    def once() -> Score:
        run.start()
        run.epoch()
        return run.evaluate

    return once


def torch_evaluation(data: Dataset) -> Callable[[], None]:
    """One evaluation pass in PyTorch under ``torch.no_grad()``, on an untrained network."""
    run = TorchRun(data, [64, 10], "float32")
    run.start()

    def once() -> None:
        run.evaluate()

    return once


def torch_fit(data: Dataset, epochs: int) -> Callable[[], Score]:
    """PyTorch eager doing :func:`backprop_fit`'s work.

    The same epochs, and at each of the same checks, the same images scored.
    """
    run = TorchRun(data, [64, 10], "float32")

    def once() -> Score:
        run.start()
        for _ in range(epochs):
            run.epoch(checks=CHECKS_PER_EPOCH, train_rows=TRAIN_CHECK_SIZE)
        accuracy = run.evaluate(TRAIN_CHECK_SIZE)
        return lambda: accuracy

    return once


def sklearn_epoch(data: Dataset) -> Callable[[], Score]:
    """scikit-learn's MLPClassifier, one epoch of SGD with batches of 32, float64."""

    def run() -> Score:
        classifier = MLPClassifier((64,), activation="logistic", solver="sgd",
                                   batch_size=BATCH, learning_rate_init=LEARNING_RATE,
                                   momentum=0.0, max_iter=1, shuffle=True, random_state=0)
        classifier.partial_fit(data.X_train, data.y_train, classes=np.arange(10))
        return lambda: _accuracy(classifier.predict(data.X_val), data.y_val)

    return run


def _percent(accuracy: float | None) -> str:
    return "- (untrained)" if accuracy is None else f"{accuracy:.2%}"


def _accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels))


WIDTHS = {"width 32": 32, "epoch": 64, "width 128": 128, "width 1024": 1024}
"""The groups that train 784-W-10 at batch 32, by their hidden width W."""

PEER = {"evaluation": "torch no_grad float32"}
"""PyTorch's implementation in a group, where it is not "torch eager float32"."""


def cases(data32: Dataset, data64: Dataset, task2: bool) -> list[Case]:
    """Every case, in the order each round runs them."""
    found = [
        Case("epoch", "backprop float64", backprop_epoch(data64, [64, 10], "float64")),
        Case("epoch", "backprop float32, 2 BLAS threads",
             backprop_epoch(data32, [64, 10], "float32", threads=2)),
        Case("epoch", "products alone, float32", products_epoch(data32)),
        Case("evaluation", "backprop float32", backprop_evaluation(data32, "float32")),
        Case("evaluation", "backprop float64", backprop_evaluation(data64, "float64")),
        Case("check", "backprop float32", backprop_check(data32, TRAIN_CHECK_SIZE)),
        Case("check, whole training set", "backprop float32", backprop_check(data32, None)),
        Case("check, validation set alone", "backprop float32",
             backprop_check(data32, 0, probe=False)),
        Case("ten layers", "backprop float32",
             backprop_epoch(data32, [64] * 10 + [10], "float32")),
        Case("protocol", "backprop float32", backprop_fit(data32, "float32", PROTOCOL_EPOCHS)),
        Case("protocol", "backprop float64", backprop_fit(data64, "float64", PROTOCOL_EPOCHS)),
    ]
    for group, width in WIDTHS.items():
        for stepper, implementation in zip(STEPPERS, ("backprop float32", "backprop Trainer.step",
                                                      "backprop sgd_step"), strict=True):
            found.append(Case(group, implementation, backprop_epoch(
                data32, [width, 10], "float32", stepper=stepper)))
    found += [Case(f"batch {batch}", "backprop float32",
                   backprop_epoch(data32, [64, 10], "float32", batch)) for batch in (128, 512)]
    if torch is not None:
        found += [
            Case("epoch", "torch eager float64", torch_epoch(data64, [64, 10], "float64")),
            Case("evaluation", "torch no_grad float32", torch_evaluation(data32)),
            Case("protocol", "torch eager float32", torch_fit(data32, PROTOCOL_EPOCHS)),
            Case("ten layers", "torch eager float32",
                 torch_epoch(data32, [64] * 10 + [10], "float32")),
        ]
        found += [Case(group, "torch eager float32", torch_epoch(data32, [width, 10], "float32"))
                  for group, width in WIDTHS.items()]
        found += [Case(f"batch {batch}", "torch eager float32",
                       torch_epoch(data32, [64, 10], "float32", batch)) for batch in (128, 512)]
    if MLPClassifier is not None:
        found.append(Case("epoch", "sklearn MLPClassifier float64", sklearn_epoch(data64)))
    if task2:
        found.append(Case("task2", "backprop float32",
                          backprop_fit(data32, "float32", TASK2_EPOCHS, early_stopping=None)))
        if torch is not None:
            found.append(Case("task2", "torch eager float32", torch_fit(data32, TASK2_EPOCHS)))
    return found


PEER_LIMITS = {"epoch": 1 / 3, "protocol": 0.5, "task2": 0.6}
"""The largest ratio to PyTorch of a group where it is not 1: the assignment's epoch, its
protocol (two epochs of ``Trainer.fit``, checks included) and the Task 2 experiment."""

PEER_GROUPS = ("epoch", "width 32", "width 128", "width 1024", "batch 128", "batch 512",
               "ten layers", "evaluation", "protocol", "task2")
"""Every group the package and PyTorch both run, in the order of the comparison table."""

TARGETS = [
    # (what, group, numerator, group, denominator, largest ratio)
    *[(f"{group} vs PyTorch", group, "backprop float32", group,
       PEER.get(group, "torch eager float32"), PEER_LIMITS.get(group, 1.0))
      for group in PEER_GROUPS],
    ("width 1024 through Trainer.step vs PyTorch", "width 1024", "backprop Trainer.step",
     "width 1024", "torch eager float32", 1.0),
    *[(f"{group}: Trainer.step vs sgd_step", group, "backprop Trainer.step", group,
       "backprop sgd_step", 1.1) for group in WIDTHS],
    ("float64 epoch vs PyTorch eager float32", "epoch", "backprop float64", "epoch",
     "torch eager float32", 1.0),
    ("evaluation pass vs training epoch", "evaluation", "backprop float32", "epoch",
     "backprop float32", 0.5),
    ("float32 epoch vs float64", "epoch", "backprop float32", "epoch", "backprop float64",
     1.0),
    ("float32 evaluation vs float64", "evaluation", "backprop float32", "evaluation",
     "backprop float64", 1.0),
    ("float32 protocol vs float64", "protocol", "backprop float32", "protocol",
     "backprop float64", 1.0),
]


def measure(all_cases: list[Case], rounds: int, task2_rounds: int):
    """Interleaved rounds; returns times and accuracies per (group, implementation)."""
    times, accuracies = defaultdict(list), {}
    for round_index in range(rounds):
        for case in all_cases:
            if case.group == "task2" and round_index >= task2_rounds:
                continue
            start = time.perf_counter()
            score = case.run()
            times[case.group, case.implementation].append(time.perf_counter() - start)
            accuracies[case.group, case.implementation] = score() if score else None
    return times, accuracies


def machine() -> str:
    """The processor, its cores and the BLAS, for the line above every table of timings."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            model = next((line.partition(":")[2].strip() for line in file
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores; {blas_description()}"


def report(times, accuracies) -> tuple[str, list[dict], bool]:
    """The table, the targets with their measured ratios, and whether every target held."""
    medians = {key: statistics.median(values) for key, values in times.items()}
    lines = ["| case | implementation | median s | rounds | validation accuracy |",
             "| --- | --- | --- | --- | --- |"]
    for (group, implementation), median in medians.items():
        lines.append(f"| {group} | {implementation} | {median:.4f} | "
                     f"{len(times[group, implementation])} | "
                     f"{_percent(accuracies[group, implementation])} |")
    lines += ["", *peer_table(medians)]
    lines += ["", "| target | ratio | at most | met |", "| --- | --- | --- | --- |"]
    checked, held = [], True
    for what, group_a, a, group_b, b, limit in TARGETS:
        if (group_a, a) not in medians or (group_b, b) not in medians:
            lines.append(f"| {what} | not measured in this run | {limit:.2f} | - |")
            continue
        ratio = medians[group_a, a] / medians[group_b, b]
        met = ratio <= limit
        held &= met
        checked.append({"target": what, "ratio": ratio, "limit": limit, "met": met})
        lines.append(f"| {what} | {ratio:.3f} | {limit:.2f} | {'yes' if met else 'NO'} |")
    return "\n".join(lines), checked, held


def peer_table(medians: dict) -> list[str]:
    """The package beside PyTorch in every group both ran: seconds and their ratio."""
    lines = ["| case | package (s) | PyTorch (s) | ratio |", "| --- | --- | --- | --- |"]
    for group in PEER_GROUPS:
        peer = medians.get((group, PEER.get(group, "torch eager float32")))
        package = medians.get((group, "backprop float32"))
        if peer is not None and package is not None:
            lines.append(f"| {group} | {package:.4f} | {peer:.4f} | {package / peer:.2f} |")
    if len(lines) == 2:
        lines.append("| every case | measured | PyTorch is not installed | - |")
    return lines


def peak_memory(data: Dataset) -> tuple[float, float]:
    """Peak traced memory of a shortened Task 2 run in float32, and the data's own size, MB.

    tracemalloc sees numpy's allocations; the run is cut to two epochs, since the peak is
    reached within the first (every buffer of a step and of a check is live by then).
    """
    tracemalloc.start()
    try:
        model = MLP([64, 10], dtype="float32")
        Trainer(model, early_stopping=None).fit(data.X_train, data.y_train, data.X_val,
                                                data.y_val, epochs=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    held = sum(a.nbytes for a in (data.X_train, data.y_train, data.X_val, data.y_val))
    return peak / 2**20, held / 2**20


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table; exit code 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--task2-rounds", type=int, default=3,
                        help="rounds of the 50-epoch experiment (0 leaves it out)")
    parser.add_argument("--json", help="also write the medians and targets here")
    arguments = parser.parse_args(argv)
    data32, data64 = assignment_data(dtype="float32"), assignment_data(dtype="float64")
    all_cases = cases(data32, data64, task2=arguments.task2_rounds > 0)
    times, accuracies = measure(all_cases, arguments.rounds, arguments.task2_rounds)
    table, targets, held = report(times, accuracies)
    peak, data_size = peak_memory(data32)
    print(f"Measured on {machine()}.\n")
    print(table)
    print(f"\nPeak memory allocated during two epochs of Task 2 in float32: {peak:.1f} MB, "
          f"beyond the {data_size:.1f} MB of data it reads in place.")
    share, whole, alone = check_share({key: statistics.median(v) for key, v in times.items()})
    print(f"A stored run spends {share:.0%} of its time on the course's five checks an epoch, "
          f"one thread each (scoring the whole training set instead: {whole:.0%}; the "
          f"validation set alone, the least early stopping can decide on: {alone:.0%}).")
    epoch = statistics.median(times["epoch", "backprop float32"])
    products = statistics.median(times["epoch", "products alone, float32"])
    print(f"A float32 epoch at batch {BATCH} takes {epoch * 1000:.0f} ms on one thread, of "
          f"which gathering its batches and its two large products take {products * 1000:.0f} "
          "ms.")
    if arguments.json:
        with open(arguments.json, "w") as file:
            json.dump({"peak_memory_mb": peak, "data_mb": data_size,
                       "times": {f"{g} | {i}": v for (g, i), v in times.items()},
                       "accuracies": {f"{g} | {i}": v for (g, i), v in accuracies.items()},
                       "targets": targets}, file, indent=2)
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
