import numpy as np
import pytest
from conftest import ten_class_dataset
from hypothesis import given
from hypothesis import strategies as st

from backprop import plotting, reports
from backprop.experiments import run_experiment


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_experiment("task4d", ten_class_dataset(), tmp_path_factory.mktemp("results"),
                          seeds=2, epochs=3)


@given(st.lists(st.floats(-100, 100), max_size=60), st.integers(1, 12))
def test_smooth_takes_mean_and_spread_of_complete_windows(values, window):
    values = np.array(values)
    steps = np.arange(len(values))
    centres, means, spreads = plotting.smooth(steps, values, window)
    count = len(values) // window
    assert len(centres) == len(means) == len(spreads) == count
    for index in range(count):
        chunk = values[index * window:(index + 1) * window]
        assert means[index] == pytest.approx(chunk.mean(), abs=1e-9)
        assert spreads[index] == pytest.approx(chunk.std(), abs=1e-9)
        assert centres[index] == pytest.approx(index * window + (window - 1) / 2)


def test_training_figure(results):
    figure = plotting.plot_training(results, "Task 4d")
    loss, accuracy = figure.axes
    assert loss.get_xlabel()
    assert loss.get_ylabel() == "cross-entropy loss"
    assert accuracy.get_ylabel() == "accuracy"
    [legend] = figure.legends
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels[: len(results)] == [r.config.label for r in results]
    assert labels[len(results):] == ["solid: batches (loss), training (accuracy)",
                                     "dashed: validation", "ticks: the validation checks"]
    assert loss.get_legend() is None
    [ticks] = [line for line in accuracy.get_lines() if line.get_marker() == "|"]
    np.testing.assert_array_equal(ticks.get_xdata(), results[0].results[0].check_steps)
    colours = {line.get_color() for line in loss.get_lines()}
    assert colours == set(plotting.OKABE_ITO[: len(results)])


def test_the_speed_figure_shows_each_check_of_the_first_epochs(results):
    figure = plotting.plot_speed(results, 0.9, epochs=1)
    (axes,) = figure.axes
    *curves, threshold = axes.get_lines()
    assert len(curves) == len(results)
    steps = results[0].results[0].check_steps
    np.testing.assert_array_equal(
        curves[0].get_xdata(), steps[steps <= results[0].results[0].history.steps_per_epoch])
    assert list(threshold.get_ydata()) == [0.9, 0.9]


def test_a_figure_may_name_a_configuration_as_its_reader_knows_it(results):
    renamed = {results[0].config.name: "the baseline"}
    figure = plotting.plot_training(results, labels=renamed)
    assert figure.legends[0].get_texts()[0].get_text() == "the baseline"


def test_curves_are_means_over_seeds_with_their_range(results):
    group = results[0]
    steps, means, lows, highs = plotting.across_seeds(group, "val_loss")
    values = [result.history.series("val_loss")[1] for result in group.results]
    np.testing.assert_array_equal(steps, group.results[0].history.series("val_loss")[0])
    np.testing.assert_allclose(means, np.mean(values, axis=0), rtol=1e-15)
    np.testing.assert_array_equal(lows, np.min(values, axis=0))
    np.testing.assert_array_equal(highs, np.max(values, axis=0))


def test_gradient_figure(results):
    figure = plotting.plot_gradient_norms(results[1:])
    assert len(figure.axes) == 2
    for axes, group in zip(figure.axes, results[1:], strict=True):
        assert axes.get_yscale() == "log"
        assert axes.get_ylabel() == plotting.GRADIENT_LABEL
        assert len(axes.get_lines()) == len(group.config.neurons_per_layer)
        first = [reports.gradient_rms(result)[:, 0] for result in group.results]
        np.testing.assert_array_equal(axes.get_lines()[0].get_xdata(),
                                      group.results[0].course_steps)
        np.testing.assert_allclose(axes.get_lines()[0].get_ydata(),
                                   np.exp(np.log(first).mean(axis=0)), rtol=1e-12)


def test_the_gradient_figure_measures_per_entry_and_names_the_output_layer(results):
    assert plotting.GRADIENT_LABEL.startswith("RMS per entry of ∂C/∂W")
    [legend] = plotting.plot_gradient_norms(results[1:]).legends
    # Two hidden layers and the output layer: the third matrix is the output layer's.
    assert [text.get_text() for text in legend.get_texts()] == ["layer 1", "layer 2",
                                                               "output (3)"]
    assert plotting.layer_name(10, 11) == "output (11)"
    assert plotting.layer_name(9, 11) == "layer 10"


def test_the_layer_figure_draws_each_network_s_geometric_mean_over_seeds():
    norms = {"vanishing": [[1e-6, 1e-3, 1.0], [4e-6, 2e-3, 1.0]], "steady": [[1, 1, 1]]}
    figure = plotting.plot_layer_norms(norms, "norm")
    (axes,) = figure.axes
    assert axes.get_yscale() == "log"
    vanishing, steady = axes.get_lines()
    np.testing.assert_array_equal(vanishing.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(vanishing.get_ydata(), [2e-6, np.sqrt(2) * 1e-3, 1.0])
    np.testing.assert_array_equal(steady.get_ydata(), [1, 1, 1])
    assert [tick.get_text() for tick in axes.get_xticklabels()] == ["1", "2", "output\n(3)"]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == list(norms)


def test_the_gradient_slider_shows_each_check_s_rms_per_layer(results):
    deepest = max(len(group.config.neurons_per_layer) for group in results)
    results = [group for group in results if len(group.config.neurons_per_layer) == deepest]
    slider = plotting.gradient_slider(results)
    checks = min(len(r.course_steps) for group in results for r in group.results)
    assert len(slider) == checks
    rms = [np.exp(np.log([reports.gradient_rms(r) for r in group.results]).mean(axis=0))
           for group in results]
    for check, state in enumerate(slider.states):
        for values in rms:
            assert ", ".join(f"{value:.3g}" for value in values[check]) in state.html
    # A larger gradient stands taller: a smaller y on the same axis.
    first, last = rms[0][0, 0], rms[0][0, -1]
    output = rms[0].shape[1] - 1
    y = {layer: float(slider.states[0].settings[f"bar-0-{layer}", "y"])
         for layer in (0, output)}
    assert (y[0] < y[output]) == (first > last)


def test_the_gradient_slider_needs_runs_of_one_depth(results):
    with pytest.raises(ValueError, match="at least one group of runs"):
        plotting.gradient_slider([])
    with pytest.raises(ValueError, match="runs of the same depth, got \\[2, 3\\]"):
        plotting.gradient_slider(results)


def test_save_writes_png_and_svg(results, tmp_path):
    paths = plotting.save(plotting.plot_training(results), tmp_path / "figures" / "loss")
    assert [p.name for p in paths] == ["loss.png", "loss.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths[1].read_bytes()[:500]
