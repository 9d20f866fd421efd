"""Reports of runs: the summary table and the measures the command line and the book share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from backprop.runs import Experiment, RunResult

SUMMARY_COLUMNS = (
    ("run", "run", "{}"),
    ("label", "what changes", "{}"),
    ("parameters", "parameters", "{:,}"),
    ("train_loss", "training loss", "{:.4f}"),
    ("val_loss", "validation loss", "{:.4f}"),
    ("train_accuracy", "training accuracy", "{:.2%}"),
    ("val_accuracy", "validation accuracy", "{:.2%}"),
    ("best_val_loss", "best validation loss", "{:.4f}"),
    ("best_step", "at step", "{:,}"),
    ("stopped_at", "stopped at step", "{:,}"),
    ("epochs", "epochs", "{:.1f}"),
    ("stop_reason", "because", "{}"),
    ("wall_time", "wall time (s)", "{:.1f}"),
)


def summary_table(results: Sequence[RunResult]) -> str:
    """A Markdown table of the runs' final figures, one row per run."""
    header = "| " + " | ".join(title for _, title, _ in SUMMARY_COLUMNS) + " |"
    rule = "|" + "|".join(" --- " for _ in SUMMARY_COLUMNS) + "|"
    rows = []
    for result in results:
        summary = result.summary()
        cells = (form.format(summary[key]) for key, _, form in SUMMARY_COLUMNS)
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows]) + "\n"


def steps_to_accuracy(result: RunResult, threshold: float) -> int | None:
    """The first check at which the validation accuracy reached ``threshold`` (or ``None``)."""
    for step, accuracy in result.history.val_accuracy.items():
        if accuracy >= threshold:
            return step
    return None


def gradient_ratio(result: RunResult, check: int) -> float:
    """First layer's gradient norm over the output layer's, at the check of that index."""
    norms = result.gradient_norms[check]
    return float(norms[0] / norms[-1])


def experiment_section(
    experiment: Experiment, results: Sequence[RunResult], figures: Sequence[Path]
) -> str:
    """An experiment's part of ``summary.md``: its title, its table and its PNG figures."""
    images = "".join(f"![{experiment.title}](figures/{path.name})\n"
                     for path in figures if path.suffix == ".png")
    return f"## {experiment.title}\n\n{summary_table(results)}\n{images}"


def summary_document(sections: Sequence[str]) -> str:
    """The whole ``summary.md``, from :func:`experiment_section`'s sections."""
    return "# backprop: the report's experiments\n\n" + "\n".join(sections)
