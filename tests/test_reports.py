"""Reports: the summary table and the measures the book and the command line share."""

from backprop import reports
from backprop.experiments import run_experiment
from backprop.network import count_parameters


def test_summary_table(data, tmp_path):
    results = run_experiment("task4d", data, tmp_path, epochs=1)
    table = reports.summary_table(results)
    lines = table.splitlines()
    assert len(lines) == 2 + len(results)
    assert "| task4d-59 | two hidden layers of 59 |" in table
    parameters = count_parameters((59, 59, 10), 17)
    assert f"| {parameters:,} |" in table


def test_analysis_helpers(data, tmp_path):
    (result,) = run_experiment("task2", data, tmp_path, epochs=3)
    accuracies = result.history.val_accuracy
    best = max(accuracies.values())
    step = reports.steps_to_accuracy(result, best)
    assert accuracies[step] == best
    assert all(value < best for s, value in accuracies.items() if s < step)
    assert reports.steps_to_accuracy(result, 1.01) is None
    norms = result.gradient_norms[0]
    assert reports.gradient_ratio(result, 0) == norms[0] / norms[-1]
