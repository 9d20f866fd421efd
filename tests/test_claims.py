"""The report's claims: measures, the decision rule over seeds, and their table."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backprop import claims
from backprop.claims import CLAIMS, Claim, NotReached, judge
from backprop.experiments import run_experiment, train
from backprop.runs import EXPERIMENTS, TASK2

LOWER = Claim("lower", "The run is lower", "a test", "best_val_loss", "run", "baseline",
              "lower")
HIGHER = Claim("higher", "The run is higher", "a test", "best_val_loss", "run",
               "baseline", "higher")


def test_a_verdict_that_one_seed_gets_wrong_is_borne_out_at_five():
    # Seed 0 alone says the opposite; the five seeds say the claim holds.
    run = [0.30, 0.10, 0.12, 0.11, 0.09]
    baseline = [0.20, 0.25, 0.24, 0.26, 0.23]
    assert judge(LOWER, run[:1], baseline[:1]).verdict == "undecided at 1 seed"
    assert run[0] > baseline[0]
    five = judge(LOWER, run, baseline)
    assert five.verdict == "borne out"
    assert five.high < 0


@pytest.mark.parametrize(
    ("run", "baseline", "lower", "higher"),
    [
        ([1.0, 1.1], [2.0, 2.1], "borne out", "not borne out"),
        ([2.0, 2.1], [1.0, 1.1], "not borne out", "borne out"),
        ([1.0, 2.1], [2.0, 1.1], "undecided at 2 seeds", "undecided at 2 seeds"),
        ([1.0, 1.0], [1.0, 1.0], "not borne out", "not borne out"),
    ],
)
def test_the_rule_reads_the_interval_against_the_threshold(run, baseline, lower, higher):
    assert judge(LOWER, run, baseline).verdict == lower
    assert judge(HIGHER, run, baseline).verdict == higher


def test_at_two_seeds_every_seed_must_beat_every_other():
    assert judge(LOWER, [1.0, 1.9], [2.0, 3.0]).verdict == "borne out"
    assert judge(LOWER, [1.0, 2.1], [2.0, 3.0]).verdict == "undecided at 2 seeds"


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=8),
       st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=8))
def test_the_interval_lies_within_the_extreme_differences(run, baseline):
    verdict = judge(LOWER, run, baseline, resamples=500)
    slack = 1e-9 * (1 + max(map(abs, run + baseline)))
    assert min(run) - max(baseline) - slack <= verdict.low <= verdict.high
    assert verdict.high <= max(run) - min(baseline) + slack
    assert verdict.difference == pytest.approx(np.mean(run) - np.mean(baseline), abs=slack)


FASTER = Claim("faster", "The run is faster", "a test", "steps_to_90", "run", "baseline",
               "lower")
SLOWER = Claim("slower", "The run is slower", "a test", "steps_to_90", "run", "baseline",
               "higher")


def test_a_baseline_that_never_reached_the_threshold_is_censored_not_counted():
    # Counted at its last step, 625, the baseline would look as fast as the run.
    verdict = judge(FASTER, [600, 575, 600], [NotReached(625)] * 3)
    assert verdict.low == -np.inf
    assert verdict.high < 0
    assert verdict.verdict == "borne out"
    assert judge(SLOWER, [600, 575, 600], [NotReached(625)] * 3).verdict == "not borne out"
    assert np.isnan(verdict.difference)
    assert verdict.most == pytest.approx(-100 / 3)
    row = claims.table([verdict]).splitlines()[-1]
    assert "| 592 (run) vs not reached (baseline) | ≤ -33 (-∞ to " in row
    mixed = judge(FASTER, [600, 575, 600], [NotReached(625), 650, 700])
    assert "vs at least 658 (1 of 3 not reached) (baseline) | ≤ -67 (-∞ to " in (
        claims.table([mixed]))


def test_a_run_that_never_reached_the_threshold_is_slower_only_than_what_it_outlasted():
    assert judge(SLOWER, [NotReached(1250)] * 3, [250, 300, 275]).verdict == "borne out"
    assert judge(SLOWER, [NotReached(200)] * 3, [250, 300, 275]).verdict == (
        "undecided at 3 seeds")
    assert judge(FASTER, [NotReached(1250)] * 3, [250, 300, 275]).verdict == "not borne out"


def test_censored_seeds_on_both_sides_decide_nothing():
    verdict = judge(FASTER, [100, NotReached(900)], [NotReached(900), 800])
    assert (verdict.low, verdict.high) == (-np.inf, np.inf)
    assert verdict.verdict == "undecided at 2 seeds"
    assert verdict.seeds_needed is None


def test_an_undecided_claim_says_how_many_seeds_would_decide_it():
    verdict = judge(LOWER, [1.0, 1.3, 0.7, 1.2, 0.9], [1.2, 0.9, 1.4, 1.0, 1.1])
    assert verdict.verdict == "undecided at 5 seeds"
    needed = verdict.seeds_needed
    # The interval's upper half, shrunk as one over the square root of the seeds, clears 0.
    shrunk = (verdict.high - verdict.difference) * np.sqrt(5 / needed)
    assert verdict.difference + shrunk < 0
    assert verdict.difference + shrunk * np.sqrt(needed / (needed - 1)) >= 0
    assert judge(LOWER, [1.0, 1.1, 0.9], [1.0, 1.1, 0.9]).seeds_needed is None


def test_the_interval_is_the_same_every_time():
    run, baseline = [0.3, 0.1, 0.2], [0.25, 0.2, 0.3]
    assert judge(LOWER, run, baseline) .low == judge(LOWER, run, baseline).low


def test_a_relative_margin_is_a_fraction_of_the_baseline():
    as_fast = Claim("as-fast", "As fast", "a test", "steps_to_90", "run", "baseline",
                    "lower", margin=0.1, relative=True)
    # 5% slower on every seed: within the 10% margin.
    verdict = judge(as_fast, [1050, 1050, 1051], [1000, 1000, 1001])
    assert verdict.threshold == pytest.approx(100.0 + 0.1 / 3)
    assert verdict.verdict == "borne out"
    assert judge(as_fast, [1200, 1210, 1220], [1000, 1000, 1001]).verdict == "not borne out"


def test_a_claim_against_a_threshold_judges_the_mean_minus_it():
    vanish = next(claim for claim in CLAIMS if claim.name == "ten-layers-vanish")
    verdict = judge(vanish, [-2.0, -2.2, -2.1])
    assert verdict.verdict == "borne out"
    assert verdict.difference == pytest.approx(-1.1)
    assert verdict.high == pytest.approx(-1.0)
    assert judge(vanish, [-0.5, -0.4, -0.6]).verdict == "not borne out"
    with pytest.raises(ValueError, match="compares with a threshold, not a baseline"):
        judge(vanish, [-2.0, -2.2], [1.0, 2.0])


@pytest.mark.parametrize("values", [[], [1.0, np.nan], [[1.0]], [object()],
                                    [NotReached(np.inf)]])
def test_values_must_be_finite_one_per_seed(values):
    with pytest.raises(ValueError, match="the run run needs one finite value per seed"):
        judge(LOWER, values, [1.0])


def test_every_claim_names_runs_of_the_report_and_a_measure():
    names = {config.name for experiment in EXPERIMENTS.values()
             for config in experiment.all_runs}
    assert claims.needed_runs() <= names
    for claim in CLAIMS:
        assert claim.measure in claims.MEASURES
        assert claim.direction in ("lower", "higher")
    assert len({claim.name for claim in CLAIMS}) == len(CLAIMS)


def test_every_claim_is_judged_and_tabled_from_runs(data, tmp_path):
    groups = [group for name in EXPERIMENTS
              for group in run_experiment(name, data, tmp_path, seeds=2, epochs=1)]
    verdicts = claims.evaluate(groups)
    assert [verdict.claim for verdict in verdicts] == list(CLAIMS)
    table = claims.table(verdicts).splitlines()
    assert len(table) == 2 + len(CLAIMS)
    for line, verdict in zip(table[2:], verdicts, strict=True):
        assert line.startswith(f"| {verdict.claim.statement} ({verdict.claim.source}) |")
        needed = verdict.seeds_needed
        decide = f"; about {needed:,} would decide" if needed else ""
        assert line.endswith(f"| {verdict.verdict}{decide} |")
    groups = [group for group in groups if group.config.name != "task4e"]
    with pytest.raises(ValueError, match="the claim ten-layers-slower needs the runs of task4e"):
        claims.evaluate(groups)


def test_every_claim_of_the_report_is_judged_for_its_experiment():
    names = {name: [claim.name for claim in claims.about(name)] for name in EXPERIMENTS}
    assert names == {
        "task2": [],
        "task3": ["fan-in-faster", "fan-in-lower-loss", "improved-sigmoid-faster",
                  "improved-sigmoid-lower-loss", "momentum-faster", "momentum-lower-loss",
                  "momentum-costs-accuracy"],
        "task4a": ["narrow-less-accurate", "narrow-slower", "narrow-higher-loss"],
        "task4b": ["wide-very-high-training-accuracy", "wide-fits-better", "wide-overfits",
                   "wide-lower-loss-at-start", "wide-worse-later"],
        "task4d": ["two-layers-as-fast", "two-layers-more-accurate"],
        "task4e": ["ten-layers-slower", "ten-layers-worse", "ten-layers-less-accurate",
                   "ten-layers-vanish", "ten-layers-vanish-with-tricks"],
    }
    assert sum(len(found) for found in names.values()) == len(CLAIMS)


def test_measures_read_the_history(data):
    result = train(TASK2.replace(epochs=3, dense_checks=(1, 1)), data)
    history = result.history
    assert claims.best_val_accuracy(result) == history.val_accuracy[history.best_step]
    assert claims.overfitting(result) == (history.val_loss[result.final_step]
                                          - history.val_loss[history.best_step])
    reached = claims.steps_to_threshold(result)
    before = reached.after if isinstance(reached, NotReached) else reached
    assert all(accuracy < claims.THRESHOLD for step, accuracy in history.val_accuracy.items()
               if step < before)
    assert reached == NotReached(result.final_step) or (
        history.val_accuracy[reached] >= claims.THRESHOLD)
    first_epoch = [step for step in history.val_loss if 0 < step <= history.steps_per_epoch]
    assert first_epoch == list(range(1, history.steps_per_epoch + 1))
    assert claims.early_val_loss(result) == pytest.approx(
        np.mean([history.val_loss[step] for step in first_epoch]), rel=1e-12)
    assert claims.final_val_loss(result) == history.val_loss[result.final_step]
    assert claims.final_train_accuracy(result) == history.train_accuracy[result.final_step]
    inputs = data.X_train.shape[1]  # the bias input included
    rms = result.gradient_norms[0] / np.sqrt([inputs * 64, 64 * 10])
    assert claims.log_gradient_ratio(result) == pytest.approx(np.log10(rms[0] / rms[-1]))


def test_the_vanishing_claims_compare_gradients_per_entry_not_norms(data):
    # Equal gradients per entry: the first layer's norm is larger, yet nothing vanishes,
    # and the measure says so.
    result = train(TASK2.replace(epochs=1, dense_checks=None), data)
    sizes = [(data.X_train.shape[1], 64), (64, 10)]
    result.gradient_norms[0] = [np.linalg.norm(np.full(size, 0.003)) for size in sizes]
    assert result.gradient_norms[0, 0] > result.gradient_norms[0, 1]
    assert claims.log_gradient_ratio(result) == pytest.approx(0, abs=1e-12)
    vanishing = [claim for claim in CLAIMS if claim.measure == "log_gradient_ratio"]
    assert {claim.name for claim in vanishing} == {"ten-layers-vanish",
                                                  "ten-layers-vanish-with-tricks"}
    assert all("RMS gradient per entry" in claim.statement for claim in vanishing)
    assert "RMS gradient per entry" in claims.MEASURES["log_gradient_ratio"].title
