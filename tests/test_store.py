"""The results store: keys that change with what matters, atomic writes, faithful loads."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import backprop
from backprop import experiments, runs, store
from backprop.experiments import Trainer, run


def test_a_rerun_is_served_from_the_store(data, tmp_path, monkeypatch):
    config = runs.TASK2.replace(epochs=2)
    first = run(config, data, tmp_path)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(Trainer, "fit", no_training)
    again = run(config, data, tmp_path)
    assert again.history == first.history
    assert again.wall_time == first.wall_time
    np.testing.assert_array_equal(again.gradient_norms, first.gradient_norms)
    assert again.config == first.config


@pytest.mark.parametrize(
    "change",
    [
        lambda config, data: (config.replace(learning_rate=0.05), data),
        lambda config, data: (config.replace(epochs=1), data),
        lambda config, data: (config, None),
    ],
    ids=["option", "epochs", "data"],
)
def test_a_change_is_never_served_a_stale_result(data, other_data, tmp_path, change):
    config = runs.TASK2.replace(epochs=2)
    first = run(config, data, tmp_path)
    changed_config, changed_data = change(config, data)
    changed_data = other_data if changed_data is None else changed_data
    assert run(changed_config, changed_data, tmp_path).key != first.key
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_a_change_to_the_code_recomputes(data, tmp_path, monkeypatch):
    first = run(runs.TASK2.replace(epochs=1), data, tmp_path)
    monkeypatch.setattr(experiments, "source_digest", lambda: "edited")
    assert run(runs.TASK2.replace(epochs=1), data, tmp_path).key != first.key


def edit_copy(tmp_path, monkeypatch, module, old, new):
    """A copy of the package in which one module's text has ``old`` replaced by ``new``."""
    root = Path(backprop.__file__).parent
    copy = tmp_path / "backprop"
    copy.mkdir()
    for path in root.glob("*.py"):
        (copy / path.name).write_text(path.read_text())
    target = copy / f"{module}.py"
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    monkeypatch.setattr(backprop, "__file__", str(copy / "__init__.py"))


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("training", '"""Mini-batch', '"""Edited: mini-batch'),
        ("network", "    a = [X]", "    # A comment changes nothing.\n    a = [X]"),
        ("plotting", "WINDOW = 10", "WINDOW = 20"),
        ("reports", '"{:.4f}"', '"{:.3f}"'),
    ],
    ids=["docstring", "comment", "plotting", "reports"],
)
def test_edits_that_cannot_change_a_result_keep_the_digest(tmp_path, monkeypatch, module, old,
                                                           new):
    before = store.source_digest()
    edit_copy(tmp_path, monkeypatch, module, old, new)
    assert store.source_digest() == before


def test_an_edit_to_the_mathematics_changes_the_digest(tmp_path, monkeypatch):
    before = store.source_digest()
    edit_copy(tmp_path, monkeypatch, "losses", "delta /= outputs.shape[0]",
              "delta /= 2 * outputs.shape[0]")
    assert store.source_digest() != before


def test_an_interrupted_run_leaves_nothing(data, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "fit", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(runs.TASK2.replace(epochs=1), data, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_leaves_nothing(data, tmp_path, monkeypatch):
    replace = os.replace

    def interrupted_rename(source, target):
        if str(target).endswith(".json"):
            raise KeyboardInterrupt
        replace(source, target)

    monkeypatch.setattr(store.os, "replace", interrupted_rename)
    with pytest.raises(KeyboardInterrupt):
        run(runs.TASK2.replace(epochs=1), data, tmp_path)
    # The arrays were written, but without the JSON no result exists, nor any temporary file.
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]
    monkeypatch.undo()
    result = run(runs.TASK2.replace(epochs=1), data, tmp_path)
    assert result.history.steps == 10


def test_results_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(store.RESULTS_ENVIRONMENT_VARIABLE, raising=False)
    assert str(store.results_directory()) == "results"
    monkeypatch.setenv(store.RESULTS_ENVIRONMENT_VARIABLE, str(tmp_path))
    assert store.results_directory() == tmp_path
    assert store.results_directory(tmp_path / "x") == tmp_path / "x"




def test_a_summary_that_disagrees_with_the_records_is_corrupt(data, tmp_path):
    config = runs.TASK2.replace(epochs=1)
    result = run(config, data, tmp_path)
    path = store.result_path(tmp_path, config, result.key)
    document = json.loads(path.read_text())
    document["summary"]["val_accuracy"] = 5.0
    path.write_text(json.dumps(document))
    with pytest.raises(store.CorruptResultError,
                       match=r"summary disagrees with its records \(val_accuracy is 5.0"):
        store.load_result(path)
