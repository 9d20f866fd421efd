"""Sweeps in worker processes and on a Dask cluster store the same bits as one process."""

import os
import re

import numpy as np
import pytest
from conftest import ten_class_dataset
from distributed import LocalCluster

from backprop import cli, parallel

needs_mnist = pytest.mark.skipif(not os.environ.get("BACKPROP_DATA_DIR"),
                                 reason="set BACKPROP_DATA_DIR to a directory with MNIST")


def stored_arrays(store):
    found = {}
    for path in sorted(store.glob("*.npz")):
        with np.load(path) as loaded:
            found.update({(path.name, name): loaded[name].tobytes() for name in loaded.files})
    return found


@needs_mnist
def test_one_process_two_workers_and_a_dask_cluster_store_the_same_bits(tmp_path):
    command = ["experiment", "task4a", "--seeds", "2", "--epochs", "1", "--quiet",
               "--results"]
    assert cli.main([*command, str(tmp_path / "one"), "--jobs", "1"]) == 0
    assert cli.main([*command, str(tmp_path / "two"), "--jobs", "2"]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, processes=True) as cluster:
        assert cli.main([*command, str(tmp_path / "dask"), "--dask",
                         cluster.scheduler_address]) == 0
    one = stored_arrays(tmp_path / "one")
    assert len(one) == 2 * 2 * 11
    assert stored_arrays(tmp_path / "two") == one
    assert stored_arrays(tmp_path / "dask") == one


@needs_mnist
def test_claims_prints_a_verdict_for_every_claim(tmp_path, capsys):
    from backprop.claims import CLAIMS

    assert cli.main(["claims", "--seeds", "2", "--epochs", "1", "--quiet", "--results",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for claim in CLAIMS:
        line = next(line for line in out.splitlines()
                    if line.startswith(f"| {claim.statement} ("))
        assert re.search(r"\| (borne out|not borne out|undecided at 2 seeds"
                         r"(; about [\d,]+ would decide)?) \|$", line)
    assert "95% percentile bootstrap" in out
    # One epoch of Task 2 stays below 90% validation accuracy: censored, never a count.
    fan_in = next(line for line in out.splitlines() if "speeds up convergence" in line)
    assert " vs not reached (task2) |" in fan_in


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1)
    monkeypatch.setattr(cli, "assignment_data", lambda **kwargs: ten_class_dataset())
    assert cli.main(["experiment", "task2", "--epochs", "1", "--quiet", "--results",
                     str(tmp_path), "--dask", "tcp://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("backprop: no Dask scheduler answered at tcp://127.0.0.1:9")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("argv", "message"), [
    (["--jobs", "0"], "argument --jobs: 0 is not positive"),
    (["--dask", "localhost:8786"], "a Dask scheduler's address is tcp://HOST:PORT"),
    (["--jobs", "2", "--dask", "tcp://127.0.0.1:8786"], "not allowed with argument"),
    (["--seeds", "0"], "argument --seeds: 0 is not positive"),
])
def test_bad_sweep_options_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["claims", *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@needs_mnist
def test_the_book_s_float64_run_is_stored_where_the_performance_chapter_looks(tmp_path):
    from backprop import experiments, runs
    from backprop.preprocessing import assignment_data

    extra = runs.BOOK_EXTRA_RUNS
    configs = [*extra, *experiments.experiment_configs("task2", 1)]
    data = assignment_data(dtype=runs.widest_dtype(configs))
    experiments.run_experiments(["task2"], data, tmp_path, epochs=1, extra=extra)
    served = []
    experiments.run_many([extra[0].replace(epochs=1)], assignment_data(dtype="float64"),
                         tmp_path, on_result=lambda result, trained: served.append(trained))
    assert served == [False]
