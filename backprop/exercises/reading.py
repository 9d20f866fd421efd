"""Checking a reading: a choice's letter, or a number checked exactly against its key.

The answer is a value, never code: a string, an integer, a float, a fraction, a numpy scalar
or a SymPy number, read as its text (:func:`backprop.exercises.wire.written`) and, for a
number, by :func:`backprop.exercises.steps.parse_step` with no names at all, so that only
digits, arithmetic and ``exp``, ``log``, ``tanh``, ``sqrt`` are accepted and nothing is
evaluated as Python. A decimal is the exact number it writes (``"0.2"`` is 1/5), and the
value must equal the key exactly, as SymPy proves it; a known wrong value gets its hint.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from backprop.exercises import limits, wire
from backprop.exercises.catalogue import LETTERS, Exercise, Feedback
from backprop.exercises.steps import StepError, parse_step

CLOSE = 0.02
"""How near, relatively, a value that is not the key must be to be told it is close: a
decimal rounded to two or three figures."""

PRECISION = 50
"""Digits to which a value is compared with the key before SymPy is asked to prove them
equal: values that differ there are different."""

NOT_A_VALUE = ("list", "tuple", "dict", "set", "NoneType", "bool")
"""Types whose values are never an answer, named as a student reads them."""


def check_reading(exercise: Exercise, answer: Any) -> Feedback:
    """Check a choice or a number given as a value (in a notebook's ``check``)."""
    return check_written(exercise, wire.written(answer))


def check_written(exercise: Exercise, written: Any) -> Feedback:
    """Check a choice or a number from its :func:`~backprop.exercises.wire.written` form.

    That is ``{"type": ..., "text": ...}``, as the child sends it back.
    """
    if not (isinstance(written, dict) and isinstance(written.get("type"), str)
            and isinstance(written.get("text"), str | None)):
        return Feedback(False, f"{exercise.title}: not yet. The process that ran the answer "
                               "sent back something that is not a value.")
    text, type_name = written["text"], written["type"][:40]
    if exercise.kind == "choice":
        return _check_choice(exercise, text, type_name)
    return _check_number(exercise, text, type_name)


def _letters(exercise: Exercise) -> list[str]:
    return list(LETTERS[: len(exercise.options)])


def _check_choice(exercise: Exercise, text: str | None, type_name: str) -> Feedback:
    title, letters = exercise.title, _letters(exercise)
    listed = ", ".join(letters[:-1]) + f" or {letters[-1]}"
    if text is None or type_name not in ("str", "str_"):
        return Feedback(False, f"{title}: not yet. The answer is one letter, {listed}, as text "
                               f"such as answer = \"{letters[0]}\"; got {type_name}.")
    letter = text.strip().strip("()").strip().lower()
    if letter not in letters:
        shown = text if len(text) <= 40 else text[:39] + "…"
        return Feedback(False, f"{title}: not yet. There is no option {shown!r}: answer with "
                               f"one letter, {listed}.")
    option = exercise.options[letters.index(letter)]
    if letter == exercise.key():
        return Feedback(True, f"{title}: correct, ({letter}). {_capital(option.why)}"
                              + _more(exercise))
    return Feedback(False, f"{title}: not yet. ({letter}) is not it: {option.why}")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _more(exercise: Exercise) -> str:
    extra = exercise.explanation() if callable(exercise.explanation) else exercise.explanation
    return f" {extra}" if extra else ""


def _check_number(exercise: Exercise, text: str | None, type_name: str) -> Feedback:
    title = exercise.title
    if text is None or type_name in NOT_A_VALUE:
        return Feedback(False, f"{title}: not yet. The answer is one number, as a number or as "
                               f"text such as answer = \"3/4\" or answer = \"sqrt(2)/2\"; got "
                               f"{type_name}.")
    try:
        with limits.time_limit(limits.TIME_LIMIT):
            return _number_feedback(exercise, text)
    except limits.TooSlowError:
        return Feedback(False, f"{title}: not yet. SymPy could not decide within "
                               f"{limits.TIME_LIMIT:g} s whether the value is right; write it "
                               "more simply.")


def _number_feedback(exercise: Exercise, text: str) -> Feedback:
    title = exercise.title
    if text in ("inf", "-inf", "nan"):
        # A float's own text for a value too large for it, or for no value at all.
        return Feedback(False, f"{title}: not yet. The answer is {text}, not a finite number "
                               "(does it divide by zero, or overflow a float?).")
    try:
        value = parse_step(text, {})
    except StepError as error:
        reason = str(error).replace("the step", "the answer")
        return Feedback(False, f"{title}: not yet. The answer cannot be read as a number: "
                               f"{reason}.")
    shown = text.strip() if len(text.strip()) <= 60 else text.strip()[:59] + "…"
    if value.has(sp.zoo, sp.oo, -sp.oo, sp.nan) or value.is_finite is False:
        return Feedback(False, f"{title}: not yet. {shown} is not a finite number (does it "
                               "divide by zero, or take the log of 0?).")
    approximate = sp.N(value, PRECISION)
    if not approximate.is_real:
        return Feedback(False, f"{title}: not yet. {shown} is not a real number.")
    key = exercise.key()
    if _equal(value, approximate, key):
        return Feedback(True, f"{title}: correct, {shown}. {exercise.explanation}")
    for mistake in exercise.mistakes:
        wrong = sp.sympify(mistake.answer())
        if _equal(value, approximate, wrong):
            return Feedback(False, f"{title}: not yet. {shown} is not the value.\n"
                                   f"Hint: {mistake.hint}")
    exact = _float(sp.N(key, PRECISION))
    if abs(_float(approximate) - exact) <= CLOSE * abs(exact):
        return Feedback(False, f"{title}: not yet. {shown} is close, but the check is exact: "
                               "write the value itself, as a fraction or an expression "
                               "(sqrt is allowed), not a rounded decimal.")
    return Feedback(False, f"{title}: not yet. {shown} is not the value.")


def _float(value: sp.Basic) -> float:
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return math.inf


def _equal(value: sp.Basic, approximate: sp.Basic, key: sp.Basic) -> bool:
    """Whether ``value`` is ``key`` exactly: near it to :data:`PRECISION` digits, and proved."""
    from backprop.derivations import is_zero

    reference = sp.N(key, PRECISION)
    if abs(approximate - reference) > sp.Float(10) ** (5 - PRECISION) * max(1, abs(reference)):
        return False
    return is_zero(value - key)
