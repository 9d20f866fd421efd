"""Grading the way teachers grade: points, a gradebook, a course site's files, a regrade."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from test_grading import SOFTMAX, WORKED

from backprop import cli
from backprop.exercises import EXERCISES, Feedback, check, gradebook, gradescope
from backprop.exercises.catalogue import DEFAULT_POINTS
from backprop.exercises.gradebook import Grade

# Right but for the overflow of e^z at extreme logits: two thirds of the points.
UNSHIFTED_SOFTMAX = ("import numpy as np\n\ndef softmax(z):\n"
                     "    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n")
CHOSEN = ["softmax", "derive-sigmoid-derivative", "zero-initialisation"]
POINTS = "[points]\nsoftmax = 5\nderive-sigmoid-derivative = 4\n"


def rows(path):
    with path.open(newline="") as file:
        return list(csv.reader(file))


@pytest.fixture
def graded(tmp_path):
    """A class of three graded with a points file: what ``grade`` wrote, and where."""
    (tmp_path / "ada.py").write_text(SOFTMAX + WORKED + 'zero_initialisation = "b"\n')
    (tmp_path / "bo.py").write_text(UNSHIFTED_SOFTMAX + WORKED)
    (tmp_path / "cy.py").write_text("def softmax(z:\n")
    (tmp_path / "points.toml").write_text(POINTS)
    output = tmp_path / "grades" / "grades.csv"
    code = cli.main(["grade", *(str(tmp_path / f"{name}.py") for name in ("ada", "bo", "cy")),
                     "--output", str(output), "--exercises", *CHOSEN, "--points",
                     str(tmp_path / "points.toml"), "--seed", "7", "--jobs", "1", "--quiet"])
    assert code == 0
    return output


def test_every_exercise_has_its_kind_s_points_unless_a_teacher_gives_others(tmp_path):
    path = tmp_path / "points.toml"
    path.write_text(POINTS)
    points = gradebook.points_of(list(EXERCISES), gradebook.read_points(path))
    assert points["softmax"] == 5
    assert points["derive-sigmoid-derivative"] == 4
    assert all(points[name] == DEFAULT_POINTS[exercise.kind]
               for name, exercise in EXERCISES.items() if name not in ("softmax",
                                                                       "derive-sigmoid-derivative"))


@pytest.mark.parametrize(("text", "message"), [
    ("[points\n", "is not TOML"),
    ("softmax = 3\n", "has no [points] table"),
    ("[points]\nsoftmaks = 3\n", "names 'softmaks', which is not an exercise"),
    ("[points]\nsoftmax = -1\n", "gives softmax -1 points"),
    ("[points]\nsoftmax = true\n", "gives softmax True points"),
], ids=["not TOML", "no table", "unknown exercise", "negative", "not a number"])
def test_a_bad_points_file_is_exit_code_2_naming_the_problem(tmp_path, capsys, text, message):
    (tmp_path / "points.toml").write_text(text)
    (tmp_path / "ada.py").write_text(SOFTMAX)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["grade", str(tmp_path / "ada.py"), "--output", str(tmp_path / "g.csv"),
                  "--points", str(tmp_path / "points.toml")])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_the_sheet_gives_points_and_a_message_that_stands_alone(graded):
    header, *body = rows(graded)
    assert header == list(gradebook.SHEET)
    table = {(row[0], row[1]): row for row in body}
    assert table["ada", "softmax"][2:5] == ["5", "5", "true"]
    assert table["bo", "softmax"][2:5] == ["3.33", "5", "false"]
    assert table["bo", "zero-initialisation"][2:4] == ["0", "1"]
    for row in body:
        assert row[5].endswith("."), row[5]
        assert "\n" not in row[5]
        assert row[6] == "7"


def test_a_sentence_ends_where_its_sense_does_and_keeps_the_hint_and_the_credit():
    message = ("Softmax: not yet; the values differ, on this input:\n  z = [[1. 2.]]\n"
               "it should return\n  [[0.3 0.7]]\nHint: subtract the row's maximum.\n"
               "Credit: 1/3 of the points, for the right shapes.")
    assert gradebook.sentence(message) == (
        "Softmax: not yet; the values differ. Hint: subtract the row's maximum. Credit: 1/3 "
        "of the points, for the right shapes.")


@pytest.mark.parametrize(("answer", "credit"), [
    (lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), 2 / 3),
    (lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(), 1 / 3),
    (lambda z: z[:, :1], 0),
    (lambda z: z.shape[5], 0),
], ids=["overflows at extreme logits", "wrong values", "wrong shape", "raises"])
def test_a_wrong_code_answer_earns_the_cases_it_gets_right(answer, credit):
    feedback = check("softmax", answer)
    assert not feedback.passed
    assert feedback.share == pytest.approx(credit)
    assert ("Credit: " in feedback.message) == (credit > 0)


def test_the_cases_of_a_code_exercise_share_all_its_points():
    for exercise in EXERCISES.values():
        shares = [case.share for case in exercise.cases]
        assert sum(shares) == pytest.approx(1 if exercise.kind == "code" else 0)


def test_the_gradebook_has_a_column_per_exercise_and_totals_that_match_the_points(graded):
    header, *body = rows(graded.parent / "gradebook.csv")
    assert header == ["student", *CHOSEN, "total", "max", "percent", "seed"]
    sheet = rows(graded)[1:]
    for row in body:
        earned = sum(float(line[2]) for line in sheet if line[0] == row[0])
        assert float(row[4]) == earned
        assert row[5] == "10"
        assert float(row[6]) == pytest.approx(100 * earned / 10, abs=0.05)
    assert [row[0] for row in body] == ["ada", "bo", "cy"]
    assert body[0][1:5] == ["5", "4", "1", "10"]


def test_canvas_s_import_has_its_columns_and_points_possible(graded):
    header, possible, *body = rows(graded.parent / "canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                      gradebook.ASSIGNMENT]
    assert possible == ["Points Possible", "", "", "", "", "10"]
    assert [(row[0], row[3], row[5]) for row in body] == [
        ("ada", "ada", "10"), ("bo", "bo", "7.33"), ("cy", "cy", "0")]


def test_moodle_s_import_has_a_username_and_a_column_per_exercise(graded):
    header, *body = rows(graded.parent / "moodle.csv")
    assert header == ["Username", *CHOSEN, "Total"]
    assert body[1] == ["bo", "3.33", "4", "0", "7.33"]


def test_the_summary_gives_the_class_at_a_glance(graded, capsys):
    summary = (graded.parent / "summary.md").read_text()
    assert "3 students graded, out of 10 points: mean 5.78, median 7.33." in summary
    assert "| softmax | 33% |" in summary
    assert "| derive-sigmoid-derivative | 67% |" in summary
    assert (graded.parent / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_the_most_common_hint_is_counted_over_the_students():
    hint = "Hint: subtract the row's maximum."
    grades = [Grade(name, "softmax", False, f"Softmax: not yet.\n{hint}", 1, 0, 3)
              for name in ("a", "b")] + [Grade("c", "softmax", True, "ok", 1, 3, 3)]
    assert "| softmax | 33% | subtract the row's maximum. (2 students) |" in (
        gradebook.summary_markdown(grades))


def test_grading_twice_with_the_same_seed_writes_the_same_bytes(graded, tmp_path):
    first = {path.name: path.read_bytes() for path in graded.parent.iterdir()}
    again = tmp_path / "again" / "grades.csv"
    assert cli.main(["grade", *(str(tmp_path / f"{name}.py") for name in ("ada", "bo", "cy")),
                     "--output", str(again), "--exercises", *CHOSEN, "--points",
                     str(tmp_path / "points.toml"), "--seed", "7", "--jobs", "1",
                     "--quiet"]) == 0
    assert {path.name: path.read_bytes() for path in again.parent.iterdir()} == first


def test_a_regrade_replaces_one_student_and_keeps_the_others(graded, tmp_path):
    before = rows(graded)
    kept = (graded.parent / "ada.md").read_text()
    late = tmp_path / "late" / "bo.py"
    late.parent.mkdir()
    late.write_text(SOFTMAX + WORKED)
    assert cli.main(["grade", str(late), "--output", str(graded), "--exercises", *CHOSEN,
                     "--points", str(tmp_path / "points.toml"), "--update", "--jobs", "1",
                     "--quiet"]) == 0
    after = rows(graded)
    assert [row for row in after if row[0] != "bo"] == [row for row in before if row[0] != "bo"]
    assert [row[2] for row in after if row[0] == "bo"] == ["5", "4", "0"]
    assert (graded.parent / "ada.md").read_text() == kept
    assert "9 of 10 points" in (graded.parent / "bo.md").read_text()
    assert [row[0] for row in rows(graded.parent / "gradebook.csv")[1:]] == ["ada", "bo", "cy"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--exercises", "softmax"], "the sheet grades softmax, derive-sigmoid-derivative"),
    (["--exercises", *CHOSEN], "the sheet gives softmax 5 points and this run 3"),
], ids=["other exercises", "other points"])
def test_a_regrade_of_other_exercises_or_points_is_refused(graded, tmp_path, capsys, extra,
                                                           message):
    before = graded.read_bytes()
    with pytest.raises(SystemExit) as stopped:
        cli.main(["grade", str(tmp_path / "bo.py"), "--output", str(graded), "--update",
                  *extra])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert graded.read_bytes() == before


def test_feedback_of_a_student_no_longer_graded_is_not_left_behind(graded, tmp_path):
    assert cli.main(["grade", str(tmp_path / "ada.py"), "--output", str(graded),
                     "--exercises", *CHOSEN, "--jobs", "1", "--quiet"]) == 0
    assert sorted(path.name for path in graded.parent.glob("*.md")) == ["ada.md",
                                                                        "summary.md"]


def test_a_sheet_read_back_is_the_sheet_written(graded):
    grades = gradebook.read_sheet(graded)
    assert gradebook.sheet_csv(grades) == graded.read_text()


def test_gradescope_s_autograder_grades_a_submission_into_its_results(tmp_path):
    root = tmp_path / "autograder"
    (tmp_path / "points.toml").write_text(POINTS)
    assert cli.main(["grade", "--gradescope", str(root / "source"), "--exercises", *CHOSEN,
                     "--points", str(tmp_path / "points.toml")]) == 0
    for script in ("setup.sh", "run_autograder"):
        assert os.access(root / "source" / script, os.X_OK)
        assert subprocess.run(["bash", "-n", str(root / "source" / script)]).returncode == 0
    (root / "submission").mkdir()
    (root / "submission" / "answers.py").write_text(UNSHIFTED_SOFTMAX + WORKED)
    done = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root),
                               "BACKPROP_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 7.33
    assert [test["name"] for test in results["tests"]] == [
        f"{EXERCISES[name].title} ({name})" for name in CHOSEN]
    for test, (score, most) in zip(results["tests"], [(3.33, 5), (4, 4), (0, 1)],
                                   strict=True):
        assert (test["score"], test["max_score"]) == (score, most)
        assert test["visibility"] == "visible"
        assert test["status"] == ("passed" if score == most else "failed")
        assert test["output"]


def test_the_autograder_pins_the_versions_that_wrote_it(tmp_path):
    written = gradescope.write_autograder(tmp_path, ["softmax"])
    requirements = (tmp_path / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("numpy==") for line in requirements)
    assert (tmp_path / "package" / "backprop" / "exercises" / "child.py").is_file()
    assert tmp_path / "package" in written


def test_gradescope_shows_each_exercise_s_message_in_full():
    message = "Softmax: not yet; the values differ, on this input:\n  z = [[1.]]"
    [test] = gradescope.results([Grade("s", "softmax", False, message, 3, 0, 3)])["tests"]
    assert test["output"] == str(Feedback(False, message))


def test_gradescope_with_submissions_is_exit_code_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["grade", str(tmp_path), "--gradescope", str(tmp_path / "out")])
    assert stopped.value.code == 2
    assert "grades nothing" in capsys.readouterr().err

