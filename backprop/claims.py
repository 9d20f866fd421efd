r"""The report's claims as data, each with its measure, its runs and a decision rule over seeds.

A claim compares one configuration with another (or with a fixed threshold) on one
:data:`MEASURES` figure. Over seeds :math:`0, \dots, S-1` each run gives one value per seed;
the claim is judged on the difference of the means,

.. math::

    d = \bar m_\text{run} - \bar m_\text{baseline},

with a 95% percentile bootstrap interval :math:`[d_\text{low}, d_\text{high}]`: the seeds of
each run are drawn with replacement, :data:`RESAMPLES` times, from a generator of fixed seed.
A claim that the run is *lower* is

- **borne out** when :math:`d_\text{high} < t`,
- **not borne out** when :math:`d_\text{low} \ge t`,
- **undecided at S seeds** otherwise, and always at one seed, where there is no spread to
  draw from;

and the mirror image for *higher*. The margin :math:`t` is 0, or a stated fraction of the
baseline's mean for a claim of "as fast". At two seeds a claim is borne out only when every
seed of one run beats every seed of the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from backprop.checks import look_up, positive_int, show
from backprop.reports import gradient_ratio, steps_to_accuracy
from backprop.runs import EXPERIMENTS, RunResult, SeededRuns

RESAMPLES = 10_000
"""Bootstrap resamples per claim."""

CONFIDENCE = 0.95
"""The bootstrap interval's coverage."""

THRESHOLD = 0.9
"""The validation accuracy whose first crossing measures the speed of convergence."""


@dataclass(frozen=True)
class Measure:
    """A figure of one run: what it is called, how to compute it, how to print it."""

    title: str
    compute: Callable[[RunResult], float]
    form: str


def steps_to_threshold(result: RunResult) -> float:
    """The first check at which validation accuracy reached :data:`THRESHOLD`.

    A run that never did counts at the step it stopped: a lower bound, which favours it.
    """
    step = steps_to_accuracy(result, THRESHOLD)
    return float(result.final_step if step is None else step)


def best_val_loss(result: RunResult) -> float:
    """The lowest validation loss of any check."""
    return result.history.best_val_loss


def best_val_accuracy(result: RunResult) -> float:
    """The validation accuracy at the check of lowest validation loss.

    That check's network is the one early stopping keeps.
    """
    return result.history.val_accuracy[result.history.best_step]


def final_train_loss(result: RunResult) -> float:
    """The training loss (first 5,000 training images) at the last check."""
    return result.history.train_loss[result.final_step]


def overfitting(result: RunResult) -> float:
    """How far the validation loss rose after its best: last check's minus the lowest."""
    return result.history.val_loss[result.final_step] - result.history.best_val_loss


def log_gradient_ratio(result: RunResult) -> float:
    r"""At initialisation, the first layer's gradient norm over the output layer's, in decades.

    :math:`\log_{10}` of the ratio, on the gradient probe images: -1 means ten times smaller.
    """
    return math.log10(gradient_ratio(result, 0))


MEASURES: dict[str, Measure] = {
    "steps_to_90": Measure(f"steps to {THRESHOLD:.0%} validation accuracy",
                           steps_to_threshold, "{:,.0f}"),
    "best_val_loss": Measure("best validation loss", best_val_loss, "{:.4f}"),
    "best_val_accuracy": Measure("validation accuracy at the best validation loss",
                                 best_val_accuracy, "{:.2%}"),
    "final_train_loss": Measure("training loss at the last check", final_train_loss,
                                "{:.4f}"),
    "overfitting": Measure("rise of the validation loss after its best", overfitting,
                           "{:.4f}"),
    "log_gradient_ratio": Measure("log10 of first-to-output gradient norm at step 0",
                                  log_gradient_ratio, "{:.2f}"),
}
"""The measures claims are judged on, by name."""


@dataclass(frozen=True)
class Claim:
    """One claim of the report, and how it is tested.

    Attributes
    ----------
    name : str
        A short identifier.
    statement : str
        The claim, as the report makes it.
    source : str
        Where the claim comes from.
    measure : str
        A key of :data:`MEASURES`.
    run, baseline : str
        The configurations compared (names in :data:`backprop.runs.EXPERIMENTS`); with no
        baseline the run is compared with ``margin`` itself.
    direction : {"lower", "higher"}
        What the claim says of the run's measure.
    margin : float
        The threshold the difference is compared with; with ``relative``, a fraction of the
        baseline's mean.
    """

    name: str
    statement: str
    source: str
    measure: str
    run: str
    baseline: str | None
    direction: Literal["lower", "higher"]
    margin: float = 0.0
    relative: bool = False


CLAIMS: tuple[Claim, ...] = (
    Claim("fan-in-faster", "Fan-in initialisation speeds up convergence",
          "LeCun et al. (1998), section 4.6", "steps_to_90",
          "task3-fan-in", "task2", "lower"),
    Claim("improved-sigmoid-faster", "The improved sigmoid speeds up convergence",
          "LeCun et al. (1998), section 4.4", "steps_to_90",
          "task3-improved-sigmoid", "task3-fan-in", "lower"),
    Claim("momentum-faster", "Momentum speeds up convergence",
          "Rumelhart et al. (1986)", "steps_to_90",
          "task3-momentum", "task3-improved-sigmoid", "lower"),
    Claim("momentum-costs-accuracy", "Momentum costs accuracy",
          "the course report", "best_val_accuracy",
          "task3-momentum", "task3-improved-sigmoid", "lower"),
    Claim("narrow-worse", "32 hidden units are worse than 64",
          "the course report", "best_val_loss", "task4a", "task3-momentum", "higher"),
    Claim("wide-fits-better", "128 hidden units fit the training set better than 64",
          "the course report", "final_train_loss", "task4b", "task3-momentum", "lower"),
    Claim("wide-overfits", "128 hidden units overfit more than 64",
          "the course report", "overfitting", "task4b", "task3-momentum", "higher"),
    Claim("two-layers-as-fast",
          "Two hidden layers of about the same parameter count converge as fast "
          "(within 10% of the steps)",
          "the course report", "steps_to_90", "task4d-60", "task3-momentum", "lower",
          margin=0.1, relative=True),
    Claim("two-layers-more-accurate",
          "Two hidden layers of about the same parameter count reach better accuracy",
          "the course report", "best_val_accuracy", "task4d-60", "task3-momentum",
          "higher"),
    Claim("ten-layers-worse", "Ten hidden layers train worse than one",
          "Glorot & Bengio (2010)", "best_val_loss", "task4e",
          "task3-momentum", "higher"),
    Claim("ten-layers-vanish",
          "Ten sigmoid layers' gradients vanish: the first layer's is under a tenth of the "
          "output layer's at initialisation",
          "Nielsen (2015), chapter 5", "log_gradient_ratio",
          "task4e-no-tricks", None, "lower", margin=-1.0),
    Claim("ten-layers-vanish-with-tricks",
          "Even with the tricks, ten layers' gradients vanish (first under a tenth of the "
          "output layer's)",
          "Glorot & Bengio (2010)", "log_gradient_ratio",
          "task4e", None, "lower", margin=-1.0),
)
"""The report's claims, in the order of its chapters.

:meta hide-value:
"""

RULE = (
    f"d is the run's mean minus the baseline's (or the run's mean, against a threshold), "
    f"over seeds 0 to S-1; the interval is a {CONFIDENCE:.0%} percentile bootstrap of d "
    f"({RESAMPLES:,} resamples of the seeds). A claim is borne out when the whole interval "
    "lies on its side of the threshold (0, unless stated), not borne out when it lies on the "
    "other side, and undecided otherwise, or at one seed."
)
"""The decision rule, in a sentence for tables."""

Outcome = Literal["borne out", "not borne out", "undecided"]


@dataclass(frozen=True)
class Verdict:
    """A claim judged over seeds.

    Attributes
    ----------
    claim : Claim
    run_values, baseline_values : array
        The measure for each seed (no baseline values for a claim against a threshold).
    difference : float
        :math:`d`, the run's mean minus the baseline's (or the threshold).
    low, high : float
        The bootstrap interval of :math:`d` (both :math:`d` at one seed).
    threshold : float
        What :math:`d` is compared with: the margin, in the measure's units.
    outcome : {"borne out", "not borne out", "undecided"}
    """

    claim: Claim
    run_values: NDArray[np.float64]
    baseline_values: NDArray[np.float64]
    difference: float
    low: float
    high: float
    threshold: float
    outcome: Outcome

    @property
    def seeds(self) -> int:
        """S, the fewest seeds of the runs compared."""
        counts = [len(self.run_values)]
        if self.claim.baseline is not None:
            counts.append(len(self.baseline_values))
        return min(counts)

    @property
    def verdict(self) -> str:
        """The outcome as the tables print it: "undecided at S seeds" when undecided."""
        if self.outcome != "undecided":
            return self.outcome
        return f"undecided at {self.seeds} seed{'s' if self.seeds != 1 else ''}"


def bootstrap_interval(
    run_values: NDArray[np.float64],
    baseline_values: NDArray[np.float64] | None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """The percentile bootstrap interval of the difference of means, at :data:`CONFIDENCE`.

    Each group's values are drawn with replacement, independently; with no baseline the
    interval is of the run's mean alone.
    """
    rng = np.random.default_rng(seed)
    means = _resampled_means(rng, run_values, resamples)
    if baseline_values is not None:
        means = means - _resampled_means(rng, baseline_values, resamples)
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def _resampled_means(rng: np.random.Generator, values: NDArray, resamples: int) -> NDArray:
    draws = rng.integers(0, len(values), size=(resamples, len(values)))
    return values[draws].mean(axis=1)


def judge(
    claim: Claim,
    run_values: Sequence[float],
    baseline_values: Sequence[float] = (),
    resamples: int = RESAMPLES,
) -> Verdict:
    """Judge one claim from its measure's values, one per seed, by the module's rule.

    Raises
    ------
    ValueError
        If a run has no values, a value is not finite, or a baseline is missing or extra.
    """
    positive_int(resamples, "resamples")
    run = _values(run_values, claim.run)
    if claim.baseline is None:
        if len(baseline_values):
            raise ValueError(f"the claim {claim.name} compares with a threshold, not a baseline")
        baseline, threshold = np.array([]), claim.margin
        difference = float(run.mean())
        low, high = bootstrap_interval(run, None, resamples)
    else:
        baseline = _values(baseline_values, claim.baseline)
        threshold = claim.margin * abs(float(baseline.mean())) if claim.relative else claim.margin
        difference = float(run.mean() - baseline.mean())
        low, high = bootstrap_interval(run, baseline, resamples)
    spread_known = len(run) > 1 and (claim.baseline is None or len(baseline) > 1)
    below, above = (high < threshold, low >= threshold)
    if claim.direction == "higher":
        below, above = (low > threshold, high <= threshold)
    outcome: Outcome = ("undecided" if not spread_known
                        else "borne out" if below else "not borne out" if above
                        else "undecided")
    return Verdict(claim, run, baseline, difference, low, high, threshold, outcome)


def _values(values: Sequence[float], run: str) -> NDArray[np.float64]:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        array = np.array([np.nan])
    if array.ndim != 1 or array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"the run {run} needs one finite value per seed, got {show(values)}")
    return array


def about(experiment: str) -> tuple[Claim, ...]:
    """The claims about an experiment's own runs (not the runs it is compared with).

    Raises
    ------
    ValueError
        For an unknown experiment.
    """
    names = {config.name for config in look_up(EXPERIMENTS, experiment, "experiment").runs}
    return tuple(claim for claim in CLAIMS if claim.run in names)


def evaluate(
    groups: Iterable[SeededRuns], claims: Sequence[Claim] = CLAIMS
) -> list[Verdict]:
    """Judge each claim on the runs it names.

    Parameters
    ----------
    groups : iterable of SeededRuns
        Runs over seeds (see :func:`backprop.experiments.run_experiment`), found by their
        configuration's name.
    claims : sequence of Claim
        Every claim by default; :func:`about` picks an experiment's.

    Raises
    ------
    ValueError
        Naming a run a claim needs that ``groups`` lacks.
    """
    groups = {group.config.name: group for group in groups}
    verdicts = []
    for claim in claims:
        compute = MEASURES[claim.measure].compute
        names = [claim.run] + ([claim.baseline] if claim.baseline else [])
        for name in names:
            if name not in groups:
                raise ValueError(f"the claim {claim.name} needs the runs of {name}")
        values = [[compute(result) for result in groups[name].results] for name in names]
        verdicts.append(judge(claim, *values))
    return verdicts


def table(verdicts: Sequence[Verdict]) -> str:
    """A Markdown table of verdicts, narrow enough for a page.

    One row per claim: the claim and its source, its measure, the two means, d with its
    interval, and the verdict.
    """
    rows = ["| claim (source) | measure | mean: run vs baseline | d (95% interval) | verdict |",
            "| --- | --- | --- | --- | --- |"]
    for verdict in verdicts:
        claim = verdict.claim
        measure = MEASURES[claim.measure]
        form = measure.form
        run = f"{form.format(verdict.run_values.mean())} ({claim.run})"
        baseline = (f"{form.format(verdict.baseline_values.mean())} ({claim.baseline})"
                    if claim.baseline else f"threshold {form.format(verdict.threshold)}")
        interval = (f"{form.format(verdict.difference)} "
                    f"({form.format(verdict.low)} to {form.format(verdict.high)})")
        rows.append(f"| {claim.statement} ({claim.source}) | {measure.title} | {run} vs "
                    f"{baseline} | {interval} | {verdict.verdict} |")
    return "\n".join(rows) + "\n"


def needed_runs(claims: Sequence[Claim] = CLAIMS) -> set[str]:
    """The configurations the claims compare, by name."""
    return {name for claim in claims for name in (claim.run, claim.baseline) if name}


def needed_experiments(claims: Sequence[Claim] = CLAIMS) -> list[str]:
    """The experiments that hold the runs the claims compare, in the report's order.

    Their sweep is ``experiments.run_experiments(needed_experiments(), data, seeds=S)``,
    which shows its progress in Jupyter; :func:`evaluate` then judges its runs.
    """
    needed = needed_runs(claims)
    return [name for name, experiment in EXPERIMENTS.items()
            if needed & {config.name for config in experiment.runs}]
