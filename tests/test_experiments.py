import os

import numpy as np
import pytest
from conftest import make_inputs

from backprop import experiments
from backprop.experiments import EXPERIMENTS, Trainer, make_dataset, run, run_experiment


def small_dataset(seed=0, train=320, val=100, features=16):
    """Ten classes of Gaussian blobs: learnable, and small enough for a shortened run."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(10, features + 1))
    y_train, y_val = rng.integers(0, 10, train), rng.integers(0, 10, val)
    X_train = make_inputs(rng, train, features + 1) + centres[y_train]
    X_val = make_inputs(rng, val, features + 1) + centres[y_val]
    X_train[:, -1] = X_val[:, -1] = 1
    return make_dataset(X_train, y_train, X_val, y_val)


@pytest.fixture
def data():
    return small_dataset()


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_runs_shortened_with_complete_records(name, data, tmp_path):
    results = run_experiment(name, data, tmp_path, epochs=1)
    assert [r.config.name for r in results] == [c.name for c in EXPERIMENTS[name].all_runs]
    for result in results:
        history, config = result.history, result.config
        assert config.epochs == 1
        assert history.steps_per_epoch == 10
        assert list(history.train_loss) == list(range(history.steps))
        checks = list(history.val_loss)
        assert checks == list(history.val_accuracy) == list(history.train_accuracy)
        assert checks == list(history.train_set_loss) == result.check_steps.tolist()
        assert result.gradient_norms.shape == (len(checks), len(config.neurons_per_layer))
        assert np.all(result.gradient_norms > 0)
        summary = result.summary()
        assert summary["stopped_at"] == checks[-1] == history.steps
        assert summary["val_accuracy"] == history.val_accuracy[checks[-1]]
        assert summary["stop_reason"] == "epochs"
        assert summary["wall_time"] > 0
        assert (tmp_path / f"{config.name}-{result.key}.json").exists()
        assert (tmp_path / f"{config.name}-{result.key}.npz").exists()


def test_the_runs_are_the_reports():
    task3 = EXPERIMENTS["task3"].runs
    assert [(c.init, c.activation, c.momentum, c.learning_rate) for c in task3] == [
        ("fan_in", "sigmoid", 0.0, 0.1),
        ("fan_in", "improved_sigmoid", 0.0, 0.1),
        ("fan_in", "improved_sigmoid", 0.9, 0.02),
    ]
    assert EXPERIMENTS["task4a"].runs[0].neurons_per_layer == (32, 10)
    assert EXPERIMENTS["task4b"].runs[0].neurons_per_layer == (128, 10)
    assert [c.neurons_per_layer for c in EXPERIMENTS["task4d"].runs] == [(59, 59, 10),
                                                                       (60, 60, 10)]
    with_tricks, without = EXPERIMENTS["task4e"].runs
    assert with_tricks.neurons_per_layer == without.neurons_per_layer == (64,) * 10 + (10,)
    assert (without.activation, without.init, without.momentum) == ("sigmoid", "uniform", 0)
    assert all(c.batch_size == 32 and c.epochs == 50 and c.early_stopping == 50
               and c.train_size == 20_000 for e in EXPERIMENTS.values() for c in e.all_runs)


def test_a_rerun_is_served_from_the_store(data, tmp_path, monkeypatch):
    config = experiments.TASK2.replace(epochs=2)
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
        lambda config, data: (config, small_dataset(seed=1)),
    ],
    ids=["option", "epochs", "data"],
)
def test_a_change_is_never_served_a_stale_result(data, tmp_path, change):
    config = experiments.TASK2.replace(epochs=2)
    first = run(config, data, tmp_path)
    changed_config, changed_data = change(config, data)
    assert run(changed_config, changed_data, tmp_path).key != first.key
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_a_change_to_the_code_recomputes(data, tmp_path, monkeypatch):
    first = run(experiments.TASK2.replace(epochs=1), data, tmp_path)
    monkeypatch.setattr(experiments, "source_digest", lambda: "edited")
    assert run(experiments.TASK2.replace(epochs=1), data, tmp_path).key != first.key


def test_force_retrains_bit_identically(data, tmp_path):
    config = experiments.TASK3_MOMENTUM.replace(epochs=2)
    first = run(config, data, tmp_path)
    second = run(config, data, tmp_path, force=True)
    assert second.history == first.history
    np.testing.assert_array_equal(second.gradient_norms, first.gradient_norms)


def test_an_interrupted_run_leaves_nothing(data, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "fit", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(experiments.TASK2.replace(epochs=1), data, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_leaves_nothing(data, tmp_path, monkeypatch):
    replace = os.replace

    def interrupted_rename(source, target):
        if str(target).endswith(".json"):
            raise KeyboardInterrupt
        replace(source, target)

    monkeypatch.setattr(experiments.os, "replace", interrupted_rename)
    with pytest.raises(KeyboardInterrupt):
        run(experiments.TASK2.replace(epochs=1), data, tmp_path)
    # The arrays were written, but without the JSON no result exists, nor any temporary file.
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]
    monkeypatch.undo()
    result = run(experiments.TASK2.replace(epochs=1), data, tmp_path)
    assert result.history.steps == 10


def test_summary_table(data, tmp_path):
    results = run_experiment("task4d", data, tmp_path, epochs=1)
    table = experiments.summary_table(results)
    lines = table.splitlines()
    assert len(lines) == 2 + len(results)
    assert "| task4d-59 | two hidden layers of 59 |" in table
    parameters = experiments.count_parameters((59, 59, 10), 17)
    assert f"| {parameters:,} |" in table


def test_unknown_experiment(data, tmp_path):
    with pytest.raises(ValueError, match=r"unknown experiment 'task9'; choose from task2"):
        run_experiment("task9", data, tmp_path)
    with pytest.raises(ValueError, match=r"unknown experiment 'task9'"):
        list(experiments.iter_experiments(["task2", "task9"]))
    assert [e.name for e in experiments.iter_experiments(["task4e", "task2"])] == ["task2",
                                                                                  "task4e"]
    assert len(list(experiments.iter_experiments(["all"]))) == len(EXPERIMENTS)


def test_results_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(experiments.RESULTS_ENVIRONMENT_VARIABLE, raising=False)
    assert str(experiments.results_directory()) == "results"
    monkeypatch.setenv(experiments.RESULTS_ENVIRONMENT_VARIABLE, str(tmp_path))
    assert experiments.results_directory() == tmp_path
    assert experiments.results_directory(tmp_path / "x") == tmp_path / "x"


@pytest.mark.skipif(not os.environ.get("BACKPROP_DATA_DIR"),
                    reason="set BACKPROP_DATA_DIR to a directory with the MNIST files")
def test_assignment_data_is_the_assignment_split():
    data = experiments.assignment_data()
    assert data.X_train.shape == (20_000, 785)
    assert data.X_val.shape == (10_000, 785)
    np.testing.assert_array_equal(data.X_train[:, -1], 1)
    assert abs(data.X_train[:, :-1].mean()) < 1e-9
    assert data.y_train[0] == 5


def test_epochs_from_the_environment(data, tmp_path, monkeypatch):
    monkeypatch.setenv(experiments.EPOCHS_ENVIRONMENT_VARIABLE, "2")
    (result,) = run_experiment("task2", data, tmp_path)
    assert result.config.epochs == 2
    (result,) = run_experiment("task2", data, tmp_path, epochs=1)
    assert result.config.epochs == 1


def test_analysis_helpers(data, tmp_path):
    (result,) = run_experiment("task2", data, tmp_path, epochs=3)
    accuracies = result.history.val_accuracy
    best = max(accuracies.values())
    step = experiments.steps_to_accuracy(result, best)
    assert accuracies[step] == best
    assert all(value < best for s, value in accuracies.items() if s < step)
    assert experiments.steps_to_accuracy(result, 1.01) is None
    norms = result.gradient_norms[0]
    assert experiments.gradient_ratio(result, 0) == norms[0] / norms[-1]
