import os
import re

import pytest
from conftest import ten_class_dataset

from backprop import cli


@pytest.fixture
def small_data(monkeypatch):
    monkeypatch.setattr(cli, "assignment_data", lambda **kwargs: ten_class_dataset())


def test_experiment_writes_figures_and_summary(small_data, tmp_path, capsys):
    assert cli.main(["experiment", "task2", "task4a", "--epochs", "1", "--results",
                     str(tmp_path), "--quiet"]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "## Task 2: one hidden layer of 64 sigmoid units" in summary
    assert "| task4a | 32 hidden units |" in summary
    for name in ("task2-training", "task2-gradients", "task4a-training", "task4a-gradients"):
        assert (tmp_path / "figures" / f"{name}.png").exists()
        assert (tmp_path / "figures" / f"{name}.svg").exists()
        assert f"figures/{name}.png" in summary
    assert "| task2 |" in capsys.readouterr().out


def test_no_progress_bar_off_a_terminal(small_data, tmp_path, capsys):
    cli.main(["experiment", "task2", "--epochs", "1", "--results", str(tmp_path)])
    assert capsys.readouterr().err == ""


def test_train_prints_its_figures(small_data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--hidden", "16", "8", "--activation", "improved_sigmoid",
                     "--init", "fan_in", "--momentum", "0.9", "--learning-rate", "0.02",
                     "--epochs", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("784-16-8-10, improved_sigmoid, fan_in init\n"
                          "learning rate 0.02, momentum 0.9, batch 32\n")
    assert max(map(len, out.splitlines())) <= 80
    assert re.search(r"^  validation accuracy +\d+\.\d\d%$", out, re.MULTILINE)
    assert len(list((tmp_path / "results").glob("train-*.json"))) == 1
    # The same figures as the summary's table, from the store, with --table.
    assert cli.main(["train", "--hidden", "16", "8", "--activation", "improved_sigmoid",
                     "--init", "fan_in", "--momentum", "0.9", "--learning-rate", "0.02",
                     "--epochs", "2", "--quiet", "--table"]) == 0
    assert "| train | backprop train |" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["experiment", "task9"], "unknown experiment 'task9'"),
        (["experiment", "task2", "--epochs", "0"], "argument --epochs: 0 is not positive"),
        (["experiment", "task2", "--epochs", "x"], "'x' is not a whole number"),
        (["train", "--activation", "tanh"], "argument --activation: invalid choice"),
        (["train", "--momentum", "1.5"], "momentum must be a real number in [0, 1), got 1.5"),
        (["train", "--learning-rate", "-1"],
         "learning_rate must be a real number in (0, inf), got -1.0"),
        (["fly"], "argument command: invalid choice: 'fly'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(small_data, tmp_path, monkeypatch, capsys, argv,
                                             message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_data_reports_missing_files(tmp_path, capsys):
    assert cli.main(["data", "--data-dir", str(tmp_path), "--no-download"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"backprop: MNIST is missing from {tmp_path} (all four files")
    assert "Downloading was off." in err
    assert "BACKPROP_DATA_DIR" in err
    assert len(err.splitlines()) <= 5


@pytest.mark.skipif(not os.environ.get("BACKPROP_DATA_DIR"),
                    reason="set BACKPROP_DATA_DIR to a directory with the MNIST files")
def test_data_verifies_the_real_files(capsys):
    assert cli.main(["data", "--no-download"]) == 0
    assert capsys.readouterr().out.count("verified") == 4


def test_book_needs_its_sources(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["book", "--source", str(tmp_path / "nowhere")])
    assert exit_.value.code == 2
    assert "no book in" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["", "experiment", "claims", "train", "data", "book",
                                     "exercises", "check", "grade"])
def test_help_is_plain_text(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command.split(), "--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    assert "usage: backprop" in shown
    assert re.search(r"``|:\w+:`|\*\*", shown) is None, shown


def test_book_pdf_without_tex_says_what_to_install_before_any_work(monkeypatch, capsys):
    from backprop import book, store

    monkeypatch.setattr(book, "missing_tex", lambda: ["xelatex", "latexmk"])
    # The first step of the work, which must not be reached.
    monkeypatch.setattr(store, "results_directory", lambda: pytest.fail("the work started"))
    assert cli.main(["book", "--pdf"]) == 1
    err = capsys.readouterr().err
    assert "the PDF edition needs xelatex and latexmk" in err
    assert "apt-get install texlive-xetex" in err
