"""How long ``backprop grade`` takes for a class: every student answers every exercise.

::

    python benchmarks/grading.py [--students 30] [--jobs 2] [--wrong 0.3] [--seed 0]

Builds a class in a temporary folder, half of it Python files and half folders of the
book's exercise notebooks filled in, each answer wrong with probability ``--wrong`` (a code
answer off by a factor, a derivation with a step that does not follow), grades it as
``backprop grade`` does, and prints the wall time against the target: at most 0.15 s an
answer on 2 cores for a class of 30. Exits 1 if a grade is not what the class was built to get.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from backprop.exercises import (
    ANSWER_NAMES,
    CHAPTER_EXERCISES,
    EXERCISES,
    LETTERS,
    grading,
    solution_source,
)
from backprop.parallel import default_jobs

TARGET_PER_ANSWER = 0.15
"""The target, in seconds an answer, for a class of 30 answering every exercise on 2 cores."""

OFF = '''

def _off(value):
    """The right value made wrong: scaled, and shifted."""
    if isinstance(value, (list, tuple)):
        return type(value)(_off(item) for item in value)
    return np.asarray(value) * 1.5 + 0.1
'''


def answer_code(name: str, wrong: bool) -> str:
    """An answer as a student writes it, its name ``answer`` or ``steps``."""
    exercise = EXERCISES[name]
    code = solution_source(name)
    if exercise.kind == "choice" and wrong:
        letter = next(letter for letter in LETTERS if letter != exercise.key())
        return f'answer = "{letter}"\n'
    if exercise.kind == "number" and wrong:
        return 'answer = "-1"\n'
    if exercise.kind == "derivation":
        if wrong:
            steps = list(exercise.solution)
            steps[1] = "0"
            return "steps = " + repr(steps) + "\n"
        return code
    if wrong and exercise.kind == "code":
        code = code.replace("def answer(", "def _right(", 1) + OFF + (
            "\n\ndef answer(*arguments):\n    return _off(_right(*arguments))\n")
    return code


def python_file(answers: dict[str, bool]) -> str:
    """A student's Python file: each answer under its exercise's name."""
    parts = ["import numpy as np\n"]
    for name, wrong in answers.items():
        variable = ANSWER_NAMES[EXERCISES[name].kind]
        parts.append(answer_code(name, wrong) + f"\n{grading.identifier(name)} = {variable}\n")
    return "\n".join(parts)


def notebook(chapter: str, answers: dict[str, bool]) -> str:
    """A chapter's exercise notebook as handed out, its tagged cells filled in."""
    cells = [("import numpy as np\nfrom backprop.exercises import check, show\n", [])]
    for name in CHAPTER_EXERCISES[chapter]:
        cells.append((f'show("{name}")', []))
        variable = ANSWER_NAMES[EXERCISES[name].kind]
        cells.append((answer_code(name, answers[name])
                      + f'\nprint(check("{name}", {variable}))\n', [name]))
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": source, "metadata": {"tags": tags}, "outputs": [],
         "execution_count": None, "id": str(index)}
        for index, (source, tags) in enumerate(cells)]})


def build_class(folder: Path, students: int, wrong: float, seed: int) -> dict:
    """Write the class's submissions; what each answer should get, by (student, exercise)."""
    random = np.random.default_rng(seed)
    expected = {}
    for index in range(students):
        student = f"student{index:02d}"
        answers = {name: bool(random.random() < wrong) for name in EXERCISES}
        expected.update({(student, name): not bad for name, bad in answers.items()})
        if index % 2:
            (folder / f"{student}.py").write_text(python_file(answers))
            continue
        (folder / student).mkdir()
        for chapter in CHAPTER_EXERCISES:
            (folder / student / f"{chapter}.ipynb").write_text(notebook(chapter, answers))
    return expected


def main(argv: list[str] | None = None) -> int:
    """Build a class, grade it, print the time; 1 if a grade is wrong."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=min(2, default_jobs()))
    parser.add_argument("--wrong", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        expected = build_class(folder, arguments.students, arguments.wrong, arguments.seed)
        start = time.perf_counter()
        grades = grading.grade(sorted(folder.iterdir()), jobs=arguments.jobs, progress=True)
        seconds = time.perf_counter() - start
    misgraded = [row for row in grades if row.passed != expected[row.student, row.exercise]]
    answers = len(grades)
    print(f"{arguments.students} students x {len(EXERCISES)} exercises = {answers} answers, "
          f"{sum(row.passed for row in grades)} passed, graded in {seconds:.1f} s on "
          f"{arguments.jobs} workers ({seconds / answers:.3f} s an answer); target for 30 "
          f"students on 2 cores: {TARGET_PER_ANSWER:.2f} s an answer.")
    for row in misgraded:
        print(f"misgraded: {row.student} {row.exercise}: {row.message.splitlines()[0]}")
    return 1 if misgraded else 0


if __name__ == "__main__":
    sys.exit(main())
