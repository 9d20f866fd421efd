r"""Exercises a student fills in, checked: the code by hypothesis, the algebra by SymPy.

:data:`EXERCISES` maps a name to an :class:`Exercise`; :func:`check` takes an exercise's name
and a student's answer and returns :class:`Feedback`, whose ``str`` is a message the student
can act on. Nothing a student writes ever produces a traceback here.

**Code exercises** take a Python function. Hypothesis draws inputs (batch sizes 1 to 8,
several classes, and extreme but valid values such as logits of :math:`\pm 10^3`) and compares
the answer with the package's own reference, to a relative tolerance of
:data:`RELATIVE_TOLERANCE` plus an absolute one of :data:`ABSOLUTE_TOLERANCE`: two correct
implementations differ by the rounding of a few operations, about :math:`10^{-15}` of the
values, and every mistake this module knows of is off by far more on some generated input.
On a failure the message shows the shrunk counterexample (the input, the expected value and
the value received) and, where the answer matches a known mistake on that input, a hint
about it. An answer that raises, returns the wrong shape or type, or takes longer than
:data:`TIME_LIMIT` gets feedback, not a traceback.

**Derivation exercises** take a list of steps, each a SymPy expression or a string in
Python's maths notation (``exp``, ``log``, ``tanh``, ``**``, ``diff(f, z)``). The first step
must equal the exercise's starting expression (it may be that expression, written with
``diff``), each later step the one before, and the last the result; SymPy proves each
equality (:func:`backprop.derivations.is_zero`). A derivation shows its working: besides a
start written with ``diff``, at least two steps, no two of the same written form
(:func:`written_form`), at most :data:`MAX_STEPS`. Strings are read by :func:`parse_step`,
which walks Python's syntax tree and builds the SymPy expression itself: only numbers, the
exercise's names and arithmetic are accepted, lengths, depths and numbers are bounded, and
nothing is ever evaluated as Python. All of it runs under :data:`TIME_LIMIT`.
"""

from __future__ import annotations

import ast
import signal
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import sympy as sp

from backprop import activations, losses, network, solutions, training
from backprop.activations import ACTIVATIONS, Activation
from backprop.progress import in_jupyter

RELATIVE_TOLERANCE = 1e-9
"""How closely a code answer must agree with the reference, relative to the values' size."""

ABSOLUTE_TOLERANCE = 1e-12
r"""And in absolute terms, for values near zero: the package's sigmoid, computed through tanh,
and the textbook's :math:`1/(1 + e^{-z})` agree to about :math:`10^{-16}` absolutely but
not relatively in the far tails, where :math:`\sigma(z)` is tiny."""

TIME_LIMIT = 10.0
"""Seconds a code answer may take over all its examples before it counts as too slow."""

EXAMPLES = 60
"""Inputs hypothesis draws per code exercise (before shrinking a failure)."""

MAX_DISAGREEMENTS = 50
"""Inputs on which a wrong answer is kept, to tell which known mistake it makes: a hint is
given only where the answer behaves like the mistake on two of them or more, and on 80% of
them, never on a coincidence."""


@dataclass(frozen=True)
class Feedback:
    """The outcome of :func:`check`: whether the answer passed, and what to tell the student."""

    passed: bool
    message: str

    def __str__(self) -> str:
        # Prose is wrapped to fit a notebook's output; indented lines (arrays) are kept.
        return "\n".join(
            line if line.startswith(" ") or len(line) <= 88
            else textwrap.fill(line, 88, break_on_hyphens=False)
            for line in self.message.splitlines()
        )


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, and the hint for a student whose answer behaves like it."""

    name: str
    answer: Callable[..., Any]
    hint: str


@dataclass(frozen=True)
class Exercise:
    """One exercise: what it asks, what kind of answer it takes, and how it is checked.

    Attributes
    ----------
    name, title : str
    statement : str
        The task, in the book's notation (Markdown with ``$...$`` maths).
    kind : {"code", "derivation"}
    hints : tuple of str
        Hints to offer before checking.
    signature : str
        For code: the function the student writes, e.g. ``f(a)``.
    reference : callable
        For code: the package's own implementation, with the same signature.
    inputs : callable
        For code: returns a hypothesis strategy of argument tuples.
    mistakes : tuple of Mistake
        For code: wrong answers this module recognises, each with a hint.
    start, result : sympy expression
        For derivations: the starting expression and the result.
    start_text : str
        For derivations: the start as a step writes it, ``diff(...)``.
    names : dict
        For derivations: every name a step may use, and what it stands for.
    result_names : frozenset of str
        For derivations: the names the last step, written as a string, may use: the result's
        own terms (``a``, not ``z``).
    solution : object
        A reference answer: a function, or a list of steps.
    """

    name: str
    title: str
    statement: str
    kind: str
    hints: tuple[str, ...] = ()
    signature: str = ""
    reference: Callable[..., Any] | None = None
    inputs: Callable[[], Any] | None = None
    mistakes: tuple[Mistake, ...] = ()
    start: sp.Basic | None = None
    result: sp.Basic | None = None
    start_text: str = ""
    names: dict[str, Any] = field(default_factory=dict)
    result_names: frozenset[str] = frozenset()
    solution: Any = None


EXERCISES: dict[str, Exercise] = {}
"""Every exercise, by name.

:meta hide-value:
"""

CHAPTER_EXERCISES: dict[str, tuple[str, ...]] = {
    "backpropagation": ("derive-sigmoid-derivative", "sigmoid-derivative",
                        "derive-output-delta", "softmax", "cross-entropy", "output-delta",
                        "derive-hidden-update"),
    "mnist": ("one-hot",),
    "one-hidden-layer": ("backward",),
    "tricks": ("improved-sigmoid-derivative", "momentum-step"),
    "topology": ("parameter-count",),
    "vanishing-gradients": ("delta-norms",),
}
"""The exercises that end each chapter of the book, in its order; each chapter's exercise
notebook is ``docs/exercises/CHAPTER.md``."""


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
    if exercise.kind == "code":
        return _check_code(exercise, answer)
    return _check_derivation(exercise, answer)


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
    return "steps = [\n" + "".join(f"    {step!r},\n" for step in solution) + "]\n"


# Code exercises --------------------------------------------------------------------------


class _TooSlowError(BaseException):
    """Raised by the alarm: not an Exception, so that ``except Exception`` cannot keep it."""


@contextmanager
def _time_limit(seconds: float):
    """Interrupt the block after ``seconds`` where a signal can (the main thread on Unix)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def interrupt(*_: object) -> None:
        raise _TooSlowError

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
                return f"item {index}: {reason}"
        return None
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
        return np.array2string(value, precision=6, threshold=40, max_line_width=88)
    if isinstance(value, np.generic):
        return str(value.item())
    return repr(value)


def _call(function: Callable[..., Any], arguments: tuple) -> Any:
    # Each call gets its own copies, so an answer that works in place changes nothing else.
    copies = tuple(a.copy() if isinstance(a, np.ndarray) else
                   [w.copy() if isinstance(w, np.ndarray) else w for w in a]
                   if isinstance(a, list) else a for a in arguments)
    return function(*copies)


def _check_code(exercise: Exercise, answer: Any) -> Feedback:
    from hypothesis import HealthCheck, given, settings

    if not callable(answer):
        return Feedback(False, f"{exercise.title}: not yet. The answer must be a function "
                               f"{exercise.signature}, got {type(answer).__name__}.")
    failure: dict[str, Any] = {}
    deadline = time.monotonic() + TIME_LIMIT

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(exercise.inputs())
    def agrees(arguments: tuple) -> None:
        # One place raises, so that hypothesis sees one failure however the answer fails.
        if not _answer_agrees(exercise, answer, arguments, failure, deadline):
            raise AssertionError

    try:
        agrees()
    except AssertionError:
        if failure.get("slow"):
            return Feedback(False, f"{exercise.title}: not yet. The answer took longer than "
                                   f"{TIME_LIMIT:g} s over its examples; look for a loop that "
                                   "never ends, or work done per element that numpy does at "
                                   "once.")
        return Feedback(False, _code_message(exercise, failure))
    except Exception as error:
        return Feedback(False, f"{exercise.title}: the answer could not be checked "
                               f"({type(error).__name__}); does it give the same result for "
                               "the same input every time?")
    return Feedback(True, f"{exercise.title}: correct on {EXAMPLES} generated inputs, "
                          "extreme values included.")


def _answer_agrees(exercise: Exercise, answer: Callable[..., Any], arguments: tuple,
                   failure: dict[str, Any], deadline: float) -> bool:
    """Run the answer on one input; on a disagreement, record why in ``failure``."""
    # Once an answer has been too slow, every later example fails at once: hypothesis then
    # shrinks quickly instead of waiting on the answer again.
    if failure.get("slow") or time.monotonic() > deadline:
        failure["slow"] = True
        return False
    expected = _call(exercise.reference, arguments)
    try:
        with np.errstate(all="ignore"), _time_limit(max(deadline - time.monotonic(), 0.01)):
            received = _call(answer, arguments)
    except _TooSlowError:
        failure["slow"] = True
        return False
    except Exception as error:
        detail = f": {error}" if str(error) else ""
        failure.update(arguments=arguments, expected=expected,
                       error=f"{type(error).__name__}{detail}",
                       unanswered=isinstance(error, NotImplementedError))
        return False
    reason = _compare(expected, received)
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
    lines = [f"{exercise.title}: not yet."]
    names = exercise.signature[exercise.signature.index("(") + 1 : -1].split(", ")
    lines.append("On the input")
    lines += [f"  {name} = " + _show(value).replace("\n", "\n" + " " * (len(name) + 5))
              for name, value in zip(names, arguments, strict=True)]
    if failure["error"]:
        lines.append(f"your function raised {failure['error']}.")
        return "\n".join(lines)
    lines.append("it should return\n  " + _show(failure["expected"]).replace("\n", "\n  "))
    lines.append("but returned\n  " + _show(failure["received"]).replace("\n", "\n  ")
                 + f"\n({failure['reason']}).")
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


def _strategies():
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    return st, arrays


def _activation_outputs(low: float, high: float):
    st, arrays = _strategies()
    return st.tuples(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 6)),
                            elements=st.floats(low, high)))


def _logits(bound: float = 1e3):
    st, arrays = _strategies()
    return arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(2, 6)),
                  elements=st.floats(-bound, bound))


def _labelled(draw, bound: float = 30.0):
    st, _ = _strategies()
    z = draw(_logits(bound))
    labels = draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=z.shape[0],
                           max_size=z.shape[0]))
    targets = np.eye(z.shape[1])[labels]
    return targets, activations.softmax(z)


def _targets_and_outputs():
    st, _ = _strategies()
    return st.composite(lambda draw: _labelled(draw))()


def _one_hot_inputs():
    st, _ = _strategies()

    @st.composite
    def draw_inputs(draw):
        classes = draw(st.integers(2, 10))
        labels = draw(st.lists(st.integers(0, classes - 1), min_size=1, max_size=8))
        return np.array(labels), classes

    return draw_inputs()


def _backward_inputs():
    st, arrays = _strategies()

    @st.composite
    def draw_inputs(draw):
        sizes = draw(st.lists(st.integers(1, 5), min_size=3, max_size=5))
        sizes[-1] = max(sizes[-1], 2)
        rows = draw(st.integers(1, 8))
        weights = [draw(arrays(np.float64, (n_in, n_out), elements=st.floats(-2, 2)))
                   for n_in, n_out in pairwise(sizes)]
        X = draw(arrays(np.float64, (rows, sizes[0]), elements=st.floats(-3, 3)))
        labels = draw(st.lists(st.integers(0, sizes[-1] - 1), min_size=rows, max_size=rows))
        return weights, X, np.eye(sizes[-1])[labels]

    return draw_inputs()


def _momentum_inputs():
    st, arrays = _strategies()

    @st.composite
    def draw_inputs(draw):
        shape = draw(st.tuples(st.integers(1, 6), st.integers(1, 6)))
        W, v, g = (draw(arrays(np.float64, shape, elements=st.floats(-10, 10)))
                   for _ in range(3))
        return W, v, g, draw(st.floats(1e-4, 1.0)), draw(st.floats(0.0, 0.99))

    return draw_inputs()


def _register(exercise: Exercise) -> Exercise:
    EXERCISES[exercise.name] = exercise
    return exercise


SIGMOID = ACTIVATIONS["sigmoid"]
IMPROVED = ACTIVATIONS["improved_sigmoid"]
A, S = activations.IMPROVED_SIGMOID_SCALE, activations.IMPROVED_SIGMOID_SLOPE


LINEAR_SLOPE = Activation("sigmoid, f' forgotten", SIGMOID.function, np.ones_like)
"""The sigmoid forward, but a derivative of 1 backward: the mistake of leaving f' out."""


def _reference_backward(weights, X, targets, activation=SIGMOID):
    a = network.forward(weights, X, SIGMOID)
    return network.backward(weights, a, losses.cross_entropy_delta(targets, a[-1]),
                            activation)


def _lecun_step(W, v, g, learning_rate, momentum):
    v_new = learning_rate * g + momentum * v
    return W - v_new, v_new


def _reference_momentum(W, v, g, learning_rate, momentum):
    W, v = W.copy(), v.copy()
    if momentum == 0:
        v = g.copy()
        W -= learning_rate * g
        return W, v
    training.momentum_step(W, v, g, learning_rate, momentum)
    return W, v


_register(Exercise(
    name="sigmoid-derivative",
    title="The sigmoid's derivative from its output",
    statement=r"Write `f(a)` that returns $\sigma'(z)$, elementwise, from the sigmoid's output "
              r"$a = \sigma(z)$, without computing $z$.",
    kind="code",
    hints=(r"Differentiate $1/(1 + e^{-z})$ and write the result in terms of $\sigma(z)$.",),
    signature="f(a)",
    reference=SIGMOID.derivative,
    inputs=lambda: _activation_outputs(0.0, 1.0),
    mistakes=(
        Mistake("from z", lambda a: SIGMOID.function(a) * (1 - SIGMOID.function(a)),
                "your function treats its argument as z, but it receives the output "
                "a = sigma(z): the derivative is a (1 - a) itself."),
        Mistake("tanh", lambda a: 1 - a**2,
                "1 - a^2 is the derivative of tanh, not of the sigmoid."),
        Mistake("sign", lambda a: a * (a - 1),
                "the sign is flipped: the sigmoid increases, so its derivative is positive."),
    ),
    solution=solutions.sigmoid_derivative,
))

_register(Exercise(
    name="improved-sigmoid-derivative",
    title="The improved sigmoid's derivative from its output",
    statement=r"For $f(z) = A \tanh(S z)$ with $A = 1.7159$ and $S = 2/3$, write `f(a)` that "
              r"returns $f'(z)$ from the output $a = f(z)$.",
    kind="code",
    hints=(r"$\tanh'(u) = 1 - \tanh^2(u)$, and $\tanh(S z) = a / A$.",),
    signature="f(a)",
    reference=IMPROVED.derivative,
    inputs=lambda: _activation_outputs(-1.7159, 1.7159),
    mistakes=(
        Mistake("no slope", lambda a: A - a * a / A,
                "the chain rule brings out the slope S = 2/3 of tanh(S z)."),
        Mistake("tanh of a", lambda a: 1 - a * a,
                "1 - a^2 is tanh's derivative at scale 1; here a = A tanh(S z), so divide a "
                "by A, and multiply by A S."),
        Mistake("from z", lambda a: A * S * (1 - np.tanh(S * a) ** 2),
                "your function treats its argument as z, but it receives the output a."),
    ),
    solution=solutions.improved_sigmoid_derivative,
))

_register(Exercise(
    name="softmax",
    title="The softmax",
    statement=r"Write `f(z)` that returns the probabilities $\hat y_{nk} = e^{z_{nk}} / "
              r"\sum_j e^{z_{nj}}$, shape $(N, K)$, from logits of shape $(N, K)$ as large as "
              r"$\pm 10^3$.",
    kind="code",
    hints=("Softmax does not change when a constant is subtracted from a row's logits.",),
    signature="f(z)",
    reference=activations.softmax,
    inputs=lambda: _strategies()[0].tuples(_logits()),
    mistakes=(
        Mistake("no shift", lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
                "e^z overflows for z > 709: subtract each row's largest logit first."),
        Mistake("wrong axis", lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(
            axis=0, keepdims=True),
                "each row (one sample) must sum to 1: sum over axis 1, not axis 0."),
        Mistake("whole batch", lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
                "you normalised over the whole batch: each row must sum to 1 on its own."),
    ),
    solution=solutions.softmax,
))

_register(Exercise(
    name="cross-entropy",
    title="The mean cross-entropy",
    statement=r"Write `f(targets, outputs)` that returns $C = -\frac1N \sum_{n,k} y_{nk} \ln "
              r"\hat y_{nk}$ as a float, from one-hot targets and probabilities of shape "
              r"$(N, K)$.",
    kind="code",
    hints=("The mean is over the N samples, not over the N K entries.",),
    signature="f(targets, outputs)",
    reference=lambda targets, outputs: float(losses.mean_cross_entropy(targets, outputs)),
    inputs=_targets_and_outputs,
    mistakes=(
        Mistake("sum", lambda y, p: float(-np.sum(y * np.log(p))),
                "that is the sum over the batch: divide by the number of samples N."),
        Mistake("mean over entries", lambda y, p: float(-np.mean(y * np.log(p))),
                "np.mean over the (N, K) array divides by N K: divide by N only."),
        Mistake("sign", lambda y, p: float(np.sum(y * np.log(p)) / len(p)),
                "a loss is positive: log of a probability is negative, so put a minus sign "
                "in front."),
    ),
    solution=solutions.cross_entropy,
))

_register(Exercise(
    name="one-hot",
    title="One-hot targets",
    statement=r"Write `f(labels, num_classes)` that returns an $(N, K)$ array whose row $n$ is "
              r"all zeros but a one in column `labels[n]`.",
    kind="code",
    signature="f(labels, num_classes)",
    reference=lambda labels, classes: np.eye(classes)[labels],
    inputs=_one_hot_inputs,
    mistakes=(
        Mistake("transposed", lambda labels, classes: np.eye(classes)[labels].T,
                "one row per sample: the shape is (N, K), not (K, N)."),
        Mistake("from one", lambda labels, classes: np.eye(classes)[labels - 1],
                "classes are counted from 0: label 0 sets column 0."),
        Mistake("one too many", lambda labels, classes: np.eye(classes + 1)[labels],
                "there are num_classes columns, one per class, and no more."),
    ),
    solution=solutions.one_hot,
))

_register(Exercise(
    name="output-delta",
    title="The output layer's delta",
    statement=r"Write `f(targets, outputs)` that returns $\partial C / \partial z^{(L)}$, "
              r"shape $(N, K)$, for the mean cross-entropy of softmax outputs.",
    kind="code",
    hints=(r"Softmax and cross-entropy together give $\hat y - y$ per sample.",),
    signature="f(targets, outputs)",
    reference=losses.cross_entropy_delta,
    inputs=_targets_and_outputs,
    mistakes=(
        Mistake("no mean", lambda y, p: p - y,
                "the loss is a mean over the batch, so its gradient carries a factor 1/N."),
        Mistake("sign", lambda y, p: (y - p) / len(p),
                "the sign is flipped: the delta is (y_hat - y) / N."),
        Mistake("mean over entries", lambda y, p: (p - y) / p.size,
                "divide by the number of samples N, not by N K."),
    ),
    solution=solutions.output_delta,
))

_register(Exercise(
    name="backward",
    title="The backward pass",
    statement=r"Write `f(weights, X, targets)` that returns the list of gradients "
              r"$\partial C / \partial W^{(l)}$ of the mean cross-entropy, for sigmoid hidden "
              r"layers and a softmax output, with weights shaped (fan_in, fan_out) and "
              r"$z^{(l)} = a^{(l-1)} W^{(l)}$.",
    kind="code",
    hints=(r"$\delta^{(l-1)} = f'(z^{(l-1)}) \odot \delta^{(l)} W^{(l)\top}$ and "
           r"$\partial C/\partial W^{(l)} = a^{(l-1)\top} \delta^{(l)}$.",),
    signature="f(weights, X, targets)",
    reference=_reference_backward,
    inputs=_backward_inputs,
    mistakes=(
        Mistake("no mean", lambda W, X, t: [len(X) * g for g in _reference_backward(W, X, t)],
                "the loss is a mean over the batch: the output delta is (y_hat - y) / N."),
        Mistake("no derivative", lambda W, X, t: _reference_backward(W, X, t, LINEAR_SLOPE),
                "each hidden layer's delta is multiplied by f'(z) = a (1 - a)."),
        Mistake("transposed", lambda W, X, t: [g.T for g in _reference_backward(W, X, t)],
                "each gradient has the shape of its weights, (fan_in, fan_out): "
                "a^(l-1)^T delta^(l), not its transpose."),
    ),
    solution=solutions.backward,
))

_register(Exercise(
    name="momentum-step",
    title="A momentum step",
    statement=r"Write `f(weights, velocity, gradient, learning_rate, momentum)` that returns "
              r"`(new_weights, new_velocity)` by the book's rule $v \leftarrow g + \gamma v$, "
              r"$W \leftarrow W - \alpha v$.",
    kind="code",
    signature="f(weights, velocity, gradient, learning_rate, momentum)",
    reference=_reference_momentum,
    inputs=_momentum_inputs,
    mistakes=(
        Mistake("LeCun", _lecun_step,
                "that is LeCun's convention, Delta w = alpha g + gamma Delta w; the book's "
                "velocity leaves alpha out: v = g + gamma v, then W - alpha v."),
        Mistake("old velocity", lambda W, v, g, lr, m: (W - lr * v, g + m * v),
                "update the velocity first, then move the weights with the new one."),
        Mistake("sign", lambda W, v, g, lr, m: (W + lr * (g + m * v), g + m * v),
                "gradient descent moves against the gradient: W - alpha v."),
    ),
    solution=solutions.momentum_step,
))


def _sizes():
    st, _ = _strategies()
    return st.tuples(st.lists(st.integers(1, 1000), min_size=2, max_size=6))


_register(Exercise(
    name="parameter-count",
    title="Counting the weights",
    statement=r"Write `f(layer_sizes)` that returns the number of weights of a network whose "
              r"layers have $n_0, n_1, \dots, n_L$ units, the bias counted as one of the $n_0$ "
              r"inputs and no other biases (so `f([785, 64, 10])` is 50,880).",
    kind="code",
    hints=("One weight joins each pair of units in consecutive layers.",),
    signature="f(layer_sizes)",
    reference=network.parameter_count,
    inputs=_sizes,
    mistakes=(
        Mistake("biases everywhere", lambda sizes: network.parameter_count(sizes)
                + sum(sizes[1:]),
                "the bias is one of the inputs, n_0: no layer has a bias of its own here."),
        Mistake("no bias", lambda sizes: network.parameter_count([sizes[0] - 1, *sizes[1:]]),
                "n_0 already counts the bias input: do not take it away."),
        Mistake("every pair of layers", lambda sizes: sum(
            a * b for i, a in enumerate(sizes) for b in sizes[i + 1 :]),
                "only consecutive layers are joined: n_0 n_1 + n_1 n_2 + ..."),
    ),
    solution=solutions.parameter_count,
))


def _deltas(weights, X, targets, derivative=SIGMOID.derivative, output=False):
    """The norm of each layer's delta, hidden layers first to last (the output's if asked)."""
    a = network.forward(weights, X, SIGMOID)
    delta = losses.cross_entropy_delta(targets, a[-1])
    norms = [float(np.linalg.norm(delta))] if output else []
    for l in range(len(weights), 1, -1):
        delta = derivative(a[l - 1]) * (delta @ weights[l - 1].T)
        norms.append(float(np.linalg.norm(delta)))
    return norms[::-1]


_register(Exercise(
    name="delta-norms",
    title="How fast each hidden layer learns",
    statement=r"Write `f(weights, X, targets)` that returns the list of the norms "
              r"$\lVert \delta^{(l)} \rVert$ of the hidden layers' deltas, first hidden layer "
              r"first, for sigmoid hidden layers, a softmax output and the mean cross-entropy: "
              r"the measure of how fast each layer learns.",
    kind="code",
    hints=(r"Run the delta recurrence from $\delta^{(L)} = (\hat y - y)/N$ and keep the "
           r"norm of each $\delta^{(l)}$ below the output.",),
    signature="f(weights, X, targets)",
    reference=_deltas,
    inputs=_backward_inputs,
    mistakes=(
        Mistake("with the output", lambda W, X, t: _deltas(W, X, t, output=True),
                "only the hidden layers: leave out the output layer's delta."),
        Mistake("no derivative", lambda W, X, t: _deltas(W, X, t, derivative=np.ones_like),
                "each hidden delta is multiplied by f'(z) = a (1 - a): that factor, at most "
                "1/4, is why the deltas shrink."),
        Mistake("gradients", lambda W, X, t: [float(np.linalg.norm(g))
                                              for g in _reference_backward(W, X, t)[:-1]],
                "those are the norms of the weight gradients a^T delta; the delta is "
                "dC/dz itself."),
    ),
    solution=solutions.delta_norms,
))


# Derivation exercises ---------------------------------------------------------------------

_ARITHMETIC = {ast.Add: sp.Add, ast.Sub: lambda x, y: x - y, ast.Mult: sp.Mul,
               ast.Div: lambda x, y: x / y, ast.Pow: sp.Pow}
FUNCTIONS = {"exp": sp.exp, "log": sp.log, "tanh": sp.tanh, "sqrt": sp.sqrt}
"""The functions a step may call; ``diff(expression, variable)`` writes a derivative."""

MAX_STEP_LENGTH = 1_000
"""The longest step read, in characters."""

MAX_DEPTH = 40
"""How deeply a step may nest its operations: far beyond any derivation here."""

MAX_BITS = 1_000
"""The largest number a step may build, in bits (about 300 digits)."""

MAX_STEPS = 50
"""The most steps a derivation may have."""

SPELLINGS = {"ln": "log", "e": "exp(x) for e to the power x", "pi": "a number",
             "sigma": "a, or 1/(1 + exp(-z))", "sigmoid": "a, or 1/(1 + exp(-z))"}
"""What to write instead of names students often reach for."""


class StepError(ValueError):
    """A step that cannot be read: it names what was refused."""


def parse_step(text: str, names: dict[str, Any]) -> sp.Basic:
    """A step written in Python's maths notation, as a SymPy expression, without evaluating it.

    The text is parsed into a syntax tree and only these nodes are accepted: numbers, the
    names in ``names`` and :data:`FUNCTIONS`, ``+ - * / **``, unary minus, calls of those
    functions and ``diff(expression, variable)``. The SymPy expression is then built from
    the tree here; Python never runs the text. Its length, its depth and the size of every
    number it builds are bounded first, so no step can exhaust the checker.

    Raises
    ------
    StepError
        Naming the first thing refused, and what to write instead where there is a rule.
    """
    if len(text) > MAX_STEP_LENGTH:
        raise StepError(f"the step is longer than {MAX_STEP_LENGTH:,} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise StepError(f"not an expression: {error.msg}") from None
    except (RecursionError, MemoryError):
        raise StepError(f"the step is nested more than {MAX_DEPTH} levels deep") from None
    pending = [(tree.body, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise StepError(f"the step is nested more than {MAX_DEPTH} levels deep")
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return _build(tree.body, names)


def _build(node: ast.AST, names: dict[str, Any]) -> sp.Basic:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not \
            isinstance(node.value, bool):
        return _bounded(sp.nsimplify(node.value) if isinstance(node.value, float) else
                        sp.Integer(node.value))
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        raise StepError(_unknown(node.id, names))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
        raise StepError("^ is not a power in Python: write ** for powers, as in z**2")
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _build(node.left, names), _build(node.right, names)
        if isinstance(node.op, ast.Pow) and right.is_Number:
            # A numeric power is computed at once: bound what it could build first.
            if abs(right) > 100:
                raise StepError("exponents above 100 are refused")
            if left.is_Rational and _bits(left) * float(abs(right)) > MAX_BITS:
                raise StepError(f"numbers of more than {MAX_BITS:,} bits are refused")
        return _bounded(_ARITHMETIC[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _build(node.operand, names)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return _call_function(node, names)
    raise StepError(f"{ast.unparse(node)[:60]!r} is not allowed: only numbers, names, "
                    "+ - * / **, the functions " + ", ".join(FUNCTIONS) + " and diff")


def _call_function(node: ast.Call, names: dict[str, Any]) -> sp.Basic:
    function, arguments = node.func.id, node.args
    if function == "diff":
        variable = arguments[1] if len(arguments) == 2 else None
        if not (isinstance(variable, ast.Name) and isinstance(names.get(variable.id),
                                                              sp.Symbol)):
            symbols = ", ".join(name for name, value in names.items()
                                if isinstance(value, sp.Symbol))
            raise StepError("diff takes an expression and the variable to differentiate by,"
                            f" one of {symbols}, as in diff(1/(1 + exp(-z)), z)")
        return sp.Derivative(_build(arguments[0], names), names[variable.id])
    if function in FUNCTIONS and len(arguments) == 1:
        return FUNCTIONS[function](_build(arguments[0], names))
    if function in FUNCTIONS:
        raise StepError(f"{function} takes one argument, got {len(arguments)}")
    raise StepError(_unknown(function, names, called=True))


def _unknown(name: str, names: dict[str, Any], called: bool = False) -> str:
    what = "a function" if called else "a name"
    if name in SPELLINGS:
        return f"{name!r} is not {what} here: write {SPELLINGS[name]}"
    return (f"{name!r} is not {what} here; a step may use {', '.join(names)}, the functions "
            f"{', '.join(FUNCTIONS)} and diff")


def _bits(number: sp.Rational) -> int:
    return max(abs(int(number.p)).bit_length(), int(number.q).bit_length())


def _bounded(value: sp.Basic) -> sp.Basic:
    if value.is_Rational and _bits(value) > MAX_BITS:
        raise StepError(f"numbers of more than {MAX_BITS:,} bits are refused")
    return value


def written_form(text: str) -> str:
    """A step's form as written, to tell a step of working from a repetition.

    Two steps have the same form when they differ only in spacing, parentheses, the order of
    the terms of a sum or the factors of a product, a factor of 1 or a term of 0; SymPy's
    own simplifications do not count (``1/(1 + exp(-z)) * exp(-z)/(1 + exp(-z))`` is a
    step of its own after ``exp(-z)/(1 + exp(-z))**2``).
    """
    return _form(ast.parse(text.strip(), mode="eval").body)


def _form(node: ast.AST) -> str:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
        kind = "*" if isinstance(node.op, ast.Mult) else "+"
        unit = "1" if kind == "*" else "0"
        parts = sorted(part for part in _operands(node, kind) if part != unit)
        return f"{kind}({','.join(parts)})" if len(parts) != 1 else parts[0]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return _form(node.operand)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _form(node.operand)
        return inner[1:] if inner.startswith("-") else "-" + inner
    if isinstance(node, ast.BinOp):
        return f"{type(node.op).__name__}({_form(node.left)},{_form(node.right)})"
    if isinstance(node, ast.Call):
        return f"{ast.unparse(node.func)}({','.join(_form(a) for a in node.args)})"
    return ast.unparse(node)


def _operands(node: ast.AST, kind: str) -> list[str]:
    """The terms of a sum (a difference's second term negated), or the factors of a product."""
    if isinstance(node, ast.BinOp) and kind == "*" and isinstance(node.op, ast.Mult):
        return _operands(node.left, kind) + _operands(node.right, kind)
    if isinstance(node, ast.BinOp) and kind == "+" and isinstance(node.op, ast.Add | ast.Sub):
        right = _operands(node.right, kind)
        if isinstance(node.op, ast.Sub):
            right = [term[1:] if term.startswith("-") else "-" + term for term in right]
        return _operands(node.left, kind) + right
    return [_form(node)]


def in_names(expression: sp.Basic, names: dict[str, Any], limit: int = 160) -> str:
    """An expression as the student writes it: in the exercise's names, cut to ``limit``."""
    compound = {value: sp.Symbol(name) for name, value in names.items()
                if not isinstance(value, sp.Symbol)}
    text = sp.sstr(expression.xreplace(compound)).replace("Derivative(", "diff(")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_derivation(exercise: Exercise, answer: Any) -> Feedback:
    if isinstance(answer, str | sp.Basic) or not isinstance(answer, Sequence) or not answer:
        return Feedback(False, f"{exercise.title}: not yet. The answer is a list of steps, "
                               "each a SymPy expression or a string such as "
                               "'exp(-z)/(1 + exp(-z))'.")
    if len(answer) > MAX_STEPS:
        return Feedback(False, f"{exercise.title}: not yet. A derivation here takes a few "
                               f"steps, not {len(answer):,}: at most {MAX_STEPS}.")
    try:
        with _time_limit(TIME_LIMIT):
            return _derivation_feedback(exercise, list(answer))
    except _TooSlowError:
        return Feedback(False, f"{exercise.title}: not yet. SymPy could not decide within "
                               f"{TIME_LIMIT:g} s whether the steps follow; write smaller "
                               "steps, in the exercise's own names.")


def _derivation_feedback(exercise: Exercise, answer: list[Any]) -> Feedback:
    from backprop.derivations import is_zero

    title, names = exercise.title, exercise.names
    steps, forms = [], []
    for number, step in enumerate(answer, start=1):
        try:
            if isinstance(step, str):
                steps.append(parse_step(step, names))
                forms.append(written_form(step))
            elif isinstance(step, sp.Basic):
                steps.append(step)
                forms.append(sp.srepr(step))
            else:
                raise StepError(f"a step is a string or a SymPy expression, got "
                                f"{type(step).__name__}")
        except StepError as error:
            return Feedback(False, f"{title}: not yet. Step {number} cannot be read: {error}.")

    def same(left: sp.Basic, right: sp.Basic) -> bool:
        return is_zero(sp.sympify(left - right).doit())

    def difference(step: sp.Basic, wanted: sp.Basic) -> str:
        found = (step - wanted).doit()
        # Simplified where that is quick; a large difference is shown as it is, cut short.
        return in_names(sp.simplify(found) if sp.count_ops(found) <= 150 else found, names)

    for later in range(1, len(forms)):
        for earlier in range(later):
            if forms[later] == forms[earlier]:
                return Feedback(False, f"{title}: not yet. Step {later + 1} repeats step "
                                       f"{earlier + 1}: each step should change the "
                                       "expression.")
    start = exercise.start
    if not same(start, steps[0]):
        if isinstance(start, sp.Derivative) and same(start.expr, steps[0]):
            return Feedback(False, f"{title}: not yet. Step 1 is the expression before it is "
                                   f"differentiated; the derivation starts from its "
                                   f"derivative: write it as {exercise.start_text}, or begin "
                                   "with its first worked form.")
        return Feedback(False, f"{title}: not yet. Step 1 does not equal the start, "
                               f"{exercise.start_text}, which step 1 may be; it differs from "
                               f"it by {difference(steps[0], start)}.")
    for number in range(1, len(steps)):
        if not same(steps[number - 1], steps[number]):
            return Feedback(False, f"{title}: not yet. Step {number + 1} does not follow from "
                                   f"step {number}: it should have equalled "
                                   f"{in_names(steps[number - 1], names)}, and differs from "
                                   f"it by {difference(steps[number], steps[number - 1])}.")
    if not same(steps[-1], exercise.result):
        return Feedback(False, f"{title}: not yet. Every step follows, but the last is not "
                               f"the result {in_names(exercise.result, names)}.")
    last = answer[-1]
    if isinstance(last, str) and exercise.result_names:
        extra = {node.id for node in ast.walk(ast.parse(last.strip(), mode="eval"))
                 if isinstance(node, ast.Name) and node.id not in FUNCTIONS}
        extra -= exercise.result_names
        if extra:
            return Feedback(False, f"{title}: not yet. Every step follows, but the last still "
                                   f"uses {', '.join(sorted(extra))}: write the result in "
                                   f"terms of {', '.join(sorted(exercise.result_names))}.")
    worked = [step for step in steps if not isinstance(step, sp.Derivative)]
    if len(worked) < 2:
        return Feedback(False, f"{title}: not yet. Show your working: write at least one "
                               "step between the start and the result, each one "
                               "expression that SymPy can check against the one before.")
    return Feedback(True, f"{title}: {len(steps)} steps follow, from the start to the "
                          "result.")


z = sp.Symbol("z", real=True)
_sigmoid = 1 / (1 + sp.exp(-z))

_register(Exercise(
    name="derive-sigmoid-derivative",
    title="Derive the sigmoid's derivative",
    statement=r"Starting from $\frac{d}{dz} \frac{1}{1 + e^{-z}}$, derive "
              r"$\sigma'(z) = a (1 - a)$ with $a = \sigma(z)$, one step at a time. A step may "
              r"use `z`, `a` (which stands for $\sigma(z)$), `exp`, `log` and `tanh`; step 1 "
              r"may be the start itself, `diff(1/(1 + exp(-z)), z)`, and at least one step "
              r"lies between the start and the result.",
    kind="derivation",
    hints=("Apply the chain rule to (1 + exp(-z))**-1, then split the fraction.",),
    start=sp.Derivative(_sigmoid, z),
    result=_sigmoid * (1 - _sigmoid),
    start_text="diff(1/(1 + exp(-z)), z)",
    names={"z": z, "a": _sigmoid},
    result_names=frozenset({"a"}),
    solution=["exp(-z) / (1 + exp(-z))**2",
              "1 / (1 + exp(-z)) * exp(-z) / (1 + exp(-z))",
              "1 / (1 + exp(-z)) * (1 - 1 / (1 + exp(-z)))",
              "a * (1 - a)"],
))

_z1, _z2, _z3 = sp.symbols("z1 z2 z3", real=True)
_y1, _y2 = sp.symbols("y1 y2", real=True)
_total = sp.exp(_z1) + sp.exp(_z2) + sp.exp(_z3)
_softmax = [sp.exp(_z1) / _total, sp.exp(_z2) / _total, sp.exp(_z3) / _total]
_y = [_y1, _y2, 1 - _y1 - _y2]

_register(Exercise(
    name="derive-output-delta",
    title="Derive the output delta of softmax with cross-entropy",
    statement=r"For $K = 3$ classes, targets $y_1, y_2, y_3 = 1 - y_1 - y_2$ and "
              r"$a_k = e^{z_k} / \sum_j e^{z_j}$, start from "
              r"$\frac{\partial}{\partial z_1}\left(-\sum_k y_k \ln a_k\right)$ and derive "
              r"$a_1 - y_1$. A step may use `z1 z2 z3 y1 y2 y3 a1 a2 a3`, `exp` and `log`; "
              r"step 1 may be the start itself, "
              r"`diff(-(y1*log(a1) + y2*log(a2) + y3*log(a3)), z1)`.",
    kind="derivation",
    hints=(r"$\ln a_k = z_k - \ln \sum_j e^{z_j}$, and the targets sum to 1.",),
    start=sp.Derivative(-sum(t * sp.log(o) for t, o in zip(_y, _softmax, strict=True)), _z1),
    result=_softmax[0] - _y1,
    start_text="diff(-(y1*log(a1) + y2*log(a2) + y3*log(a3)), z1)",
    names={"z1": _z1, "z2": _z2, "z3": _z3, "y1": _y1, "y2": _y2, "y3": _y[2],
           "a1": _softmax[0], "a2": _softmax[1], "a3": _softmax[2]},
    result_names=frozenset({"a1", "y1"}),
    solution=["-(y1 + y2 + y3) * exp(z1) / (exp(z1) + exp(z2) + exp(z3)) * -1 - y1",
              "exp(z1) / (exp(z1) + exp(z2) + exp(z3)) - y1",
              "a1 - y1"],
))

_x1, _x2 = sp.symbols("x1 x2", real=True)
_w = sp.symbols("w11 w12 w21 w22", real=True)
_v = sp.symbols("v11 v12 v21 v22", real=True)
_hidden_z = [_w[0] * _x1 + _w[1] * _x2, _w[2] * _x1 + _w[3] * _x2]
_hidden_a = [1 / (1 + sp.exp(-u)) for u in _hidden_z]
_out_z = [_v[0] * _hidden_a[0] + _v[1] * _hidden_a[1], _v[2] * _hidden_a[0]
          + _v[3] * _hidden_a[1]]
_out_total = sp.exp(_out_z[0]) + sp.exp(_out_z[1])
_out_a = [sp.exp(u) / _out_total for u in _out_z]
_ty = [_y1, 1 - _y1]
_cost = -sum(t * sp.log(o) for t, o in zip(_ty, _out_a, strict=True))
_delta1 = _hidden_a[0] * (1 - _hidden_a[0]) * (
    _v[0] * (_out_a[0] - _ty[0]) + _v[2] * (_out_a[1] - _ty[1]))

_register(Exercise(
    name="derive-hidden-update",
    title="Derive the update of a hidden-layer weight (Task 1a)",
    statement=r"A network with inputs $x_1, x_2$, hidden units $a_j = \sigma(z_j)$ with "
              r"$z_j = w_{j1} x_1 + w_{j2} x_2$, outputs $\hat y_k = "
              r"\operatorname{softmax}(v_{k1} a_1 + v_{k2} a_2)$ and targets $y_1, "
              r"y_2 = 1 - y_1$. Start from $\partial C / \partial w_{11}$ for "
              r"$C = -\sum_k y_k \ln \hat y_k$ and derive $\delta_1 x_1$, with "
              r"$\delta_1 = \sigma'(z_1) \sum_k v_{k1} (\hat y_k - y_k)$. A step may use "
              r"`x1 x2 w11 w12 w21 w22 v11 v12 v21 v22 y1 y2 z1 z2 a1 a2 o1 o2 delta1`, "
              r"`exp` and `log` (`o1 o2` are the outputs $\hat y_k$); step 1 may be the "
              r"start itself, `diff(-(y1*log(o1) + y2*log(o2)), w11)`.",
    kind="derivation",
    hints=(r"Chain rule through $z_1$: $\partial C/\partial w_{11} = "
           r"\partial C/\partial z_1 \cdot x_1$.",),
    start=sp.Derivative(_cost, _w[0]),
    result=_delta1 * _x1,
    start_text="diff(-(y1*log(o1) + y2*log(o2)), w11)",
    names={"x1": _x1, "x2": _x2, "w11": _w[0], "w12": _w[1], "w21": _w[2], "w22": _w[3],
           "v11": _v[0], "v12": _v[1], "v21": _v[2], "v22": _v[3], "y1": _y1, "y2": _ty[1],
           "z1": _hidden_z[0], "z2": _hidden_z[1], "a1": _hidden_a[0], "a2": _hidden_a[1],
           "o1": _out_a[0], "o2": _out_a[1], "delta1": _delta1},
    result_names=frozenset({"delta1", "x1"}),
    solution=["a1 * (1 - a1) * (v11 * (o1 - y1) + v21 * (o2 - y2)) * x1",
              "delta1 * x1"],
))
