"""The tools teachers already use, run for real: otter-grader and nbgrader call check().

The course files are in tests/teaching/, and the teachers' page shows them from there.
"""

import ast
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_grading import SOFTMAX

from backprop.exercises.catalogue import DEFAULT_POINTS

pytest.importorskip("otter", reason="otter-grader comes with the teacher extra")
pytest.importorskip("nbgrader", reason="nbgrader comes with the teacher extra")

TEACHING = Path(__file__).resolve().parent / "teaching"
POINTS = DEFAULT_POINTS["code"]

# Normalised over the whole batch, not each row: the checker's hint names it.
WHOLE_BATCH = """
import numpy as np


def softmax(z):
    return np.exp(z) / np.exp(z).sum()
"""

ANSWERS = {"right": (SOFTMAX, POINTS), "whole batch": (WHOLE_BATCH, 0)}


def run(*command, cwd):
    """A tool's command, with this interpreter's scripts (alembic, jupyter) first on the path."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PATH": path})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def notebook(path, answer):
    """A student's notebook: one cell with the answer."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(answer.strip())]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_the_teaching_files_give_the_catalogues_points():
    otter = ast.parse((TEACHING / "otter" / "tests" / "softmax.py").read_text())
    assigned = {node.targets[0].id: node.value.value for node in otter.body
                if isinstance(node, ast.Assign) and node.targets[0].id == "points"}
    source = nbformat.read(TEACHING / "nbgrader" / "source" / "backprop" / "softmax.ipynb",
                           as_version=4)
    graded = [cell.metadata.nbgrader["points"] for cell in source.cells
              if cell.metadata.get("nbgrader", {}).get("grade")]
    assert assigned == {"points": POINTS}
    assert graded == [POINTS]


@pytest.fixture(scope="module")
def otter_autograder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("otter")
    shutil.copytree(TEACHING / "otter", folder, dirs_exist_ok=True)
    run(sys.executable, "-m", "otter", "generate", cwd=folder)
    return folder / "autograder.zip"


@pytest.mark.parametrize("answer", ANSWERS)
def test_otter_run_scores_a_notebook_by_check(otter_autograder, tmp_path, answer):
    text, expected = ANSWERS[answer]
    submission = notebook(tmp_path / "softmax.ipynb", text)
    run(sys.executable, "-m", "otter", "run", "-a", str(otter_autograder), "-o", str(tmp_path),
        str(submission), cwd=tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    test, = (test for test in results["tests"] if test["name"] == "softmax")
    assert (test["score"], test["max_score"]) == (expected, POINTS)
    if expected == 0:
        assert "each row must sum to 1 on its own" in test["output"]


def test_nbgrader_autograde_scores_each_student_by_check(tmp_path):
    shutil.copytree(TEACHING / "nbgrader", tmp_path, dirs_exist_ok=True)
    run(sys.executable, "-m", "nbgrader", "generate_assignment", "backprop", cwd=tmp_path)
    released = tmp_path / "release" / "backprop" / "softmax.ipynb"
    students = {"alice": "right", "bob": "whole batch"}
    for student, answer in students.items():
        nb = nbformat.read(released, as_version=4)
        cell, = (cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("solution"))
        cell.source = ANSWERS[answer][0].strip()
        submitted = tmp_path / "submitted" / student / "backprop"
        submitted.mkdir(parents=True)
        nbformat.write(nb, submitted / "softmax.ipynb")
    run(sys.executable, "-m", "nbgrader", "autograde", "backprop", cwd=tmp_path)
    run(sys.executable, "-m", "nbgrader", "export", cwd=tmp_path)
    with open(tmp_path / "grades.csv", newline="") as file:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                  for row in csv.DictReader(file)}
    assert scores == {student: (ANSWERS[answer][1], POINTS)
                      for student, answer in students.items()}
