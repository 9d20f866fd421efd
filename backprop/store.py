"""The results store: a key per run, atomic saves, and loads.

A result is saved under a key made of the run's configuration, a digest of the code that can
change a result, and a digest of the data, so a rerun of the same code on the same data is
instant and any change that matters recomputes. The digest covers the modules listed in
:data:`RESULT_MODULES` as Python sees them (their syntax trees, docstrings left out): editing
a docstring, a comment, the plotting code, the reports or the book retrains nothing.

Results are JSON with the arrays beside it in ``.npz``; both are written to a temporary name
and renamed into place, the JSON last, so an interrupted run leaves no result behind.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import backprop
from backprop.runs import Config, RunResult
from backprop.training import History, StopReason

RESULTS_ENVIRONMENT_VARIABLE = "BACKPROP_RESULTS_DIR"

RESULT_MODULES = (
    "activations", "checks", "elementary", "initialization", "losses", "network", "threads",
    "training", "idx", "data", "preprocessing", "runs", "experiments", "store",
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


def result_key(config: Config, data_digest: str) -> str:
    """The results-store key of a configuration on data of that digest, with this code."""
    identity = {"config": config.as_dict(), "source": source_digest(), "data": data_digest}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def results_directory(results_dir: str | os.PathLike[str] | None = None) -> Path:
    """``results_dir``, else ``$BACKPROP_RESULTS_DIR``, else ``results`` here."""
    if results_dir is not None:
        return Path(results_dir)
    return Path(os.environ.get(RESULTS_ENVIRONMENT_VARIABLE, "results"))


def result_path(store: Path, config: Config, key: str) -> Path:
    """Where the JSON of a run's result lives in a store."""
    return store / f"{config.name}-{key}.json"


_RECORDS = ("batch_loss", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


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
