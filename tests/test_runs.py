"""What the runs are: the report's configurations, and their selection by name."""

import pytest

from backprop.runs import EXPERIMENTS, iter_experiments


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


def test_experiments_are_selected_by_name_in_the_reports_order():
    with pytest.raises(ValueError, match=r"unknown experiment 'task9'"):
        list(iter_experiments(["task2", "task9"]))
    assert [e.name for e in iter_experiments(["task4e", "task2"])] == ["task2", "task4e"]
    assert len(list(iter_experiments(["all"]))) == len(EXPERIMENTS)
