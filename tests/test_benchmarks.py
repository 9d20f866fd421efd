"""The benchmark's bookkeeping: medians, ratios and the exit code. No timing is asserted."""

import pytest

from backprop import benchmark as run


def fake(epoch32, torch32, epoch64=0.2, evaluation=0.03, task2=(10.0, 20.0),
         protocol=(0.2, 0.3, 0.5)):
    times = {
        ("epoch", "backprop float32"): [epoch32, epoch32 * 2, epoch32 / 2],
        ("epoch", "backprop float64"): [epoch64],
        ("evaluation", "backprop float32"): [evaluation],
        ("evaluation", "backprop float64"): [2 * evaluation],
        ("task2", "backprop float32"): [task2[0]],
        ("protocol", "backprop float32"): [protocol[0]],
        ("protocol", "backprop float64"): [protocol[1]],
    }
    if torch32 is not None:
        times["epoch", "torch eager float32"] = [torch32]
        times["task2", "torch eager float32"] = [task2[1]]
        times["protocol", "torch eager float32"] = [protocol[2]]
    accuracies = dict.fromkeys(times, 0.9)
    for untrained in ("backprop float32", "backprop float64"):
        accuracies["evaluation", untrained] = None
    return times, accuracies


def test_targets_met():
    table, targets, held = run.report(*fake(epoch32=0.08, torch32=0.27))
    assert held
    assert all(t["met"] for t in targets)
    assert len(targets) == len(run.TARGETS)
    assert "| epoch | backprop float32 | 0.0800 | 3 | 90.00% |" in table
    assert "- (untrained)" in table


def test_a_missed_target_fails_the_run():
    _, targets, held = run.report(*fake(epoch32=0.1, torch32=0.27))
    assert not held
    missed = [t["target"] for t in targets if not t["met"]]
    assert missed == ["float32 epoch vs PyTorch eager"]
    assert targets[0]["ratio"] == 0.1 / 0.27


def test_without_peers_only_the_own_targets_count():
    table, targets, held = run.report(*fake(epoch32=0.1, torch32=None))
    assert held
    assert [t["target"] for t in targets] == [
        "evaluation pass vs training epoch", "float32 epoch vs float64",
        "float32 evaluation vs float64", "float32 protocol vs float64"]
    assert table.count("not measured in this run") == 4


def test_the_check_share_is_five_checks_over_an_epoch_and_them():
    medians = {("epoch", "backprop float32"): 0.05}
    medians.update({(group, "backprop float32"): seconds
                    for group, seconds in zip(run.CHECKS, (0.01, 0.03, 0.005), strict=True)})
    assert run.check_share(medians) == pytest.approx((0.5, 0.75, 1 / 3), rel=1e-12)
