"""A Gradescope autograder: the exercises graded on Gradescope, each a test with its points.

``backprop grade --gradescope DIR`` calls :func:`write_autograder`, which writes what
Gradescope's autograder zip holds (zip ``DIR``'s files and upload them):

- ``setup.sh``, which Gradescope runs once to build its image: it installs Python,
  bubblewrap and this package with its dependencies at the versions that wrote it, then
  makes the package readable by root alone, all but the child's script and the wire it
  speaks, so that an answer running as ``nobody`` cannot read a reference answer even where
  bubblewrap cannot run;
- ``run_autograder``, which Gradescope runs per submission: it grades
  ``/autograder/submission`` (the student's files, as a folder is graded by ``backprop
  grade``) and writes ``/autograder/results/results.json`` (:func:`results`);
- ``autograder.json``, the exercises and their points;
- ``package/``, this package's source.

Gradescope's format (its "Autograder Specifications"): a top-level ``score`` and
``output``, and a test per exercise with ``name``, ``number``, ``score``, ``max_score``,
``status``, ``output`` and ``visibility``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import backprop
from backprop import store
from backprop.exercises import EXERCISES, Feedback, gradebook, grading

DISTRIBUTION = "backprop-textbook"
"""The package's distribution name, whose dependencies the autograder pins."""

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image.
set -euo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet -r /autograder/source/requirements.txt
/autograder/venv/bin/pip install --quiet --no-deps /autograder/source/package
# The reference answers are root's alone: an answer runs as nobody, and may read only the
# child's script and the wire it speaks (the folders above them can be passed, not listed).
site=$(/autograder/venv/bin/python -c \
    'import backprop, pathlib; print(pathlib.Path(backprop.__file__).parent)')
chmod -R go-rwx /autograder/source "$site"
chmod go+x /autograder/source "$site" "$site/exercises"
chmod go+r "$site/exercises/child.py" "$site/exercises/wire.py"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this per submission: it grades /autograder/submission into
# /autograder/results/results.json.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
exec "${BACKPROP_PYTHON:-/autograder/venv/bin/python}" -m backprop.exercises.gradescope \\
    --root "$root" --config "$root/source/autograder.json"
"""


def write_autograder(folder: Path, exercises: Sequence[str],
                     points: Mapping[str, float] | None = None) -> list[Path]:
    """Write the autograder's files into ``folder`` (made if need be); returns them.

    Raises
    ------
    ValueError
        If an exercise is unknown, or ``points`` names an unknown exercise.
    """
    unknown = [name for name in [*exercises, *(points or {})] if name not in EXERCISES]
    if unknown:
        raise ValueError(f"unknown exercise {unknown[0]!r}: the exercises are "
                         f"{', '.join(EXERCISES)}")
    folder.mkdir(parents=True, exist_ok=True)
    config = {"exercises": list(exercises),
              "points": gradebook.points_of(exercises, points)}
    texts = {"setup.sh": SETUP, "run_autograder": RUN,
             "autograder.json": json.dumps(config, indent=2) + "\n",
             "requirements.txt": "".join(f"{line}\n" for line in pinned())}
    written = []
    for name, text in texts.items():
        path = folder / name
        store.write_atomically(path, lambda file, text=text: file.write(text.encode()))
        if name.endswith((".sh", "_autograder")):
            path.chmod(0o755)
        written.append(path)
    package = folder / "package"
    shutil.rmtree(package, ignore_errors=True)
    shutil.copytree(Path(backprop.__file__).parent, package / "backprop",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = '
        '"setuptools.build_meta"\n\n[project]\n'
        f'name = "{DISTRIBUTION}"\nversion = "{backprop.__version__}"\n'
        'requires-python = ">=3.11"\n\n[tool.setuptools.packages.find]\n'
        'include = ["backprop*"]\n')
    return [*written, package]


def pinned() -> list[str]:
    """The package's dependencies at the versions installed here: ``numpy==2.1.3``, ..."""
    lines = []
    for requirement in metadata.requires(DISTRIBUTION) or []:
        if "extra ==" in requirement:
            continue
        name = requirement.split(";")[0].split("[")[0]
        for stop in "<>=!~ ":
            name = name.split(stop)[0]
        lines.append(f"{name}=={metadata.version(name)}")
    return lines


def results(grades: Sequence[gradebook.Grade]) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one student's grades: a test per exercise."""
    tests = [{"name": f"{EXERCISES[row.exercise].title} ({row.exercise})",
              "number": str(index),
              "score": row.points, "max_score": row.max_points,
              "status": "passed" if row.passed else "failed",
              "output": str(Feedback(row.passed, row.message)),
              "visibility": "visible"}
             for index, row in enumerate(grades, start=1)]
    earned = round(sum(row.points for row in grades), 2)
    best = round(sum(row.max_points for row in grades), 2)
    seed = grades[0].seed if grades else None
    return {"score": earned,
            "output": f"{gradebook.number(earned)} of {gradebook.number(best)} points. The "
                      f"inputs of the code exercises were drawn from seed {seed}.",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def run(root: Path, config: Path) -> Path:
    """Grade ``root/submission`` as ``config`` says, into ``root/results/results.json``.

    Bubblewrap is used where it can run; elsewhere the answer runs as ``nobody``, with the
    package readable by root alone (``setup.sh``).
    """
    settings = json.loads(config.read_text())
    submission = root / "submission"
    found = grading.collect([submission])
    grades = grading.grade_all(found, settings["exercises"], jobs=1, sandbox=None,
                               points=settings["points"])
    path = root / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results(grades), indent=2)
    store.write_atomically(path, lambda file: file.write(text.encode()))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m backprop.exercises.gradescope --root /autograder --config FILE``."""
    parser = argparse.ArgumentParser(prog="backprop.exercises.gradescope")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--config", type=Path, required=True)
    arguments = parser.parse_args(argv)
    print(f"Graded into {run(arguments.root, arguments.config)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
