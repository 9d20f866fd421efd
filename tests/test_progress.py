"""Progress displays: shown in Jupyter, on a terminal when asked, never in the book's build."""

import pytest

from backprop import MLP, experiments, progress
from backprop.training import Trainer

KERNEL_SWEEP = """
import numpy as np
from backprop import experiments
from backprop.preprocessing import make_dataset

rng = np.random.default_rng(0)
X = np.hstack([rng.standard_normal((96, 8)), np.ones((96, 1))])
labels = rng.integers(0, 10, 96)
data = make_dataset(X[:64], labels[:64], X[64:], labels[64:])
groups = experiments.run_experiment("task2", data, {results!r}, seeds=2, epochs=1, jobs=1)
"""


def shown_texts(notebook):
    """What the notebook's progress displays last showed: widget text or printed text."""
    texts = [output.get("text", "") for cell in notebook.cells for output in cell.outputs]
    state = notebook.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    texts += [model["state"].get("value", "") for model in state.values()
              if model["model_name"] == "HTMLModel"]
    # A widget pads its figures with figure spaces.
    return [text.replace("\u2007", " ") for text in texts]


def test_a_sweep_in_a_jupyter_kernel_shows_its_runs_reach_the_total(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="needs the docs extra")
    nbclient = pytest.importorskip("nbclient", reason="needs the docs extra")
    monkeypatch.delenv(progress.ENVIRONMENT_VARIABLE, raising=False)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(KERNEL_SWEEP.format(results=str(tmp_path / "results"))),
    ])
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    assert any("2/2" in text and "2 trained" in text for text in shown_texts(notebook)), (
        shown_texts(notebook))


def test_nothing_is_shown_off_a_terminal_or_where_the_book_turns_it_off(monkeypatch):
    assert progress.wanted(None) is False
    monkeypatch.setenv(progress.ENVIRONMENT_VARIABLE, "0")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert progress.wanted(None) is False
    assert progress.wanted(True) is True


def test_a_progress_that_is_not_a_boolean_is_refused(data):
    with pytest.raises(ValueError, match="progress must be True or False, got 'yes'"):
        experiments.run_experiment("task2", data, seeds=1, epochs=1, progress="yes")


def test_a_sweep_names_the_runs_its_workers_are_training(data):
    configs = experiments.experiment_configs("task3", epochs=1)
    with progress.RunsProgress(len(configs), enabled=True) as display:
        display.start(configs, workers=2)
        assert display.display.postfix == (f"0 trained, 0 stored; training {configs[0].stem}, "
                                           f"{configs[1].stem}")


def test_fit_shows_its_steps_on_the_display_it_is_handed(data, capsys):
    trainer = Trainer(MLP([4, 10], input_size=17), batch_size=32)
    steps = 2 * (len(data.X_train) // 32)
    with progress.StepsProgress(steps, enabled=True) as display:
        history = trainer.fit(data.X_train, data.y_train, data.X_val, data.y_val, epochs=2,
                              display=display)
        assert display.display.n == history.steps
        assert display.display.postfix == (f"loss={history.batch_loss[history.steps - 1]:.3f}, "
                                           f"val_acc={history.val_accuracy[history.steps]:.2%}")
    assert "steps:   0%|" in capsys.readouterr().err
    trainer.fit(data.X_train, data.y_train, data.X_val, data.y_val, epochs=2)
    assert capsys.readouterr().err == ""
