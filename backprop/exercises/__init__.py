r"""Exercises a student fills in, checked: the code by hypothesis, the algebra by SymPy.

:data:`EXERCISES` maps a name to an :class:`Exercise`; :func:`check` takes an exercise's name
and a student's answer and returns :class:`Feedback`, whose ``str`` is a message the student
can act on. Nothing a student writes ever produces a traceback here.

**Code exercises** take a Python function. Hypothesis draws inputs (batch sizes 1 to 8,
several classes, and extreme but valid values such as logits of :math:`\pm 10^3`) and
compares the answer with the package's own reference, to a relative tolerance of
:data:`~backprop.exercises.code.RELATIVE_TOLERANCE` plus an absolute one of
:data:`~backprop.exercises.code.ABSOLUTE_TOLERANCE`: two correct implementations differ by
the rounding of a few operations, about :math:`10^{-15}` of the values, and every mistake
this package knows of is off by far more on some generated input. On a failure the message
shows the shrunk counterexample (the input, the expected value and the value received) and,
where the answer behaves like a known mistake on most of the inputs it got wrong, a hint
about it. An answer that raises, returns the wrong shape or type, or takes longer than
:data:`TIME_LIMIT` gets feedback, not a traceback.

**Derivation exercises** take a list of steps, each a SymPy expression or a string in
Python's maths notation (``exp``, ``log``, ``tanh``, ``**``, ``diff(f, z)``). The first step
must equal the exercise's starting expression (it may be that expression, written with
``diff``), each later step the one before, and the last the result; SymPy proves each
equality (:func:`backprop.derivations.is_zero`). A derivation shows its working: besides a
start written with ``diff``, at least two steps, no two of the same written form
(:func:`written_form`), at most :data:`~backprop.exercises.steps.MAX_STEPS`. Strings are
read by :func:`parse_step`, which walks Python's syntax tree and builds the SymPy expression
itself: only numbers, the exercise's names and arithmetic are accepted, lengths, depths and
numbers are bounded, and nothing is ever evaluated as Python. All of it runs under
:data:`TIME_LIMIT`.

**Readings** take a value, not code: a **choice** is one letter (``"b"``) among lettered
options, and each wrong option is answered with why it is wrong; a **number** is checked
exactly, read by :func:`parse_step` with no names (so ``"0.2"`` is 1/5, and
``"785*64 + 64*10"`` or ``"sqrt(785/3)"`` are numbers), and a known wrong value gets a hint.
The key is computed by the package: from its constants and functions, or, for a choice, by
measuring which option holds. A value is data: it is checked in this process, never
evaluated, and from a file only its text comes back from the child.

The package, a module a job: :mod:`~backprop.exercises.catalogue` (the exercises, their
references and mistakes), :mod:`~backprop.exercises.code` (checking a function),
:mod:`~backprop.exercises.steps` (reading and checking a derivation),
:mod:`~backprop.exercises.reading` (checking a choice or a number),
:mod:`~backprop.exercises.limits` (the time limit), :mod:`~backprop.exercises.runner` and
:mod:`~backprop.exercises.wire` (the process, with limits, in which an answer runs, and
what crosses its pipe),
:mod:`~backprop.exercises.grading` (a class's submissions, judged),
:mod:`~backprop.exercises.gradebook` (points, a gradebook, a course site's files) and
:mod:`~backprop.exercises.gradescope` (a Gradescope autograder).
"""

from __future__ import annotations

import os
import re
from typing import Any

from backprop.exercises.catalogue import (
    CHAPTER_EXERCISES,
    EXERCISES,
    LETTERS,
    READINGS,
    Exercise,
    Feedback,
    Mistake,
    Option,
)
from backprop.exercises.code import check_code, check_in_child, start_child
from backprop.exercises.limits import TIME_LIMIT
from backprop.exercises.reading import check_reading, check_written
from backprop.exercises.runner import Launcher, read_code, source_payload
from backprop.exercises.steps import StepError, check_derivation, parse_step, written_form
from backprop.progress import in_jupyter

__all__ = ["ANSWER_NAMES", "CHAPTER_EXERCISES", "EXERCISES", "LETTERS", "READINGS",
           "TIME_LIMIT", "Exercise", "Feedback", "Mistake", "Option", "StepError", "check",
           "check_file",
           "check_source", "parse_step", "show", "solution_markdown", "solution_source",
           "written_form"]


def check(name: str, answer: Any) -> Feedback:
    """Check a student's answer to the exercise ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`EXERCISES`.
    answer : callable, sequence or value
        A function with the exercise's signature, a list of derivation steps, or, for a
        choice or a number, a value: a letter such as ``"b"``, a number such as ``0.2``,
        or a number's text such as ``"sqrt(785/3)"``.

    Returns
    -------
    Feedback
        ``passed``, and a message naming what is wrong and, where it can, why.
    """
    exercise = EXERCISES.get(name) if isinstance(name, str) else None
    if exercise is None:
        return Feedback(False, f"there is no exercise {name!r}; the exercises are "
                               f"{', '.join(EXERCISES)}")
    try:
        if exercise.kind == "code":
            return check_code(exercise, answer)
        if exercise.kind in READINGS:
            return check_reading(exercise, answer)
        return check_derivation(exercise, answer)
    except Exception as error:  # the last line of defence: a student never sees a traceback
        return Feedback(False, f"{exercise.title}: the answer could not be checked "
                               f"({type(error).__name__}: {str(error)[:200]}).")


def check_file(name: str, path: str | os.PathLike[str], seconds: float = 60) -> Feedback:
    """Check the answer a Python file defines: ``answer``, or ``steps`` for a derivation.

    ``answer`` is a function for code, a value for a choice or a number. A notebook
    (``.ipynb``) is read as :mod:`~backprop.exercises.grading` reads it: the last cell tagged
    with the exercise's name, after the cells above it.

    The file is read here and runs in a child process with limits
    (:mod:`backprop.exercises.runner`), never here: a code answer is called there on the
    inputs this process draws, a derivation's steps come back as text, to be read by
    :func:`parse_step`, and a choice's or a number's value as its text. Only this process
    decides.

    Parameters
    ----------
    name : str
        A key of :data:`EXERCISES`.
    path : path-like
        The student's file.
    seconds : float
        How long the file may take to run and define its answer.
    """
    exercise = EXERCISES.get(name) if isinstance(name, str) else None
    if exercise is None:
        return check(name, None)
    if os.fspath(path).endswith(".ipynb"):
        return _check_notebook(exercise, os.fspath(path), seconds)
    try:
        code = read_code(path)
    except ValueError as error:
        return Feedback(False, f"{exercise.title}: not yet. {error}")
    return check_source(exercise, [(os.fspath(path), code)], ANSWER_NAMES[exercise.kind],
                        seconds)


def _check_notebook(exercise: Exercise, path: str, seconds: float) -> Feedback:
    from backprop.exercises import grading

    try:
        text = read_code(path, grading.MAX_NOTEBOOK, "a notebook")
        found = grading.notebook_answers(path, text, [exercise.name])
    except ValueError as error:
        return Feedback(False, f"{exercise.title}: not yet. {error}")
    if exercise.name not in found:
        return Feedback(False, f"{exercise.title}: not yet. {path} has no cell tagged "
                               f"{exercise.name!r} and no cell that defines "
                               f"{grading.identifier(exercise.name)}: answer in the cell the "
                               "exercise notebook hands out.")
    answer = found[exercise.name]
    return check_source(exercise, list(answer.cells), answer.name, seconds,
                        fresh=answer.fresh)


ANSWER_NAMES = {"code": "answer", "derivation": "steps", "choice": "answer",
                "number": "answer"}
"""The name an answer has where it is handed out: in a notebook's cell, or a file for
``backprop check``."""


def check_source(
    exercise: Exercise, cells: list[tuple[str, str]], name: str, seconds: float,
    fresh: bool = False, *, seed: int | None = None, sandbox: bool | None = None,
    drop_root: bool = False, launcher: Launcher | None = None,
) -> Feedback:
    """Check the answer ``name`` that code defines, run in a child process, never here.

    ``cells`` are ``(filename, code)`` pairs run in order (see
    :func:`backprop.exercises.runner.source_payload`); they may take ``seconds`` to run.
    A code answer is called on the inputs ``seed`` draws (fixed ones without); ``sandbox``,
    ``drop_root`` and ``launcher`` are those of :class:`backprop.exercises.runner.Child`.
    """
    payload = source_payload(cells, fresh)
    if exercise.kind == "code":
        return check_in_child(exercise, "source", payload, name, seconds, seed, sandbox,
                              drop_root, launcher)
    child = start_child(exercise, "source", payload, name, seconds, sandbox=sandbox,
                        drop_root=drop_root, launcher=launcher)
    if isinstance(child, Feedback):
        return child
    with child:
        loaded = child.loaded
    if exercise.kind in READINGS:
        return check_written(exercise, loaded)
    return check_derivation(exercise, loaded)


def show(name: str) -> Any:
    """The exercise's title and statement, as Markdown for a notebook (text elsewhere)."""
    exercise = EXERCISES[name]
    text = f"**{exercise.title}** (`{name}`). {exercise.statement}"
    if not in_jupyter():
        return text
    from IPython.display import Markdown

    return Markdown(text)


def solution_source(name: str) -> str:
    """A reference answer as a student would write it: code, the steps, or the value."""
    exercise = EXERCISES[name]
    solution = exercise.answer()
    if exercise.kind in READINGS:
        # A letter, or a number as a student writes it: no quote or backslash in either.
        return f'answer = "{solution}"\n'
    if callable(solution):
        import inspect

        source = inspect.getsource(solution)
        return source.replace(f"def {solution.__name__}(", "def answer(", 1)
    return "steps = [\n" + "".join(_step_lines(step) for step in solution) + "]\n"


def solution_markdown(name: str) -> str:
    """The solution as the book shows it, in Markdown: the answer, and why if it is a value."""
    exercise = EXERCISES[name]
    code = f"```python\n{solution_source(name)}```"
    if exercise.kind == "choice":
        letter = exercise.key()
        why = exercise.options[LETTERS.index(letter)].why
        extra = exercise.explanation
        extra = extra() if callable(extra) else extra
        return (f"{code}\n\n**({letter})** {why[:1].upper()}{why[1:]}"
                + (f" {extra}" if extra else ""))
    if exercise.kind == "number":
        return f"{code}\n\n{exercise.explanation}"
    return code


def _step_lines(step: str, width: int = 64) -> str:
    # A long step is written as adjacent strings, which Python joins, each starting at a
    # " + " of the sum: every line fits a page.
    pieces: list[str] = []
    for term in re.split(r"(?= \+ )", step):
        if pieces and len(pieces[-1]) + len(term) <= width:
            pieces[-1] += term
        else:
            pieces.append(term)
    if len(pieces) == 1:
        return f"    {step!r},\n"
    return "".join(f"    {piece!r}\n" for piece in pieces[:-1]) + f"    {pieces[-1]!r},\n"
