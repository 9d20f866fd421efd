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

The package, a module a job: :mod:`~backprop.exercises.catalogue` (the exercises, their
references and mistakes), :mod:`~backprop.exercises.code` (checking a function),
:mod:`~backprop.exercises.steps` (reading and checking a derivation),
:mod:`~backprop.exercises.limits` (the time limit), :mod:`~backprop.exercises.runner` and
:mod:`~backprop.exercises.child` (the process, with limits, in which an answer runs) and
:mod:`~backprop.exercises.grading` (a class's submissions, into a grade sheet).
"""

from __future__ import annotations

import os
import re
from typing import Any

from backprop.exercises.catalogue import (
    CHAPTER_EXERCISES,
    EXERCISES,
    Exercise,
    Feedback,
    Mistake,
)
from backprop.exercises.code import check_code, check_in_child, start_child
from backprop.exercises.limits import TIME_LIMIT
from backprop.exercises.runner import read_code, source_payload
from backprop.exercises.steps import StepError, check_derivation, parse_step, written_form
from backprop.progress import in_jupyter

__all__ = ["ANSWER_NAMES", "CHAPTER_EXERCISES", "EXERCISES", "TIME_LIMIT", "Exercise",
           "Feedback", "Mistake", "StepError", "check", "check_file", "check_source",
           "parse_step", "show", "solution_source", "written_form"]


def check(name: str, answer: Any) -> Feedback:
    """Check a student's answer to the exercise ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`EXERCISES`.
    answer : callable or sequence
        A function with the exercise's signature, or a list of derivation steps.

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
        return check_derivation(exercise, answer)
    except Exception as error:  # the last line of defence: a student never sees a traceback
        return Feedback(False, f"{exercise.title}: the answer could not be checked "
                               f"({type(error).__name__}: {str(error)[:200]}).")


def check_file(name: str, path: str | os.PathLike[str], seconds: float = 60) -> Feedback:
    """Check the answer a Python file defines: ``answer`` for code, ``steps`` for a derivation.

    The file is read here and runs in a child process with limits
    (:mod:`backprop.exercises.runner`), never here: a code answer is called there on the
    inputs this process draws, and a derivation's steps come back as text, to be read by
    :func:`parse_step`. Only this process decides.

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
    try:
        code = read_code(path)
    except ValueError as error:
        return Feedback(False, f"{exercise.title}: not yet. {error}")
    return check_source(exercise, [(os.fspath(path), code)], ANSWER_NAMES[exercise.kind],
                        seconds)


ANSWER_NAMES = {"code": "answer", "derivation": "steps"}
"""The name an answer has where it is handed out: in a notebook's cell, or a file for
``backprop check``."""


def check_source(
    exercise: Exercise, cells: list[tuple[str, str]], name: str, seconds: float,
    fresh: bool = False,
) -> Feedback:
    """Check the answer ``name`` that code defines, run in a child process, never here.

    ``cells`` are ``(filename, code)`` pairs run in order (see
    :func:`backprop.exercises.runner.source_payload`); they may take ``seconds`` to run.
    """
    payload = source_payload(cells, fresh)
    if exercise.kind == "code":
        return check_in_child(exercise, "source", payload, name, seconds)
    child = start_child(exercise, "source", payload, name, seconds)
    if isinstance(child, Feedback):
        return child
    with child:
        steps = child.loaded
    return check_derivation(exercise, steps)


def show(name: str) -> Any:
    """The exercise's title and statement, as Markdown for a notebook (text elsewhere)."""
    exercise = EXERCISES[name]
    text = f"**{exercise.title}** (`{name}`). {exercise.statement}"
    if not in_jupyter():
        return text
    from IPython.display import Markdown

    return Markdown(text)


def solution_source(name: str) -> str:
    """A reference answer as a student would write it: a function's code, or the steps."""
    solution = EXERCISES[name].solution
    if callable(solution):
        import inspect

        source = inspect.getsource(solution)
        return source.replace(f"def {solution.__name__}(", "def answer(", 1)
    return "steps = [\n" + "".join(_step_lines(step) for step in solution) + "]\n"


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
