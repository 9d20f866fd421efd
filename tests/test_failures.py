"""The failures a hostile tester found, one test each: nothing silent, hangs, or is lost."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import make_inputs, ten_class_dataset

import backprop
from backprop import MLP, Trainer, cli, gradient_check, one_hot, runs, store
from backprop.experiments import CorruptResultWarning, run, run_experiment
from backprop.idx import IDXFormatError, parse_idx, read_idx
from backprop.losses import cross_entropy
from backprop.preprocessing import make_dataset, normalize, pixel_statistics
from backprop.training import DIVERGENCE_STEPS, StopReason, TrainingDivergedError


@pytest.fixture
def small_data(monkeypatch):
    monkeypatch.setattr(cli, "assignment_data", lambda **kwargs: ten_class_dataset())


def one_line_exit(argv, capsys, code):
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--help" not in err
    return err


# 1. Divergence with bounded activations is detected by a stated rule.

def test_a_huge_learning_rate_diverges_by_the_far_off_rule():
    # The sigmoid and the floored logarithm keep every loss finite, however wrong.
    rng = np.random.default_rng(0)
    X, y = make_inputs(rng, 400, 9), rng.integers(0, 4, 400)
    trainer = Trainer(MLP([16, 4], input_size=9), learning_rate=1e6, batch_size=16)
    with pytest.raises(TrainingDivergedError, match=r"stayed above 13.9 \(10 ln K\)") as error:
        trainer.fit(X, y, X, y, epochs=10)
    history = error.value.history
    assert history.stop_reason == StopReason.DIVERGED
    assert all(loss > 13.9 for loss in list(history.batch_loss.values())[-DIVERGENCE_STEPS:])


def test_the_command_line_reports_divergence_in_one_line(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    X, y = make_inputs(rng, 640, 9), rng.integers(0, 10, 640)
    noise = make_dataset(X, y, X[:100], y[:100])
    monkeypatch.setattr(cli, "assignment_data", lambda **kwargs: noise)
    monkeypatch.setenv(store.RESULTS_ENVIRONMENT_VARIABLE, str(tmp_path))
    err = one_line_exit(["train", "--learning-rate", "1e6", "--epochs", "20",
                         "--early-stopping", "1000", "--quiet"], capsys, 1)
    assert "training diverged at step 100" in err


# 3. Options are checked before any data is looked for.

def test_bad_options_are_reported_before_the_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BACKPROP_DATA_DIR", str(tmp_path / "nothing"))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--learning-rate", "-1"])
    assert exit_.value.code == 2
    assert "learning_rate" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()


# 4. The results store: corruptions are named, moved aside and computed again.

CORRUPTIONS = {
    "truncated json": lambda json_path, npz: json_path.write_text(json_path.read_text()[:50]),
    "a list": lambda json_path, npz: json_path.write_text("[]"),
    "wrong types": lambda json_path, npz: json_path.write_text(json.dumps(
        {**json.loads(json_path.read_text()), "steps_per_epoch": "ten"})),
    "a missing key": lambda json_path, npz: json_path.write_text(json.dumps(
        {k: v for k, v in json.loads(json_path.read_text()).items() if k != "best_step"})),
    "truncated arrays": lambda json_path, npz: npz.write_bytes(npz.read_bytes()[:100]),
    "empty arrays": lambda json_path, npz: npz.write_bytes(b""),
    "accuracy 5.0": lambda json_path, npz: np.savez(
        npz, **{**dict(np.load(npz)), "val_accuracy": np.load(npz)["val_accuracy"] + 5}),
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_a_corrupt_result_is_named_moved_aside_and_recomputed(data, tmp_path, corrupt):
    config = runs.TASK2.replace(epochs=1)
    first = run(config, data, tmp_path)
    json_path = store.result_path(tmp_path, config, first.key)
    corrupt(json_path, json_path.with_suffix(".npz"))
    with pytest.warns(CorruptResultWarning, match=json_path.name):
        again = run(config, data, tmp_path)
    assert again.history == first.history
    assert (tmp_path / "corrupt" / json_path.name).exists()
    assert store.load_result(json_path).history == first.history


def test_stored_paths_are_never_followed(data, tmp_path):
    config = runs.TASK2.replace(epochs=1)
    first = run(config, data, tmp_path)
    json_path = store.result_path(tmp_path, config, first.key)
    document = json.loads(json_path.read_text())
    json_path.write_text(json.dumps({**document, "arrays": "../../elsewhere.npz"}))
    assert store.load_result(json_path).history == first.history


def test_a_run_name_cannot_leave_the_store():
    with pytest.raises(ValueError, match=r"a run's name is letters.*'\.\./evil'"):
        runs.TASK2.replace(name="../evil")


def test_an_unwritable_store_fails_before_training(data, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the store")

    monkeypatch.setattr(Trainer, "fit", no_training)
    with pytest.raises(store.StoreNotWritableError, match=r"results directory .* not writable"):
        run(runs.TASK2.replace(epochs=1), data, tmp_path / "file" / "results")


# 5. Figures are written temp-then-rename.

def test_an_interrupted_figure_leaves_no_file(tmp_path):
    from matplotlib.figure import Figure

    from backprop import plotting

    figure = Figure()

    def interrupted(file, **kwargs):
        file.write(b"half a PNG")
        raise KeyboardInterrupt

    figure.savefig = interrupted
    with pytest.raises(KeyboardInterrupt):
        plotting.save(figure, tmp_path / "figure")
    assert list(tmp_path.iterdir()) == []


# 6. A failing standard output loses no work.

class FailingOutput:
    def __init__(self, error):
        self.error = error

    def write(self, text):
        raise self.error

    def flush(self):
        # Nothing was written, so nothing is buffered: like a real stream, the flush that
        # starting a worker process makes has nothing to fail on.
        pass


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), BrokenPipeError()],
                         ids=["full", "closed pipe"])
def test_a_failing_output_comes_after_the_work_is_saved(small_data, tmp_path, monkeypatch,
                                                      capsys, error):
    monkeypatch.setattr(sys, "stdout", FailingOutput(error))
    code = cli.main(["experiment", "task2", "task4a", "--epochs", "1", "--results",
                     str(tmp_path), "--quiet"])
    assert code == 1
    assert (tmp_path / "summary.md").read_text().count("## Task") == 2
    assert len(list(tmp_path.glob("task4a-*.json"))) == 1
    err = capsys.readouterr().err
    assert err == "" if isinstance(error, BrokenPipeError) else "No space left" in err


# 7. Data errors are runtime errors: one line, exit 1.

def test_corrupt_data_is_exit_1_not_a_usage_error(tmp_path, capsys):
    for file in backprop.data.MNIST_FILES:
        (tmp_path / file.name).write_bytes(b"\x00\x00\x08\x03 not idx")
    err = one_line_exit(["data", "--data-dir", str(tmp_path), "--no-download"], capsys, 1)
    assert "train-images-idx3-ubyte" in err


def test_a_device_among_the_data_is_exit_1(tmp_path, capsys):
    (tmp_path / "train-images-idx3-ubyte").symlink_to("/dev/zero")
    err = one_line_exit(["data", "--data-dir", str(tmp_path)], capsys, 1)
    assert "not a regular file" in err


# 8. Silent garbage becomes an error.

def test_overflowing_inputs_are_an_error_not_nan():
    X = np.full((2, 5), 1e308)
    # These ReLU units pass the overflow on: inf - inf in the softmax.
    model = MLP([4, 3], input_size=5, activation="relu")
    with pytest.raises(FloatingPointError, match=r"layer 1 overflow float64 on X.*1e\+308"):
        model.predict(X)


def test_cross_entropy_in_float16_is_finite():
    outputs = np.full((10_000, 2), [1.0, 0.0], dtype=np.float16)
    assert np.isfinite(cross_entropy(np.eye(2)[np.ones(10_000, dtype=int)], outputs))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: gradient_check(MLP([3, 2], input_size=3), np.ones((2, 3)), [0, 1],
                                method="random_directions", num_directions=0),
         r"num_directions must be an integer from 1 to 100000, got 0"),
        (lambda: pixel_statistics(np.empty((3, 0))), r"images is empty.*no columns"),
        (lambda: normalize(np.ones((2, 3)), 0.0, 1.0, dtype=np.int32), r"dtype must be float"),
        (lambda: cross_entropy([[-0.5, 1.5]], [[0.5, 0.5]]), r"targets must be distributions"),
        (lambda: cross_entropy([[0.5, 0.6]], [[0.5, 0.5]]), r"targets must be distributions"),
        (lambda: Trainer(MLP([3, 2], input_size=3), shuffle="no"),
         r"shuffle must be True or False, got 'no'"),
    ],
    ids=["no directions", "no pixels", "integer pixels", "negative targets",
         "unnormalised targets", "shuffle 'no'"],
)
def test_silent_garbage_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# 9. Low-level errors become the package's own, naming the argument.

@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: MLP([4, 2], seed=-1), r"seed must be a whole number >= 0, got -1"),
        (lambda: MLP([4, 2], seed=1.5), r"seed must be a whole number >= 0, got 1.5"),
        (lambda: MLP([4, 2], dtype="notadtype"), r"dtype must be float32 or float64"),
        (lambda: MLP([100_000_000, 10]), r"network of 79,500,000,000 weights needs .* GiB"),
        (lambda: Trainer(MLP([4, 2]), learning_rate=10**400), r"learning_rate must be a real"),
        (lambda: Trainer(MLP([4, 2], input_size=3), batch_size=1).fit(
            np.ones((2, 3)), [0, 1], np.ones((2, 3)), [0, 1], on_step=5),
         r"on_step must be callable or None, got int"),
        (lambda: setattr(MLP([4, 2]), "weights", None), r"weights must be a list of 2 matrices"),
        (lambda: one_hot([0, 1], num_classes=2.5), r"num_classes must be a positive integer"),
        (lambda: normalize(np.ones((2, 3)), "a", 1.0), r"mean must be a real number"),
        (lambda: gradient_check(None, np.ones((2, 3)), [0, 1]), r"model must be a backprop.MLP"),
    ],
    ids=["seed -1", "seed 1.5", "no dtype", "huge layer", "lr 10**400", "on_step 5",
         "weights None", "classes 2.5", "mean 'a'", "no model"],
)
def test_bad_arguments_get_the_packages_own_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_bad_epochs_variable_is_named(data, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_EPOCHS", "abc")
    with pytest.raises(ValueError, match=r"BACKPROP_EPOCHS must be a positive whole number"):
        run_experiment("task2", data, tmp_path)


def test_the_idx_reader_raises_only_its_own_error():
    header = bytes([0, 0, 0x08, 255]) + b"\x00\x00\x00\x01" * 255
    with pytest.raises(IDXFormatError, match=r"cannot be an array"):
        parse_idx(header + b"\x07")
    with pytest.raises(IDXFormatError, match=r"not a regular file"):
        read_idx("/dev/zero")


# 12. The command line starts quickly and says its version.

def test_help_does_not_import_matplotlib():
    code = "import sys, backprop.cli; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.stdout.strip() == "False"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"backprop {backprop.__version__}"




# The whole probe, as the closing note tallies it: nothing leaks, passes silently or hangs.

def test_the_hostile_probe_finds_nothing():
    from benchmarks import hostile

    bad = hostile.bad_inputs()
    assert set(bad) <= {"own error", "valid"}
    assert set(hostile.silent_answers()) == {"own error"}
    assert set(hostile.fuzz(300)) <= {"own error", "valid", "returned"}
    assert set(hostile.files()) == {"own error"}
    assert set(hostile.corruptions()) == {"recomputed"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--hidden", "100000000"], r"weights needs .* GiB"),
        (["train", "--seed", "-1"], r"seed must be a whole number >= 0, got -1"),
    ],
    ids=["huge layer", "seed -1"],
)
def test_the_command_line_checks_options_in_one_line(small_data, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err)
