"""The results store: a key per run, atomic saves, and loads.

A result is saved under a key made of the run's configuration, a digest of the code that can
change a result, and a digest of the data, so a rerun of the same code on the same data is
instant and any change that matters recomputes. The digest covers the modules listed in
:data:`RESULT_MODULES` as Python sees them (their syntax trees, docstrings left out): editing
a docstring, a comment, the plotting code, the reports or the book retrains nothing.

Results are JSON with the arrays beside it in ``.npz``, both named by the run and its key;
both are written to a temporary name and renamed into place, the JSON last, so an
interrupted run leaves no result behind. A stored result that cannot be read back whole and
consistent raises :class:`CorruptResultError`, naming the file; :func:`quarantine` moves it
aside so that it is computed again.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import backprop
from backprop.checks import show
from backprop.runs import Config, RunResult
from backprop.threads import ONE_THREAD
from backprop.training import History, StopReason

RESULTS_ENVIRONMENT_VARIABLE = "BACKPROP_RESULTS_DIR"

BOOK_SWEEP = "book-sweep.json"
"""The file in a store where ``backprop book`` records how long its experiments took."""

RESULT_MODULES = (
    "activations", "checks", "elementary", "initialization", "losses", "network", "inplace",
    "threads", "training", "idx", "data", "preprocessing", "runs", "experiments", "store",
)
"""The modules whose code can change a stored result: the mathematics, training, data,
pre-processing, the configurations, running and storing."""


def source_digest() -> str:
    """SHA-256 of :data:`RESULT_MODULES`' syntax trees, without docstrings.

    Comments and layout are not part of a syntax tree, and docstrings are taken out, so only
    a change to what the code does changes the digest.
    """
    digest = hashlib.sha256()
    root = Path(backprop.__file__).parent
    for name in RESULT_MODULES:
        tree = ast.parse((root / f"{name}.py").read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
        digest.update(name.encode())
        digest.update(ast.dump(tree).encode())
    return digest.hexdigest()


def result_key(config: Config, data_digest: str, source: str | None = None) -> str:
    """The results-store key of a configuration on data of that digest, with this code.

    ``source`` is :func:`source_digest`, computed here unless given.
    """
    # A product's last bits can depend on its BLAS threads: the runs are made on one.
    identity = {"config": config.as_dict(), "source": source or source_digest(),
                "data": data_digest, "blas_threads": ONE_THREAD.step_threads}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def results_directory(results_dir: str | os.PathLike[str] | None = None) -> Path:
    """``results_dir``, else ``$BACKPROP_RESULTS_DIR``, else ``results`` here."""
    if results_dir is not None:
        return Path(results_dir)
    return Path(os.environ.get(RESULTS_ENVIRONMENT_VARIABLE, "results"))


def result_path(store: Path, config: Config, key: str) -> Path:
    """Where the JSON of a run's result lives in a store; the arrays are beside it (.npz).

    The name starts with the run's name and seed: ``task2-seed0-KEY.json``.
    """
    return store / f"{config.stem}-{key}.json"


class CorruptResultError(ValueError):
    """A stored result cannot be read back whole and consistent; the message names its file."""


class StoreNotWritableError(PermissionError):
    """The results directory cannot be written to; the message names it."""


def check_writable(
    store: Path, what: str = "the results directory",
    instead: str = "give another with --results or BACKPROP_RESULTS_DIR",
) -> None:
    """Make sure files can be saved in ``store`` (creating it), before any work is done.

    ``what`` names the directory and ``instead`` says what to do, in the error.

    Raises
    ------
    StoreNotWritableError
        If the directory cannot be created or a file cannot be written in it.
    """
    try:
        store.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=store):
            pass
    except OSError as error:
        raise StoreNotWritableError(
            f"{what} {store} is not writable ({error.strerror or error}); {instead}"
        ) from None


def quarantine(path: Path) -> Path:
    """Move a corrupt result (its JSON and its arrays) into ``corrupt/`` beside it.

    Returns
    -------
    pathlib.Path
        Where the JSON went.
    """
    aside = path.parent / "corrupt"
    aside.mkdir(exist_ok=True)
    for member in (path, path.with_suffix(".npz")):
        if member.exists():
            os.replace(member, aside / member.name)
    return aside / path.name


_RECORDS = ("batch_loss", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


def save_result(result: RunResult, path: Path) -> None:
    """Write a result as ``path`` (JSON) and the ``.npz`` beside it, each atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"gradient_norms": result.gradient_norms}
    for name in _RECORDS:
        arrays[f"{name}_steps"], arrays[name] = result.history.series(name)
    write_atomically(path.with_suffix(".npz"), lambda file: np.savez(file, **arrays))
    history = result.history
    document = {
        "key": result.key,
        "config": result.config.as_dict(),
        "summary": result.summary(),
        "steps_per_epoch": history.steps_per_epoch,
        "stop_reason": str(history.stop_reason),
        "best_step": history.best_step,
        "wall_time": result.wall_time,
        "meta": result.meta,
    }
    write_atomically(
        path, lambda file: file.write(json.dumps(document, indent=2).encode() + b"\n")
    )


def load_result(path: Path, config: Config | None = None) -> RunResult:
    """Read a result that :func:`save_result` wrote, and check that it is whole.

    The arrays are read from the ``.npz`` of the same name, and nowhere else; the JSON's
    readable ``summary`` must be the one the arrays and the configuration give, value and
    type, and the configuration the one asked for.

    Parameters
    ----------
    path : Path
        The result's JSON.
    config : Config, optional
        The configuration its key stands for, where the caller knows it.

    Raises
    ------
    CorruptResultError
        Naming the file and what is wrong with it.
    """
    try:
        result = _load(path)
    except CorruptResultError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, zipfile.BadZipFile, EOFError) as error:
        raise CorruptResultError(f"{path}: unreadable ({type(error).__name__}: {error})"
                                 .splitlines()[0]) from None
    if config is not None and result.config != config:
        raise CorruptResultError(f"{path}: it holds the configuration {result.config}, not "
                                 f"{config}, which its key stands for")
    return result


def _load(path: Path) -> RunResult:
    document = json.loads(path.read_text())
    if not isinstance(document, dict):
        raise CorruptResultError(f"{path}: not a JSON object")
    config_values = dict(document["config"])
    config_values["neurons_per_layer"] = tuple(config_values["neurons_per_layer"])
    config = Config(**config_values)
    with path.with_suffix(".npz").open("rb") as file, np.load(file, allow_pickle=False) as arrays:
        records = {}
        for name in _RECORDS:
            steps, values = arrays[f"{name}_steps"], arrays[name]
            if steps.ndim != 1 or steps.shape != values.shape or not np.isfinite(values).all():
                raise CorruptResultError(f"{path}: the record {name} is malformed")
            records[name] = dict(zip(steps.tolist(), values.tolist(), strict=True))
        gradient_norms = arrays["gradient_norms"]
    if not all(isinstance(document[key], int) and not isinstance(document[key], bool)
               for key in ("steps_per_epoch", "best_step")):
        raise CorruptResultError(f"{path}: its steps are not whole numbers")
    history = History(**records, steps_per_epoch=document["steps_per_epoch"],
                      stop_reason=StopReason(document["stop_reason"]),
                      best_step=document["best_step"])
    checks, course = set(history.val_loss), set(history.train_loss)
    accuracies = [*history.train_accuracy.values(), *history.val_accuracy.values()]
    if (
        not course
        or set(history.val_accuracy) != checks
        or set(history.train_accuracy) != course
        or not course <= checks
        or max(checks) not in course
        or any(not 0 <= accuracy <= 1 for accuracy in accuracies)
        or history.best_step not in course
        or gradient_norms.shape != (len(course), len(config.neurons_per_layer))
        or document["key"] != path.stem.removeprefix(f"{config.stem}-")
        or not math.isfinite(document["wall_time"])
    ):
        raise CorruptResultError(f"{path}: its records do not fit together")
    result = RunResult(config, document["key"], history, gradient_norms,
                       float(document["wall_time"]), dict(document["meta"]))
    # The summary is a readable copy for people and tools: it must say what the records say.
    summary, stored = result.summary(), document["summary"]
    # Compared as JSON, so that 1 and 1.0 and true, equal in Python, are told apart.
    if json.dumps(stored, sort_keys=True) != json.dumps(summary, sort_keys=True):
        key = next((key for key in summary
                    if json.dumps(stored.get(key)) != json.dumps(summary[key])), None)
        raise CorruptResultError(
            f"{path}: its summary disagrees with its records" + (
                f" ({key} is {show(stored.get(key))}; the records say {show(summary[key])})"
                if key else f" (it holds {show(sorted(stored))})"))
    return result


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[Any], Any]) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place.

    An interruption leaves the old ``path`` (or none) and no temporary file.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        # mkstemp makes a file only its owner can read; a saved file is as any other.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
