"""The exercises: what each asks, its reference answer, and the mistakes it recognises.

:data:`EXERCISES` maps a name to an :class:`Exercise`; :data:`CHAPTER_EXERCISES` says which
end each chapter of the book. A code exercise carries the strategy of inputs hypothesis
draws for it and its known mistakes; a derivation carries its start, its result and the
names a step may use; a reading, a choice or a number, carries its key, which the package
computes (a choice's lettered :class:`Option` that its measurement finds true, a number's
exact value), and, for a number, its known wrong values.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import sympy as sp

from backprop import (
    activations,
    data,
    losses,
    network,
    preprocessing,
    runs,
    solutions,
    training,
)
from backprop.activations import ACTIVATIONS, Activation
from backprop.exercises import runner

WIDTH = 78
"""The width feedback is wrapped to: it fits a notebook's output and the book's column."""


@dataclass(frozen=True)
class Feedback:
    """The outcome of :func:`check`: whether the answer passed, and what to tell the student.

    ``credit`` is the share of the exercise's points a code answer that did not pass still
    earns, by its cases (:attr:`Exercise.cases`); ``None`` means all or nothing.
    """

    passed: bool
    message: str
    credit: float | None = None

    @property
    def share(self) -> float:
        """The share of the exercise's points earned: ``credit``, else all or nothing."""
        if self.credit is not None:
            return self.credit
        return 1.0 if self.passed else 0.0

    def __str__(self) -> str:
        # Prose is wrapped to fit a notebook's output; indented lines (arrays) are kept.
        return "\n".join(
            line if line.startswith(" ") or len(line) <= WIDTH
            else textwrap.fill(line, WIDTH, break_on_hyphens=False)
            for line in self.message.splitlines()
        )


@dataclass(frozen=True)
class Case:
    """A part of a code answer's points (:attr:`Exercise.cases`): its name and its share."""

    name: str
    share: float


SHAPES_SHARE = 1 / 3
"""The share of a code exercise's points for the right types and shapes on every input."""

TYPICAL_SHARE = 1 / 3
"""The share more, where an exercise has extreme inputs, for every typical input's values."""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, and the hint for a student whose answer behaves like it.

    ``answer`` is, for code, the wrong function; for a derivation, a function of no
    arguments that returns the wrong expression (a step equal to it gets the hint); for a
    number, a function of no arguments that computes the wrong value.
    """

    name: str
    answer: Callable[..., Any]
    hint: str


@dataclass(frozen=True)
class Option:
    """One lettered option of a choice: what it says, and why it is right or wrong.

    ``holds()`` says whether it is true, as the package measures it: the key is the one
    option that holds.
    """

    text: str
    why: str
    holds: Callable[[], bool]


LETTERS = "abcdefgh"
"""The letters of a choice's options, in order."""

DEFAULT_POINTS = {"code": 3, "derivation": 2, "choice": 1, "number": 1}
"""An exercise's points by its kind, unless a teacher gives others: a function to write and
test is worth the most, a derivation proved step by step next, a value read off one."""

READINGS = ("choice", "number")
"""The kinds of exercise whose answer is a value, not code: a letter, or a number."""


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
        For code, derivations and numbers: wrong answers this module recognises, each with
        a hint.
    start, result : sympy expression
        For derivations: the starting expression and the result.
    start_text : str
        For derivations: the start as a step writes it, ``diff(...)``.
    names : dict
        For derivations: every name a step may use, and what it stands for.
    result_names : frozenset of str
        For derivations: the names the last step, written as a string, may use: the result's
        own terms (``a``, not ``z``).
    options : tuple of Option
        For a choice: its options, lettered ``a``, ``b``, ... in order.
    key : callable
        For a choice or a number: computes the right answer, a letter or an exact SymPy
        number, once (it is cached).
    explanation : str or callable
        For a number: why the key is right, in Markdown; for a choice, what to add to its
        option's ``why`` (a measurement, say). A callable computes it when it is shown.
    solution : object
        A reference answer: a function, a list of steps, or a number as a student writes
        it (a choice's is its key).
    typical : callable, optional
        For code with extreme inputs: whether an input (the arguments) is a typical one,
        for the answer's partial credit (:attr:`cases`).
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
    options: tuple[Option, ...] = ()
    key: Callable[[], Any] | None = None
    explanation: str | Callable[[], str] = ""
    solution: Any = None
    typical: Callable[..., bool] | None = None

    @property
    def cases(self) -> tuple[Case, ...]:
        r"""For code: the parts of its points an answer earns, each with the ones before it.

        A code answer that agrees with the reference on every input earns all its points.
        One that does not earns :data:`SHAPES_SHARE` if it returns the right types and
        shapes on every input drawn, and where the exercise tells ``typical`` inputs from
        extreme ones (logits of :math:`\pm 10^3`, say), :data:`TYPICAL_SHARE` more if its
        values are right on every typical input. A derivation, a choice or a number earns
        all or nothing.
        """
        if self.kind != "code":
            return ()
        if self.typical is None:
            return (Case("the right shapes", SHAPES_SHARE),
                    Case("every value", 1 - SHAPES_SHARE))
        return (Case("the right shapes", SHAPES_SHARE),
                Case("the values on typical inputs", TYPICAL_SHARE),
                Case("the values on extreme inputs", 1 - SHAPES_SHARE - TYPICAL_SHARE))

    def answer(self) -> Any:
        """The reference answer as a student gives it (a choice's letter is computed)."""
        return self.key() if self.kind == "choice" else self.solution


EXERCISES: dict[str, Exercise] = {}
"""Every exercise, by name.

:meta hide-value:
"""

CHAPTER_EXERCISES: dict[str, tuple[str, ...]] = {
    "backpropagation": ("derive-sigmoid-derivative", "sigmoid-derivative",
                        "derive-output-delta", "softmax", "cross-entropy", "output-delta",
                        "derive-hidden-update", "derive-squared-error-delta",
                        "derive-batch-gradient"),
    "mnist": ("one-hot", "standardise", "spread-at-initialisation"),
    "one-hidden-layer": ("backward", "array-shapes", "gradient-check"),
    "tricks": ("improved-sigmoid-derivative", "momentum-step",
               "derive-improved-sigmoid-derivative", "derive-momentum-series",
               "zero-initialisation", "effective-learning-rate"),
    "topology": ("parameter-count", "ten-layer-parameters", "equal-width"),
    "vanishing-gradients": ("delta-norms", "sigmoid-chain-bound", "ten-layer-gradients"),
}
"""The exercises that end each chapter of the book, in its order; each chapter's exercise
notebook is ``docs/exercises/CHAPTER.md``."""


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


def _targets_and_outputs(bound: float = 30.0):
    st, _ = _strategies()

    @st.composite
    def draw_inputs(draw):
        z = draw(_logits(bound))
        labels = draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=z.shape[0],
                               max_size=z.shape[0]))
        return np.eye(z.shape[1])[labels], activations.softmax(z)

    return draw_inputs()


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


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to :data:`EXERCISES` under its name."""
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


register(Exercise(
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
        Mistake("plus", lambda a: a * (1 + a),
                "1 - sigma(z) = e^{-z}/(1 + e^{-z}) is the factor: a (1 - a), which is at "
                "most 1/4, at a = 1/2."),
    ),
    solution=solutions.sigmoid_derivative,
))

register(Exercise(
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

register(Exercise(
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
    # e^z overflows float32 from z = 89 and float64 from z = 710: 100 and more is extreme.
    typical=lambda z: bool(np.abs(z).max(initial=0.0) < 100),
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

register(Exercise(
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

register(Exercise(
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

register(Exercise(
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

register(Exercise(
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
        Mistake("reversed", lambda W, X, t: _reference_backward(W, X, t)[::-1],
                "the backward pass finds the gradients from the last layer to the first, "
                "but the list is returned in the weights' order: gradients[l] goes with "
                "weights[l]."),
    ),
    solution=solutions.backward,
))

register(Exercise(
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
        Mistake("descent velocity", lambda W, v, g, lr, m: (W + (m * v - lr * g),
                                                            m * v - lr * g),
                "that is the other convention, v = gamma v - alpha g, then W + v: the "
                "same steps, with the velocity's sign and alpha inside it. The book's "
                "velocity is v = g + gamma v, then W - alpha v."),
    ),
    solution=solutions.momentum_step,
))


def _sizes():
    st, _ = _strategies()
    return st.tuples(st.lists(st.integers(1, 1000), min_size=2, max_size=6))


register(Exercise(
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


def _deltas(weights, X, targets, derivative=SIGMOID.derivative, output=False,
            measure=lambda delta: delta.sum(axis=0)):
    """The norm of each hidden layer's mean delta over the batch, first to last.

    With ``output``, the output layer's comes last.

    The code's delta is already divided by N (``cross_entropy_delta``), so the sum of its
    rows is the mean of the per-sample deltas, as the chapter's ``speed_of_learning``
    measures it; ``measure`` makes the known mistakes.
    """
    a = network.forward(weights, X, SIGMOID)
    delta = losses.cross_entropy_delta(targets, a[-1])
    norms = [float(np.linalg.norm(measure(delta)))] if output else []
    for l in range(len(weights), 1, -1):
        delta = derivative(a[l - 1]) * (delta @ weights[l - 1].T)
        norms.append(float(np.linalg.norm(measure(delta))))
    return norms[::-1]


register(Exercise(
    name="delta-norms",
    title="How fast each hidden layer learns",
    statement=r"Write `f(weights, X, targets)` that returns the list of the norms "
              r"$\lVert \bar\delta^{(l)} \rVert$ of the hidden layers' mean deltas over the "
              r"batch, $\bar\delta^{(l)} = \frac1N \sum_n \delta^{(l)}_n$, first hidden layer "
              r"first, for sigmoid hidden layers, a softmax output and the mean cross-entropy: "
              r"the measure of how fast each layer learns (Nielsen's, and the chapter's "
              r"`speed_of_learning`).",
    kind="code",
    hints=(r"Run the delta recurrence from the code's output delta $(\hat y - y)/N$: it "
           r"already carries the $1/N$, so the mean delta of a layer is the sum of its "
           r"rows.",),
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
        Mistake("whole batch", lambda W, X, t: _deltas(W, X, t, measure=lambda d: d),
                "that is the norm of the whole (N, n_l) matrix of deltas; the speed of a "
                "layer is the norm of its mean delta over the batch. The code's delta, "
                "(y_hat - y)/N at the output, already carries the 1/N: sum its rows "
                "(axis 0), then take the norm."),
        Mistake("sum of the per-sample deltas", lambda W, X, t: _deltas(
            W, X, t, measure=lambda d: len(d) * d.sum(axis=0)),
                "that is the norm of the sum of the per-sample deltas, N times the mean: "
                "the output delta is (y_hat - y)/N, the mean cross-entropy's."),
    ),
    solution=solutions.delta_norms,
))


z = sp.Symbol("z", real=True)
_sigmoid = 1 / (1 + sp.exp(-z))

register(Exercise(
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

register(Exercise(
    name="derive-output-delta",
    title="Derive the output delta of softmax with cross-entropy",
    statement=r"For one sample, $K = 3$ classes, targets $y_1, y_2, y_3 = 1 - y_1 - y_2$ and "
              r"outputs $\hat y_k = e^{z_k} / \sum_j e^{z_j}$, start from "
              r"$\frac{\partial}{\partial z_1}\left(-\sum_k y_k \ln \hat y_k\right)$ and "
              r"derive $\hat y_1 - y_1$. A step may use "
              r"`z1 z2 z3 y1 y2 y3 yhat1 yhat2 yhat3`, `exp` and `log`; step 1 may be the "
              r"start itself, `diff(-(y1*log(yhat1) + y2*log(yhat2) + y3*log(yhat3)), z1)`.",
    kind="derivation",
    hints=(r"$\ln \hat y_k = z_k - \ln \sum_j e^{z_j}$, and the targets sum to 1.",),
    start=sp.Derivative(-sum(t * sp.log(o) for t, o in zip(_y, _softmax, strict=True)), _z1),
    result=_softmax[0] - _y1,
    start_text="diff(-(y1*log(yhat1) + y2*log(yhat2) + y3*log(yhat3)), z1)",
    names={"z1": _z1, "z2": _z2, "z3": _z3, "y1": _y1, "y2": _y2, "y3": _y[2],
           "yhat1": _softmax[0], "yhat2": _softmax[1], "yhat3": _softmax[2]},
    result_names=frozenset({"yhat1", "y1"}),
    mistakes=(
        Mistake("sign", lambda: _y1 - _softmax[0],
                "the sign is flipped: d/dz1 of -y1 ln(yhat1) is -y1 (1 - yhat1), so the "
                "delta is yhat1 - y1."),
        Mistake("one term", lambda: -_y1 * (1 - _softmax[0]),
                "every output depends on z1 through the softmax's sum, not yhat1 alone: "
                "d ln(yhat_k)/dz1 = -yhat1 for k != 1."),
    ),
    solution=["-(y1 * (1 - yhat1) - y2 * yhat1 - y3 * yhat1)",
              "yhat1 * (y1 + y2 + y3) - y1",
              "yhat1 - y1"],
))

_x1, _x2 = sp.symbols("x1 x2", real=True)
# The course's names: hidden weight w1_ji joins input i to hidden unit j, output weight w2_kj
# hidden unit j to output k.
_w = sp.symbols("w1_11 w1_12 w1_21 w1_22", real=True)
_v = sp.symbols("w2_11 w2_12 w2_21 w2_22", real=True)
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

register(Exercise(
    name="derive-hidden-update",
    title="Derive the update of a hidden-layer weight (Task 1a)",
    statement=r"A network with inputs $x_1, x_2$, hidden units $a_j = \sigma(z_j)$ with "
              r"$z_j = w^{(1)}_{j1} x_1 + w^{(1)}_{j2} x_2$, outputs $\hat y_k = "
              r"\operatorname{softmax}_k(w^{(2)}_{k1} a_1 + w^{(2)}_{k2} a_2)$ and targets "
              r"$y_1, y_2 = 1 - y_1$. Start from $\partial C_n / \partial w^{(1)}_{11}$ for one "
              r"sample's loss $C_n = -\sum_k y_k \ln \hat y_k$ and derive $\delta_1 x_1$, with "
              r"$\delta_1 = \sigma'(z_1) \sum_k w^{(2)}_{k1} (\hat y_k - y_k)$. A step may use "
              r"`x1 x2`, `w1_11 w1_12 w1_21 w1_22` (the hidden weights $w^{(1)}_{ji}$), "
              r"`w2_11 w2_12 w2_21 w2_22` (the output weights $w^{(2)}_{kj}$), "
              r"`y1 y2 z1 z2 a1 a2 yhat1 yhat2 delta1`, `exp` and `log`; step 1 may be the "
              r"start itself, `diff(-(y1*log(yhat1) + y2*log(yhat2)), w1_11)`.",
    kind="derivation",
    hints=(r"Chain rule through $z_1$: $\partial C_n/\partial w^{(1)}_{11} = "
           r"\partial C_n/\partial z_1 \cdot x_1$.",),
    start=sp.Derivative(_cost, _w[0]),
    result=_delta1 * _x1,
    start_text="diff(-(y1*log(yhat1) + y2*log(yhat2)), w1_11)",
    names={"x1": _x1, "x2": _x2, "w1_11": _w[0], "w1_12": _w[1], "w1_21": _w[2],
           "w1_22": _w[3], "w2_11": _v[0], "w2_12": _v[1], "w2_21": _v[2], "w2_22": _v[3],
           "y1": _y1, "y2": _ty[1], "z1": _hidden_z[0], "z2": _hidden_z[1],
           "a1": _hidden_a[0], "a2": _hidden_a[1], "yhat1": _out_a[0], "yhat2": _out_a[1],
           "delta1": _delta1},
    result_names=frozenset({"delta1", "x1"}),
    mistakes=(
        Mistake("no derivative", lambda: (_v[0] * (_out_a[0] - _ty[0])
                                          + _v[2] * (_out_a[1] - _ty[1])) * _x1,
                "the hidden unit's own slope stays in the chain: dz1 reaches the outputs "
                "through a1 = sigma(z1), so multiply by a1 (1 - a1)."),
        Mistake("wrong weights", lambda: _hidden_a[0] * (1 - _hidden_a[0]) * (
            _v[0] * (_out_a[0] - _ty[0]) + _v[1] * (_out_a[1] - _ty[1])) * _x1,
                "hidden unit 1 reaches output k through w2_k1: the sum runs over "
                "w2_11 and w2_21, the weights leaving unit 1."),
    ),
    solution=["(yhat1 - y1) * w2_11 * a1 * (1 - a1) * x1"
              " + (yhat2 - y2) * w2_21 * a1 * (1 - a1) * x1",
              "delta1 * x1"],
))


# More code: the inputs, the shapes of a batch, and a gradient check.

def _standardise_inputs():
    st, arrays = _strategies()
    return st.tuples(
        arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 6)),
               elements=st.floats(0, 255)),
        st.floats(0, 255), st.floats(1, 128))


def _with_bias(X, column=1.0, first=False):
    bias = np.full((len(X), 1), column)
    return np.hstack([bias, X] if first else [X, bias])


register(Exercise(
    name="standardise",
    title="Standardised inputs with the bias column",
    statement=r"Write `f(images, mean, std)` that returns the network's inputs from images of "
              r"shape $(N, P)$: every pixel standardised, $(x - \mu)/\sigma$, with the mean "
              r"$\mu$ and deviation $\sigma$ given (the training set's), then a column of "
              r"ones appended last, the bias input: shape $(N, P + 1)$.",
    kind="code",
    hints=("The same mean and deviation for every pixel and every set: those of the training "
           "set, given.",),
    signature="f(images, mean, std)",
    reference=preprocessing.normalize,
    inputs=_standardise_inputs,
    mistakes=(
        Mistake("bias first", lambda X, m, s: _with_bias((X - m) / s, first=True),
                "the bias input is the last column, as the network's weights expect it: "
                "append the ones after the pixels."),
        Mistake("no bias", lambda X, m, s: (X - m) / s,
                "append the bias input, a column of ones: its weights play each first-layer "
                "unit's bias."),
        Mistake("own statistics", lambda X, m, s: _with_bias((X - X.mean()) / X.std()),
                "use the mean and deviation given, the training set's, not the images' "
                "own: validation images are standardised with the training set's values."),
        Mistake("bias zero", lambda X, m, s: _with_bias((X - m) / s, column=0.0),
                "the bias input is 1: a column of zeros would make its weights do nothing."),
        Mistake("variance", lambda X, m, s: _with_bias((X - m) / s**2),
                "divide by the standard deviation sigma, not by its square."),
    ),
    solution=solutions.standardise,
))


def _array_shapes(layer_sizes, N, transposed=False, delta_transposed=False,
                  per_sample=False):
    """Each layer's shapes of W, a^(l-1), z, delta and dC/dW, read off the package's arrays."""
    sizes = [int(n) for n in layer_sizes]
    weights = [np.zeros(shape) for shape in pairwise(sizes)]
    a = network.forward(weights, np.zeros((int(N), sizes[0])), SIGMOID)
    delta = losses.cross_entropy_delta(np.eye(sizes[-1])[np.zeros(int(N), int)], a[-1])
    gradients = network.backward(weights, a, delta, SIGMOID)
    deltas = [delta]
    for l in range(len(weights), 1, -1):
        deltas.insert(0, SIGMOID.derivative(a[l - 1]) * (deltas[0] @ weights[l - 1].T))
    rows = []
    for l, (W, d, g) in enumerate(zip(weights, deltas, gradients, strict=True)):
        shapes = [W.shape, a[l].shape, (a[l] @ W).shape, d.shape, g.shape]
        if transposed:
            shapes[0], shapes[4] = W.T.shape, g.T.shape
        if delta_transposed:
            shapes[3] = d.T.shape
        if per_sample:
            shapes[4] = (int(N), *g.shape)
        rows.append(tuple(shapes))
    return rows


def _shape_inputs():
    st, _ = _strategies()

    @st.composite
    def draw_inputs(draw):
        sizes = draw(st.lists(st.integers(1, 8), min_size=2, max_size=5))
        sizes[-1] = max(sizes[-1], 2)
        return sizes, draw(st.integers(1, 8))

    return draw_inputs()


register(Exercise(
    name="array-shapes",
    title="The shape of every array",
    statement=r"Write `f(layer_sizes, N)` that returns, for each layer $l = 1, \dots, L$ in "
              r"order, the tuple of the shapes of $W^{(l)}$, $a^{(l-1)}$, $z^{(l)}$, "
              r"$\delta^{(l)}$ and $\partial C/\partial W^{(l)}$, for a batch of $N$ samples "
              r"in the code's convention: a row per sample, $z^{(l)} = a^{(l-1)} W^{(l)}$. "
              r"Work out `f([785, 64, 10], 32)`, the book's network on one batch, first.",
    kind="code",
    hints=(r"$W^{(l)}$ is (fan_in, fan_out); every array of a batch has one row per sample; "
           r"a gradient has its weights' shape.",),
    signature="f(layer_sizes, N)",
    reference=_array_shapes,
    inputs=_shape_inputs,
    mistakes=(
        Mistake("course's orientation", lambda s, N: _array_shapes(s, N, transposed=True),
                "that is the course's w_ji, (fan_out, fan_in); the code's W^(l) is "
                "(fan_in, fan_out) = (n_(l-1), n_l), so that z = a W, and its gradient has "
                "the same shape."),
        Mistake("delta transposed", lambda s, N: _array_shapes(s, N, delta_transposed=True),
                "delta^(l) = dC/dz^(l) has the shape of z^(l): a row per sample, (N, n_l)."),
        Mistake("per-sample gradients", lambda s, N: _array_shapes(s, N, per_sample=True),
                "a^(l-1)^T delta^(l) sums over the batch: the gradient has the shape of W^(l), "
                "with no N."),
    ),
    solution=solutions.array_shapes,
))


def _differences(loss, W, epsilon, rule="central"):
    """Central differences of ``loss`` at ``W``, entry by entry, as gradcheck perturbs them.

    ``rule`` makes the known mistakes.
    """
    W = np.array(W, dtype=np.float64)
    if rule == "all at once":
        return np.full_like(W, (loss(W + epsilon) - loss(W - epsilon)) / (2 * epsilon))
    gradient = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        w = W[index]
        W[index] = w + epsilon
        plus = loss(W)
        W[index] = w - epsilon if rule != "forward" else w
        minus = loss(W)
        W[index] = w
        step = epsilon if rule in ("forward", "no 2") else 2 * epsilon
        gradient[index] = (plus - minus) / step if rule != "sign" else (minus - plus) / step
    return gradient


def _gradient_check_inputs():
    st, _ = _strategies()

    @st.composite
    def draw_inputs(draw):
        weights, X, targets = draw(_backward_inputs())
        layer = draw(st.integers(0, len(weights) - 1))
        # Steps the course uses: large enough that rounding, about 1e-16 / epsilon, stays
        # far below the tolerance, small enough to be a derivative.
        epsilon = draw(st.floats(1e-3, 1e-2))
        return runner.Loss(tuple(weights), X, targets, layer), weights[layer].copy(), epsilon

    return draw_inputs()


register(Exercise(
    name="gradient-check",
    title="A gradient check",
    statement=r"Write `f(loss, W, epsilon)` that returns the central differences "
              r"$\bigl(C(W + \epsilon E_{ij}) - C(W - \epsilon E_{ij})\bigr) / 2\epsilon$ for "
              r"every entry of `W`, an array of `W`'s shape, where $E_{ij}$ is 1 at $(i, j)$ "
              r"and 0 elsewhere and `loss(W)` returns $C$ with `W` in place of one of a "
              r"network's weight matrices (here the mean cross-entropy of a small network). "
              r"Compared with the backward pass's gradient, this is how the course checks "
              r"backpropagation.",
    kind="code",
    hints=("Perturb one weight at a time, up and down by epsilon, and put it back before "
           "the next.",),
    signature="f(loss, W, epsilon)",
    reference=_differences,
    inputs=_gradient_check_inputs,
    mistakes=(
        Mistake("forward", lambda f, W, e: _differences(f, W, e, "forward"),
                "that is the forward difference (C(w + eps) - C(w)) / eps, accurate to "
                "O(eps); the central difference (C(w + eps) - C(w - eps)) / (2 eps) is "
                "accurate to O(eps^2)."),
        Mistake("no 2", lambda f, W, e: _differences(f, W, e, "no 2"),
                "w + eps and w - eps are 2 eps apart: divide by 2 epsilon."),
        Mistake("all at once", lambda f, W, e: _differences(f, W, e, "all at once"),
                "perturb one weight at a time: moving every weight at once measures the "
                "derivative along the diagonal, the sum of the partial derivatives."),
        Mistake("sign", lambda f, W, e: _differences(f, W, e, "sign"),
                "the sign is flipped: C(w + eps) comes first."),
    ),
    solution=solutions.central_differences,
))


# Derivations: the squared error's delta, Task 1b, the improved sigmoid, momentum's series.

_target = sp.Symbol("y", real=True)

register(Exercise(
    name="derive-squared-error-delta",
    title="Derive the output delta of the squared error with a sigmoid output",
    statement=r"For one sample and one sigmoid output unit, $\hat y = \sigma(z)$, with the "
              r"squared error $C_n = (\hat y - y)^2 / 2$, start from "
              r"$\partial C_n / \partial z$ and derive $\delta = (\hat y - y)\, \hat y\, "
              r"(1 - \hat y)$: the general output delta $\nabla_{\hat y} C_n \odot "
              r"f'(z)$. Softmax with cross-entropy gives $\hat y - y$: the factor "
              r"$\hat y (1 - \hat y)$, the output's saturation, is what it cancels. A step "
              r"may use `z`, `y`, `yhat` (which stands for $\sigma(z)$), `exp` and `log`; "
              r"step 1 may be the start itself, `diff((yhat - y)**2/2, z)`.",
    kind="derivation",
    hints=(r"Chain rule: $\partial C_n/\partial z = (\hat y - y)\, d\hat y/dz$, and "
           r"$\sigma' = \sigma (1 - \sigma)$.",),
    start=sp.Derivative((_sigmoid - _target) ** 2 / 2, z),
    result=(_sigmoid - _target) * _sigmoid * (1 - _sigmoid),
    start_text="diff((yhat - y)**2/2, z)",
    names={"z": z, "y": _target, "yhat": _sigmoid},
    result_names=frozenset({"yhat", "y"}),
    mistakes=(
        Mistake("cross-entropy's", lambda: _sigmoid - _target,
                "that is the delta of softmax with cross-entropy; with the squared error "
                "the sigmoid's slope stays: multiply by yhat (1 - yhat)."),
        Mistake("no half", lambda: 2 * (_sigmoid - _target) * _sigmoid * (1 - _sigmoid),
                "the 1/2 in C_n cancels the 2 that the square brings down."),
        Mistake("sign", lambda: (_target - _sigmoid) * _sigmoid * (1 - _sigmoid),
                "the sign is flipped: d/dz (yhat - y)^2 / 2 = (yhat - y) d yhat/dz."),
    ),
    solution=["(yhat - y) * diff(yhat, z)",
              "(yhat - y) * exp(-z) / (1 + exp(-z))**2",
              "(yhat - y) * yhat * (1 - yhat)"],
))

# Task 1b at N = 2: hidden outputs a_nj (sample n, unit j), output weights w2_kj.
_batch_a = dict(zip(("a11", "a12", "a21", "a22"),
                    sp.symbols("a11 a12 a21 a22", real=True), strict=True))
_batch_w = dict(zip(("w2_11", "w2_12", "w2_21", "w2_22"),
                    sp.symbols("w2_11 w2_12 w2_21 w2_22", real=True), strict=True))
_batch_y1 = sp.symbols("y11 y21", real=True)
_batch_names: dict[str, Any] = {**_batch_a, **_batch_w}
for _n in (1, 2):
    _sample_targets = (_batch_y1[_n - 1], 1 - _batch_y1[_n - 1])
    _sample_logits = [_batch_w[f"w2_{k}1"] * _batch_a[f"a{_n}1"]
                      + _batch_w[f"w2_{k}2"] * _batch_a[f"a{_n}2"] for k in (1, 2)]
    # The softmax of two logits, e^{z_k}/(e^{z_1} + e^{z_2}) = 1/(1 + e^{z_j - z_k}) for the
    # other j: the same values, in the form whose derivative SymPy writes without e^{2z}.
    _sample_outputs = [1 / (1 + sp.exp(_sample_logits[1] - _sample_logits[0])),
                       1 / (1 + sp.exp(_sample_logits[0] - _sample_logits[1]))]
    for _k in (1, 2):
        _batch_names[f"y{_n}{_k}"] = _sample_targets[_k - 1]
        _batch_names[f"z{_n}{_k}"] = _sample_logits[_k - 1]
        _batch_names[f"yhat{_n}{_k}"] = _sample_outputs[_k - 1]
        _batch_names[f"delta{_n}{_k}"] = _sample_outputs[_k - 1] - _sample_targets[_k - 1]
_bn = _batch_names
_batch_loss = -sum(_bn[f"y{n}{k}"] * sp.log(_bn[f"yhat{n}{k}"])
                   for n in (1, 2) for k in (1, 2)) / 2


def _batch_sum(first: str, second: str, activation: str = "1", half: bool = True
               ) -> sp.Basic:
    """delta_1k a_1j + delta_2k a_2j, over 2 if ``half``: Task 1b's entry and its mistakes."""
    total = (_bn[f"delta1{first}"] * _bn[f"a1{activation}"]
             + _bn[f"delta2{second}"] * _bn[f"a2{activation}"])
    return total / 2 if half else total


register(Exercise(
    name="derive-batch-gradient",
    title="Derive the gradient of a batch's mean loss (Task 1b)",
    statement=r"A batch of $N = 2$ samples reaches an output layer of two softmax units "
              r"through two hidden units, whose outputs $a_{nj}$ (sample $n$, unit $j$) are "
              r"given: $z_{nk} = w^{(2)}_{k1} a_{n1} + w^{(2)}_{k2} a_{n2}$, $\hat y_{nk} = "
              r"\operatorname{softmax}_k(z_{n1}, z_{n2})$, targets $y_{n1}$ and $y_{n2} = 1 - "
              r"y_{n1}$. The batch's loss is the mean $C = \frac12 (C_1 + C_2)$ of the "
              r"per-sample losses $C_n = -\sum_k y_{nk} \ln \hat y_{nk}$. Start from "
              r"$\partial C / \partial w^{(2)}_{11}$ and derive $\frac12 (\delta_{11} a_{11} "
              r"+ \delta_{21} a_{21})$, with the per-sample deltas $\delta_{nk} = \hat y_{nk} "
              r"- y_{nk}$: entry $(1, 1)$ of $\frac1N A^\top \Delta$, which the code computes "
              r"as $a^\top (\Delta / N)$, its delta already divided by $N$. A step may use "
              r"`a11 a12 a21 a22`, `w2_11 w2_12 w2_21 w2_22`, `y11 y12 y21 y22`, "
              r"`z11 z12 z21 z22`, `yhat11 yhat12 yhat21 yhat22`, "
              r"`delta11 delta12 delta21 delta22`, `exp` and `log`; step 1 may be the start "
              r"itself, `diff(-(y11*log(yhat11) + y12*log(yhat12) + y21*log(yhat21) + "
              r"y22*log(yhat22))/2, w2_11)`.",
    kind="derivation",
    hints=(r"Each sample's term is one sample's output delta times "
           r"$\partial z_{n1}/\partial w^{(2)}_{11} = a_{n1}$; the $\frac12$ stays in front.",),
    start=sp.Derivative(_batch_loss, _batch_w["w2_11"]),
    result=_batch_sum("1", "1"),
    start_text="diff(-(y11*log(yhat11) + y12*log(yhat12) + y21*log(yhat21) + "
               "y22*log(yhat22))/2, w2_11)",
    names=_batch_names,
    result_names=frozenset({"delta11", "delta21", "a11", "a21"}),
    mistakes=(
        Mistake("no mean", lambda: _batch_sum("1", "1", half=False),
                "C is the batch's mean, (C_1 + C_2)/2: the 1/N stays in front of the sum "
                "(the code puts it into its delta, (y_hat - y)/N)."),
        Mistake("other unit", lambda: _batch_sum("1", "1", activation="2"),
                "w2_11 joins hidden unit 1 to output 1: each sample's delta at output 1 "
                "multiplies its activation of hidden unit 1, a_n1."),
        Mistake("other output", lambda: _batch_sum("2", "2"),
                "output 1's weight moves with output 1's delta, delta_n1."),
        Mistake("one sample", lambda: _bn["delta11"] * _bn["a11"] / 2,
                "every sample of the batch contributes: sum over n = 1, 2."),
    ),
    solution=["(-y11*(1 - yhat11) + y12*yhat11)*a11/2"
              " + (-y21*(1 - yhat21) + y22*yhat21)*a21/2",
              "((yhat11*(y11 + y12) - y11)*a11 + (yhat21*(y21 + y22) - y21)*a21)/2",
              "((yhat11 - y11)*a11 + (yhat21 - y21)*a21)/2",
              "(delta11*a11 + delta21*a21)/2"],
))

# The improved sigmoid's constants, exactly: 1.7159 as written, 2/3 from its float.
_SCALE = sp.Rational(repr(A))
_SLOPE = sp.Rational(S).limit_denominator(1000)
_scale_text, _slope_text = repr(A), f"{_SLOPE.p}/{_SLOPE.q}"
_improved = _SCALE * sp.tanh(_SLOPE * z)
_tanh_text = f"tanh({_SLOPE.p}*z/{_SLOPE.q})"

register(Exercise(
    name="derive-improved-sigmoid-derivative",
    title="Derive the improved sigmoid's derivative",
    statement=rf"For LeCun's improved sigmoid $f(z) = A \tanh(S z)$ with $A = {_scale_text}$ "
              rf"and $S = {_slope_text}$, start from $\frac{{d}}{{dz}} {_scale_text} \tanh"
              rf"({_slope_text}\, z)$ and derive $f'(z) = S\,(A - a^2/A)$ in terms of its "
              rf"output $a = f(z)$. A step may use `z`, `a` (which stands for $f(z)$), `exp`, "
              rf"`log` and `tanh`; step 1 may be the start itself, "
              rf"`diff({_scale_text}*{_tanh_text}, z)`.",
    kind="derivation",
    hints=(r"$\frac{d}{du} \tanh u = 1 - \tanh^2 u$, the chain rule brings out $S$, and "
           r"$\tanh(S z) = a / A$.",),
    start=sp.Derivative(_improved, z),
    result=_SLOPE * (_SCALE - _improved**2 / _SCALE),
    start_text=f"diff({_scale_text}*{_tanh_text}, z)",
    names={"z": z, "a": _improved},
    result_names=frozenset({"a"}),
    mistakes=(
        Mistake("no slope", lambda: _SCALE * (1 - sp.tanh(_SLOPE * z) ** 2),
                f"the chain rule: d/dz tanh(S z) = S (1 - tanh^2(S z)); the slope S = "
                f"{_slope_text} stays."),
        Mistake("sign", lambda: _SCALE * _SLOPE * (1 + sp.tanh(_SLOPE * z) ** 2),
                "d/du tanh(u) = 1 - tanh^2(u): tanh flattens, its slope falls."),
        Mistake("unscaled output", lambda: _SCALE * _SLOPE * (1 - _improved**2),
                f"a = A tanh(S z), so tanh^2(S z) = a^2 / A^2: divide a by A = "
                f"{_scale_text} first."),
    ),
    solution=[f"{_scale_text}*{_slope_text}*(1 - {_tanh_text}**2)",
              f"{_slope_text}*({_scale_text} - {_scale_text}*{_tanh_text}**2)",
              f"{_slope_text}*({_scale_text} - a**2/{_scale_text})"],
))

_g, _gamma, _alpha = sp.symbols("g gamma alpha", real=True)
_SERIES_STEPS = 4


def _velocities(steps: int) -> list[sp.Basic]:
    """The package's own momentum velocities on symbols, from v = 0, gradient g constant."""
    W = np.array([sp.Integer(0)], dtype=object)
    v = np.array([sp.Integer(0)], dtype=object)
    found = []
    for _ in range(steps):
        training.momentum_step(W, v, np.array([_g], dtype=object), _alpha, _gamma)
        found.append(v[0])
    return found


_v_steps = _velocities(_SERIES_STEPS)


def _series(power: int | None) -> sp.Basic:
    """The sum g (1 - gamma^power)/(1 - gamma); its limit g/(1 - gamma) for ``None``."""
    return _g * (1 if power is None else 1 - _gamma**power) / (1 - _gamma)


register(Exercise(
    name="derive-momentum-series",
    title="Derive momentum's velocity as a geometric series",
    statement=r"With a constant gradient $g$, the book's rule $v \leftarrow g + \gamma v$ "
              r"from $v = 0$ gives $v_1 = g$, $v_2 = g + \gamma v_1$, and so on. Start from "
              rf"$v_{_SERIES_STEPS} = g + \gamma v_{_SERIES_STEPS - 1}$ and derive "
              rf"$v_{_SERIES_STEPS} = g\,(1 - \gamma^{_SERIES_STEPS})/(1 - \gamma)$: unroll "
              r"the recurrence, then sum the geometric series. As $t$ grows, $v_t = g\,(1 - "
              r"\gamma^t)/(1 - \gamma)$ tends to $g/(1 - \gamma)$. A step may use `g`, "
              r"`gamma`, " + ", ".join(f"`v{t}`" for t in range(1, _SERIES_STEPS))
              + rf"; step 1 may be the start itself, `g + gamma*v{_SERIES_STEPS - 1}`.",
    kind="derivation",
    hints=(r"Replace each $v_t$ by $g + \gamma v_{t-1}$ until only $g$ and $\gamma$ are "
           r"left; then $(1 + \gamma + \dots + \gamma^{t-1})(1 - \gamma) = 1 - \gamma^t$.",),
    start=_v_steps[-1],
    result=_series(_SERIES_STEPS),
    start_text=f"g + gamma*v{_SERIES_STEPS - 1}",
    names={"g": _g, "gamma": _gamma,
           **{f"v{t}": _v_steps[t - 1] for t in range(1, _SERIES_STEPS)}},
    result_names=frozenset({"g", "gamma"}),
    mistakes=(
        Mistake("the limit", lambda: _series(None),
                f"that is the limit as t grows; after {_SERIES_STEPS} steps the series "
                f"stops at gamma^{_SERIES_STEPS - 1}."),
        Mistake("one term short", lambda: _series(_SERIES_STEPS - 1),
                f"v_{_SERIES_STEPS} has {_SERIES_STEPS} terms, g gamma^0 to g "
                f"gamma^{_SERIES_STEPS - 1}: the numerator is 1 - gamma^{_SERIES_STEPS}."),
        Mistake("one term over", lambda: _series(_SERIES_STEPS + 1),
                f"v_{_SERIES_STEPS} has {_SERIES_STEPS} terms, g gamma^0 to g "
                f"gamma^{_SERIES_STEPS - 1}: the numerator is 1 - gamma^{_SERIES_STEPS}."),
    ),
    solution=["g + gamma*(g + gamma*v2)",
              "g + gamma*(g + gamma*(g + gamma*v1))",
              "g*(1 + gamma + gamma**2 + gamma**3)",
              "g*(1 + gamma + gamma**2 + gamma**3)*(1 - gamma)/(1 - gamma)",
              "g*(1 - gamma**4)/(1 - gamma)"],
))


# Readings: a number, checked exactly, or a choice among lettered options. Every key is
# computed here, from the package's own constants and functions, or measured.

NUMBER_ANSWER = (" Answer with the exact value, as a number or as text in Python's notation "
                 '(`answer = "3/4"`, `answer = "(1 + sqrt(5))/2"`): decimals are read '
                 'exactly, so `"0.25"` is $1/4$ but `"0.33"` is not $1/3$.')
"""How a number is answered, said after every number's statement."""

CHOICE_ANSWER = 'Answer with the letter, as text: `answer = "a"`.'
"""How a choice is answered, said after every choice's options."""


def _choice_statement(question: str, options: tuple[Option, ...]) -> str:
    lines = [f"- **({letter})** {option.text}"
             for letter, option in zip(LETTERS, options, strict=False)]
    return question + "\n\n" + "\n".join(lines) + "\n\n" + CHOICE_ANSWER


def _choice_key(options: tuple[Option, ...]) -> Callable[[], str]:
    """The letter of the one option that holds, measured once."""

    @functools.cache
    def key() -> str:
        holding = [letter for letter, option in zip(LETTERS, options, strict=False)
                   if option.holds()]
        if len(holding) != 1:
            raise RuntimeError(f"a choice needs exactly one option that holds, found "
                               f"{holding or 'none'}")
        return holding[0]

    return key


def _exact(value: float) -> sp.Rational:
    """A constant as the decimal it is written as: 0.02 is 1/50."""
    return sp.Rational(repr(value))


INPUTS = math.prod(data.IMAGE_SHAPE) + 1
"""The network's inputs: every pixel, and the bias input."""

_hidden_width, _classes = runs.TASK2.neurons_per_layer[0], runs.TASK2.neurons_per_layer[-1]
_u = sp.Symbol("u", real=True)
# Var(w) for w ~ U(-1, 1), the course's initialisation: the integral of w^2 times the
# density 1/2 over [-1, 1].
_UNIFORM_VARIANCE = sp.integrate(_u**2 / 2, (_u, -1, 1))
# Standardising divides by the population deviation of all training pixels, so their mean
# square is exactly 1; the bias input is 1 too. Every input adds Var(w) E[x^2] to Var(z).
_MEAN_SQUARE = sp.Integer(1)
_spread = sp.sqrt(INPUTS * _UNIFORM_VARIANCE * _MEAN_SQUARE)

register(Exercise(
    name="spread-at-initialisation",
    title="The spread of z at initialisation",
    statement=rf"With the course's $U(-1, 1)$ initial weights and standardised inputs, what "
              rf"is the standard deviation of a first-layer pre-activation $z_j = \sum_i "
              rf"w_{{ji}} x_i$ at initialisation, over the random weights and the training "
              rf"images? There are {INPUTS} inputs: {INPUTS - 1} standardised pixels, whose "
              rf"mean square over the training set is exactly 1, and the bias input, 1; the "
              rf"weights are independent of each other and of the inputs, with mean 0."
              + NUMBER_ANSWER,
    kind="number",
    hints=(r"The variances of independent terms add: "
           r"$\mathrm{Var}(w x) = \mathrm{Var}(w)\, E[x^2]$ when $w$ has mean 0.",),
    key=lambda: _spread,
    mistakes=(
        Mistake("variance", lambda: _spread**2,
                "that is the variance of z; its spread, the standard deviation, is the "
                "square root."),
        Mistake("no bias", lambda: sp.sqrt((INPUTS - 1) * _UNIFORM_VARIANCE),
                f"the bias input is one of the {INPUTS}: it is 1, and its weight is drawn "
                "like the others."),
        Mistake("unit weights", lambda: sp.sqrt(INPUTS),
                "U(-1, 1) has variance 1/3 (the integral of w^2/2 over [-1, 1]), not 1."),
        Mistake("U(0, 1)", lambda: sp.sqrt(INPUTS * sp.Rational(1, 12)),
                "1/12 is the variance of U(0, 1); U(-1, 1) is twice as wide, so its "
                "variance is four times as large, 1/3."),
        Mistake("one weight", lambda: sp.sqrt(_UNIFORM_VARIANCE),
                f"that is one weight's spread; z sums {INPUTS} such terms, and their "
                "variances add."),
        Mistake("fan-in", lambda: sp.Integer(1),
                "that is what fan-in initialisation gives, weights of variance 1/fan_in; "
                "with U(-1, 1) each input adds 1/3 to the variance."),
    ),
    explanation=rf"$\mathrm{{Var}}(z_j) = \sum_i \mathrm{{Var}}(w_{{ji}})\, E[x_i^2] = "
                rf"{INPUTS} \cdot \tfrac{{1}}{{3}}$, since each of the {INPUTS} inputs has a "
                rf"mean square of 1 and $\mathrm{{Var}}(w) = \tfrac13$; the spread is "
                rf"$\sqrt{{{INPUTS}/3}} \approx {float(_spread):.1f}$, deep in the sigmoid's "
                rf"flat tails. Standardising the inputs does not bring $z$ to the sigmoid's "
                rf"steep part by itself; fan-in initialisation does.",
    solution=f"sqrt({INPUTS}/{_UNIFORM_VARIANCE.q})",
))

_momentum_run = runs.TASK3_MOMENTUM
_rate, _momentum = _exact(_momentum_run.learning_rate), _exact(_momentum_run.momentum)
_task2_rate = _exact(runs.TASK2.learning_rate)
_effective = _rate / (1 - _momentum)

register(Exercise(
    name="effective-learning-rate",
    title="Momentum's effective learning rate",
    statement=rf"The book's momentum run (Task 3) takes $\alpha = "
              rf"{_momentum_run.learning_rate}$ and $\gamma = {_momentum_run.momentum}$, by "
              rf"the rule $v \leftarrow g + \gamma v$, $W \leftarrow W - \alpha v$. While the "
              rf"gradient stays about the same, $g$, what learning rate would plain gradient "
              rf"descent need to take the steps momentum takes once its velocity has "
              rf"settled?" + NUMBER_ANSWER,
    kind="number",
    hints=(r"Unrolled, $v = g (1 + \gamma + \gamma^2 + \dots)$.",),
    key=lambda: _effective,
    mistakes=(
        Mistake("first step", lambda: _rate,
                "that is the first step only, where v = g; the velocity grows to g + gamma g "
                "+ gamma^2 g + ... = g/(1 - gamma)."),
        Mistake("shrunk", lambda: _rate * (1 - _momentum),
                "the velocity grows, it does not shrink: v tends to g/(1 - gamma)."),
        Mistake("growth only", lambda: 1 / (1 - _momentum),
                "that is how much the velocity grows; the step is alpha times the velocity."),
        Mistake("from gamma", lambda: _rate * _momentum / (1 - _momentum),
                "the new gradient counts too: v = g + gamma v sums gamma^0 + gamma^1 + ..., "
                "starting at 1."),
        Mistake("Task 2's", lambda: _task2_rate,
                "that is Task 2's learning rate, without momentum: work out the momentum "
                "run's own."),
    ),
    explanation=rf"With a constant gradient the velocity after $t$ steps is $g (1 - "
                rf"\gamma^t)/(1 - \gamma)$ (momentum's geometric series, derived above), "
                rf"which tends to $g/(1 - \gamma)$; each step then moves the weights by "
                rf"$\alpha g/(1 - \gamma)$: an effective learning rate $\alpha/(1 - \gamma) "
                rf"= {_momentum_run.learning_rate}/(1 - {_momentum_run.momentum}) = "
                rf"{float(_effective):g}$, {float(_effective / _task2_rate):g} times Task 2's "
                rf"{runs.TASK2.learning_rate}. The momentum comparison changes the step size "
                rf"too.",
    solution=f"{_momentum_run.learning_rate} / (1 - {_momentum_run.momentum})",
))


@functools.cache
def _zero_start() -> dict[str, bool]:
    """What training from all-zero weights does, measured on a small network.

    40 steps of the package's own SGD on standardised random images.
    """
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 12))
    X = preprocessing.normalize(images, *preprocessing.pixel_statistics(images))
    targets = np.eye(3)[rng.integers(0, 3, len(X))]
    weights = [np.zeros(shape) for shape in pairwise((X.shape[1], 5, 3))]
    velocities = [np.zeros_like(W) for W in weights]
    a = network.forward(weights, X, SIGMOID)
    first = network.backward(weights, a, losses.cross_entropy_delta(targets, a[-1]), SIGMOID)
    for batch in np.array_split(np.arange(len(X)), 8) * 5:
        training.sgd_step(weights, velocities, X[batch], targets[batch], SIGMOID, 0.5, 0.0)
    # Hidden unit j's weights are column j of W^(1), and the weights leaving it row j of
    # W^(2): copies of each other, to rounding, if the symmetry holds.
    hidden, output = weights
    moved = [float(np.abs(W).max()) for W in weights]
    return {
        "nothing moves": not any(np.any(g) for g in first) and max(moved) == 0.0,
        "copies": bool(min(moved) > 0 and np.ptp(hidden, axis=1).max() <= 1e-12 * moved[0]
                       and np.ptp(output, axis=0).max() <= 1e-12 * moved[1]),
    }


_slopes = SIGMOID.derivative(SIGMOID.function(np.linspace(-6.0, 6.0, 121)))

_ZERO_OPTIONS = (
    Option("Every gradient is zero, so no weight ever changes.",
           "the output layer's gradient a^T delta is not zero: every hidden unit outputs "
           "sigma(0) = 1/2 and the output delta (y_hat - y)/N is not zero, so the output "
           "weights move at the first step. Only the hidden weights' gradient is zero then, "
           "as their delta is multiplied by the all-zero output weights.",
           lambda: _zero_start()["nothing moves"]),
    Option("Every hidden unit computes the same output and gets the same gradient at every "
           "step, so the units stay copies of each other: the symmetry is never broken, and "
           "the layer works as one unit.",
           "with all weights zero every hidden unit outputs sigma(0) = 1/2 and has the same "
           "delta; the output weights leaving them all receive the same gradient, so the "
           "units stay identical through training (measured here on a small network: "
           "after training from zero, every hidden unit's weights are the same). Random "
           "weights break the symmetry.",
           lambda: _zero_start()["copies"]),
    Option("At zero weights the sigmoid saturates, so its slope, and every gradient, "
           "vanishes.",
           "at z = 0 the sigmoid is at its steepest, sigma'(0) = 1/4: zero weights are the "
           "opposite of saturation.",
           lambda: float(SIGMOID.derivative(SIGMOID.function(np.zeros(1)))[0])
           < float(_slopes.max())),
    Option("The softmax of all-zero logits is 0/0, undefined.",
           "all-zero logits give every class the same probability, 1/K: the softmax is "
           "defined everywhere.",
           lambda: not bool(np.isfinite(activations.softmax(np.zeros((1, _classes)))).all())),
)

register(Exercise(
    name="zero-initialisation",
    title="Why not start from zero?",
    statement=_choice_statement(
        "Task 3 could start every weight at zero instead of at random. Why does that "
        "fail? (The bias is an input here, so with all weights zero every hidden unit's "
        "pre-activation is z = 0.)", _ZERO_OPTIONS),
    kind="choice",
    hints=("Follow one step of training: what does each hidden unit output, and what does "
           "each get as its delta?",),
    options=_ZERO_OPTIONS,
    key=_choice_key(_ZERO_OPTIONS),
))

_depth = len(runs.TEN_LAYERS) - 1
_width = runs.TEN_LAYERS[0]
_deep_sizes = [INPUTS, *runs.TEN_LAYERS]
_deep_count = sp.Integer(network.parameter_count(_deep_sizes))

register(Exercise(
    name="ten-layer-parameters",
    title="The weights of ten hidden layers",
    statement=rf"How many weights has the book's deep network: {_depth} hidden layers of "
              rf"{_width} sigmoid units, {INPUTS} inputs (the bias among them, and no other "
              rf"biases) and {_classes} outputs?" + NUMBER_ANSWER,
    kind="number",
    hints=("One weight joins each pair of units in consecutive layers.",),
    key=lambda: _deep_count,
    mistakes=(
        Mistake("a matrix too many", lambda: _deep_count + _width * _width,
                f"{_depth} hidden layers are joined by {_depth - 1} matrices of {_width} x "
                f"{_width}; with the input's and the output's, {_depth + 1} weight matrices "
                f"in all."),
        Mistake("biases everywhere", lambda: _deep_count + sum(_deep_sizes[1:]),
                f"the bias is the last of the {INPUTS} inputs; no layer has a bias of its "
                f"own here."),
        Mistake("no bias input", lambda: sp.Integer(network.parameter_count(
            [INPUTS - 1, *runs.TEN_LAYERS])),
                f"the bias input is one of the {INPUTS}: {INPUTS - 1} pixels and 1."),
        Mistake("one hidden layer", lambda: sp.Integer(network.parameter_count(
            [INPUTS, *runs.TASK2.neurons_per_layer])),
                "that is the network of one hidden layer, Task 2's."),
    ),
    explanation=rf"One weight for each pair of units in consecutive layers: ${INPUTS} \cdot "
                rf"{_width} + {_depth - 1} \cdot {_width} \cdot {_width} + {_width} \cdot "
                rf"{_classes} = {int(_deep_count):,}$, in {_depth + 1} weight matrices, the "
                rf"last the output layer's.",
    solution=f"{INPUTS}*{_width} + {_depth - 1}*{_width}*{_width} + {_width}*{_classes}",
))

_one_layer_count = network.parameter_count([INPUTS, _hidden_width, _classes])
_linear = INPUTS + _classes  # the quadratic h^2 + (I + K) h = count


def _equal_width(inputs: int) -> sp.Basic:
    """The book's derivation's width h for ``inputs`` inputs, the bias among them."""
    from backprop.derivations import parameters

    return parameters.equal_width(inputs - 1, _hidden_width, _classes)


@functools.cache
def _equal_width_roots() -> tuple[sp.Basic, sp.Basic]:
    """The width h of two equal hidden layers with the one-layer network's weights.

    The positive root (the derivation's), and the negative one.
    """
    h = sp.Symbol("h", real=True)
    roots = sp.solve(network.parameter_count([INPUTS, h, h, _classes]) - _one_layer_count,
                     h)
    (negative,) = [root for root in roots if root.is_negative]
    return _equal_width(INPUTS), negative


register(Exercise(
    name="equal-width",
    title="Two hidden layers with the weights of one",
    statement=rf"Two hidden layers of the same width $h$, with {INPUTS} inputs (the bias "
              rf"among them, and no other biases) and {_classes} outputs: for which $h$ do "
              rf"they have as many weights as the network of one hidden layer of "
              rf"{_hidden_width} units? Count the weights, solve the quadratic, and give its "
              rf"root exactly (it is not a whole number)." + NUMBER_ANSWER,
    kind="number",
    hints=("Two equal hidden layers are joined by h times h weights.",),
    key=lambda: _equal_width_roots()[0],
    mistakes=(
        Mistake("negative root", lambda: _equal_width_roots()[1],
                "a width is positive: take the root with + sqrt."),
        Mistake("no h^2", lambda: sp.Rational(_one_layer_count, _linear),
                f"the two hidden layers are joined by h h weights: the count is {INPUTS} h + "
                f"h^2 + {_classes} h."),
        Mistake("no bias input", lambda: _equal_width(INPUTS - 1),
                f"the bias input counts on both sides: {INPUTS} inputs."),
    ),
    explanation=rf"Two layers of width $h$ have ${INPUTS} h + h^2 + {_classes} h$ weights; "
                rf"setting this to ${INPUTS} \cdot {_hidden_width} + {_hidden_width} \cdot "
                rf"{_classes} = {_one_layer_count:,}$ gives $h^2 + {_linear} h - "
                rf"{_one_layer_count} = 0$, whose positive root is $h = (\sqrt{{{_linear}^2 + "
                rf"4 \cdot {_one_layer_count}}} - {_linear})/2 \approx "
                rf"{float(sp.sqrt(_linear**2 + 4 * _one_layer_count) - _linear) / 2:.2f}$: "
                rf"not a whole number, so the book compares the widths on either side.",
    solution=f"(sqrt({_linear}**2 + 4*{_one_layer_count}) - {_linear})/2",
))

# The package's own derivative of the sigmoid, from its output a in (0, 1), is 0 at both
# ends: its largest value is at the one point where its own derivative vanishes.
_output = sp.Symbol("a", real=True)
_slope = SIGMOID.derivative(np.array([_output], dtype=object))[0]
_largest_slope = max(_slope.subs(_output, point)
                     for point in sp.solve(sp.diff(_slope, _output), _output))
_chain = _largest_slope**_depth

register(Exercise(
    name="sigmoid-chain-bound",
    title="How much ten sigmoid layers can pass back",
    statement=rf"A chain of single units: one sigmoid unit in each of {_depth} hidden "
              rf"layers, each joined to the next by a weight $w = 1$, the output layer (layer "
              rf"{_depth + 1}) last. Backpropagation multiplies the delta at each hidden "
              rf"layer: $\delta^{{(l)}} = \sigma'(z^{{(l)}})\, w\, \delta^{{(l+1)}}$. Whatever "
              rf"the $z$'s, how large can $|\delta^{{(1)}} / \delta^{{({_depth + 1})}}|$ be?"
              + NUMBER_ANSWER,
    kind="number",
    hints=(r"$\sigma'(z) = a (1 - a)$ with $a = \sigma(z)$ in $(0, 1)$: where is it "
           r"largest?",),
    key=lambda: _chain,
    mistakes=(
        Mistake("the output too", lambda: _largest_slope ** (_depth + 1),
                f"the output layer's delta is where the chain starts: only the {_depth} "
                f"hidden layers multiply by sigma'."),
        Mistake("one short", lambda: _largest_slope ** (_depth - 1),
                f"each of the {_depth} hidden layers, the first included, multiplies by "
                f"sigma'(z): {_depth} factors."),
        Mistake("added", lambda: _largest_slope * _depth,
                "the factors multiply, they do not add."),
        Mistake("the value", lambda: _exact(float(SIGMOID.function(np.zeros(1))[0]))
                ** _depth,
                "sigma(0) = 1/2 is the sigmoid's value; its slope there, sigma(0) (1 - "
                "sigma(0)), is the largest."),
        Mistake("no loss", lambda: sp.Integer(1),
                "sigma'(z) = a (1 - a) is at most 1/4: a sigmoid layer can only shrink the "
                "delta when |w| <= 4."),
    ),
    explanation=rf"$\sigma'(z) = a(1 - a)$ is largest at $z = 0$, where it is "
                rf"${sp.latex(_largest_slope)}$; so each hidden layer multiplies "
                rf"$|\delta|$ by at most $|w| \cdot {sp.latex(_largest_slope)}$, and "
                rf"{_depth} of them by at most ${sp.latex(_chain)} \approx "
                rf"{float(_chain):.2g}$: the vanishing gradient in its simplest form.",
    solution=f"({sp.sstr(_largest_slope)})**{_depth}",
))


_GRADIENT_SEEDS = 3


@functools.cache
def ten_layer_gradient_ratio() -> float:
    r"""The first layer's gradient against the output layer's, per entry, at initialisation.

    For :data:`backprop.runs.TEN_LAYERS` with the logistic sigmoid and fan-in weights, on 16
    random standardised images: the root mean square of the entries of
    :math:`\partial C/\partial W^{(1)}` over that of the output layer's, the geometric mean
    over three seeds. The root mean square does not grow with a matrix's size, as its
    Frobenius norm does. Measured once, in well under a second.
    """
    logs = []
    for seed in range(_GRADIENT_SEEDS):
        rng = np.random.default_rng(seed)
        images = rng.integers(0, 256, (16, INPUTS - 1))
        X = preprocessing.normalize(images, *preprocessing.pixel_statistics(images))
        model = network.MLP(list(runs.TEN_LAYERS), input_size=INPUTS, init="fan_in",
                            seed=seed)
        gradients = model.backward(X, rng.integers(0, _classes, len(X)))
        rms = [float(np.sqrt(np.mean(g**2))) for g in gradients]
        logs.append(math.log10(rms[0] / rms[-1]))
    return 10 ** (sum(logs) / len(logs))


_frobenius_bias = math.sqrt(INPUTS * _width / (_width * _classes))

_TEN_LAYER_OPTIONS = (
    Option("About the same (within a factor of ten): fan-in initialisation keeps every "
           "layer at unit scale.",
           "fan-in initialisation gives unit variance to the first layer's pre-activations "
           "only: after a logistic sigmoid the next layer's inputs lie in (0, 1), and on "
           "the way back each hidden layer multiplies the delta by sigma'(z) <= 1/4.",
           lambda: 0.1 <= ten_layer_gradient_ratio() <= 10),
    Option("Larger: the first layer has by far the most weights.",
           f"a matrix's Frobenius norm grows with its size (here by sqrt({INPUTS}*{_width}/"
           f"({_width}*{_classes})), about {_frobenius_bias:.1f}, for equal entries), but "
           "per entry the first layer's gradient is the smallest: every hidden layer on the "
           "way back shrinks the delta.",
           lambda: ten_layer_gradient_ratio() > 10),
    Option("Smaller, by one to three decades (a factor of 10 to 1,000).",
           f"each of the {_depth} hidden layers multiplies the delta by sigma'(z) <= 1/4, "
           "and fan-in weights keep a sum over the layer's units at about the scale of one "
           f"term: about a factor 4 a layer, ten times over, is far more than three "
           "decades.",
           lambda: 1e-3 <= ten_layer_gradient_ratio() < 0.1),
    Option("Smaller, by more than three decades (a factor of over 1,000).",
           f"on its way back the delta passes {_depth} hidden layers, each multiplying it "
           "by sigma'(z) <= 1/4 and by fan-in weights that keep its scale about the same "
           "otherwise: the first layer's gradient per entry is about a millionth of the "
           "output layer's. Fan-in initialisation does not stop the logistic sigmoid's "
           "gradients from vanishing; an activation of slope 1 at 0 does more.",
           lambda: ten_layer_gradient_ratio() < 1e-3),
)

register(Exercise(
    name="ten-layer-gradients",
    title="Predict: ten sigmoid layers with fan-in initialisation",
    statement=_choice_statement(
        rf"The book's deep network has {_depth} hidden layers of {_width} logistic sigmoid "
        rf"units and the output layer, layer {_depth + 1}, with fan-in initialisation, "
        r"$\mathcal N(0, 1/\mathrm{fan\_in})$. At initialisation, how large is the first "
        r"layer's gradient $\partial C/\partial W^{(1)}$ against the output layer's, "
        rf"$\partial C/\partial W^{{({_depth + 1})}}$, per entry (the root mean square of "
        r"each matrix's entries)? Predict, then run it: "
        rf'`MLP([{_width}] * {_depth} + [{_classes}], init="fan_in").backward(X, labels)` on '
        r"a few standardised images.", _TEN_LAYER_OPTIONS),
    kind="choice",
    hints=(r"On the way back, each hidden layer multiplies the delta by $f'(z) \le 1/4$.",),
    options=_TEN_LAYER_OPTIONS,
    key=_choice_key(_TEN_LAYER_OPTIONS),
    explanation=lambda: (
        f"Measured over {_GRADIENT_SEEDS} seeds, on 16 standardised random images: the "
        f"ratio is {ten_layer_gradient_ratio():.1e}, about "
        f"{-math.log10(ten_layer_gradient_ratio()):.1f} decades."),
))
