"""A hostile tester's probe of the public entry points: how each bad input fails.

Run from the repository's root (no MNIST needed)::

    python benchmarks/hostile.py [--fuzz 2000]

Every probe is classified and tallied:

- *own error*: the package's own exception (a ``ValueError``, ``FloatingPointError`` or
  ``OSError`` subclass) with a one-line message;
- *leak*: any other exception, or a message of several lines;
- *silent*: the call returned although its input was invalid;
- *hang*: the call did not return within the time limit.

The inputs that once got an answer wrong without a word (an overflow hidden by a saturating
sigmoid, outputs that are not distributions, a step too small to measure, a masked array)
must each get the package's own error. Corruptions of a stored result (its summary among
them) are tallied as recomputed (with a warning that names the file) or not. The exit code
is 1 when anything leaked, passed silently or hung.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from backprop import (
    MLP,
    Trainer,
    claims,
    count_parameters,
    gradient_check,
    one_hot,
    reports,
    runs,
    store,
)
from backprop.data import MNISTNotFoundError
from backprop.experiments import CorruptResultWarning, run, run_experiment
from backprop.idx import parse_idx, read_idx
from backprop.losses import cross_entropy
from backprop.preprocessing import make_dataset, normalize, pixel_statistics

OWN = (ValueError, ArithmeticError, OSError)
LIMIT = 10
"""Seconds before a call counts as a hang."""

BAD = [None, "x", -1, 0, 1.5, float("nan"), float("inf"), 10**400, True, [], object()]
"""Values that no numeric option accepts (0 and True are valid for some; see VALID)."""

X3, Y3 = np.ones((2, 3)), np.array([0, 1])
_rng = np.random.default_rng(0)
_X = np.hstack([_rng.standard_normal((64, 4)), np.ones((64, 1))])
_y = _rng.integers(0, 10, 64)
SMALL = make_dataset(_X, _y, _X[:16], _y[:16])
STORE = tempfile.mkdtemp(prefix="backprop-hostile-")
atexit.register(shutil.rmtree, STORE, ignore_errors=True)


def _sweep(**options):
    return run_experiment("task2", SMALL, STORE, epochs=1, **{"jobs": 1, **options})

ENTRY_POINTS = {
    "MLP.neurons_per_layer": (lambda v: MLP(v), {}),
    "MLP.input_size": (lambda v: MLP([3, 2], input_size=v), {}),
    "MLP.activation": (lambda v: MLP([3, 2], activation=v), {}),
    "MLP.init": (lambda v: MLP([3, 2], init=v), {}),
    "MLP.seed": (lambda v: MLP([3, 2], seed=v), {0, 10**400}),
    "MLP.dtype": (lambda v: MLP([3, 2], dtype=v), {None}),
    "Trainer.learning_rate": (lambda v: Trainer(MLP([3, 2]), learning_rate=v), {1.5}),
    "Trainer.batch_size": (lambda v: Trainer(MLP([3, 2]), batch_size=v), {10**400}),
    "Trainer.momentum": (lambda v: Trainer(MLP([3, 2]), momentum=v), {0}),
    "Trainer.shuffle": (lambda v: Trainer(MLP([3, 2]), shuffle=v), {True}),
    "Trainer.early_stopping": (lambda v: Trainer(MLP([3, 2]), early_stopping=v),
                               {None, 10**400}),
    "Trainer.seed": (lambda v: Trainer(MLP([3, 2]), seed=v), {0, 10**400}),
    "fit.X_train": (lambda v: Trainer(MLP([3, 2], input_size=3), batch_size=1).fit(
        v, Y3, X3, Y3, epochs=1), {}),
    "fit.Y_train": (lambda v: Trainer(MLP([3, 2], input_size=3), batch_size=1).fit(
        X3, v, X3, Y3, epochs=1), {}),
    "fit.epochs": (lambda v: Trainer(MLP([3, 2], input_size=3), batch_size=1).fit(
        X3, Y3, X3, Y3, epochs=v), {10**400}),
    "fit.on_step": (lambda v: Trainer(MLP([3, 2], input_size=3), batch_size=1).fit(
        X3, Y3, X3, Y3, epochs=1, on_step=v), {None}),
    "MLP.forward": (lambda v: MLP([3, 2], input_size=3).forward(v), {}),
    "MLP.backward.targets": (lambda v: MLP([3, 2], input_size=3).backward(X3, v), {}),
    "MLP.weights": (lambda v: setattr(MLP([3, 2], input_size=3), "weights", v), {}),
    "gradient_check.model": (lambda v: gradient_check(v, X3, Y3), {}),
    "gradient_check.epsilon": (lambda v: gradient_check(MLP([3, 2], input_size=3), X3, Y3,
                                                        epsilon=v), {}),
    "gradient_check.num_directions": (lambda v: gradient_check(
        MLP([3, 2], input_size=3), X3, Y3, method="random_directions", num_directions=v), {}),
    "gradient_check.seed": (lambda v: gradient_check(MLP([3, 2], input_size=3), X3, Y3,
                                                     seed=v), {0, 10**400}),
    "cross_entropy.targets": (lambda v: cross_entropy(v, [[0.5, 0.5]]), {}),
    "cross_entropy.outputs": (lambda v: cross_entropy([[1.0, 0.0]], v), {}),
    # No labels encode as no rows: an empty list is a valid input here.
    "one_hot.labels": (lambda v: one_hot(v, 3), [0, True, []]),
    "one_hot.num_classes": (lambda v: one_hot([0], v), {}),
    "count_parameters": (lambda v: count_parameters([v, 10]), {10**400}),
    "normalize.images": (lambda v: normalize(v, 0.0, 1.0), {}),
    "normalize.mean": (lambda v: normalize(X3, v, 1.0), {0, -1, 1.5, True}),
    "normalize.std": (lambda v: normalize(X3, 0.0, v), {1.5, True}),
    "pixel_statistics": (lambda v: pixel_statistics(v), {}),
    "parse_idx": (lambda v: parse_idx(v), {}),
    "Config.epochs": (lambda v: runs.TASK2.replace(epochs=v), {10**400}),
    "Config.name": (lambda v: runs.TASK2.replace(name=v), {"x"}),
    "Config.train_check_size": (lambda v: runs.TASK2.replace(train_check_size=v),
                                {None, 10**400}),
    "Trainer.train_check_size": (lambda v: Trainer(MLP([3, 2]), train_check_size=v),
                                 {None, 10**400}),
    "Trainer.dense_checks": (lambda v: Trainer(MLP([3, 2]), dense_checks=v), {None}),
    "Config.dense_checks": (lambda v: runs.TASK2.replace(dense_checks=v), {None}),
    "Trainer.dense_checks every": (lambda v: Trainer(MLP([3, 2]), dense_checks=(v, 2)),
                                   {10**400}),
    "run_experiment.seeds": (lambda v: _sweep(seeds=v), {}),
    # Any number of workers is valid: no more are started than there are runs.
    "run_experiment.jobs": (lambda v: _sweep(jobs=v), {None, 10**400}),
    "run_experiment.dask": (lambda v: _sweep(dask=v), {None}),
    "claims.judge": (lambda v: claims.judge(claims.CLAIMS[0], v, [1.0, 2.0]), {}),
    "summary_table.columns": (lambda v: reports.summary_table(_sweep(), columns=v),
                              [None, []]),
}


HUGE = np.full((2, 3), 1e308)


def _saturating() -> MLP:
    """A sigmoid network whose first layer sums three inputs of 1e308 into infinity."""
    model = MLP([3, 2], input_size=3)
    model.weights = [np.ones((3, 3)), np.ones((3, 2))]
    return model


ANSWERED_SILENTLY = {
    "cross_entropy of outputs that are not distributions":
        lambda: cross_entropy([[1.0, 0.0]], [[1.0, 1.0]]),
    "gradient_check with epsilon 1e-300":
        lambda: gradient_check(MLP([3, 2], input_size=3), X3, Y3, epsilon=1e-300),
    "gradient_check with epsilon 10":
        lambda: gradient_check(MLP([3, 2], input_size=3), X3, Y3, epsilon=10.0),
    "normalize to beyond float64": lambda: normalize(HUGE, 0.0, 1e-10),
    "normalize to beyond float32": lambda: normalize(np.full((2, 3), 1e39), 0.0, 1.0,
                                                     dtype=np.float32),
    "MLP.forward of 1e308": lambda: _saturating().forward(HUGE),
    "MLP.evaluate of 1e308": lambda: _saturating().evaluate(HUGE, Y3),
    "fit on 1e308": lambda: Trainer(_saturating(), batch_size=1).fit(HUGE, Y3, HUGE, Y3,
                                                                    epochs=1),
    "gradient_check on 1e308": lambda: gradient_check(_saturating(), HUGE, Y3),
    "Trainer.step on 1e308": lambda: Trainer(_saturating()).step(HUGE, Y3),
    "labels of 1e20": lambda: one_hot([1e20], 3),
    "one-hot rows beyond memory": lambda: one_hot([1], 10**15),
    "forward of a masked array": lambda: MLP([3, 2], input_size=3).forward(
        np.ma.masked_array(X3, mask=X3 == 0)),
    "fit on a masked array": lambda: Trainer(MLP([3, 2], input_size=3), batch_size=1).fit(
        np.ma.masked_array(X3), Y3, X3, Y3, epochs=1),
    "forward of a list of masked rows": lambda: MLP([3, 2], input_size=3).forward(
        [np.ma.masked_array([1.0, 2, 3], mask=[0, 1, 0]), np.ones(3)]),
    "forward of strings": lambda: MLP([3, 2], input_size=3).forward([["1", "2", "3"]]),
    "forward of an object array": lambda: MLP([3, 2], input_size=3).forward(
        X3.astype(object)),
}
"""Inputs that once got an answer that was wrong without a word; each must now be refused."""


class HangError(Exception):
    """A probe ran past :data:`LIMIT`."""


def _alarm(*_):
    raise HangError


def classify(call, value, valid) -> str:
    """One probe: ``call(value)`` for an input that must fail."""
    if any(value is v or (type(value) is type(v) and value == v) for v in valid):
        return "valid"
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            call(value)
    except HangError:
        return "hang"
    except OWN as error:
        # One line, as every error of the package; missing data says in at most five what is
        # missing, why it could not be downloaded and where to put it.
        lines = len(str(error).splitlines())
        return "own error" if lines == 1 or (
            isinstance(error, MNISTNotFoundError) and lines <= 5) else "leak"
    except Exception:
        return "leak"
    finally:
        signal.alarm(0)
    return "silent"


def bad_inputs() -> Counter:
    """Every entry point with every value of :data:`BAD` it does not accept."""
    tally = Counter()
    for name, (call, valid) in ENTRY_POINTS.items():
        for value in BAD:
            outcome = classify(call, value, valid)
            if outcome in ("leak", "silent", "hang"):
                print(f"  {outcome}: {name} = {value!r}"[:120])
            tally[outcome] += 1
    return tally


def silent_answers() -> Counter:
    """Every input of :data:`ANSWERED_SILENTLY`: each must get the package's own error."""
    tally = Counter()
    for name, call in ANSWERED_SILENTLY.items():
        outcome = classify(lambda _, call=call: call(), None, {})
        if outcome != "own error":
            print(f"  {outcome}: {name}")
        tally[outcome] += 1
    return tally


def fuzz(count: int, seed: int = 0) -> Counter:
    """Random calls of entry points with random bad or odd values."""
    rng = np.random.default_rng(seed)
    pool = [*BAD, np.array([]), np.full((2, 3), np.nan), np.ones((2, 2)), "sigmoid",
            np.array([[1e308, 1, 1]]), 2**31, -0.0, b"\x00", {"a": 1}]
    names = list(ENTRY_POINTS)
    tally = Counter()
    for _ in range(count):
        name = names[rng.integers(len(names))]
        call, valid = ENTRY_POINTS[name]
        value = pool[rng.integers(len(pool))]
        outcome = classify(call, value, valid)
        if outcome == "silent":
            outcome = "returned"  # fuzzed values may be valid: only leaks and hangs count
        elif outcome in ("leak", "hang"):
            print(f"  {outcome}: {name} = {value!r}"[:120])
        tally[outcome] += 1
    return tally


def files() -> Counter:
    """Odd data files: devices, pipes and bombs must fail at once with the reader's error."""
    tally = Counter()
    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        (directory / "zero").symlink_to("/dev/zero")
        os.mkfifo(directory / "fifo")
        import gzip

        (directory / "bomb.gz").write_bytes(gzip.compress(bytes(20_000_000)))
        (directory / "empty").write_bytes(b"")
        (directory / "text").write_text("not idx")
        probes = [lambda p: read_idx(p), lambda p: __import__("backprop").data.load_mnist(
            p.parent, download=False)]
        for path in sorted(directory.iterdir()):
            for probe in probes:
                tally[classify(probe, path, {})] += 1
    return tally


def corruptions() -> Counter:
    """Corrupt a stored result in each way, and see whether it is named and recomputed."""
    rng = np.random.default_rng(0)
    X = np.hstack([rng.standard_normal((64, 4)), np.ones((64, 1))])
    y = rng.integers(0, 10, 64)
    data = make_dataset(X, y, X[:16], y[:16])
    config = runs.TASK2.replace(epochs=1)

    def edit(path, change):
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document))

    def edit_arrays(path, name, change):
        npz = path.with_suffix(".npz")
        with np.load(npz) as arrays:
            values = dict(arrays)
        values[name] = change(values[name])
        np.savez(npz, **values)

    ways = {
        "truncated json": lambda p: p.write_text(p.read_text()[:40]),
        "empty json": lambda p: p.write_text(""),
        "a list": lambda p: p.write_text("[]"),
        "null": lambda p: p.write_text("null"),
        "config a string": lambda p: edit(p, lambda d: d.update(config="x")),
        "steps per epoch a string": lambda p: edit(p, lambda d: d.update(steps_per_epoch="x")),
        "unknown stop reason": lambda p: edit(p, lambda d: d.update(stop_reason="bored")),
        "best step elsewhere": lambda p: edit(p, lambda d: d.update(best_step=10**6)),
        "no key": lambda p: edit(p, lambda d: d.pop("key")),
        "wrong key": lambda p: edit(p, lambda d: d.update(key="0" * 20)),
        "no meta": lambda p: edit(p, lambda d: d.pop("meta")),
        "unknown option": lambda p: edit(p, lambda d: d["config"].update(colour="red")),
        "bad option": lambda p: edit(p, lambda d: d["config"].update(learning_rate=-1)),
        "path in arrays": lambda p: edit(p, lambda d: d.update(arrays="/etc/passwd")),
        "truncated npz": lambda p: p.with_suffix(".npz").write_bytes(
            p.with_suffix(".npz").read_bytes()[:100]),
        "empty npz": lambda p: p.with_suffix(".npz").write_bytes(b""),
        "no npz": lambda p: p.with_suffix(".npz").unlink(),
        "accuracy 5.0": lambda p: edit_arrays(p, "val_accuracy", lambda a: a + 5),
        "summary accuracy 5.0": lambda p: edit(p, lambda d: d["summary"].update(
            val_accuracy=5.0)),
        "no summary": lambda p: edit(p, lambda d: d.pop("summary")),
        "summary seed a float": lambda p: edit(p, lambda d: d["summary"].update(seed=0.0)),
        "another configuration": lambda p: edit(p, lambda d: d["config"].update(
            learning_rate=0.5, momentum=0.9)),
        "steps per epoch a fraction": lambda p: edit(p, lambda d: d.update(
            steps_per_epoch=d["steps_per_epoch"] + 0.5)),
        "nested a million deep": lambda p: p.write_text("[" * 10**6 + "]" * 10**6),
        "nan loss": lambda p: edit_arrays(p, "val_loss", lambda a: a * np.nan),
        "steps and values differ": lambda p: edit_arrays(p, "val_loss", lambda a: a[:-1]),
        "norms of another shape": lambda p: edit_arrays(p, "gradient_norms",
                                                        lambda a: a[:, :1]),
        "training scored off the checks": lambda p: edit_arrays(p, "train_loss_steps",
                                                                lambda a: a + 1),
        "no record": lambda p: edit_arrays(p, "batch_loss_steps", lambda a: a.reshape(1, -1)),
    }
    tally = Counter()
    for way, corrupt in ways.items():
        with tempfile.TemporaryDirectory() as directory:
            first = run(config, data, directory)
            path = store.result_path(Path(directory), config, first.key)
            corrupt(path)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    again = run(config, data, directory)
                except Exception as error:
                    print(f"  not recomputed: {way}: {type(error).__name__}: {error}"[:120])
                    tally["not recomputed"] += 1
                    continue
            named = any(issubclass(w.category, CorruptResultWarning) and path.name in
                        str(w.message) for w in caught)
            recomputed = named and again.history == first.history
            if way == "path in arrays":  # nothing to recompute: the path is simply not used
                recomputed = again.history == first.history
            tally["recomputed" if recomputed else "served silently"] += 1
            if not recomputed:
                print(f"  served silently: {way}")
    return tally


def main() -> int:
    """Run every probe and print the tally."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fuzz", type=int, default=2000, help="fuzzed calls (default 2000)")
    arguments = parser.parse_args()
    results = {
        "bad inputs": bad_inputs(),
        "once answered silently": silent_answers(),
        f"fuzzed calls ({arguments.fuzz})": fuzz(arguments.fuzz),
        "odd data files": files(),
        "corrupted stored results": corruptions(),
    }
    print("| probes | outcome | count |\n| --- | --- | --- |")
    for kind, tally in results.items():
        for outcome, count in sorted(tally.items()):
            print(f"| {kind} | {outcome} | {count} |")
    failed = sum(tally[k] for tally in results.values()
                 for k in ("leak", "silent", "hang", "not recomputed", "served silently"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
