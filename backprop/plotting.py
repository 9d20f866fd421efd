"""Figures of training runs: curves against steps, comparisons, and gradient norms by layer.

Every figure has labelled axes, a legend, and colours from the Okabe-Ito palette, which
readers with any common form of colour blindness can tell apart. Training loss is noisy
from batch to batch, so it is drawn as the mean over windows of ten steps with a band of one
standard deviation, as the assignment's plots do.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from numpy.typing import NDArray

from backprop.runs import RunResult
from backprop.store import write_atomically

OKABE_ITO = ("#000000", "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
             "#F0E442")
"""Okabe and Ito's colour-blind-safe palette, black first for the baseline."""

WINDOW = 10
"""Steps per window of the smoothed training loss."""


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


def plot_training(results: Sequence[RunResult], title: str = "") -> Figure:
    """Loss and accuracy against training steps, one colour per run.

    The left panel shows each run's batch loss (mean and spread over windows of
    :data:`WINDOW` steps, solid) and validation loss (dashed); the right panel its accuracy
    on the whole training set (solid) and the validation set (dashed).
    """
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for result, colour in zip(results, _colours(len(results)), strict=True):
        history, label = result.history, result.config.label
        centres, means, spreads = smooth(*history.series("batch_loss"))
        loss_axes.plot(centres, means, color=colour, linewidth=1.2, label=f"{label}: batches")
        loss_axes.fill_between(centres, means - spreads, means + spreads, color=colour,
                               alpha=0.2, linewidth=0)
        loss_axes.plot(*history.series("val_loss"), color=colour, linestyle="--",
                       linewidth=1.5, label=f"{label}: validation")
        accuracy_axes.plot(*history.series("train_accuracy"), color=colour, linewidth=1.2,
                           label=f"{label}: training")
        accuracy_axes.plot(*history.series("val_accuracy"), color=colour, linestyle="--",
                           linewidth=1.5, label=f"{label}: validation")
    loss_axes.set(xlabel="training step (batches of 32)", ylabel="cross-entropy loss",
                  title="Loss")
    accuracy_axes.set(xlabel="training step (batches of 32)", ylabel="accuracy",
                      title="Accuracy")
    top = max(np.percentile(r.history.series("batch_loss")[1], 99) for r in results)
    loss_axes.set_ylim(0, max(top, 0.1))
    accuracy_axes.set_ylim(max(0.0, _lowest_accuracy(results) - 0.02), 1.0)
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


def _lowest_accuracy(results: Sequence[RunResult]) -> float:
    """The lowest accuracy after the first epoch, so the interesting range fills the panel."""
    lowest = 1.0
    for result in results:
        for name in ("train_accuracy", "val_accuracy"):
            steps, values = result.history.series(name)
            later = values[steps >= result.history.steps_per_epoch]
            lowest = min(lowest, float(later.min()) if later.size else float(values.min()))
    return lowest


def plot_gradient_norms(results: Sequence[RunResult], title: str = "") -> Figure:
    """The norm of each layer's weight gradient at every check, one panel per run.

    Layers run from the first (darkest) to the output layer (lightest) on the cividis
    scale; the vertical axis is logarithmic, so a gradient that shrinks by the same factor
    at every layer shows as evenly spaced lines.
    """
    figure = Figure(figsize=(5.5 * len(results), 4.2), layout="constrained")
    panels = np.atleast_1d(figure.subplots(1, len(results), sharey=True))
    for axes, result in zip(panels, results, strict=True):
        norms = result.gradient_norms
        layers = norms.shape[1]
        colours = _cividis(layers)
        for layer in range(layers):
            axes.plot(result.check_steps, norms[:, layer], color=colours[layer],
                      linewidth=1.3, label=f"layer {layer + 1}")
        axes.set_yscale("log")
        axes.set(xlabel="training step (batches of 32)",
                 ylabel="gradient norm ‖∂C/∂W‖ (log scale)", title=result.config.label)
        axes.grid(alpha=0.3, which="both")
        axes.legend(fontsize="x-small", ncol=2)
    if title:
        figure.suptitle(title)
    return figure


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
