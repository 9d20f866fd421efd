r"""The report's claims as data, each with its measure, its runs and a decision rule over seeds.

A claim compares one configuration with another (or with a fixed threshold) on one
:data:`MEASURES` figure. Over seeds :math:`0, \dots, S-1` each run gives one value per seed;
the claim is judged on the difference of the means,

.. math::

    d = \bar m_\text{run} - \bar m_\text{baseline},

with a 95% percentile bootstrap interval :math:`[d_\text{low}, d_\text{high}]`: the seeds of
each run are drawn with replacement, :data:`RESAMPLES` times, from a generator of fixed seed.
or, for a claim against a fixed threshold, the run's mean minus it. A claim that the run is
*lower* is

- **borne out** when :math:`d_\text{high} < t`,
- **not borne out** when :math:`d_\text{low} \ge t`,
- **undecided at S seeds** otherwise, and always at one seed, where there is no spread to
  draw from;

and the mirror image for *higher*. The margin :math:`t` is 0, or a stated fraction of the
baseline's mean for a claim of "as fast". At two seeds a claim is borne out only when every
seed of one run beats every seed of the other.

A run that stopped before it reached 90% validation accuracy has no step count: it is
:class:`NotReached`, *censored* at its last check, and could have reached it at any later
step. Its seed then enters the low end of the interval at the value least favourable to
the claim and the high end at the other extreme (infinity where unbounded), so a censored
run can support a verdict only where every later step would support it too.

An undecided claim says how many seeds its interval suggests would decide it
(:attr:`Verdict.seeds_needed`): the interval narrows as one over the square root of the
seeds.
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

VERY_HIGH = 0.99
"""What the report's "very high" training accuracy means here: at least this fraction."""


@dataclass(frozen=True)
class NotReached:
    """A run that stopped, at step ``after``, before its measure was reached.

    Its value is only known to lie above ``after``: it is *censored* there.
    """

    after: float


Value = float | NotReached
"""A measure of one run: a number, or :class:`NotReached`."""


@dataclass(frozen=True)
class Measure:
    """A figure of one run: what it is called, how to compute it, how to print it."""

    title: str
    compute: Callable[[RunResult], Value]
    form: str


def steps_to_threshold(result: RunResult) -> Value:
    """The first check at which validation accuracy reached :data:`THRESHOLD`.

    Checks come every 25 steps over the first two epochs of the book's runs
    (:data:`backprop.runs.DENSE_CHECKS`) and five times an epoch after. A run that never
    reached it is :class:`NotReached` after its last check: censored, never a step count.
    """
    step = steps_to_accuracy(result, THRESHOLD)
    return NotReached(float(result.final_step)) if step is None else float(step)


def best_val_loss(result: RunResult) -> float:
    """The validation loss of the network early stopping keeps.

    The lowest of the course's checks (:attr:`backprop.training.History.best_step`).
    """
    return result.history.best_val_loss


def best_val_accuracy(result: RunResult) -> float:
    """The validation accuracy at the check of lowest validation loss.

    That check's network is the one early stopping keeps.
    """
    return result.history.val_accuracy[result.history.best_step]


def final_train_loss(result: RunResult) -> float:
    """The training loss (first 5,000 training images) at the last check."""
    return result.history.train_loss[result.final_step]


def final_train_accuracy(result: RunResult) -> float:
    """The training accuracy (first 5,000 training images) at the last check."""
    return result.history.train_accuracy[result.final_step]


def final_val_loss(result: RunResult) -> float:
    """The validation loss at the last check: "later in training", where the run ended."""
    return result.history.val_loss[result.final_step]


def early_val_loss(result: RunResult) -> float:
    """The mean validation loss over the first epoch's checks after step 0.

    "At the start of training": every check of the first epoch once the first step is made
    (25 steps apart in the book's runs), so that one noisy check decides nothing.
    """
    history = result.history
    early = [loss for step, loss in history.val_loss.items()
             if 0 < step <= history.steps_per_epoch]
    return float(np.mean(early))


def overfitting(result: RunResult) -> float:
    """How far the validation loss rose after its best: last check's minus the lowest."""
    return final_val_loss(result) - best_val_loss(result)


def log_gradient_ratio(result: RunResult) -> float:
    r"""At initialisation, the first layer's RMS gradient per entry over the output layer's.

    :math:`\log_{10}` of the ratio (:func:`backprop.reports.gradient_ratio`), in decades, on
    the gradient probe images: -1 means ten times smaller. Per entry
    (:func:`backprop.reports.gradient_rms`), not the Frobenius norm, so that the first
    layer's many more weights do not by themselves make its gradient look larger.
    """
    return math.log10(gradient_ratio(result, 0))


MEASURES: dict[str, Measure] = {
    "steps_to_90": Measure(f"steps to {THRESHOLD:.0%} validation accuracy",
                           steps_to_threshold, "{:,.0f}"),
    "best_val_loss": Measure("best validation loss", best_val_loss, "{:.4f}"),
    "best_val_accuracy": Measure("validation accuracy at the best validation loss",
                                 best_val_accuracy, "{:.2%}"),
    "early_val_loss": Measure("mean validation loss over the first epoch's checks",
                              early_val_loss, "{:.4f}"),
    "final_val_loss": Measure("validation loss at the last check", final_val_loss,
                              "{:.4f}"),
    "final_train_loss": Measure("training loss at the last check", final_train_loss,
                                "{:.4f}"),
    "final_train_accuracy": Measure("training accuracy at the last check",
                                    final_train_accuracy, "{:.2%}"),
    "overfitting": Measure("rise of the validation loss after its best", overfitting,
                           "{:.4f}"),
    "log_gradient_ratio": Measure("log10 of first-to-output RMS gradient per entry at step 0",
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
        The claim, as the report makes it, with the meaning given to its vaguer words.
    source : str
        Where the claim comes from.
    measure : str
        A key of :data:`MEASURES`.
    run, baseline : str
        The configurations compared (names in :data:`backprop.runs.EXPERIMENTS`); with no
        baseline the run is compared with ``margin`` itself, a fixed threshold.
    direction : {"lower", "higher"}
        What the claim says of the run's measure.
    margin : float
        With a baseline, the threshold the difference is compared with; with ``relative``,
        a fraction of the baseline's mean. Without one, the value the run is compared with.
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


_REPORT = "the course report"
_ONE_LAYER = "task3-momentum"

CLAIMS: tuple[Claim, ...] = (
    Claim("fan-in-faster", "Fan-in initialisation speeds up convergence",
          "LeCun et al. (1998), section 4.6", "steps_to_90",
          "task3-fan-in", "task2", "lower"),
    Claim("fan-in-lower-loss", "Fan-in initialisation reaches a lower loss",
          "LeCun et al. (1998), section 4.6", "best_val_loss",
          "task3-fan-in", "task2", "lower"),
    Claim("improved-sigmoid-faster", "The improved sigmoid speeds up convergence",
          "LeCun et al. (1998), section 4.4", "steps_to_90",
          "task3-improved-sigmoid", "task3-fan-in", "lower"),
    Claim("improved-sigmoid-lower-loss", "The improved sigmoid reaches a lower loss",
          "LeCun et al. (1998), section 4.4", "best_val_loss",
          "task3-improved-sigmoid", "task3-fan-in", "lower"),
    Claim("momentum-faster", "Momentum speeds up convergence",
          "Rumelhart et al. (1986)", "steps_to_90",
          "task3-momentum", "task3-improved-sigmoid", "lower"),
    Claim("momentum-lower-loss", "Momentum reaches a lower loss",
          "Rumelhart et al. (1986)", "best_val_loss",
          "task3-momentum", "task3-improved-sigmoid", "lower"),
    Claim("momentum-costs-accuracy", "Momentum costs accuracy",
          _REPORT, "best_val_accuracy", "task3-momentum", "task3-improved-sigmoid", "lower"),
    Claim("narrow-less-accurate", "32 hidden units reach a lower accuracy than 64",
          _REPORT, "best_val_accuracy", "task4a", _ONE_LAYER, "lower"),
    Claim("narrow-slower", "32 hidden units converge more slowly than 64",
          _REPORT, "steps_to_90", "task4a", _ONE_LAYER, "higher"),
    Claim("narrow-higher-loss", "32 hidden units reach a higher loss than 64",
          _REPORT, "best_val_loss", "task4a", _ONE_LAYER, "higher"),
    Claim("wide-very-high-training-accuracy",
          f"128 hidden units reach a very high training accuracy (at least {VERY_HIGH:.0%} "
          "at the last check)",
          _REPORT, "final_train_accuracy", "task4b", None, "higher", margin=VERY_HIGH),
    Claim("wide-fits-better", "128 hidden units fit the training set better than 64",
          _REPORT, "final_train_loss", "task4b", _ONE_LAYER, "lower"),
    Claim("wide-overfits", "128 hidden units overfit more than 64",
          _REPORT, "overfitting", "task4b", _ONE_LAYER, "higher"),
    Claim("wide-lower-loss-at-start",
          "128 hidden units have a lower loss than 64 at the start of training (over the "
          "first epoch)",
          _REPORT, "early_val_loss", "task4b", _ONE_LAYER, "lower"),
    Claim("wide-worse-later",
          "... but a higher loss than 64 later (at the last check)",
          _REPORT, "final_val_loss", "task4b", _ONE_LAYER, "higher"),
    Claim("two-layers-as-fast",
          "Two hidden layers of about the same parameter count converge as fast "
          "(within 10% of the steps)",
          _REPORT, "steps_to_90", "task4d-60", _ONE_LAYER, "lower",
          margin=0.1, relative=True),
    Claim("two-layers-more-accurate",
          "Two hidden layers of about the same parameter count reach better accuracy",
          _REPORT, "best_val_accuracy", "task4d-60", _ONE_LAYER, "higher"),
    Claim("ten-layers-slower", "Ten hidden layers converge more slowly than one",
          _REPORT, "steps_to_90", "task4e", _ONE_LAYER, "higher"),
    Claim("ten-layers-worse", "Ten hidden layers reach a worse loss than one",
          "Glorot & Bengio (2010)", "best_val_loss", "task4e", _ONE_LAYER, "higher"),
    Claim("ten-layers-less-accurate", "Ten hidden layers reach a worse accuracy than one",
          _REPORT, "best_val_accuracy", "task4e", _ONE_LAYER, "lower"),
    Claim("ten-layers-vanish",
          "Ten sigmoid layers' gradients vanish: the first layer's RMS gradient per entry is "
          "under a tenth of the output layer's at initialisation",
          "Nielsen (2015), chapter 5", "log_gradient_ratio",
          "task4e-no-tricks", None, "lower", margin=-1.0),
    Claim("ten-layers-vanish-with-tricks",
          "Even with the tricks, ten layers' gradients vanish (the first layer's RMS gradient "
          "per entry under a tenth of the output layer's)",
          "Glorot & Bengio (2010)", "log_gradient_ratio",
          "task4e", None, "lower", margin=-1.0),
)
"""The report's claims, in the order of its chapters.

:meta hide-value:
"""

RULE = (
    f"d is the run's mean minus the baseline's (or minus the threshold), over seeds 0 to "
    f"S-1; the interval is a {CONFIDENCE:.0%} percentile bootstrap of d ({RESAMPLES:,} "
    "resamples of the seeds). A claim is borne out when the whole interval lies on its side "
    "of 0 (or of the margin stated), not borne out when it lies on the other side, and "
    "undecided otherwise, or at one seed. A run that never reached 90% is censored at its "
    "last check: it counts as reaching it at any later step, so each end of the interval "
    "takes the value least favourable to it (infinity where that is unbounded). An undecided "
    "claim gives the seeds that would narrow its interval, as one over the square root of "
    "the seeds, to clear the threshold."
)
"""The decision rule, in a sentence for tables."""

Outcome = Literal["borne out", "not borne out", "undecided"]


@dataclass(frozen=True)
class SeedValues:
    """One run's measure over seeds, each known to lie between ``least`` and ``most``.

    The two are equal where the value was measured; a :class:`NotReached` run has ``least``
    its last step and ``most`` infinity.
    """

    least: NDArray[np.float64]
    most: NDArray[np.float64]

    @property
    def seeds(self) -> int:
        """How many seeds."""
        return len(self.least)

    @property
    def not_reached(self) -> int:
        """How many seeds are censored."""
        return int(np.count_nonzero(self.least != self.most))

    def text(self, form: str) -> str:
        """The mean as a table prints it; "not reached" or a bound where seeds are censored."""
        if self.not_reached == 0:
            return form.format(self.least.mean())
        if self.not_reached == self.seeds:
            return "not reached"
        return (f"at least {form.format(self.least.mean())} ({self.not_reached} of "
                f"{self.seeds} not reached)")


def seed_values(values: Sequence[Value], run: str) -> SeedValues:
    """One value per seed, as bounds.

    Raises
    ------
    ValueError
        If there are none, or one is neither a finite number nor :class:`NotReached`.
    """
    try:
        pairs = [(value.after, math.inf) if isinstance(value, NotReached) else (value, value)
                 for value in values]
        array = np.asarray(pairs, dtype=float)
    except (TypeError, ValueError):
        pairs, array = [], np.array([[np.nan, np.nan]])
    if not pairs or array.shape != (len(pairs), 2) or not np.isfinite(array[:, 0]).all():
        raise ValueError(f"the run {run} needs one finite value per seed, got {show(values)}")
    return SeedValues(array[:, 0], array[:, 1])


@dataclass(frozen=True)
class Verdict:
    """A claim judged over seeds.

    Attributes
    ----------
    claim : Claim
    run, baseline : SeedValues
        The measure for each seed (the baseline is the threshold itself for a claim without
        one).
    least, most : float
        The bounds of :math:`d`, the run's mean minus the baseline's (or the threshold's):
        equal unless seeds are censored.
    low, high : float
        The bootstrap interval of :math:`d` (both :math:`d` at one seed).
    threshold : float
        What :math:`d` is compared with: 0, or the margin in the measure's units.
    outcome : {"borne out", "not borne out", "undecided"}
    """

    claim: Claim
    run: SeedValues
    baseline: SeedValues
    least: float
    most: float
    low: float
    high: float
    threshold: float
    outcome: Outcome

    @property
    def seeds(self) -> int:
        """S, the fewest seeds of the runs compared."""
        counts = [self.run.seeds]
        if self.claim.baseline is not None:
            counts.append(self.baseline.seeds)
        return min(counts)

    @property
    def difference(self) -> float:
        """:math:`d`; NaN where censored seeds leave only bounds (:attr:`least`, :attr:`most`)."""
        return self.least if self.least == self.most else math.nan

    @property
    def seeds_needed(self) -> int | None:
        r"""For an undecided claim, the seeds its interval suggests would decide it.

        The half of the interval that reaches across the threshold shrinks as
        :math:`1/\sqrt{S}`; this is the fewest seeds at which it would stop short of it,
        were :math:`d` the same. ``None`` where the verdict is decided, at one seed, for
        censored seeds, or for :math:`d` at the threshold itself, which no number of seeds
        moves.
        """
        d = self.difference
        if self.outcome != "undecided" or self.seeds < 2 or math.isnan(d) or d == self.threshold:
            return None
        reach = self.high - d if d < self.threshold else d - self.low
        return max(self.seeds + 1,
                   math.ceil(self.seeds * (reach / abs(self.threshold - d)) ** 2))

    @property
    def verdict(self) -> str:
        """The outcome as the tables print it: "undecided at S seeds" when undecided."""
        if self.outcome != "undecided":
            return self.outcome
        return f"undecided at {self.seeds} seed{'s' if self.seeds != 1 else ''}"


def bootstrap_interval(
    run: SeedValues,
    baseline: SeedValues,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """The percentile bootstrap interval of the difference of means, at :data:`CONFIDENCE`.

    Each group's seeds are drawn with replacement, independently. Where seeds are censored,
    the interval's low end is taken from the differences their bounds make smallest and its
    high end from those they make largest, each at the sample nearest outwards rather than
    interpolated, since some are infinite.
    """
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, run.seeds, size=(resamples, run.seeds))
    least, most = run.least[draws].mean(axis=1), run.most[draws].mean(axis=1)
    draws = rng.integers(0, baseline.seeds, size=(resamples, baseline.seeds))
    least = least - baseline.most[draws].mean(axis=1)
    most = most - baseline.least[draws].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2
    censored = not (np.isfinite(least).all() and np.isfinite(most).all())
    low = np.quantile(least, tail, method="lower" if censored else "linear")
    high = np.quantile(most, 1 - tail, method="higher" if censored else "linear")
    return float(low), float(high)


def judge(
    claim: Claim,
    run_values: Sequence[Value],
    baseline_values: Sequence[Value] = (),
    resamples: int = RESAMPLES,
) -> Verdict:
    """Judge one claim from its measure's values, one per seed, by the module's rule.

    A value is a number, or :class:`NotReached` for a run censored at its last step.

    Raises
    ------
    ValueError
        If a run has no values, a value is not finite, or a baseline is missing or extra.
    """
    positive_int(resamples, "resamples")
    run = seed_values(run_values, claim.run)
    if claim.baseline is None:
        if len(baseline_values):
            raise ValueError(f"the claim {claim.name} compares with a threshold, not a baseline")
        # The threshold is a baseline that every resample draws the same: d is mean minus it.
        baseline, threshold = seed_values([claim.margin], "threshold"), 0.0
    else:
        baseline = seed_values(baseline_values, claim.baseline)
        threshold = (claim.margin * abs(float(baseline.least.mean())) if claim.relative
                     else claim.margin)
    low, high = bootstrap_interval(run, baseline, resamples)
    least = float(run.least.mean() - baseline.most.mean())
    most = float(run.most.mean() - baseline.least.mean())
    spread_known = run.seeds > 1 and (claim.baseline is None or baseline.seeds > 1)
    below, above = (high < threshold, low >= threshold)
    if claim.direction == "higher":
        below, above = (low > threshold, high <= threshold)
    outcome: Outcome = ("undecided" if not spread_known
                        else "borne out" if below else "not borne out" if above
                        else "undecided")
    return Verdict(claim, run, baseline, least, most, low, high, threshold, outcome)


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


def _number(form: str, value: float) -> str:
    return ("∞" if value > 0 else "-∞") if math.isinf(value) else form.format(value)


def table(verdicts: Sequence[Verdict]) -> str:
    """A Markdown table of verdicts, narrow enough for a page.

    One row per claim: the claim and its source, its measure, the two means ("not reached"
    where no seed reached the threshold), d with its interval, and the verdict, with the
    seeds that would decide it where it is undecided.
    """
    rows = ["| claim (source) | measure | mean: run vs baseline | d (95% interval) | verdict |",
            "| --- | --- | --- | --- | --- |"]
    for verdict in verdicts:
        claim = verdict.claim
        measure = MEASURES[claim.measure]
        form = measure.form
        run = f"{verdict.run.text(form)} ({claim.run})"
        baseline = (f"{verdict.baseline.text(form)} ({claim.baseline})" if claim.baseline
                    else f"threshold {form.format(claim.margin)}")
        if verdict.least == verdict.most:
            d = form.format(verdict.least)
        elif math.isinf(verdict.least) and math.isinf(verdict.most):
            d = "unknown"
        else:
            d = (f"≥ {form.format(verdict.least)}" if math.isfinite(verdict.least)
                 else f"≤ {form.format(verdict.most)}")
        interval = f"{d} ({_number(form, verdict.low)} to {_number(form, verdict.high)})"
        outcome = verdict.verdict
        if verdict.seeds_needed is not None:
            outcome += f"; about {verdict.seeds_needed:,} would decide"
        rows.append(f"| {claim.statement} ({claim.source}) | {measure.title} | {run} vs "
                    f"{baseline} | {interval} | {outcome} |")
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
