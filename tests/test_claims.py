"""The report's claims: measures, the decision rule over seeds, and their table."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backprop import claims
from backprop.claims import CLAIMS, Claim, judge
from backprop.experiments import run_experiment
from backprop.runs import EXPERIMENTS

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


def test_a_claim_against_a_threshold_judges_the_mean():
    vanish = next(claim for claim in CLAIMS if claim.name == "ten-layers-vanish")
    assert judge(vanish, [-2.0, -2.2, -2.1]).verdict == "borne out"
    assert judge(vanish, [-0.5, -0.4, -0.6]).verdict == "not borne out"
    with pytest.raises(ValueError, match="compares with a threshold, not a baseline"):
        judge(vanish, [-2.0, -2.2], [1.0, 2.0])


@pytest.mark.parametrize("values", [[], [1.0, np.nan], [[1.0]], [object()]])
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
        assert line.endswith(f"| {verdict.verdict} |")
    groups = [group for group in groups if group.config.name != "task4e"]
    with pytest.raises(ValueError, match="the claim ten-layers-worse needs the runs of task4e"):
        claims.evaluate(groups)


def test_each_experiment_has_the_claims_about_its_own_runs():
    assert [claim.name for claim in claims.about("task3")] == [
        "fan-in-faster", "improved-sigmoid-faster", "momentum-faster", "momentum-costs-accuracy"]
    assert claims.about("task2") == ()
    assert sum(len(claims.about(name)) for name in EXPERIMENTS) == len(CLAIMS)


def test_measures_read_the_history(data, tmp_path):
    ((result,),) = (group.results for group in run_experiment("task2", data, tmp_path,
                                                              epochs=3))
    history = result.history
    assert claims.best_val_accuracy(result) == history.val_accuracy[history.best_step]
    assert claims.overfitting(result) == history.val_loss[result.final_step] - min(
        history.val_loss.values())
    reached = claims.steps_to_threshold(result)
    assert reached == result.final_step or history.val_accuracy[reached] >= claims.THRESHOLD
    norms = result.gradient_norms[0]
    assert claims.log_gradient_ratio(result) == pytest.approx(np.log10(norms[0] / norms[-1]))
