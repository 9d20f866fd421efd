"""Figures of training runs: curves against steps, comparisons, and measures layer by layer.

Every figure has labelled axes, a legend, and colours from the Okabe-Ito palette, which
readers with any common form of colour blindness can tell apart. A configuration trained
from several seeds is drawn as the mean over seeds with a band from the lowest to the
highest seed, up to the step where its first seed stopped. Training loss is noisy from
batch to batch, so each seed's is first averaged over windows of ten steps.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from numpy.typing import ArrayLike, NDArray

from backprop import interactive, walkthrough
from backprop.activations import Activation, get_activation
from backprop.checks import check_matrix, check_targets, real_in_range
from backprop.reports import gradient_rms
from backprop.runs import SeededRuns
from backprop.store import write_atomically

OKABE_ITO = ("#000000", "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
             "#F0E442")
"""Okabe and Ito's colour-blind-safe palette, black first for the baseline."""

WINDOW = 10
"""Steps per window of the smoothed training loss."""

UNIT_COLOURS = (OKABE_ITO[2], OKABE_ITO[1], OKABE_ITO[3])
"""The circles of a network's inputs, hidden units and outputs, in every drawing of one."""


def smooth(
    steps: NDArray, values: NDArray, window: int = WINDOW
) -> tuple[NDArray, NDArray, NDArray]:
    """Mean and standard deviation over consecutive windows of ``window`` steps.

    Returns
    -------
    centres, means, spreads : arrays
        One entry per complete window.
    """
    count = len(values) // window
    if count == 0:
        return steps[:0].astype(float), values[:0], values[:0]
    shaped = np.asarray(values[: count * window], dtype=float).reshape(count, window)
    centres = np.asarray(steps[: count * window], dtype=float).reshape(count, window).mean(1)
    return centres, shaped.mean(axis=1), shaped.std(axis=1)


def across_seeds(
    group: SeededRuns, name: str
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """One record's mean and range over seeds, at the steps every seed recorded.

    ``batch_loss`` is smoothed per seed first (:func:`smooth`).

    Returns
    -------
    steps, means, lows, highs : arrays
    """
    series = [result.history.series(name) for result in group.results]
    if name == "batch_loss":
        series = [smooth(*pair)[:2] for pair in series]
    length = min(len(steps) for steps, _ in series)
    values = np.array([values[:length] for _, values in series])
    return series[0][0][:length], values.mean(axis=0), values.min(axis=0), values.max(axis=0)


def plot_training(
    groups: Sequence[SeededRuns], title: str = "", labels: Mapping[str, str] | None = None
) -> Figure:
    """Loss and accuracy against training steps, one colour per configuration.

    The left panel shows each configuration's batch loss (smoothed over windows of
    :data:`WINDOW` steps, solid) and validation loss (dashed); the right panel its accuracy
    on the first 5,000 training images (solid) and on the validation set (dashed). Lines are
    means over seeds; bands run from the lowest seed to the highest. Ticks along the foot of
    the accuracy panel mark the first configuration's checks, dense over the first epochs
    where its ``dense_checks`` asks. One legend below the panels names the colours, the two
    line styles and the ticks, clear of the curves.

    ``labels`` names a configuration (by its ``name``) as this figure's reader knows it,
    where its own label speaks of another comparison.
    """
    labels = labels or {}
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    handles = []
    for group, colour in zip(groups, _colours(len(groups)), strict=True):
        label = labels.get(group.config.name, group.config.label)
        handles.append(Line2D([], [], color=colour, linewidth=2.5, label=label))
        for axes, name, style in (
            (loss_axes, "batch_loss", "-"),
            (loss_axes, "val_loss", "--"),
            (accuracy_axes, "train_accuracy", "-"),
            (accuracy_axes, "val_accuracy", "--"),
        ):
            _mean_and_band(axes, group, name, colour, linestyle=style, linewidth=1.3)
    seeds = max(group.seeds for group in groups)
    band = f"; bands: lowest to highest of {seeds} seeds" if seeds > 1 else ""
    loss_axes.set(xlabel="training step (batches of 32)", ylabel="cross-entropy loss",
                  title=f"Loss{band}")
    accuracy_axes.set(xlabel="training step (batches of 32)", ylabel="accuracy",
                      title=f"Accuracy{band}")
    top = max(np.percentile(result.history.series("batch_loss")[1], 99)
              for group in groups for result in group.results)
    loss_axes.set_ylim(0, max(top, 0.1))
    accuracy_axes.set_ylim(max(0.0, _lowest_accuracy(groups) - 0.02), 1.0)
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
    # The checks' schedule, as ticks along the foot of the accuracy panel: dense where a run
    # is timed to 90%, five an epoch after.
    checks = groups[0].results[0].check_steps
    accuracy_axes.plot(checks, np.full(len(checks), 0.03), linestyle="none", marker="|",
                       markersize=5, color="0.45", transform=accuracy_axes.get_xaxis_transform())
    handles += [Line2D([], [], color="0.3", linestyle="-",
                       label="solid: batches (loss), training (accuracy)"),
                Line2D([], [], color="0.3", linestyle="--", label="dashed: validation"),
                Line2D([], [], color="0.45", linestyle="none", marker="|",
                       label="ticks: the validation checks")]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)),
                  frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def plot_speed(
    groups: Sequence[SeededRuns], threshold: float, epochs: int = 2, title: str = ""
) -> Figure:
    """Validation accuracy over the first epochs, a dot at every check, against a threshold.

    Where the report's claims of speed are decided: each configuration's mean over seeds
    (band: lowest to highest seed) at each of its checks, the first ``epochs`` epochs only,
    with the threshold whose first crossing counts the steps.
    """
    figure = Figure(figsize=(8, 4.4), layout="constrained")
    axes = figure.subplots()
    for group, colour in zip(groups, _colours(len(groups)), strict=True):
        _mean_and_band(axes, group, "val_accuracy", colour,
                       until=epochs * group.results[0].history.steps_per_epoch,
                       marker=".", markersize=5, linewidth=1.2, label=group.config.label)
    axes.axhline(threshold, color="0.35", linestyle=":", linewidth=1.2,
                 label=f"{threshold:.0%}: the threshold")
    axes.set(xlabel="training step (batches of 32)", ylabel="validation accuracy",
             ylim=(max(0.0, threshold - 0.25), 1.0),
             title=f"The first {epochs} epochs; dots: the checks")
    axes.grid(alpha=0.3)
    figure.legend(loc="outside lower center", ncols=3, frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def _mean_and_band(axes, group: SeededRuns, name: str, colour: str, until: int | None = None,
                   **style: object) -> None:
    """One record's mean over seeds as a line, its range as a band, up to step ``until``."""
    steps, means, lows, highs = across_seeds(group, name)
    kept = slice(None) if until is None else steps <= until
    axes.plot(steps[kept], means[kept], color=colour, **style)
    if group.seeds > 1:
        axes.fill_between(steps[kept], lows[kept], highs[kept], color=colour, alpha=0.18,
                          linewidth=0)


def _lowest_accuracy(groups: Sequence[SeededRuns]) -> float:
    """The lowest accuracy after the first epoch, so the interesting range fills the panel."""
    lowest = 1.0
    for group in groups:
        for result in group.results:
            for name in ("train_accuracy", "val_accuracy"):
                steps, values = result.history.series(name)
                later = values[steps >= result.history.steps_per_epoch]
                lowest = min(lowest, float(later.min()) if later.size else float(values.min()))
    return lowest


def plot_gradient_norms(groups: Sequence[SeededRuns], title: str = "") -> Figure:
    r"""Each layer's RMS weight gradient per entry at the course's checks, a panel per run.

    The measure is :func:`backprop.reports.gradient_rms`, the Frobenius norm over the square
    root of the matrix's entries, so that a layer's size does not by itself lift its line.
    Layers run from the first (darkest) to the output layer (lightest) on the cividis
    scale, the legend numbering them as the weight matrices :math:`W^{(1)}, \dots,
    W^{(L)}`, the last named as the output layer; the vertical axis is logarithmic, so a
    gradient that shrinks by the same factor at every layer shows as evenly spaced lines.
    Lines are geometric means over seeds, up to the first seed's stop, with a band from the
    lowest seed to the highest.
    """
    figure = Figure(figsize=(5.5 * len(groups), 4.2), layout="constrained")
    panels = np.atleast_1d(figure.subplots(1, len(groups), sharey=True))
    for axes, group in zip(panels, groups, strict=True):
        checks = min(len(result.course_steps) for result in group.results)
        rms = seeds_rms(group, checks)
        steps = group.results[0].course_steps[:checks]
        layers = rms.shape[2]
        colours = _cividis(layers)
        for layer in range(layers):
            axes.plot(steps, np.exp(np.log(rms[:, :, layer]).mean(axis=0)),
                      color=colours[layer], linewidth=1.3, label=layer_name(layer, layers))
            if group.seeds > 1:
                axes.fill_between(steps, rms[:, :, layer].min(axis=0),
                                  rms[:, :, layer].max(axis=0), color=colours[layer],
                                  alpha=0.15, linewidth=0)
        axes.set_yscale("log")
        axes.set(xlabel="training step (batches of 32)", ylabel=GRADIENT_LABEL,
                 title=group.config.label)
        axes.grid(alpha=0.3, which="both")
    # One legend for every panel, below them, where it covers no line.
    handles, names = panels[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", ncols=min(len(names), 11),
                  fontsize="small", frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def seeds_rms(group: SeededRuns, checks: int) -> NDArray[np.float64]:
    """Each seed's RMS gradient per entry at the first ``checks`` course checks.

    The measure is :func:`backprop.reports.gradient_rms`; the array is shaped
    ``(seeds, checks, layers)``.
    """
    return np.array([gradient_rms(result)[:checks] for result in group.results])


GRADIENT_LABEL = "RMS per entry of ∂C/∂W (log scale)"
"""The vertical axis of :func:`plot_gradient_norms`: what :func:`backprop.reports.gradient_rms`
measures."""


def layer_name(index: int, layers: int) -> str:
    """The legend's name of weight matrix ``index + 1`` of ``layers``: the last is the output.

    ``"layer 1"`` to ``"layer 10"`` for the hidden layers of Task 4e, ``"output (11)"`` for
    its eleventh matrix.
    """
    return f"output ({layers})" if index == layers - 1 else f"layer {index + 1}"


def plot_layer_norms(
    norms: Mapping[str, ArrayLike], ylabel: str, title: str = ""
) -> Figure:
    """One measure per layer, from the first to the output layer, a line per network.

    ``norms`` maps each network's label to its values, shaped ``(seeds, layers)``: the line
    is their geometric mean over seeds, with a band from the lowest seed to the highest, on
    a logarithmic axis, so that a measure multiplied by the same factor at every layer is a
    straight line. Layers are numbered as the weight matrices are, the last tick named as the
    output layer (:func:`layer_name`).
    """
    figure = Figure(figsize=(8, 4.4), layout="constrained")
    axes = figure.subplots()
    arrays = {label: np.atleast_2d(np.asarray(values, dtype=float))
              for label, values in norms.items()}
    count = max(values.shape[1] for values in arrays.values())
    layers = np.arange(1, count + 1)
    # Black is the baselines' colour in the other figures; these networks have none.
    for (label, values), colour in zip(arrays.items(), _colours(len(arrays) + 1)[1:],
                                       strict=True):
        shown = layers[: values.shape[1]]
        axes.plot(shown, np.exp(np.log(values).mean(axis=0)), color=colour, marker="o",
                  markersize=4, linewidth=1.5, label=label)
        if len(values) > 1:
            axes.fill_between(shown, values.min(axis=0), values.max(axis=0), color=colour,
                              alpha=0.18, linewidth=0)
    axes.set_xticks(layers, [layer_name(index, count).removeprefix("layer ").replace(" ", "\n")
                             for index in range(count)])
    axes.set_yscale("log")
    axes.set(xlabel="layer", ylabel=ylabel)
    axes.grid(alpha=0.3, which="both")
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def plot_activations(z: NDArray[np.floating] | None = None) -> Figure:
    r"""Each hidden-layer activation beside its derivative, from the package's functions.

    The left panel draws :math:`a = f(z)` for every activation in
    :data:`backprop.activations.ACTIVATIONS`; the right panel :math:`f'(z)` as the backward
    pass computes it, from :math:`a` alone.
    """
    from backprop.activations import ACTIVATIONS

    z = np.linspace(-5, 5, 801) if z is None else np.asarray(z, dtype=float)
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    values, slopes = figure.subplots(1, 2, sharex=True)
    for (name, activation), colour in zip(ACTIVATIONS.items(), OKABE_ITO[1:], strict=False):
        a = activation.function(z)
        label = name.replace("_", " ")
        values.plot(z, a, color=colour, linewidth=1.6, label=label)
        slopes.plot(z, activation.derivative(a), color=colour, linewidth=1.6, label=label)
    values.set(xlabel="z", ylabel="a = f(z)", title="The activations", ylim=(-2, 5))
    slopes.set(xlabel="z", ylabel="f'(z), computed from a", title="Their derivatives")
    for axes in (values, slopes):
        axes.axhline(0, color="0.6", linewidth=0.8)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    return figure


def plot_network(sizes: Sequence[int] = (2, 2, 2)) -> Figure:
    r"""A small network as the derivations name it: units, weights, and the two passes.

    Each unit of a layer :math:`l` shows its :math:`z^{(l)}` and :math:`a^{(l)}`, each
    layer's weights :math:`W^{(l)}` join it to the layer before (one edge is named by its
    entry: :math:`W^{(l)}_{12}` joins unit 1 of layer :math:`l - 1` to unit 2 of layer
    :math:`l`), and every unit after the inputs carries its :math:`\delta^{(l)}`. Arrows below
    say which way each pass runs.
    """
    sizes = list(sizes)
    layers = len(sizes)
    figure = Figure(figsize=(2.2 * layers + 1, 1.1 * max(sizes) + 2.4), layout="constrained")
    axes = figure.subplots()
    top = (max(sizes) - 1) / 2
    place = {(l, j): (2.6 * l, (n - 1) / 2 - j) for l, n in enumerate(sizes) for j in range(n)}
    for l in range(1, layers):
        for j in range(sizes[l]):
            for i in range(sizes[l - 1]):
                (x0, y0), (x1, y1) = place[l - 1, i], place[l, j]
                axes.annotate("", (x1 - 0.42, y1), (x0 + 0.42, y0), arrowprops={
                    "arrowstyle": "-|>", "color": "0.55", "linewidth": 1, "shrinkA": 0,
                    "shrinkB": 0})
        x = 2.6 * (l - 0.5)
        axes.text(x, top + 0.6, f"$W^{{({l})}}$", ha="center", fontsize=13)
        # One edge named by its entry, from unit i = 1 to unit j = 2: the row is the unit
        # it leaves, the column the unit it reaches.
        j = min(1, sizes[l] - 1)
        (x0, y0), (x1, y1) = place[l - 1, 0], place[l, j]
        axes.text(x0 + 0.3 * (x1 - x0) + 0.3, y0 + 0.3 * (y1 - y0) + 0.05,
                  f"$W^{{({l})}}_{{1{j + 1}}}$", ha="center", va="bottom", fontsize=10,
                  color="0.25", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    for (l, j), (x, y) in place.items():
        first, last = l == 0, l == layers - 1
        colour = UNIT_COLOURS[0 if first else 2 if last else 1]
        axes.add_patch(Circle((x, y), 0.42, facecolor="white", edgecolor=colour,
                              linewidth=2))
        if first:
            axes.text(x, y, f"$x_{j + 1}$", ha="center", va="center", fontsize=13)
            continue
        axes.text(x, y + 0.08, f"$z^{{({l})}}_{j + 1}$", ha="center", va="bottom",
                  fontsize=10)
        axes.text(x, y - 0.02, f"$a^{{({l})}}_{j + 1}$", ha="center", va="top", fontsize=10)
        axes.text(x + 0.5, y + 0.3, f"$\\delta^{{({l})}}_{j + 1}$", color="#D55E00",
                  fontsize=11)
    names = ["inputs"] + ["hidden layer"] * (layers - 2) + ["outputs (softmax)"]
    for l, name in enumerate(names):
        axes.text(2.6 * l, -top - 0.62, name, ha="center", va="top", fontsize=10, color="0.3")
    right, bottom = 2.6 * (layers - 1), -top - 1.4
    axes.annotate("", (right, bottom), (0, bottom), arrowprops={
        "arrowstyle": "-|>", "color": "#0072B2", "linewidth": 1.5})
    axes.text(right / 2, bottom + 0.1, "forward pass: $z = a W$, $a = f(z)$", ha="center",
              va="bottom", color="#0072B2", fontsize=10)
    axes.annotate("", (0, bottom - 0.55), (right, bottom - 0.55), arrowprops={
        "arrowstyle": "-|>", "color": "#D55E00", "linewidth": 1.5})
    axes.text(right / 2, bottom - 0.65, "backward pass: $\\delta$ from the outputs back",
              ha="center", va="top", color="#D55E00", fontsize=10)
    axes.set_xlim(-0.8, right + 1.1)
    axes.set_ylim(bottom - 1.0, top + 1.0)
    axes.set_aspect("equal")
    axes.axis("off")
    return figure


STEP_THROUGH_LIMITS = {"layers": 3, "units": 5, "samples": 4}
"""The largest example :func:`step_through` draws: weight matrices, units in a layer, and
samples in the batch. Beyond them the figure's labels would overlap and its steps run to
hundreds."""


def step_through(
    weights: Sequence[ArrayLike], x: ArrayLike, y: ArrayLike,
    activation: str | Activation = "sigmoid", learning_rate: float = 0.1,
) -> interactive.Stepper:
    r"""The backward pass as a figure the reader steps through, for any small network.

    The network is drawn as :func:`plot_network` draws it, with the tables of its weights
    and their gradients below. Each step (:func:`backprop.walkthrough.worked_example`)
    highlights the unit or the weight it computes and writes the value on it, and beside the
    figure shows the rule in symbols, the rule with the step's numbers put in, and the
    package function whose result it shows: for each sample, the forward pass, the softmax
    and the loss, the output deltas :math:`\hat y_k - y_k` and the hidden deltas
    :math:`\delta_j = f'(z_j) \sum_k w_{kj} \delta_k`; then every weight's gradient over the
    batch, the update :math:`W \leftarrow W - \alpha\, \partial C / \partial W`, and the loss
    before and after it.

    Shown in a notebook or a built page, it is one HTML element with its own controls
    (first, previous, next, last, a slider, and the arrow, Home and End keys), loading
    nothing from anywhere.

    Parameters
    ----------
    weights : sequence of array-likes
        :math:`W^{(1)}, \dots, W^{(L)}`, each shaped ``(fan_in, fan_out)``, each layer's
        ``fan_out`` the next one's ``fan_in``; at most :data:`STEP_THROUGH_LIMITS`.
    x : array-like, shape (N, I)
        The batch's inputs, as the figure shows them: no bias input is added.
    y : array-like
        Its targets: one-hot rows, or a class label per sample.
    activation : str or Activation
        The hidden layers' :math:`f`.
    learning_rate : float
        :math:`\alpha`, positive.

    Returns
    -------
    Stepper
        Displays itself in a notebook (:meth:`backprop.interactive.Stepper.html`).

    Raises
    ------
    ValueError
        Naming the argument: a matrix that is not finite and 2-D, shapes that do not chain,
        a network or batch beyond :data:`STEP_THROUGH_LIMITS`, targets that are not one-hot.

    Examples
    --------
    A 2-2-2 network and one sample of class 0 (the first):

    >>> W1 = [[0.1, -0.2], [0.4, 0.3]]
    >>> W2 = [[0.5, -0.6], [-0.3, 0.8]]
    >>> figure = step_through([W1, W2], [[1.0, 0.5]], [0])
    >>> len(figure)
    21
    >>> print(figure.states[0].title)
    Sample 1 of 1: its inputs
    """
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
        raise ValueError("weights must be a non-empty list of matrices, W(1) first")
    matrices = [check_matrix(W, f"W({l})", dtype=np.float64)
                for l, W in enumerate(weights, start=1)]
    limits = STEP_THROUGH_LIMITS
    if len(matrices) > limits["layers"]:
        raise ValueError(f"step_through draws at most {limits['layers']} weight matrices, got "
                         f"{len(matrices)}")
    for l in range(1, len(matrices)):
        if matrices[l].shape[0] != matrices[l - 1].shape[1]:
            raise ValueError(f"W({l + 1}) has {matrices[l].shape[0]} rows but W({l}) has "
                             f"{matrices[l - 1].shape[1]} columns: they must be equal")
    classes = matrices[-1].shape[1]
    if classes < 2:
        raise ValueError(f"the output layer has {classes} unit: a softmax needs at least 2 "
                         "classes")
    inputs = check_matrix(x, "x", columns=matrices[0].shape[0], dtype=np.float64)
    sizes = [inputs.shape[1]] + [W.shape[1] for W in matrices]
    if max(sizes) > limits["units"]:
        raise ValueError(f"step_through draws at most {limits['units']} units a layer, got "
                         f"the sizes {sizes}")
    if len(inputs) > limits["samples"]:
        raise ValueError(f"step_through steps through at most {limits['samples']} samples, got "
                         f"{len(inputs)}")
    targets = check_targets(y, classes, rows=len(inputs), dtype=np.float64)
    steps = walkthrough.worked_example(
        matrices, inputs, targets, get_activation(activation),
        real_in_range(learning_rate, "learning_rate", 0, low_open=True))
    states, before = [], {}
    for step in steps:
        # A table's cell is highlighted where this step writes it, and a weight's cell
        # where the step reads that weight.
        written = [name for name, value in step.shown.items() if name.startswith(("W-", "dW-"))
                   and value != before.get(name, value)]
        read = [part.replace("edge-", "W-", 1) for part in step.used if part.startswith("edge-")]
        text = interactive.step_text(step.title, step.rule, step.numbers,
                                     function=step.function)
        states.append(interactive.State(step.title, text, step.shown, {},
                                        [*step.now, *written], [*step.used, *read]))
        before = step.shown
    return interactive.Stepper(
        f"The worked example of a {'-'.join(map(str, sizes))} network, step by step",
        interactive.network_figure(sizes, UNIT_COLOURS), states)


def gradient_slider(groups: Sequence[SeededRuns]) -> interactive.Stepper:
    r"""Each layer's RMS weight gradient at one of the course's checks, moved through training.

    A bar per layer and run, on a logarithmic axis: the measure of
    :func:`plot_gradient_norms` (:func:`backprop.reports.gradient_rms`, the geometric mean
    over seeds), at the check the slider picks, for the checks every seed of every run
    reached. The text of each check gives each run's first layer, output layer and their
    ratio, and every layer's value.

    Parameters
    ----------
    groups : sequence of SeededRuns
        Runs of the same depth, each drawn in its colour.
    """
    if not groups:
        raise ValueError("gradient_slider needs at least one group of runs")
    checks = min(len(result.course_steps) for group in groups for result in group.results)
    rms = [np.exp(np.log(seeds_rms(group, checks)).mean(axis=0)) for group in groups]
    layers = {values.shape[1] for values in rms}
    if len(layers) != 1:
        raise ValueError(f"gradient_slider compares runs of the same depth, got {sorted(layers)}"
                         " weight matrices")
    (count,) = layers
    result = groups[0].results[0]
    steps = result.course_steps[:checks]
    every = np.concatenate([values.ravel() for values in rms])
    decades = (int(np.floor(np.log10(every.min()))), int(np.ceil(np.log10(every.max()))))
    labels = [group.config.label for group in groups]
    svg, geometry = interactive.bar_figure(
        list(zip(labels, _colours(len(groups) + 1)[1:], strict=True)), count, decades,
        GRADIENT_LABEL)
    states = []
    for check, step in enumerate(steps):
        epoch = step / result.history.steps_per_epoch
        where = f"Check {check + 1} of {len(steps)}: step {step:,}, epoch {epoch:.2f}"
        lines, settings = [], {}
        for g, (label, values) in enumerate(zip(labels, rms, strict=True)):
            first, last = values[check, 0], values[check, -1]
            every_layer = ", ".join(f"{value:.3g}" for value in values[check])
            lines.append(f"{html.escape(label)}: layer 1 {first:.3g}, output {last:.3g}, "
                         f"ratio {first / last:.3g}. Layers 1 to {count}: {every_layer}")
            for l in range(count):
                y, height = interactive.bar_height(values[check, l], geometry)
                settings[f"bar-{g}-{l}", "y"] = f"{y:.1f}"
                settings[f"bar-{g}-{l}", "height"] = f"{height:.1f}"
        states.append(interactive.State(
            where, interactive.step_text(where, *lines), {"where": where}, settings, [], []))
    return interactive.Stepper(f"{GRADIENT_LABEL}, layer by layer, at each check", svg,
                               states, noun="Check")


def png(figure: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG bytes, for pages that show an image without a plotting backend."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save(figure: Figure, stem: str | Path) -> list[Path]:
    """Save a figure as ``stem.png`` and ``stem.svg``, each atomically; returns both paths.

    Each is drawn into a temporary file and renamed into place, so an interruption never
    leaves a truncated image.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    write_atomically(png, lambda file: figure.savefig(file, format="png", dpi=150))
    write_atomically(svg, lambda file: figure.savefig(file, format="svg",
                                                      metadata={"Date": None}))
    return [png, svg]


def _colours(count: int) -> list[str]:
    return [OKABE_ITO[index % len(OKABE_ITO)] for index in range(count)]


def _cividis(count: int) -> list[tuple[float, ...]]:
    return [colormaps["cividis"](value) for value in np.linspace(0, 0.9, count)]


def plot_class(
    exercises: Sequence[str], passed: Sequence[float], totals: Sequence[float],
    maximum: float,
) -> Figure:
    """A class at a glance: the share who passed each exercise, and a histogram of totals.

    Parameters
    ----------
    exercises : sequence of str
        The exercises' names, drawn top to bottom in this order.
    passed : sequence of float
        The share of the students who passed each, from 0 to 1.
    totals : sequence of float
        Each student's total points.
    maximum : float
        The most points a student could earn.
    """
    figure = Figure(figsize=(9, 0.25 * len(exercises) + 2), layout="constrained")
    rates, histogram = figure.subplots(1, 2, width_ratios=(3, 2))
    rows = np.arange(len(exercises))
    rates.barh(rows, np.asarray(passed, dtype=float) * 100, color=OKABE_ITO[1])
    rates.set_yticks(rows, list(exercises), fontsize=8)
    rates.invert_yaxis()
    rates.set_xlim(0, 100)
    rates.set_xlabel("students who passed (%)")
    rates.set_title("Each exercise")
    edges = np.linspace(0, maximum, min(11, int(maximum) + 1) if maximum >= 1 else 2)
    histogram.hist(np.asarray(totals, dtype=float), bins=edges, color=OKABE_ITO[2],
                   edgecolor="black")
    histogram.set_xlim(0, maximum)
    histogram.set_xlabel(f"total points (of {maximum:g})")
    histogram.set_ylabel("students")
    histogram.yaxis.get_major_locator().set_params(integer=True)
    histogram.set_title(f"Totals of {len(totals)} students")
    return figure
