"""Running the report's experiments: every one runs, reruns are bit-identical."""

import numpy as np
import pytest

from backprop import runs
from backprop.experiments import EPOCHS_ENVIRONMENT_VARIABLE, run, run_experiment
from backprop.runs import EXPERIMENTS


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_runs_shortened_with_complete_records(name, data, tmp_path):
    results = run_experiment(name, data, tmp_path, epochs=1)
    assert [r.config.name for r in results] == [c.name for c in EXPERIMENTS[name].all_runs]
    for result in results:
        history, config = result.history, result.config
        assert config.epochs == 1
        assert history.steps_per_epoch == 10
        assert list(history.batch_loss) == list(range(history.steps))
        checks = list(history.val_loss)
        assert checks == list(history.val_accuracy) == list(history.train_accuracy)
        assert checks == list(history.train_loss) == result.check_steps.tolist()
        assert result.gradient_norms.shape == (len(checks), len(config.neurons_per_layer))
        assert np.all(result.gradient_norms > 0)
        summary = result.summary()
        assert summary["stopped_at"] == checks[-1] == history.steps
        assert summary["val_accuracy"] == history.val_accuracy[checks[-1]]
        assert summary["stop_reason"] == "epochs"
        assert summary["wall_time"] > 0
        assert (tmp_path / f"{config.name}-{result.key}.json").exists()
        assert (tmp_path / f"{config.name}-{result.key}.npz").exists()


def test_force_retrains_bit_identically(data, tmp_path):
    config = runs.TASK3_MOMENTUM.replace(epochs=2)
    first = run(config, data, tmp_path)
    second = run(config, data, tmp_path, force=True)
    assert second.history == first.history
    np.testing.assert_array_equal(second.gradient_norms, first.gradient_norms)




def test_unknown_experiment(data, tmp_path):
    with pytest.raises(ValueError, match=r"unknown experiment 'task9'; choose one of 'task2'"):
        run_experiment("task9", data, tmp_path)


def test_epochs_from_the_environment(data, tmp_path, monkeypatch):
    monkeypatch.setenv(EPOCHS_ENVIRONMENT_VARIABLE, "2")
    (result,) = run_experiment("task2", data, tmp_path)
    assert result.config.epochs == 2
    (result,) = run_experiment("task2", data, tmp_path, epochs=1)
    assert result.config.epochs == 1


