"""The benchmark's bookkeeping: medians, ratios and the exit code. No timing is asserted."""

import pytest

from backprop import benchmark as run

PEERS = ("torch eager float32", "torch no_grad float32")


def fake(peers=True, **seconds):
    """Three rounds of every pair the targets name: peers 1 s, the package a fifth of that."""
    base = {"backprop float32": 0.2, "backprop Trainer.step": 0.21, "backprop sgd_step": 0.2,
            "backprop float64": 0.4}
    keys = {(group, implementation) for _, *pairs, _ in run.TARGETS
            for group, implementation in zip(pairs[::2], pairs[1::2], strict=True)}
    times = {}
    for group, implementation in sorted(keys):
        if implementation in PEERS and not peers:
            continue
        median = seconds.get(f"{group}|{implementation}", base.get(implementation, 1.0))
        times[group, implementation] = [median, median * 2, median / 2]
    times["evaluation", "backprop float32"] = [0.05]
    accuracies = dict.fromkeys(times, 0.9)
    accuracies["evaluation", "backprop float32"] = None
    return times, accuracies


def test_targets_met():
    table, targets, held = run.report(*fake())
    assert held
    assert all(t["met"] for t in targets)
    assert len(targets) == len(run.TARGETS)
    assert "| epoch | backprop float32 | 0.2000 | 3 | 90.00% |" in table
    assert "- (untrained)" in table
    for group in run.PEER_GROUPS:
        ratio = 0.05 if group == "evaluation" else 0.2
        assert f"| {group} | {ratio:.4f} | 1.0000 | {ratio:.2f} |" in table


def test_a_missed_target_fails_the_run():
    _, targets, held = run.report(*fake(**{"width 1024|backprop Trainer.step": 1.2}))
    assert not held
    missed = [t["target"] for t in targets if not t["met"]]
    assert missed == ["width 1024 through Trainer.step vs PyTorch",
                      "width 1024: Trainer.step vs sgd_step"]
    assert targets[len(run.PEER_GROUPS)]["ratio"] == 1.2


def test_without_peers_only_the_own_targets_count():
    table, targets, held = run.report(*fake(peers=False))
    assert held
    assert [t["target"] for t in targets] == [
        *(f"{group}: Trainer.step vs sgd_step" for group in run.WIDTHS),
        "evaluation pass vs training epoch", "float32 epoch vs float64",
        "float32 evaluation vs float64", "float32 protocol vs float64"]
    assert table.count("not measured in this run") == len(run.PEER_GROUPS) + 2
    assert "PyTorch is not installed" in table


def test_the_check_share_is_five_checks_over_an_epoch_and_them():
    medians = {("epoch", "backprop float32"): 0.05}
    medians.update({(group, "backprop float32"): seconds
                    for group, seconds in zip(run.CHECKS, (0.01, 0.03, 0.005), strict=True)})
    assert run.check_share(medians) == pytest.approx((0.5, 0.75, 1 / 3), rel=1e-12)
