"""Grading a class: every student's answers to every exercise, judged and given points.

A submission is a student's file or folder, the student named by its stem:

- a Python file that defines, for each exercise it answers, a name made of the exercise's
  with ``_`` for ``-``: a function for code (``def sigmoid_derivative(a)``), a list of steps
  for a derivation (``derive_sigmoid_derivative = [...]``), a value for a choice or a number
  (``zero_initialisation = "b"``);
- an exercise notebook as the book hands it out, filled in: the answer to an exercise is the
  last code cell tagged with the exercise's name (the handed-out cells are), run after the
  cells above it, and defines ``answer`` or ``steps`` as handed out (or the exercise's own
  name). A cell it does not tag can answer by name, as a Python file does;
- a folder holding several of these, in it or in its sub-folders.

Files are read here and never run here: each answer runs in a child process of its own, with
limits (:func:`backprop.exercises.check_source`), inside bubblewrap, as an unprivileged user
where the grader is root, and is judged by the process that grades. Without bubblewrap an
answer could read the teacher's files and the other submissions and signal the grader, so a
grading run refuses to start unless told ``sandbox=False`` (``--no-sandbox``).

Every grading run draws its code answers' inputs from a fresh seed (recorded in each
:class:`~backprop.exercises.gradebook.Grade`), so that no answer can know them in advance;
the same seed draws the same inputs again. An exercise a submission does not answer,
answers twice, or cannot run is a row that says so, never a crash. Students are graded in
parallel by the package's own sweep machinery (:func:`backprop.parallel.compute`), and
:mod:`backprop.exercises.gradebook` writes the grades as a teacher's files.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from backprop import parallel
from backprop.exercises import ANSWER_NAMES, EXERCISES, Feedback, check_source
from backprop.exercises.code import STARTUP
from backprop.exercises.gradebook import Grade, judged, points_of
from backprop.exercises.runner import MAX_CODE, Launcher, bubblewrap, read_code
from backprop.progress import bar

MAX_NOTEBOOK = 64 * 2**20
"""The largest notebook read, in bytes: outputs (figures above all) make notebooks large."""

SUFFIXES = (".py", ".ipynb")
"""The files a submission's folder is searched for."""

NO_ANSWER = "no answer"
"""The message of an exercise a submission does not answer."""


@dataclass(frozen=True)
class Submission:
    """A student's files, read: ``(name, text)`` pairs, and the files that could not be read."""

    student: str
    files: tuple[tuple[str, str], ...]
    unreadable: tuple[str, ...] = ()


NO_SANDBOX = ("bubblewrap (Debian's bwrap) cannot make a sandbox here, and without it every "
              "answer runs with your rights: it can read your files and the other students' "
              "submissions, and signal or stop the grading. Install bubblewrap (apt-get "
              "install bubblewrap), or grade without a sandbox at that risk (--no-sandbox; "
              "sandbox=False)")
"""Why a grading run without bubblewrap refuses to start unless told otherwise."""


@dataclass(frozen=True)
class Run:
    """What every worker of a grading run shares: exercises, points, seed and sandbox."""

    exercises: tuple[str, ...]
    seed: int | None
    sandbox: bool | None
    points: tuple[float, ...] = ()


def exercise_seed(seed: int | None, exercise: str) -> int | None:
    """The seed of one exercise's inputs in a run of ``seed``: the same for every student."""
    if seed is None:
        return None
    digest = hashlib.sha256(f"{seed}:{exercise}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Answer:
    """Where a submission answers an exercise: the code to run, and the name it defines."""

    where: str
    cells: tuple[tuple[str, str], ...]
    name: str
    fresh: bool


def identifier(exercise: str) -> str:
    """The name a Python file gives its answer to ``exercise``: ``-`` becomes ``_``."""
    return exercise.replace("-", "_")


def collect(
    paths: Iterable[str | os.PathLike[str]], ignore: str | os.PathLike[str] | None = None
) -> list[Submission]:
    """The submissions at ``paths``, read, one per student, in the students' order.

    A file is its stem's student, a folder its name's. A path given twice counts once; a
    link is not followed (it is not the student's own file), and the folder ``ignore`` (the
    grades' own) is left out, with the sheet and feedback files in it.

    Raises
    ------
    ValueError
        If a path does not exist, or two different paths name the same student.
    """
    found: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        if not (path.exists() or path.is_symlink()):
            raise ValueError(f"no submission at {path}: there is no such file or folder")
        if ignore is not None and _grades_own(path, Path(ignore).resolve()):
            continue
        student = student_name(path.resolve().name if path.is_dir() else path.stem)
        other = found.setdefault(student, path)
        if other.resolve() != path.resolve():
            raise ValueError(f"two submissions are named {student!r}: {other} and {path}; "
                             "rename one, or put a student's files in one folder")
    return [_read(student, path) for student, path in sorted(found.items())]


def _grades_own(path: Path, folder: Path) -> bool:
    # The grades' folder, or the sheet and feedback files in it: a teacher who grades again
    # with the same shell pattern (submissions/*) gets the same class.
    resolved = path.resolve()
    return resolved == folder or (resolved.parent == folder
                                  and path.suffix in (".csv", ".md", ".png"))


def student_name(stem: str) -> str:
    """A student's name as the grade sheet shows it: printable text, one line."""
    text = stem.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "?" for c in text) or "?"


def _hidden(relative: Path) -> bool:
    # Jupyter's checkpoints and Python's caches are copies, not answers.
    return any(part.startswith((".", "__")) for part in relative.parts)


def _read(student: str, path: Path) -> Submission:
    if path.is_dir():
        paths = sorted(p for p in path.rglob("*")
                       if p.suffix in SUFFIXES and not _hidden(p.relative_to(path)))
    else:
        paths = [path]
    files, unreadable = [], []
    for found in paths:
        if found.is_symlink():
            unreadable.append(f"{found} is a link, not a file: hand in the file itself")
        elif found.suffix not in SUFFIXES:
            unreadable.append(f"{found} is neither a Python file nor a notebook")
        elif found.is_file():
            try:
                limit, kind = ((MAX_CODE, "a Python file") if found.suffix == ".py"
                               else (MAX_NOTEBOOK, "a notebook"))
                files.append((str(found), read_code(found, limit, kind)))
            except ValueError as error:
                unreadable.append(str(error))
    return Submission(student, tuple(files), tuple(unreadable))


def find_answers(
    submission: Submission, exercises: Sequence[str]
) -> tuple[dict[str, list[Answer]], list[str]]:
    """Where the submission answers each exercise, and the files it could not read."""
    problems = list(submission.unreadable)
    answers: dict[str, list[Answer]] = {name: [] for name in exercises}
    for filename, text in submission.files:
        try:
            if filename.endswith(".ipynb"):
                found = notebook_answers(filename, text, exercises)
            else:
                found = _code_answers(filename, [(filename, text)], exercises)
        except ValueError as error:
            problems.append(str(error))
            continue
        for name, answer in found.items():
            answers[name].append(answer)
    return answers, problems


def bound_names(code: str) -> set[str]:
    """The names code binds at its top level (``def``, ``=``, ``import``), read, not run.

    Raises
    ------
    SyntaxError
        If the code is not Python; also for code too long or deep for Python's parser.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        if isinstance(error, SyntaxError):
            raise
        raise SyntaxError(f"too long or too deeply nested to read ({type(error).__name__})"
                          ) from None
    names: set[str] = set()
    statements = list(tree.body)
    while statements:
        statement = statements.pop()
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
            continue
        if isinstance(statement, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).partition(".")[0]
                         for alias in statement.names)
            continue
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
            targets = [statement.target]
        for target in targets:
            names.update(node.id for node in ast.walk(target) if isinstance(node, ast.Name))
        # Blocks at the top level (if, try, with, for) bind at the top level too.
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements.extend(getattr(statement, field, []))
    return names


def _code_answers(
    where: str, cells: list[tuple[str, str]], exercises: Sequence[str]
) -> dict[str, Answer]:
    """The exercises code answers by name: the last cell binding the name, and those above."""
    bound: list[set[str]] = []
    for filename, code in cells:
        try:
            bound.append(bound_names(code))
        except SyntaxError as error:
            if len(cells) == 1:
                raise ValueError(f"{filename} could not be read: {_syntax(error)}") from None
            bound.append(set())
    found = {}
    for name in exercises:
        defining = [index for index, names in enumerate(bound) if identifier(name) in names]
        if defining:
            last = defining[-1]
            found[name] = Answer(cells[last][0] if len(cells) > 1 else where,
                                 tuple(cells[: last + 1]), identifier(name), False)
    return found


def _syntax(error: SyntaxError) -> str:
    line = f", line {error.lineno}" if error.lineno else ""
    return f"{error.msg}{line}"


def notebook_answers(
    filename: str, text: str, exercises: Sequence[str]
) -> dict[str, Answer]:
    """The exercises a notebook answers: by a tagged cell, else by name."""
    try:
        notebook = json.loads(text)
        cells = [((cell.get("metadata") or {}).get("tags", []), _cell_source(cell["source"]))
                 for cell in notebook["cells"] if cell.get("cell_type") == "code"]
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
        raise ValueError(f"{filename} is not a notebook Jupyter can open") from None
    if sum(len(source) for _, source in cells) > MAX_CODE:
        raise ValueError(f"{filename} holds more than {MAX_CODE // 2**10} KiB of code: is it "
                         "the exercise notebook?")
    code = [(f"{filename}, code cell {index + 1}", python_of(source))
            for index, (_, source) in enumerate(cells)]
    found = _code_answers(filename, code, exercises)
    for name in exercises:
        tagged = [index for index, (tags, _) in enumerate(cells)
                  if isinstance(tags, list) and name in tags]
        if not tagged:
            continue
        last = tagged[-1]
        try:
            names = bound_names(code[last][1])
        except SyntaxError:
            names = set()
        handed_out = ANSWER_NAMES[EXERCISES[name].kind]
        variable = identifier(name) if identifier(name) in names - {handed_out} else handed_out
        found[name] = Answer(code[last][0], tuple(code[: last + 1]), variable, True)
    return found


def _cell_source(source: object) -> str:
    if isinstance(source, list):
        return "".join(str(line) for line in source)
    if isinstance(source, str):
        return source
    raise TypeError


MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)


def python_of(source: str) -> str:
    """A cell's code without IPython's magics (``%env``, ``!pip``), which only IPython runs.

    Each magic line becomes ``pass`` at its indentation, so that the code around it and its
    line numbers stay as the student wrote them.
    """
    return MAGIC.sub(r"\1pass", source)


def grade_submission(
    submission: Submission, exercises: Sequence[str], seed: int | None = None,
    sandbox: bool | None = None, points: Sequence[float] | None = None,
) -> list[Grade]:
    """Every exercise of ``exercises`` for one student: each answer checked, or why not.

    Code answers are called on the inputs ``seed`` draws (:func:`exercise_seed`), or on
    fixed ones without; ``sandbox`` is :class:`backprop.exercises.runner.Child`'s, and each
    child gives up root. Each exercise is worth ``points`` (in order), by default its
    kind's (:func:`backprop.exercises.gradebook.points_of`).
    """
    worth = list(points_of(exercises).values()) if not points else list(points)
    answers, problems = find_answers(submission, exercises)
    grades = []
    # One launcher for the student's answers: each still runs in a child of its own.
    with Launcher(sandbox, drop_root=True) as launcher:
        for name, max_points in zip(exercises, worth, strict=True):
            feedback = _judged(name, answers[name], problems, seed, launcher)
            grades.append(judged(submission.student, name, feedback, seed, max_points))
    return grades


def _judged(name: str, found: list[Answer], problems: list[str], seed: int | None,
            launcher: Launcher) -> Feedback:
    title = EXERCISES[name].title
    if not found:
        unread = f" Some files could not be read: {'; '.join(problems)}." if problems else ""
        return Feedback(False, f"{title}: {NO_ANSWER}. The submission defines no "
                               f"{identifier(name)} and tags no notebook cell {name}.{unread}")
    if len(found) > 1:
        places = ", ".join(answer.where for answer in found)
        return Feedback(False, f"{title}: answered {len(found)} times, in {places}. Keep one "
                               "answer per exercise (is this folder a class? Then grade each "
                               "student's file or folder: backprop grade FOLDER/*).")
    answer = found[0]
    try:
        return check_source(EXERCISES[name], list(answer.cells), answer.name, STARTUP,
                            fresh=answer.fresh, seed=exercise_seed(seed, name),
                            launcher=launcher)
    except Exception as error:  # a class's sheet is never lost to one answer
        return Feedback(False, f"{title}: the answer could not be checked "
                               f"({type(error).__name__}: {str(error)[:200]}).")


def graded(submission: Submission, run: Run) -> list[Grade]:
    """:func:`grade_submission` in a run: importable by name, for the sweep's workers."""
    return grade_submission(submission, run.exercises, run.seed, run.sandbox, run.points)


def grade(
    paths: Iterable[str | os.PathLike[str]],
    exercises: Sequence[str] | None = None,
    *,
    ignore: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    dask: str | None = None,
    progress: bool = False,
    seed: int | None = None,
    sandbox: bool | None = True,
    points: Mapping[str, float] | None = None,
) -> list[Grade]:
    """Grade every submission at ``paths`` on ``exercises`` (all of them by default).

    Parameters
    ----------
    paths : iterable of path-like
        Students' files (``.py``, ``.ipynb``) and folders.
    exercises : sequence of str, optional
        Names in :data:`backprop.exercises.EXERCISES`.
    ignore : path-like, optional
        A folder that is not a submission, though ``paths`` name it: the grades' own.
    jobs : int, optional
        Worker processes: every core by default.
    dask : str, optional
        A Dask scheduler's address, ``tcp://host:port``, to grade on its workers.
    progress : bool
        Show the students graded so far.
    seed : int, optional
        The seed the code answers' inputs are drawn from: a fresh one by default, recorded
        in every :class:`Grade`; give a grade's seed to draw its inputs again.
    sandbox : bool, optional
        Run every answer inside bubblewrap (the default); ``False`` runs them without, with
        the risks :data:`NO_SANDBOX` names; ``None``, inside it where it can be used.
    points : mapping, optional
        Points by exercise name (:func:`backprop.exercises.gradebook.read_points`); an
        exercise it does not name is worth its kind's
        (:data:`backprop.exercises.catalogue.DEFAULT_POINTS`).

    Returns
    -------
    list of Grade
        One per student and exercise, the students in order, the exercises in the order
        given.

    Raises
    ------
    ValueError
        If an exercise is unknown, a path does not exist, two paths name the same student,
        there is no submission, the seed is not a whole number from 0 to 2**32 - 1, points
        name an unknown exercise, or bubblewrap cannot be used and ``sandbox`` is not
        ``False``.
    """
    return grade_all(collect(paths, ignore), exercises, jobs=jobs, dask=dask,
                     progress=progress, seed=seed, sandbox=sandbox, points=points)


def grade_all(
    submissions: Sequence[Submission],
    exercises: Sequence[str] | None = None,
    *,
    jobs: int | None = None,
    dask: str | None = None,
    progress: bool = False,
    seed: int | None = None,
    sandbox: bool | None = True,
    points: Mapping[str, float] | None = None,
) -> list[Grade]:
    """Grade submissions already read (:func:`collect`); as :func:`grade` does."""
    exercises = list(EXERCISES if exercises is None else exercises)
    if not exercises:
        raise ValueError("no exercises to grade")
    unknown = [name for name in exercises if name not in EXERCISES]
    if unknown:
        raise ValueError(f"unknown exercise {unknown[0]!r}: the exercises are "
                         f"{', '.join(EXERCISES)}")
    if not submissions:
        raise ValueError("no submissions to grade")
    if seed is None:
        seed = secrets.randbits(32)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"the seed must be a whole number from 0 to 2**32 - 1, not {seed!r}")
    if sandbox and bubblewrap() is None:
        raise ValueError(NO_SANDBOX)
    unknown = [name for name in points or {} if name not in EXERCISES]
    if unknown:
        raise ValueError(f"points are given to {unknown[0]!r}, which is not an exercise")
    run = Run(tuple(exercises), seed, sandbox, tuple(points_of(exercises, points).values()))
    by_student: dict[str, list[Grade]] = {}
    with bar(len(submissions), "students", "student", progress) as shown:
        for grades in parallel.compute(graded, list(submissions), run, jobs=jobs, dask=dask):
            by_student[grades[0].student] = grades
            shown.update()
    return [grade for submission in submissions for grade in by_student[submission.student]]
