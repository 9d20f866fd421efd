"""The exercises: what each asks, its reference answer, and the mistakes it recognises.

:data:`EXERCISES` maps a name to an :class:`Exercise`; :data:`CHAPTER_EXERCISES` says which
end each chapter of the book. A code exercise carries the strategy of inputs hypothesis
draws for it and its known mistakes; a derivation carries its start, its result and the
names a step may use.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import sympy as sp

from backprop import activations, losses, network, solutions, training
from backprop.activations import ACTIVATIONS, Activation

WIDTH = 78
"""The width feedback is wrapped to: it fits a notebook's output and the book's column."""


@dataclass(frozen=True)
class Feedback:
    """The outcome of :func:`check`: whether the answer passed, and what to tell the student."""

    passed: bool
    message: str

    def __str__(self) -> str:
        # Prose is wrapped to fit a notebook's output; indented lines (arrays) are kept.
        return "\n".join(
            line if line.startswith(" ") or len(line) <= WIDTH
            else textwrap.fill(line, WIDTH, break_on_hyphens=False)
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


def _deltas(weights, X, targets, derivative=SIGMOID.derivative, output=False):
    """The norm of each layer's delta, hidden layers first to last (the output's if asked)."""
    a = network.forward(weights, X, SIGMOID)
    delta = losses.cross_entropy_delta(targets, a[-1])
    norms = [float(np.linalg.norm(delta))] if output else []
    for l in range(len(weights), 1, -1):
        delta = derivative(a[l - 1]) * (delta @ weights[l - 1].T)
        norms.append(float(np.linalg.norm(delta)))
    return norms[::-1]


register(Exercise(
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
    solution=["-(y1 * (1 - a1) - y2 * a1 - y3 * a1)",
              "a1 * (y1 + y2 + y3) - y1",
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

register(Exercise(
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
    solution=["(o1 - y1) * v11 * a1 * (1 - a1) * x1 + (o2 - y2) * v21 * a1 * (1 - a1) * x1",
              "delta1 * x1"],
))
