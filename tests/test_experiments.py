"""Running the report's experiments: every one runs, over seeds, bit-identical anywhere."""

import numpy as np
import pytest

from backprop import runs
from backprop.experiments import (
    EPOCHS_ENVIRONMENT_VARIABLE,
    run,
    run_experiment,
    run_experiments,
)
from backprop.runs import EXPERIMENTS


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_runs_shortened_with_complete_records(name, data, tmp_path):
    groups = run_experiment(name, data, tmp_path, epochs=1)
    assert [g.config.name for g in groups] == [c.name for c in EXPERIMENTS[name].all_runs]
    for group in groups:
        (result,) = group.results
        history, config = result.history, result.config
        assert config.epochs == 1
        assert history.steps_per_epoch == 10
        assert list(history.batch_loss) == list(range(history.steps))
        checks, course = list(history.val_loss), list(history.train_loss)
        assert checks == list(history.val_accuracy) == result.check_steps.tolist()
        assert course == list(history.train_accuracy) == result.course_steps.tolist()
        assert set(course) <= set(checks)
        assert course[-1] == checks[-1]
        assert result.gradient_norms.shape == (len(course), len(config.neurons_per_layer))
        assert np.all(result.gradient_norms > 0)
        summary = result.summary()
        assert summary["stopped_at"] == checks[-1] == history.steps
        assert summary["val_accuracy"] == history.val_accuracy[checks[-1]]
        assert summary["stop_reason"] == "epochs"
        assert summary["wall_time"] > 0
        assert (tmp_path / f"{config.name}-seed0-{result.key}.json").exists()
        assert (tmp_path / f"{config.name}-seed0-{result.key}.npz").exists()


def test_force_retrains_bit_identically(data, tmp_path):
    config = runs.TASK3_MOMENTUM.replace(epochs=2)
    first = run(config, data, tmp_path)
    second = run(config, data, tmp_path, force=True)
    assert second.history == first.history
    np.testing.assert_array_equal(second.gradient_norms, first.gradient_norms)


def test_each_seed_is_its_own_run_stored_on_its_own(data, tmp_path):
    (group,) = run_experiment("task2", data, tmp_path, seeds=3, epochs=1)
    assert [result.config.seed for result in group.results] == [0, 1, 2]
    assert len({result.key for result in group.results}) == 3
    assert len({result.history.val_loss[result.final_step] for result in group.results}) == 3
    assert sorted(path.name.split("-")[1] for path in tmp_path.glob("*.json")) == [
        "seed0", "seed1", "seed2"]


def test_the_extra_runs_are_trained_in_the_sweep_and_stored_not_returned(data, tmp_path):
    computed = []
    found = run_experiments(["task2"], data, tmp_path, seeds=2, epochs=1,
                            extra=[*runs.BOOK_EXTRA_RUNS, *runs.BOOK_EXTRA_RUNS, runs.TASK2],
                            on_result=lambda result, trained: computed.append(result.config))
    assert [result.config.seed for result in found["task2"][0].results] == [0, 1]
    # Shortened as the experiments' runs are; each run trained once, however often given.
    assert sorted(config.dtype for config in computed) == ["float32", "float32", "float64"]
    (extra,) = (config for config in computed if config.dtype == "float64")
    assert extra == runs.BOOK_EXTRA_RUNS[0].replace(epochs=1)
    served = []
    run_experiments([], data, tmp_path, epochs=1, extra=runs.BOOK_EXTRA_RUNS,
                    on_result=lambda result, trained: served.append(trained))
    assert served == [False]


def arrays(store):
    """Every stored array, by file and name: what the store holds, to the bit."""
    found = {}
    for path in sorted(store.glob("*.npz")):
        with np.load(path) as loaded:
            found.update({(path.name, name): loaded[name] for name in loaded.files})
    return found


def test_worker_processes_store_the_same_bits_as_one_process(data, tmp_path):
    run_experiment("task4d", data, tmp_path / "one", seeds=2, epochs=1, jobs=1)
    run_experiment("task4d", data, tmp_path / "two", seeds=2, epochs=1, jobs=2)
    one, two = arrays(tmp_path / "one"), arrays(tmp_path / "two")
    assert one.keys() == two.keys()
    assert len(one) == 3 * 2 * 11
    for name, array in one.items():
        assert array.tobytes() == two[name].tobytes(), name


def test_seeds_are_a_whole_number_up_to_the_limit(data, tmp_path):
    with pytest.raises(ValueError, match=r"seeds must be an integer from 1 to 1000, got 1001"):
        run_experiment("task2", data, tmp_path, seeds=1001)


def test_unknown_experiment(data, tmp_path):
    with pytest.raises(ValueError, match=r"unknown experiment 'task9'; choose one of 'task2'"):
        run_experiment("task9", data, tmp_path)


def test_epochs_from_the_environment(data, tmp_path, monkeypatch):
    monkeypatch.setenv(EPOCHS_ENVIRONMENT_VARIABLE, "2")
    (group,) = run_experiment("task2", data, tmp_path)
    assert group.results[0].config.epochs == 2
    (group,) = run_experiment("task2", data, tmp_path, epochs=1)
    assert group.results[0].config.epochs == 1


