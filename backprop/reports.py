"""Reports of runs: the summary table and the measures the command line and the book share."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from backprop.checks import check_layer_sizes, show
from backprop.runs import Experiment, RunResult, SeededRuns

SUMMARY_COLUMNS = {
    "run": ("run", "{}"),
    "label": ("what changes", "{}"),
    "parameters": ("parameters", "{:,}"),
    "train_loss": ("training loss", "{:.4f}"),
    "val_loss": ("validation loss", "{:.4f}"),
    "train_accuracy": ("training accuracy", "{:.2%}"),
    "val_accuracy": ("validation accuracy", "{:.2%}"),
    "best_val_loss": ("best validation loss", "{:.4f}"),
    "best_val_accuracy": ("validation accuracy at the best loss", "{:.2%}"),
    "best_step": ("at step", "{:,.0f}"),
    "stopped_at": ("stopped at step", "{:,.0f}"),
    "epochs": ("epochs", "{:.1f}"),
    "stop_reason": ("because", "{}"),
    "wall_time": ("wall time (s)", "{:.1f}"),
}
"""Every column a summary table can show: its key in :meth:`RunResult.summary`, its title
and its format. The training figures are of the first 5,000 training images
(:data:`backprop.training.TRAIN_CHECK_SIZE`), the validation figures of the whole set."""

_FIXED = ("run", "label", "parameters")


def summary_table(
    groups: Sequence[SeededRuns], columns: Sequence[str] | None = None, ranges: bool = True,
    labels: Mapping[str, str] | None = None, by_figure: bool = False,
) -> str:
    """A Markdown table of the runs' final figures, one row per configuration.

    Across S > 1 seeds a figure reads "mean ± standard deviation (min to max)"; a reason to
    stop reads as counts ("early_stopping: 4, epochs: 1").

    Parameters
    ----------
    groups : sequence of SeededRuns
    columns : sequence of str, optional
        Keys of :data:`SUMMARY_COLUMNS`, in order; all of them by default.
    ranges : bool
        Show each figure's range across seeds; without, only "mean ± standard deviation",
        for a table narrow enough for a page.
    labels : mapping, optional
        The "what changes" of a configuration (by its ``name``) as this table's reader knows
        it, where its own label speaks of another comparison.
    by_figure : bool
        One row per figure and one column per configuration: the layout that fits a page
        when there are more figures than configurations.

    Raises
    ------
    ValueError
        Naming an unknown column.
    """
    if columns is None:
        columns = list(SUMMARY_COLUMNS)
    if not (isinstance(columns, list | tuple) and all(isinstance(key, str) for key in columns)):
        raise ValueError(f"columns must be a list of column names, got {show(columns)}")
    for key in columns:
        if key not in SUMMARY_COLUMNS:
            raise ValueError(f"unknown column {key!r}; choose from {', '.join(SUMMARY_COLUMNS)}")
    if by_figure:
        return _by_figure(groups, columns, ranges, labels or {})
    titles = [SUMMARY_COLUMNS[key][0] for key in columns]
    if any(group.seeds > 1 for group in groups):
        # After the columns that name the run, before its figures.
        titles.insert(sum(key in ("run", "label") for key in columns), "seeds")
    rows = ["| " + " | ".join(titles) + " |", "|" + "|".join(" --- " for _ in titles) + "|"]
    for group in groups:
        cells = [(labels or {}).get(group.config.name, _cell(group, key, ranges))
                 if key == "label" else _cell(group, key, ranges) for key in columns]
        if len(titles) > len(columns):
            cells.insert(titles.index("seeds"), str(group.seeds))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def summary_lines(group: SeededRuns, title: str = "", width: int = 80) -> str:
    """One configuration's figures as a terminal shows them: a line each, titles aligned.

    The figures of :func:`summary_table` (over seeds, "mean ± standard deviation"), after
    ``title`` (by default the configuration's label); a line too long for ``width`` columns
    is cut with an ellipsis.
    """
    keys = [key for key in SUMMARY_COLUMNS if key not in ("run", "label")]
    column = max(len(SUMMARY_COLUMNS[key][0]) for key in keys)
    lines = [line[:width] for line in (title or group.config.label).splitlines()]
    if group.seeds > 1:
        lines.append(f"  {'seeds':<{column}}  {group.seeds}")
    for key in keys:
        line = f"  {SUMMARY_COLUMNS[key][0]:<{column}}  {_cell(group, key, ranges=False)}"
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    return "\n".join(lines) + "\n"


def _by_figure(groups: Sequence[SeededRuns], columns: Sequence[str], ranges: bool,
               labels: Mapping[str, str]) -> str:
    names = [labels.get(group.config.name, group.config.label) for group in groups]
    rows = ["| figure | " + " | ".join(names) + " |", "|" + " --- |" * (len(groups) + 1)]
    if any(group.seeds > 1 for group in groups):
        rows.append("| seeds | " + " | ".join(str(group.seeds) for group in groups) + " |")
    for key in columns:
        if key in ("label", "run"):
            continue
        cells = [_cell(group, key, ranges) for group in groups]
        rows.append(f"| {SUMMARY_COLUMNS[key][0]} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _cell(group: SeededRuns, key: str, ranges: bool) -> str:
    form = SUMMARY_COLUMNS[key][1]
    summaries = [result.summary() for result in group.results]
    if key in _FIXED or group.seeds == 1:
        return form.format(summaries[0][key])
    if key == "stop_reason":
        reasons = [summary[key] for summary in summaries]
        return ", ".join(f"{reason}: {reasons.count(reason)}" for reason in sorted(set(reasons)))
    values = np.array([summary[key] for summary in summaries], dtype=float)
    form = summary_format(form, float(values.std(ddof=1)))
    cell = f"{form.format(values.mean())} ± {form.format(values.std(ddof=1))}"
    if ranges:
        cell += f" ({form.format(values.min())} to {form.format(values.max())})"
    return cell


def summary_format(form: str, spread: float) -> str:
    """A fixed-point format with the decimals to show ``spread`` to one significant figure.

    "0.0008 ± 0.00003", never "0.0008 ± 0.0000".
    """
    found = re.fullmatch(r"\{:\.(\d)f\}", form)
    if found is None or not 0 < spread < 10 ** -int(found[1]):
        return form
    return f"{{:.{min(8, -math.floor(math.log10(spread)))}f}}"


def steps_to_accuracy(result: RunResult, threshold: float) -> int | None:
    """The first check at which the validation accuracy reached ``threshold`` (or ``None``)."""
    for step, accuracy in result.history.val_accuracy.items():
        if accuracy >= threshold:
            return step
    return None


def weight_entries(result: RunResult) -> NDArray[np.int64]:
    r"""The entries of each of the run's weight matrices, the first layer's first.

    Layer :math:`l` has :math:`\mathrm{fan\_in} \cdot \mathrm{fan\_out}` of them, from the
    run's own inputs (``meta["input_size"]``, the bias input included) and its
    configuration's layers: :math:`785 \cdot 64 = 50\,240` for a first layer of 64 units on
    MNIST.
    """
    sizes = check_layer_sizes(result.config.neurons_per_layer, result.meta["input_size"])
    return np.array([fan_in * fan_out for fan_in, fan_out in pairwise(sizes)])


def gradient_rms(result: RunResult) -> NDArray[np.float64]:
    r"""The root mean square per entry of each layer's weight gradient, at each course check.

    .. math::

        \operatorname{RMS}\big(\partial C / \partial W^{(l)}\big)
        = \frac{\lVert \partial C / \partial W^{(l)} \rVert_F}
               {\sqrt{\mathrm{fan\_in}^{(l)} \, \mathrm{fan\_out}^{(l)}}},

    from the Frobenius norms the run stored (:attr:`RunResult.gradient_norms`) and the
    sizes of its matrices (:func:`weight_entries`). Unlike the norm, it does not grow with a
    layer's size: equal gradients per entry give every layer the same value, where their
    norms would favour a first layer of 785 by 64 over an output layer of 64 by 10 by
    :math:`\sqrt{785 \cdot 64 / (64 \cdot 10)} \approx 8.9`. The measure of layer against
    layer in the figures (:func:`backprop.plotting.plot_gradient_norms`), the claims
    (:func:`backprop.claims.log_gradient_ratio`) and the book.

    Returns
    -------
    array, shape (course checks, layers)
        Like :attr:`RunResult.gradient_norms`.
    """
    return result.gradient_norms / np.sqrt(weight_entries(result))


def gradient_ratio(result: RunResult, check: int) -> float:
    """The first layer's RMS gradient per entry over the output layer's, at that check.

    ``check`` indexes the course's checks (0: at initialisation); see :func:`gradient_rms`.
    """
    rms = gradient_rms(result)[check]
    return float(rms[0] / rms[-1])


def training_time(groups: Sequence[SeededRuns]) -> tuple[int, float]:
    """How many runs the groups hold, and the seconds their training took, summed.

    A configuration that appears in several groups counts once. The seconds are each run's
    own wall time on one core, as measured when it was trained, however it was served since.
    """
    unique = {group.config: group for group in groups}.values()
    results = [result for group in unique for result in group.results]
    return len(results), float(sum(result.wall_time for result in results))


def experiment_section(
    experiment: Experiment, groups: Sequence[SeededRuns], figures: Sequence[Path]
) -> str:
    """An experiment's part of ``summary.md``: its title, its table and its PNG figures."""
    images = "".join(f"![{experiment.title}](figures/{path.name})\n"
                     for path in figures if path.suffix == ".png")
    return f"## {experiment.title}\n\n{summary_table(groups)}\n{images}"


def summary_document(sections: Sequence[str]) -> str:
    """The whole ``summary.md``, from :func:`experiment_section`'s sections."""
    return "# backprop: the report's experiments\n\n" + "\n".join(sections)
