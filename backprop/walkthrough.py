r"""The worked example, one computation at a time: what each step computes, by which rule.

A small network's forward pass, its deltas, its gradients and one update, cut into the
steps a reader follows by hand. Each :class:`Step` names the quantity it computes, the rule
in symbols, the rule with its numbers put in, and the package function whose result it
shows. Every number is taken from those functions
(:func:`backprop.network.forward`, :func:`backprop.network.deltas`,
:func:`backprop.network.backward`, :func:`backprop.losses.cross_entropy_delta`,
:func:`backprop.training.sgd_step`); the arithmetic written beside it is the rule, which the
reader can redo with the four decimals shown.

Layers and units are numbered from 1 in the text, as the book numbers them:
:math:`W^{(l)}_{ij}` joins unit :math:`i` of layer :math:`l - 1` to unit :math:`j` of layer
:math:`l`. For one sample the rule is the course's, with the sample's own deltas
:math:`\delta = \partial C_n / \partial z`; the code's delta, the one
:func:`backprop.network.deltas` returns, is that over :math:`N`.

:func:`worked_example` is the plain computation, unchecked:
:func:`backprop.plotting.step_through` checks its inputs and draws the steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop import losses, network, training
from backprop.activations import Activation

Array = NDArray[np.floating]


@dataclass(frozen=True)
class Step:
    """One computation of the worked example.

    Attributes
    ----------
    title : str
        What is computed, in words: ``"Sample 1, forward: hidden unit 2"``.
    rule : str
        The rule in symbols, as HTML (subscripts and superscripts as ``<sub>`` and ``<sup>``).
    numbers : str
        The rule with this step's numbers put in, and its result, as HTML.
    function : str
        The package function whose result the step shows.
    now : tuple of str
        The parts of the figure this step computes (see :func:`unit`, :func:`edge`).
    used : tuple of str
        The parts whose values it reads.
    shown : mapping of str to str
        Every value the figure shows once this step is taken, by slot (see :func:`slot`).
    """

    title: str
    rule: str
    numbers: str
    function: str
    now: tuple[str, ...]
    used: tuple[str, ...]
    shown: Mapping[str, str]


def unit(layer: int, j: int) -> str:
    """The figure's part for unit ``j`` of ``layer`` (layer 0 holds the inputs; from 0)."""
    return f"unit-{layer}-{j}"


def edge(layer: int, i: int, j: int) -> str:
    """The figure's part for :math:`W^{(l)}_{ij}`, ``layer`` = :math:`l` (units from 0)."""
    return f"edge-{layer}-{i}-{j}"


def slot(kind: str, layer: int, *index: int) -> str:
    """Where the figure writes a value.

    ``kind`` is ``"x"`` (an input), ``"z"``, ``"a"`` or ``"delta"`` (of a unit),
    ``"W"`` or ``"dW"`` (a cell of the weights' or the gradient's table), or
    ``"source"`` or ``"target"`` (a label on an edge, near the unit it leaves or reaches).
    """
    return "-".join([kind, str(layer), *map(str, index)])


def number(value: float) -> str:
    """A value as the steps write it: four decimals, the minus sign a hyphen (``-0.0123``)."""
    return f"{value:.4f}"


def factor(value: float) -> str:
    """A value inside a product, a negative one in parentheses: ``(-0.0123)``."""
    return f"({number(value)})" if value < 0 else number(value)


def name(letter: str, layer: int | None = None, index: str = "") -> str:
    """A symbol as HTML: ``name("W", 2, "12")`` is W with (2) above and 12 below."""
    upper = "" if layer is None else f"<sup>({layer})</sup>"
    return f"{letter}{upper}<sub>{index}</sub>" if index else f"{letter}{upper}"


def at(*index: int) -> str:
    """Indices counted from 0, as the text writes them, from 1: ``at(0, 1)`` is ``"12"``."""
    return "".join(str(i + 1) for i in index)


def worked_example(
    weights: Sequence[Array], x: Array, y: Array, activation: Activation,
    learning_rate: float,
) -> list[Step]:
    r"""The steps of one training step of a small network, each with its rule and numbers.

    For each sample in turn: its inputs, each unit's :math:`z` and :math:`a` layer by layer,
    the softmax and the sample's loss, the output deltas :math:`\hat y_k - y_k`, and each
    hidden delta :math:`\delta_j = f'(z_j) \sum_k W_{jk} \delta_k`, from the last hidden
    layer back. Then, for the batch, each weight's gradient
    :math:`\partial C / \partial W^{(l)}_{ij} = \frac1N \sum_n a^{(l-1)}_{ni} \delta^{(l)}_{nj}`,
    from the output layer back; each layer's update
    :math:`W^{(l)} \leftarrow W^{(l)} - \alpha\, \partial C / \partial W^{(l)}`; and the
    batch's loss before and after it.

    Parameters
    ----------
    weights : sequence of arrays
        :math:`W^{(1)}, \dots, W^{(L)}`, each shaped ``(fan_in, fan_out)``.
    x : array, shape (N, I)
        The batch's inputs (no bias column is added: the example's inputs are what it shows).
    y : array, shape (N, K)
        Its one-hot targets.
    activation : Activation
        The hidden layers' :math:`f`.
    learning_rate : float
        :math:`\alpha`.

    Returns
    -------
    list of Step
    """
    L, N = len(weights), len(x)
    sizes = [x.shape[1]] + [W.shape[1] for W in weights]
    a = network.forward(weights, x, activation)
    z = [x] + [a[l - 1] @ weights[l - 1] for l in range(1, L + 1)]
    output_delta = losses.cross_entropy_delta(y, a[-1])
    delta = network.deltas(weights, a, output_delta, activation)
    gradients = network.backward(weights, a, output_delta, activation)
    updated = [W.copy() for W in weights]
    before = training.sgd_step(updated, [np.zeros_like(W) for W in weights], x, y, activation,
                               learning_rate, 0.0)
    after = losses.mean_cross_entropy(y, network.forward(updated, x, activation)[-1])
    slope = activation.derivative.__name__

    steps: list[Step] = []
    persistent = {slot("W", l, i, j): number(W[i, j]) for l, W in enumerate(weights, start=1)
                  for i in range(W.shape[0]) for j in range(W.shape[1])}

    def add(title, rule, numbers, function, now, used=(), values=None, labels=None):
        persistent.update(values or {})
        steps.append(Step(title, rule, numbers, function, tuple(now), tuple(used),
                          {**persistent, **(labels or {})}))

    per_sample = {slot(kind, l, j): "" for l in range(1, L + 1) for j in range(sizes[l])
                  for kind in ("z", "a", "delta")}
    for n in range(N):
        sample = f"Sample {n + 1} of {N}"
        add(f"{sample}: its inputs", f"{name('a', 0)} = x",
            f"x = ({', '.join(number(v) for v in x[n])}), "
            f"its target y = ({', '.join(number(v) for v in y[n])})",
            "", [unit(0, i) for i in range(sizes[0])],
            values={**per_sample,
                    **{slot("x", 0, i): number(x[n, i]) for i in range(sizes[0])}})
        for l in range(1, L + 1):
            W, last = weights[l - 1], l == L
            for j in range(sizes[l]):
                z_j, a_j = name("z", l, at(j)), name("a", l, at(j))
                terms = " + ".join(f"{factor(a[l - 1][n, i])} × {factor(W[i, j])}"
                                   for i in range(sizes[l - 1]))
                rule = (f"{z_j} = Σ<sub>i</sub> {name('a', l - 1, 'i')} "
                        f"{name('W', l, f'i{at(j)}')}")
                numbers = f"{z_j} = {terms} = {number(z[l][n, j])}"
                values = {slot("z", l, j): number(z[l][n, j])}
                function = "backprop.network.forward"
                if not last:
                    rule += f", {a_j} = f({z_j})"
                    numbers += (f"; {a_j} = {activation.name}({number(z[l][n, j])}) = "
                                f"{number(a[l][n, j])}")
                    values[slot("a", l, j)] = number(a[l][n, j])
                    function += f", with backprop.activations.{activation.function.__name__}"
                add(f"{sample}, forward: {'output' if last else 'hidden'} unit {j + 1} "
                    f"of layer {l}", rule, numbers, function, [unit(l, j)],
                    [unit(l - 1, i) for i in range(sizes[l - 1])]
                    + [edge(l, i, j) for i in range(sizes[l - 1])], values,
                    {slot("source", l, i, j): number(W[i, j]) for i in range(sizes[l - 1])})
        exponents = " + ".join(f"e<sup>{number(v)}</sup>" for v in z[L][n])
        true_class = int(np.argmax(y[n]))
        loss = losses.mean_cross_entropy(y[n : n + 1], a[L][n : n + 1])
        outputs = "; ".join(f"{name('ŷ', None, at(k))} = e<sup>{number(z[L][n, k])}</sup> / "
                            f"({exponents}) = {number(a[L][n, k])}" for k in range(sizes[L]))
        add(f"{sample}, forward: the softmax and the sample's loss",
            f"{name('ŷ', None, 'k')} = e<sup>z<sub>k</sub></sup> / "
            f"Σ<sub>m</sub> e<sup>z<sub>m</sub></sup>, "
            f"C<sub>n</sub> = -Σ<sub>k</sub> y<sub>k</sub> ln ŷ<sub>k</sub>",
            f"{outputs}; C<sub>{n + 1}</sub> = -ln {name('ŷ', None, at(true_class))} = "
            f"{number(loss)}", "backprop.activations.softmax, in backprop.network.forward",
            [unit(L, k) for k in range(sizes[L])], [],
            {slot("a", L, k): number(a[L][n, k]) for k in range(sizes[L])})
        for k in range(sizes[L]):
            own = N * delta[L - 1][n, k]
            add(f"{sample}, backward: output delta {k + 1}",
                f"{name('δ', L, at(k))} = {name('ŷ', None, at(k))} - {name('y', None, at(k))}",
                f"{name('δ', L, at(k))} = {number(a[L][n, k])} - {number(y[n, k])} = "
                f"{number(own)}; over N = {N}, the code's delta: "
                f"{number(delta[L - 1][n, k])}", "backprop.losses.cross_entropy_delta",
                [unit(L, k)], [], {slot("delta", L, k): number(own)})
        for l in range(L - 1, 0, -1):
            W = weights[l]
            for j in range(sizes[l]):
                z_j, delta_j = name("z", l, at(j)), name("δ", l, at(j))
                terms = " + ".join(f"{factor(W[j, k])} × {factor(N * delta[l][n, k])}"
                                   for k in range(sizes[l + 1]))
                derivative = activation.derivative(a[l][n : n + 1, j : j + 1])[0, 0]
                own = N * delta[l - 1][n, j]
                add(f"{sample}, backward: hidden delta {j + 1} of layer {l}",
                    f"{delta_j} = f′({z_j}) Σ<sub>k</sub> {name('W', l + 1, f'{at(j)}k')} "
                    f"{name('δ', l + 1, 'k')}",
                    f"f′({z_j}) = {slope}(a = {number(a[l][n, j])}) = {number(derivative)}; "
                    f"{delta_j} = {factor(derivative)} × ({terms}) = {number(own)}; "
                    f"over N = {N}, the code's delta: {number(delta[l - 1][n, j])}",
                    f"backprop.network.deltas, with backprop.activations.{slope}",
                    [unit(l, j)], [unit(l + 1, k) for k in range(sizes[l + 1])]
                    + [edge(l + 1, j, k) for k in range(sizes[l + 1])],
                    {slot("delta", l, j): number(own)},
                    {slot("target", l + 1, j, k): number(W[j, k])
                     for k in range(sizes[l + 1])})

    kinds = ["input"] + ["hidden unit"] * (L - 1) + ["output"]
    cleared = {**per_sample, **{slot("x", 0, i): "" for i in range(sizes[0])}}
    for l in range(L, 0, -1):
        source = "x" if l == 1 else "a"
        for i in range(sizes[l - 1]):
            for j in range(sizes[l]):
                W_ij, gradient = name("W", l, at(i, j)), gradients[l - 1][i, j]
                terms = " + ".join(
                    f"{factor(a[l - 1][n, i])} × {factor(N * delta[l - 1][n, j])}"
                    for n in range(N))
                add(f"The batch, backward: the gradient of W({l}) {at(i, j)}, from "
                    f"{kinds[l - 1]} {i + 1} to {kinds[l]} {j + 1}",
                    f"∂C/∂{W_ij} = (1/N) Σ<sub>n</sub> "
                    f"{name(source, None if l == 1 else l - 1, f'n{at(i)}')} "
                    f"{name('δ', l, f'n{at(j)}')}",
                    f"∂C/∂{W_ij} = (1/{N}) × ({terms}) = {number(gradient)}",
                    "backprop.network.backward", [edge(l, i, j)], [unit(l - 1, i), unit(l, j)],
                    {**cleared, slot("dW", l, i, j): number(gradient)},
                    {slot("source", l, i, j): number(gradient)})
    for l in range(1, L + 1):
        W, G, new = weights[l - 1], gradients[l - 1], updated[l - 1]
        cells = [(i, j) for i in range(W.shape[0]) for j in range(W.shape[1])]
        entries = "; ".join(f"{name('W', l, at(i, j))}: {number(W[i, j])} - "
                            f"{learning_rate:g} × {factor(G[i, j])} = {number(new[i, j])}"
                            for i, j in cells)
        add(f"The update of W({l}), learning rate α = {learning_rate:g}",
            f"{name('W', l)} ← {name('W', l)} - α ∂C/∂{name('W', l)}", entries,
            "backprop.training.sgd_step", [edge(l, i, j) for i, j in cells], [],
            {slot("W", l, i, j): number(new[i, j]) for i, j in cells})
    add("The batch's loss, before and after the step",
        "C = (1/N) Σ<sub>n</sub> C<sub>n</sub>",
        f"C = {number(before)} before the step, {number(after)} after it",
        "backprop.losses.mean_cross_entropy", [unit(L, k) for k in range(sizes[L])])
    return steps
