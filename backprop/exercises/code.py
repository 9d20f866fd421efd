"""Checking a code answer: hypothesis draws inputs, the reference and the answer are compared.

A failure is shrunk to a small counterexample and reported with the input, the expected
value and the value received; a known mistake gets its hint when the answer behaves like it
on most of the inputs it got wrong.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop.exercises import limits, runner
from backprop.exercises.catalogue import WIDTH, Exercise, Feedback, Mistake

RELATIVE_TOLERANCE = 1e-9
"""How closely a code answer must agree with the reference, relative to the values' size."""

ABSOLUTE_TOLERANCE = 1e-12
r"""And in absolute terms, for values near zero: the package's sigmoid, computed through tanh,
and the textbook's :math:`1/(1 + e^{-z})` agree to about :math:`10^{-16}` absolutely but
not relatively in the far tails, where :math:`\sigma(z)` is tiny."""

EXAMPLES = 60
"""Inputs hypothesis draws per code exercise (before shrinking a failure)."""

MAX_DISAGREEMENTS = 50
"""Inputs on which a wrong answer is kept, to tell which known mistake it makes: a hint is
given only where the answer behaves like the mistake on two of them or more, and on 80% of
them, never on a coincidence."""


def _compare(expected: Any, received: Any) -> str | None:
    """Why ``received`` is not ``expected`` (``None`` when it is, within the tolerance)."""
    if isinstance(expected, tuple | list):
        if not isinstance(received, tuple | list):
            return (f"expected a {type(expected).__name__} of {len(expected)} "
                    f"{'array' if len(expected) == 1 else 'arrays'}, got "
                    f"{type(received).__name__}")
        if len(received) != len(expected):
            return (f"expected {len(expected)} {'array' if len(expected) == 1 else 'arrays'}, "
                    f"got {len(received)}")
        for index, (want, got) in enumerate(zip(expected, received, strict=True)):
            reason = _compare(want, got)
            if reason:
                # Nested items read as one place: "item 0, item 2: ...".
                joint = ", " if reason.startswith("item ") else ": "
                return f"item {index}{joint}{reason}"
        return None
    if isinstance(received, runner.Returned):
        return f"expected numbers, got {received}"
    try:
        got = np.asarray(received, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected numbers, got {type(received).__name__}"
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        return f"expected {_shape(want.shape)}, got {_shape(got.shape)}"
    if not np.isfinite(got).all():
        return "the answer holds NaN or infinite values"
    scale = float(np.abs(want).max(initial=0.0))
    if np.abs(got - want).max(initial=0.0) > RELATIVE_TOLERANCE * scale + ABSOLUTE_TOLERANCE:
        return "the values differ"
    return None


def _shape(shape: tuple[int, ...]) -> str:
    return "a single number" if shape == () else f"an array of shape {shape}"


def _alike(mistaken: Any, received: Any) -> bool:
    """Whether an answer behaves like a known mistake: the same values, NaNs included."""
    if isinstance(mistaken, tuple | list):
        return (isinstance(received, tuple | list) and len(received) == len(mistaken)
                and all(_alike(m, r) for m, r in zip(mistaken, received, strict=True)))
    try:
        got = np.asarray(received, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    want = np.asarray(mistaken, dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(
        got, want, rtol=RELATIVE_TOLERANCE, atol=0, equal_nan=True))


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, threshold=40, max_line_width=WIDTH)
    if isinstance(value, np.generic):
        return str(value.item())
    if isinstance(value, runner.Returned):
        return str(value)
    return repr(value)


def _call(function: Callable[..., Any], arguments: tuple) -> Any:
    # Each call gets its own copies, so an answer that works in place changes nothing else.
    copies = tuple(a.copy() if isinstance(a, np.ndarray) else
                   [w.copy() if isinstance(w, np.ndarray) else w for w in a]
                   if isinstance(a, list) else a for a in arguments)
    return function(*copies)


REPLIES = {"derivation": "steps", "choice": "value", "number": "value"}
"""What the child sends back for each kind of exercise, if not the answer's value on each
input (``"calls"``, a function's)."""

STARTUP = 10.0
"""Seconds a child process may take to start and load the answer, before its examples."""


def check_code(exercise: Exercise, answer: Any) -> Feedback:
    """Compare a function with the exercise's reference on the inputs hypothesis draws.

    The function is sent by value to a child process (:mod:`backprop.exercises.runner`),
    which runs it on each input; this process draws the inputs and decides. They are the
    same inputs on every call, so a student can reproduce what they see; a grading run
    draws its own (see :func:`check_in_child`).
    """
    if not callable(answer):
        return Feedback(False, f"{exercise.title}: not yet. The answer must be a function "
                               f"{exercise.signature}, got {type(answer).__name__}.")
    try:
        pickled = by_value(answer)
    except Exception as error:
        return Feedback(False, f"{exercise.title}: not yet. The function could not be sent "
                               f"to the process that runs it ({type(error).__name__}): does "
                               "it use an open file, a lock or a generator from outside?")
    return check_in_child(exercise, "function", pickled)


IN_THE_CHILD = frozenset({"numpy", "cloudpickle", "sympy", "mpmath", "__main__",
                          *sys.stdlib_module_names})
"""Modules the child can import, so that a function may refer to them by name."""


def by_value(function: Callable[..., Any]) -> bytes:
    """``function`` pickled with the code of its module, unless the child can import it.

    The child's module path holds only the standard library, numpy, cloudpickle and SymPy: a
    function from any other module (a student's helper file, the package's own reference)
    goes with its package's code, not as a name the child could not find.
    """
    import cloudpickle

    top = (getattr(function, "__module__", None) or "").partition(".")[0]
    package = sys.modules.get(top)
    if package is None or top in IN_THE_CHILD:
        return cloudpickle.dumps(function)
    # The whole package: a function of one module may call those of another.
    cloudpickle.register_pickle_by_value(package)
    try:
        return cloudpickle.dumps(function)
    finally:
        cloudpickle.unregister_pickle_by_value(package)


def check_in_child(
    exercise: Exercise, kind: str, payload: bytes, name: str = "answer",
    startup: float = STARTUP, seed: int | None = None, sandbox: bool | None = None,
    drop_root: bool = False, launcher: runner.Launcher | None = None,
) -> Feedback:
    """Check the answer a child process loads: a pickled function, or the code it runs.

    ``kind`` and ``payload`` are those of :class:`backprop.exercises.runner.Child`; code
    must define ``name``. The child may take ``startup`` seconds to load the answer, then
    :data:`backprop.exercises.limits.TIME_LIMIT` for all of its examples. With a ``seed``
    the inputs are those it draws, and the same on every run with it; without, the same
    fixed inputs every time. ``sandbox``, ``drop_root`` and ``launcher`` are
    :class:`runner.Child`'s.
    """
    child = start_child(exercise, kind, payload, name, startup, limits.TIME_LIMIT, sandbox,
                        drop_root, launcher)
    if isinstance(child, Feedback):
        return child
    with child:
        try:
            return _check_calls(exercise, child, seed)
        except runner.AnswerTimeoutError:
            return _too_slow(exercise)


def start_child(
    exercise: Exercise, kind: str, payload: bytes, name: str, startup: float,
    examples: float = 0.0, sandbox: bool | None = None, drop_root: bool = False,
    launcher: runner.Launcher | None = None,
) -> runner.Child | Feedback:
    """A child process holding the answer, or the feedback that says why it could not load.

    ``name`` is what code must define; the child may take ``startup`` seconds to load it and
    ``examples`` more to answer. For a derivation the child holds the steps' text, for a
    choice or a number the value's (:func:`backprop.exercises.wire.written`).
    ``sandbox``, ``drop_root`` and ``launcher`` are :class:`runner.Child`'s.
    """
    try:
        return runner.Child(kind, payload, name, REPLIES.get(exercise.kind, "calls"),
                            startup + examples, sandbox=sandbox, drop_root=drop_root,
                            launcher=launcher)
    except runner.AnswerTimeoutError:
        return Feedback(False, f"{exercise.title}: not yet. The answer took longer than "
                               f"{startup:g} s to load; it was stopped.")
    except runner.AnswerError as error:
        return Feedback(False, f"{exercise.title}: not yet. The answer could not be run: "
                               f"{error}.")


def _too_slow(exercise: Exercise) -> Feedback:
    return Feedback(False, f"{exercise.title}: not yet. The answer took longer than "
                           f"{limits.TIME_LIMIT:g} s over its examples; look for a loop that "
                           "never ends, a list that grows without end, or work done per "
                           "element that numpy does at once.")


def _check_calls(exercise: Exercise, child: runner.Child, seed: int | None) -> Feedback:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    failure: dict[str, Any] = {}
    deadline = time.monotonic() + limits.TIME_LIMIT
    # Shrunk, but not explained: hypothesis's explain phase reruns the answer on many
    # variations to say which parts of the input matter, which the message never prints.
    phases = [phase for phase in Phase if phase is not Phase.explain]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), print_blob=False, phases=phases)
    @given(exercise.inputs())
    def agrees(arguments: tuple) -> None:
        # One place raises, so that hypothesis sees one failure however the answer fails.
        if not _answer_agrees(exercise, child, arguments, failure, deadline):
            raise AssertionError

    if seed is not None:
        agrees = seeded(seed)(agrees)
    try:
        agrees()
    except AssertionError:
        if failure.get("slow"):
            return _too_slow(exercise)
        message = _code_message(exercise, failure)
        credit = _credit(exercise, child, seed, failure)
        if credit:
            earned = [case.name for case in exercise.cases[: len(credit)]]
            message += (f"\nCredit: {_fraction(sum(credit))} of the points, for "
                        f"{' and '.join(earned)}.")
        return Feedback(False, message, sum(credit))
    except Exception as error:
        return Feedback(False, f"{exercise.title}: the answer could not be checked "
                               f"({type(error).__name__}); does it give the same result for "
                               "the same input every time?")
    return Feedback(True, f"{exercise.title}: correct on {EXAMPLES} generated inputs, "
                          "extreme values included.")


def _credit(exercise: Exercise, child: runner.Child, seed: int | None,
            failure: dict[str, Any]) -> list[float]:
    """The shares of the cases a wrong answer still earns, in order (:attr:`Exercise.cases`).

    The shrunk failure and the inputs the check saw are judged with :data:`EXAMPLES` more,
    drawn from the same seed without shrinking, so that each case is judged on typical and
    extreme inputs alike. An answer that raised, ran out of time or memory earns nothing.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    if failure.get("error") or failure.get("memory") or not exercise.cases:
        return []
    seen = list(failure.get("seen", []))
    child.deadline = time.monotonic() + limits.TIME_LIMIT

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate],
              print_blob=False)
    @given(exercise.inputs())
    def judge(arguments: tuple) -> None:
        expected = _call(exercise.reference, arguments)
        seen.append((arguments, _compare(expected, child.call(arguments))))

    if seed is not None:
        judge = seeded(seed)(judge)
    try:
        judge()
    except Exception:  # the answer timed out, died or raised: it earns nothing more
        return []
    if any(reason and reason not in VALUE_REASONS for _, reason in seen):
        return []
    shares = [case.share for case in exercise.cases]
    if exercise.typical is None or any(
            reason and exercise.typical(*arguments) for arguments, reason in seen):
        return shares[:1]
    return shares[:2]


VALUE_REASONS = frozenset({"the values differ", "the answer holds NaN or infinite values"})
"""Why an answer of the right types and shapes is wrong: its values."""


def _fraction(share: float) -> str:
    from fractions import Fraction

    return str(Fraction(share).limit_denominator(12))


def _answer_agrees(exercise: Exercise, child: runner.Child, arguments: tuple,
                   failure: dict[str, Any], deadline: float) -> bool:
    """Run the answer on one input; on a disagreement, record why in ``failure``."""
    # Once an answer has been too slow, or has run out of memory, every later example fails
    # at once: hypothesis then shrinks quickly instead of waiting on the answer again.
    if failure.get("memory"):
        return False
    if failure.get("slow") or time.monotonic() > deadline:
        failure["slow"] = True
        return False
    expected = _call(exercise.reference, arguments)
    child.deadline = min(child.deadline, deadline)
    try:
        received = child.call(arguments)
    except runner.AnswerTimeoutError:
        failure["slow"] = True
        return False
    except runner.AnswerError as error:
        failure.update(arguments=arguments, expected=expected, error=str(error),
                       raised=error.raised, memory=str(error).startswith("MemoryError"),
                       unanswered=str(error).startswith("NotImplementedError"))
        return False
    reason = _compare(expected, received)
    failure.setdefault("seen", []).append((arguments, reason))
    if reason:
        failure.update(arguments=arguments, expected=expected, received=received,
                       reason=reason, error=None)
        disagreements = failure.setdefault("disagreements", [])
        if len(disagreements) < MAX_DISAGREEMENTS:
            disagreements.append((arguments, received))
        return False
    return True


def _code_message(exercise: Exercise, failure: dict[str, Any]) -> str:
    arguments = failure["arguments"]
    if failure.get("unanswered"):
        return (f"{exercise.title}: not yet. Replace `raise NotImplementedError` with your "
                f"answer, a function {exercise.signature}, and run the cell again.")
    # The first line says what went wrong on its own: it is what a class's grade sheet shows.
    if failure.get("memory"):
        lines = [f"{exercise.title}: not yet; your function ran out of memory "
                 f"({failure['error']}); it may use {runner.MEMORY_LIMIT // 2**30} GiB: look "
                 "for an array far larger than its input, or a list that grows without "
                 "end. It ran on this input:"]
    elif failure["error"] and failure["error"].startswith("SystemExit"):
        lines = [f"{exercise.title}: not yet; your function called exit() or sys.exit() "
                 f"({failure['error']}): an answer returns its value and leaves the process "
                 "running. It ran on this input:"]
    elif failure["error"] and failure["raised"]:
        lines = [f"{exercise.title}: not yet; your function raised {failure['error']}, on "
                 "this input:"]
    elif failure["error"]:
        lines = [f"{exercise.title}: not yet; {failure['error']}. It was running your "
                 "function on this input:"]
    else:
        lines = [f"{exercise.title}: not yet; {failure['reason']}, on this input:"]
    names = exercise.signature[exercise.signature.index("(") + 1 : -1].split(", ")
    lines += [f"  {name} = " + _show(value).replace("\n", "\n" + " " * (len(name) + 5))
              for name, value in zip(names, arguments, strict=True)]
    if failure["error"]:
        return "\n".join(lines)
    lines.append("it should return\n  " + _show(failure["expected"]).replace("\n", "\n  "))
    lines.append("but returned\n  " + _show(failure["received"]).replace("\n", "\n  "))
    # The mistake the answer behaves like most often, if that is more than a coincidence: on
    # two inputs at least, and on most of those where the answer was wrong (shrinking tries
    # many tiny inputs, on which different mistakes can agree).
    disagreements = failure.get("disagreements", [])
    counted = [(_matches(mistake, disagreements), -index)
               for index, mistake in enumerate(exercise.mistakes)]
    if counted and max(counted)[0] >= max(2, 0.8 * len(disagreements)):
        lines.append(f"Hint: {exercise.mistakes[-max(counted)[1]].hint}")
    return "\n".join(lines)


def _matches(mistake: Mistake, disagreements: list[tuple[tuple, Any]]) -> int:
    """On how many inputs where the answer was wrong it did what the mistake does."""
    count = 0
    for arguments, received in disagreements:
        try:
            with np.errstate(all="ignore"):
                count += _alike(_call(mistake.answer, arguments), received)
        except Exception:
            continue
    return count
