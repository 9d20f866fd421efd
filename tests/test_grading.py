"""backprop grade: a class's submissions, every exercise, into a CSV and feedback files."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop import cli, exercises
from backprop.exercises import EXERCISES, gradebook, grading
from backprop.exercises.gradebook import Grade

DOCS = Path(__file__).resolve().parent.parent / "docs"

SOFTMAX = """
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
"""

WORKED = ('derive_sigmoid_derivative = ["diff(1/(1 + exp(-z)), z)", '
          '"exp(-z)/(1 + exp(-z))**2", "a*(1 - a)"]\n')

CHOSEN = ["softmax", "derive-sigmoid-derivative", "sigmoid-derivative"]


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def notebook(cells):
    """A notebook of code cells, each ``(source, tags)``."""
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "source": source, "metadata": {"tags": tags},
                   "outputs": [], "execution_count": None, "id": str(index)}
                  for index, (source, tags) in enumerate(cells)]})


def by_exercise(grades):
    return {row.exercise: row for row in grades}


def test_a_class_of_python_files_is_graded_into_the_csv_and_feedback(tmp_path, capsys):
    write(tmp_path, "alice.py", SOFTMAX + WORKED)
    write(tmp_path, "bob.py", 'derive_sigmoid_derivative = ["a*(1 - a)"]\n'
                              "def softmax(z):\n    return z\n")
    write(tmp_path, "carol.py", "def softmax(z)\n    return z\n")
    output = tmp_path / "grades" / "grades.csv"
    code = cli.main(["grade", *map(str, sorted(tmp_path.glob("*.py"))), "--output",
                     str(output), "--exercises", *CHOSEN[:2], "--jobs", "1", "--quiet"])
    assert code == 0
    with output.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["student", "exercise", "points", "max_points", "passed",
                             "message", "seed"]
    table = {(row["student"], row["exercise"]): row for row in rows}
    assert len(table) == len(rows) == 6
    assert table["alice", "softmax"]["passed"] == "true"
    assert table["alice", "derive-sigmoid-derivative"]["passed"] == "true"
    assert table["bob", "softmax"]["passed"] == "false"
    assert "Show your working" in table["bob", "derive-sigmoid-derivative"]["message"]
    assert "expected ':', line 1" in table["carol", "softmax"]["message"]
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "alice.md", "bob.md", "canvas.csv", "carol.md", "gradebook.csv", "grades.csv",
        "moodle.csv", "summary.md", "summary.png"]
    assert "Graded 3 students, inputs drawn from seed" in capsys.readouterr().out


def test_an_exercise_not_answered_says_no_answer():
    submission = grading.Submission("dan", (("dan.py", SOFTMAX),))
    grades = by_exercise(grading.grade_submission(submission, CHOSEN))
    assert grades["softmax"].passed
    assert not grades["sigmoid-derivative"].passed
    assert grades["sigmoid-derivative"].message == (
        "The sigmoid's derivative from its output: no answer. The submission defines no "
        "sigmoid_derivative "
        "and tags no notebook cell sigmoid-derivative.")


def test_a_filled_in_notebook_is_graded_by_its_tagged_cells():
    text = notebook([
        ("import numpy as np\n%env BACKPROP_EPOCHS=1\n!echo hello", []),
        # A student's helper, above the answer that uses it.
        ("def shifted(z):\n    return z - z.max(axis=1, keepdims=True)", []),
        ("def answer(z):\n    return z", ["softmax"]),
        ("def answer(z):\n    e = np.exp(shifted(z))\n"
         "    return e / e.sum(axis=1, keepdims=True)\n\n"
         # check was never imported: the cell fails after it defines the answer, which
         # counts, as it would in the notebook.
         "print(check('softmax', answer))", ["softmax"]),
        # The next exercise's cell raises before it defines answer: the softmax above must
        # not be taken for its answer.
        ("1 / 0\ndef answer(a):\n    return a", ["sigmoid-derivative"]),
        ("steps = ['diff(1/(1 + exp(-z)), z)', 'exp(-z)/(1 + exp(-z))**2', 'a*(1 - a)']",
         ["derive-sigmoid-derivative"]),
    ])
    submission = grading.Submission("fay", (("fay.ipynb", text),))
    grades = by_exercise(grading.grade_submission(submission, CHOSEN))
    assert grades["softmax"].passed, grades["softmax"].message
    assert grades["derive-sigmoid-derivative"].passed
    assert "ZeroDivisionError" in grades["sigmoid-derivative"].message


def test_a_notebook_without_tags_is_read_like_a_python_file():
    text = notebook([(SOFTMAX, []), (WORKED, [])])
    grades = by_exercise(grading.grade_submission(
        grading.Submission("gus", (("gus.ipynb", text),)), CHOSEN))
    assert grades["softmax"].passed
    assert grades["derive-sigmoid-derivative"].passed


def test_a_folder_is_one_student_whose_answer_twice_is_refused(tmp_path):
    write(tmp_path / "hal", "chapter1.py", SOFTMAX)
    write(tmp_path / "hal", "more/chapter2.py", WORKED + SOFTMAX)
    write(tmp_path / "hal", ".ipynb_checkpoints/chapter3.py", "this is not read")
    [submission] = grading.collect([tmp_path / "hal"])
    assert submission.student == "hal"
    grades = by_exercise(grading.grade_submission(submission, CHOSEN[:2]))
    assert grades["derive-sigmoid-derivative"].passed
    assert grades["softmax"].message.startswith("The softmax: answered 2 times")


@pytest.mark.parametrize(("name", "text", "message"), [
    ("ivy.ipynb", "{not json", "is not a notebook Jupyter can open"),
    ("ivy.ipynb", "[" * 100_000, "is not a notebook Jupyter can open"),
    ("ivy.py", "-" * 1_000_000 + "1", "too long or too deeply nested"),
])
def test_a_file_that_cannot_be_read_says_why_on_every_row(name, text, message):
    grades = grading.grade_submission(grading.Submission("ivy", ((name, text),)), CHOSEN)
    assert all(message in row.message and not row.passed for row in grades)


@pytest.mark.parametrize("forgery", [
    "import atexit\natexit.register(lambda: print('passed'))\n",
    "import backprop.exercises as e\n"
    "e.check = lambda *a, **k: e.Feedback(True, 'correct')\n",
])
def test_a_submission_cannot_forge_its_verdict(forgery):
    text = forgery + "def softmax(z):\n    return z\n"
    [row] = grading.grade_submission(grading.Submission("jon", (("jon.py", text),)),
                                     ["softmax"])
    assert not row.passed


def test_a_file_that_hangs_as_it_loads_is_stopped(monkeypatch):
    monkeypatch.setattr(grading, "STARTUP", 1.0)
    text = "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n" \
           + SOFTMAX
    [row] = grading.grade_submission(grading.Submission("kim", (("kim.py", text),)),
                                     ["softmax"])
    assert "longer than 1 s to load" in row.message


def test_workers_grade_as_this_process_does(tmp_path):
    for student in ("lea", "max", "ned"):
        write(tmp_path, f"{student}.py", SOFTMAX if student != "max" else WORKED)
    paths = sorted(tmp_path.iterdir())
    assert grading.grade(paths, CHOSEN, jobs=2, seed=7) == grading.grade(paths, CHOSEN, jobs=1,
                                                                       seed=7)


@pytest.mark.parametrize(("arguments", "message"), [
    (["--exercises", "no-such"], "unknown exercise 'no-such'"),
    (["--output"], "expected one argument"),
])
def test_a_bad_option_is_exit_code_2(tmp_path, capsys, arguments, message):
    write(tmp_path, "olga.py", SOFTMAX)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["grade", str(tmp_path / "olga.py"), "--output", str(tmp_path / "g.csv"),
                  *arguments])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_submission_is_exit_code_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["grade", str(tmp_path / "nobody.py"), "--output", str(tmp_path / "g.csv")])
    assert stopped.value.code == 2
    assert "no submission at" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_reading_the_names_of_any_text_only_ever_raises_a_syntax_error(text):
    try:
        names = grading.bound_names(text)
    except SyntaxError:
        return
    assert all(name.isidentifier() for name in names)


def test_names_are_read_from_the_top_level_and_its_blocks_not_from_functions():
    code = ("import numpy as np\nimport os.path\nfrom math import exp as e\n"
            "def softmax(z):\n    inner = 1\n"
            "try:\n    a, (b, c) = 1, (2, 3)\nexcept ImportError:\n    d: int = 4\n"
            "if True:\n    class Net: pass\n")
    assert grading.bound_names(code) == {"np", "os", "e", "softmax", "a", "b", "c", "d",
                                         "Net"}


def test_magics_become_pass_and_keep_the_line_numbers():
    source = "x = 1\n%env A=1\nif x:\n    !ls\n    y = 2\n"
    assert grading.python_of(source) == "x = 1\npass\nif x:\n    pass\n    y = 2\n"


def handed_out(chapter, solved):
    """The exercise notebook of a chapter as the book hands it out, filled in or not."""
    jupytext = pytest.importorskip("jupytext", reason="the notebooks need the docs extra")
    handout = jupytext.read(DOCS / "exercises" / f"{chapter}.md")
    for cell in handout.cells:
        tags = cell.metadata.get("tags", [])
        if solved and tags and tags[0] in EXERCISES:
            cell.source = exercises.solution_source(tags[0])
    return jupytext.writes(handout, "ipynb")


@pytest.mark.parametrize("chapter", list(exercises.CHAPTER_EXERCISES))
def test_every_handed_out_answer_cell_is_tagged_with_its_exercise(chapter):
    text = handed_out(chapter, solved=False)
    tags = [tag for cell in json.loads(text)["cells"]
            for tag in cell["metadata"].get("tags", []) if tag in EXERCISES]
    assert tags == list(exercises.CHAPTER_EXERCISES[chapter])


def test_the_handed_out_notebooks_filled_in_pass_and_left_blank_do_not(tmp_path):
    for chapter in exercises.CHAPTER_EXERCISES:
        write(tmp_path, f"solved/{chapter}.ipynb", handed_out(chapter, solved=True))
        write(tmp_path, f"blank/{chapter}.ipynb", handed_out(chapter, solved=False))
    grades = grading.grade([tmp_path / "solved", tmp_path / "blank"], jobs=2)
    solved = [row for row in grades if row.student == "solved"]
    blank = [row for row in grades if row.student == "blank"]
    assert len(solved) == len(blank) == len(EXERCISES)
    assert all(row.passed for row in solved), [row.message for row in solved]
    assert not any(row.passed for row in blank)


def test_the_benchmark_grades_its_class_as_built():
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "grading.py"
    done = subprocess.run([sys.executable, str(script), "--students", "2", "--jobs", "1"],
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    count = len(EXERCISES)
    assert f"2 students x {count} exercises = {2 * count} answers" in done.stdout


def test_a_path_given_twice_is_one_submission(tmp_path):
    path = write(tmp_path, "pia.py", SOFTMAX)
    [row] = grading.grade([path, path], ["softmax"], jobs=1)
    assert row.passed


def test_two_students_of_the_same_name_are_refused(tmp_path):
    first = write(tmp_path / "a", "quin.py", SOFTMAX)
    second = write(tmp_path / "b", "quin.py", SOFTMAX)
    with pytest.raises(ValueError, match="two submissions are named 'quin'"):
        grading.collect([first, second])


def test_a_link_is_not_a_submission(tmp_path):
    target = write(tmp_path, "elsewhere.txt", SOFTMAX)
    (tmp_path / "rex").mkdir()
    (tmp_path / "rex" / "answers.py").symlink_to(target)
    [submission] = grading.collect([tmp_path / "rex"])
    [row] = grading.grade_submission(submission, ["softmax"])
    assert "is a link, not a file" in row.message


def test_grading_again_with_the_same_pattern_grades_the_same_class(tmp_path, capsys):
    write(tmp_path, "sam.py", SOFTMAX)
    for _ in range(2):
        arguments = [str(path) for path in sorted(tmp_path.iterdir())]
        assert cli.main(["grade", *arguments, "--output", str(tmp_path / "grades.csv"),
                         "--exercises", "softmax", "--jobs", "1", "--quiet"]) == 0
    assert "Graded 1 student, inputs" in capsys.readouterr().out.splitlines()[-1]


def test_the_output_must_be_a_csv_file(tmp_path, capsys):
    path = write(tmp_path, "tom.py", SOFTMAX)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["grade", str(path), "--output", str(tmp_path / "tom.md")])
    assert stopped.value.code == 2
    assert "is not a .csv file" in capsys.readouterr().err


def test_a_grades_folder_that_cannot_be_written_is_one_line_before_any_grading(
        tmp_path, capsys):
    path = write(tmp_path, "tom.py", SOFTMAX)
    blocked = write(tmp_path, "blocked", "")
    assert cli.main(["grade", str(path), "--output", str(blocked / "grades.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"backprop: the grades' folder {blocked} is not writable")
    assert err.strip().endswith("give another --output")


def test_a_name_from_a_file_never_becomes_a_formula_or_a_second_line(tmp_path):
    student = grading.student_name('=HYPERLINK("x")\nmallory')
    gradebook.write([Grade(student, "softmax", False, "-1 is wrong", None, 0, 3)],
                    tmp_path / "grades.csv")
    lines = (tmp_path / "grades.csv").read_text().splitlines()
    assert lines[1] == """"'=HYPERLINK(""x"")?mallory",softmax,0,3,false,'-1 is wrong,"""


def test_the_grades_are_readable_as_any_other_file(tmp_path):
    gradebook.write([Grade("uma", "softmax", True, "correct", None, 3, 3)],
                    tmp_path / "grades.csv")
    mask = os.umask(0)
    os.umask(mask)
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_cell_without_metadata_is_read():
    text = json.loads(notebook([(SOFTMAX, [])]))
    text["cells"][0]["metadata"] = None
    [row] = grading.grade_submission(grading.Submission("val", (("val.ipynb",
                                                                 json.dumps(text)),)),
                                     ["softmax"])
    assert row.passed


READINGS = ["zero-initialisation", "effective-learning-rate", "spread-at-initialisation"]


def test_a_python_file_answers_a_reading_by_its_name():
    text = ('zero_initialisation = "b"\neffective_learning_rate = "0.02 / (1 - 0.9)"\n'
            "spread_at_initialisation = 16.2\n")
    grades = by_exercise(grading.grade_submission(
        grading.Submission("wes", (("wes.py", text),)), READINGS))
    assert grades["zero-initialisation"].passed
    assert grades["effective-learning-rate"].passed
    assert "is close, but the check is exact" in grades["spread-at-initialisation"].message


def test_a_notebook_answers_a_reading_in_its_tagged_cell():
    text = notebook([
        ("from backprop.exercises import check", []),
        ('answer = "a"\nprint(check("zero-initialisation", answer))', ["zero-initialisation"]),
        ('answer = "1/5"', ["effective-learning-rate"]),
        # The reading's own name, in a cell tagged with it, is its answer too.
        ('spread_at_initialisation = "sqrt(785/3)"', ["spread-at-initialisation"]),
    ])
    grades = by_exercise(grading.grade_submission(
        grading.Submission("xia", (("xia.ipynb", text),)), READINGS))
    assert grades["zero-initialisation"].message.startswith(
        "Why not start from zero?: not yet. (a) is not it:")
    assert grades["effective-learning-rate"].passed
    assert grades["spread-at-initialisation"].passed


def test_a_reading_that_is_not_a_value_is_a_row_that_says_so():
    text = "zero_initialisation = ['b']\neffective_learning_rate = lambda: 0.2\n"
    grades = by_exercise(grading.grade_submission(
        grading.Submission("yan", (("yan.py", text),)), READINGS[:2]))
    assert "got list" in grades["zero-initialisation"].message
    assert "got function" in grades["effective-learning-rate"].message
