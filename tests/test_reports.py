"""Reports: the summary table and the measures the book and the command line share."""

import numpy as np
import pytest

from backprop import reports
from backprop.experiments import run_experiment
from backprop.network import count_parameters


def test_summary_table(data, tmp_path):
    groups = run_experiment("task4d", data, tmp_path, epochs=1)
    table = reports.summary_table(groups)
    lines = table.splitlines()
    assert len(lines) == 2 + len(groups)
    assert lines[0].count("|") == len(reports.SUMMARY_COLUMNS) + 1
    assert "| task4d-59 | two hidden layers of 59 |" in table
    parameters = count_parameters((59, 59, 10), 17)
    assert f"| {parameters:,} |" in table


def test_across_seeds_a_cell_is_mean_spread_and_range(data, tmp_path):
    (group,) = run_experiment("task2", data, tmp_path, seeds=3, epochs=1)
    table = reports.summary_table([group], columns=["run", "val_loss", "stop_reason"])
    values = group.values("val_loss")
    assert table.splitlines()[0] == "| run | seeds | validation loss | because |"
    assert table.splitlines()[2] == (
        f"| task2 | 3 | {values.mean():.4f} ± {values.std(ddof=1):.4f} "
        f"({values.min():.4f} to {values.max():.4f}) | epochs: 3 |")
    narrow = reports.summary_table([group], columns=["val_loss"], ranges=False)
    assert narrow.splitlines()[2] == f"| 3 | {values.mean():.4f} ± {values.std(ddof=1):.4f} |"


def test_an_unknown_column_is_named(data, tmp_path):
    groups = run_experiment("task2", data, tmp_path, epochs=1)
    with pytest.raises(ValueError, match=r"unknown column 'accuracy'; choose from run, label"):
        reports.summary_table(groups, columns=["run", "accuracy"])
    with pytest.raises(ValueError, match=r"columns must be a list of column names, got 'run'"):
        reports.summary_table(groups, columns="run")


def test_analysis_helpers(data, tmp_path):
    ((result,),) = (group.results for group in run_experiment("task2", data, tmp_path,
                                                              epochs=3))
    accuracies = result.history.val_accuracy
    best = max(accuracies.values())
    step = reports.steps_to_accuracy(result, best)
    assert accuracies[step] == best
    assert all(value < best for s, value in accuracies.items() if s < step)
    assert reports.steps_to_accuracy(result, 1.01) is None
    rms = reports.gradient_rms(result)[0]
    assert reports.gradient_ratio(result, 0) == rms[0] / rms[-1]


def test_the_rms_per_entry_is_each_norm_over_the_root_of_its_matrix_s_entries(data, tmp_path):
    groups = run_experiment("task4d", data, tmp_path, epochs=1)
    (result,) = next(g for g in groups if g.config.name == "task4d-59").results
    # The inputs (the bias included), two hidden layers of 59 and the output layer.
    inputs = data.X_train.shape[1]
    entries = [inputs * 59, 59 * 59, 59 * 10]
    np.testing.assert_array_equal(reports.weight_entries(result), entries)
    np.testing.assert_array_equal(reports.gradient_rms(result),
                                  result.gradient_norms / np.sqrt(entries))


def test_equal_gradients_per_entry_give_layers_of_any_size_the_same_rms(data, tmp_path):
    groups = run_experiment("task4d", data, tmp_path, epochs=1)
    (result,) = next(g for g in groups if g.config.name == "task4d-59").results
    inputs = data.X_train.shape[1]
    gradients = [np.full((fan_in, fan_out), -0.02) for fan_in, fan_out
                 in [(inputs, 59), (59, 59), (59, 10)]]
    result.gradient_norms[:] = [np.linalg.norm(gradient) for gradient in gradients]
    assert len(set(result.gradient_norms[0])) == 3
    np.testing.assert_allclose(reports.gradient_rms(result), 0.02, rtol=1e-12)
    assert reports.gradient_ratio(result, 0) == pytest.approx(1, rel=1e-12)


def test_a_table_may_name_a_configuration_as_its_reader_knows_it(data, tmp_path):
    groups = run_experiment("task2", data, tmp_path, epochs=1)
    renamed = {groups[0].config.name: "the baseline"}
    table = reports.summary_table(groups, ["label"], labels=renamed)
    assert table.splitlines()[2].startswith("| the baseline |")


def test_a_spread_smaller_than_the_format_shows_is_not_zero():
    assert reports.summary_format("{:.4f}", 0.00003).format(0.00003) == "0.00003"
    assert reports.summary_format("{:.4f}", 0.003) == "{:.4f}"


def test_a_table_by_figure_has_a_row_per_figure_and_a_column_per_run(data, tmp_path):
    groups = run_experiment("task4d", data, tmp_path, epochs=1)
    table = reports.summary_table(groups, ["label", "val_loss", "epochs"], by_figure=True)
    lines = table.splitlines()
    assert lines[0] == "| figure | " + " | ".join(g.config.label for g in groups) + " |"
    assert [line.split(" |")[0] for line in lines[2:]] == ["| validation loss", "| epochs"]
