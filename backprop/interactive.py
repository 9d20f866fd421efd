"""Figures the reader steps through: SVG, the text of each step, and a few lines of JavaScript.

A :class:`Stepper` is one HTML element that holds everything it needs: the figure as inline
SVG, its controls (first, previous, next and last, a slider, and the arrow, Home and End
keys), the current step's text, every step's text in a list a reader can unfold, and the
values of every step as JSON. It loads nothing: it works in a built page read offline, from
static hosting, and in a notebook run in JupyterLab. The step's text is text, announced to
a screen reader as it changes, and found by the browser's search.

The script does no arithmetic. Python computes every state (each slot's text, each
attribute's value, which parts are highlighted) and the script shows one of them.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

STYLE = """
.bp-stepper{--bp-bg:var(--pst-color-background,var(--jp-layout-color0,#fff));
 background:var(--bp-bg);color:var(--pst-color-text-base,var(--jp-ui-font-color1,#222));
 border:1px solid rgba(128,128,128,.45);border-radius:6px;padding:.6em;margin:1em 0}
.bp-stepper:focus-visible{outline:3px solid #0072B2;outline-offset:2px}
.bp-stepper svg{display:block;width:100%;max-width:640px;height:auto;margin:0 auto}
.bp-stepper svg text{fill:currentColor;font-size:13px}
.bp-stepper .bp-muted{opacity:.7;font-size:11px}
.bp-stepper .bp-unit circle{fill:none;stroke-width:2}
.bp-stepper .bp-edge line{stroke:#999;stroke-width:1.2}
.bp-stepper .bp-now circle{stroke:#D55E00;stroke-width:4.5;fill:rgba(240,228,66,.3)}
.bp-stepper .bp-edge.bp-now line{stroke:#D55E00;stroke-width:4}
.bp-stepper .bp-used circle{stroke:#56B4E9;stroke-width:3.5;stroke-dasharray:6 3}
.bp-stepper .bp-edge.bp-used line{stroke:#56B4E9;stroke-width:3}
.bp-stepper .bp-delta{fill:#D55E00!important;font-weight:bold}
.bp-stepper .bp-label{paint-order:stroke;stroke:var(--bp-bg);stroke-width:5px;
 font-size:12px;font-weight:bold}
.bp-stepper .bp-tables{display:flex;flex-wrap:wrap;gap:.4em 1.2em;justify-content:center;
 margin:.4em 0}
.bp-stepper table{border-collapse:collapse;font-size:.85em;margin:0}
.bp-stepper caption{caption-side:top;font-weight:bold;padding:0}
.bp-stepper th,.bp-stepper td{padding:.1em .45em;text-align:right;
 border:1px solid rgba(128,128,128,.35);font-variant-numeric:tabular-nums}
.bp-stepper td.bp-now{outline:3px solid #D55E00;outline-offset:-3px;
 background:rgba(240,228,66,.3)}
.bp-stepper td.bp-used{outline:2px dashed #56B4E9;outline-offset:-2px}
.bp-stepper .bp-controls{display:flex;flex-wrap:wrap;align-items:center;gap:.4em;
 margin:.5em 0}
.bp-stepper .bp-controls button{padding:.2em .7em;border-radius:4px;
 border:1px solid rgba(128,128,128,.6);background:transparent;color:inherit;cursor:pointer}
.bp-stepper .bp-controls input{flex:1 1 8em;min-width:6em}
.bp-stepper .bp-counter{min-width:7.5em}
.bp-stepper .bp-text{min-height:6.5em;overflow-wrap:anywhere}
.bp-stepper .bp-text p,.bp-stepper li p{margin:.15em 0}
.bp-stepper details{margin-top:.4em}
"""

SCRIPT = """(function () {
  var root = document.currentScript.parentNode;
  var data = JSON.parse(root.querySelector("script.bp-data").textContent);
  var slider = root.querySelector("input.bp-slider");
  var text = root.querySelector(".bp-text");
  var counter = root.querySelector(".bp-counter");
  var bySlot = {}, byPart = {};
  root.querySelectorAll("[data-slot]").forEach(function (e) {
    (bySlot[e.dataset.slot] = bySlot[e.dataset.slot] || []).push(e);
  });
  root.querySelectorAll("[data-part]").forEach(function (e) {
    (byPart[e.dataset.part] = byPart[e.dataset.part] || []).push(e);
  });
  var current = 0;
  function mark(parts, name) {
    parts.forEach(function (p) {
      (byPart[p] || []).forEach(function (e) { e.classList.add(name); });
    });
  }
  function show(k) {
    current = Math.max(0, Math.min(data.steps.length - 1, k));
    var step = data.steps[current];
    data.slots.forEach(function (s, i) {
      (bySlot[s] || []).forEach(function (e) { e.textContent = step.values[i]; });
    });
    data.attributes.forEach(function (pair, i) {
      (byPart[pair[0]] || []).forEach(function (e) {
        e.setAttribute(pair[1], step.settings[i]);
      });
    });
    root.querySelectorAll(".bp-now, .bp-used").forEach(function (e) {
      e.classList.remove("bp-now", "bp-used");
    });
    mark(step.now, "bp-now");
    mark(step.used, "bp-used");
    text.innerHTML = step.html;
    slider.value = current;
    var where = data.noun + " " + (current + 1) + " of " + data.steps.length;
    slider.setAttribute("aria-valuetext", where + ": " + step.title);
    counter.textContent = where;
  }
  var moves = {
    first: function () { return 0; }, last: function () { return data.steps.length - 1; },
    previous: function () { return current - 1; }, next: function () { return current + 1; }
  };
  root.querySelectorAll("button[data-go]").forEach(function (b) {
    b.addEventListener("click", function () { show(moves[b.dataset.go]()); });
  });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  var keys = {ArrowRight: "next", ArrowDown: "next", ArrowLeft: "previous",
              ArrowUp: "previous", Home: "first", End: "last"};
  root.addEventListener("keydown", function (event) {
    if (event.target === slider || !keys[event.key]) { return; }
    event.preventDefault();
    show(moves[keys[event.key]]());
  });
  show(0);
})();"""


@dataclass(frozen=True)
class State:
    """What a :class:`Stepper` shows at one step.

    Attributes
    ----------
    title : str
        The step in words (plain text): the slider announces it.
    html : str
        The step's text, as HTML.
    values : mapping of str to str
        The text of each of the figure's slots.
    settings : mapping of (str, str) to str
        The value of each attribute of the figure's parts that moves: ``(part, attribute)``.
    now, used : sequences of str
        The parts this step computes, and those it reads.
    """

    title: str
    html: str
    values: Mapping[str, str]
    settings: Mapping[tuple[str, str], str]
    now: Sequence[str]
    used: Sequence[str]


class Stepper:
    """A figure and its steps, shown as one self-contained HTML element.

    Parameters
    ----------
    label : str
        What the figure is, for a screen reader (the element's label).
    figure : str
        The figure as HTML: SVG, tables. Its elements carry ``data-slot`` (the text a step
        writes there) and ``data-part`` (what a step highlights or moves).
    states : sequence of State
        One per step, in order.
    noun : str
        What a step is called on the counter: ``"Step"``, ``"Check"``.
    """

    def __init__(self, label: str, figure: str, states: Sequence[State],
                 noun: str = "Step") -> None:
        self.label, self.figure, self.states, self.noun = label, figure, list(states), noun

    def __len__(self) -> int:
        return len(self.states)

    def __repr__(self) -> str:
        return f"<Stepper: {self.label}; {len(self)} {self.noun.lower()}s>"

    def html(self) -> str:
        """The element: figure, controls, the step's text, every step's text, data, script."""
        slots = sorted({name for state in self.states for name in state.values})
        attributes = sorted({pair for state in self.states for pair in state.settings})
        data = {
            "noun": self.noun, "slots": slots, "attributes": [list(p) for p in attributes],
            "steps": [{"title": state.title, "html": state.html,
                       "values": [state.values.get(name, "") for name in slots],
                       "settings": [state.settings.get(pair, "") for pair in attributes],
                       "now": list(state.now), "used": list(state.used)}
                      for state in self.states],
        }
        # "</" inside a script would end it early, whatever the JSON says.
        payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        listed = "".join(f"<li>{state.html}</li>" for state in self.states)
        # The first step written into the figure too, for a reader whose page runs no
        # script: an untrusted notebook, a printed page.
        figure, first = self.figure, self.states[0]
        for name, value in first.values.items():
            figure = figure.replace(f'data-slot="{name}"></', f'data-slot="{name}">'
                                    f"{html.escape(value)}</")
        for (part, attribute), value in first.settings.items():
            figure = figure.replace(f'data-part="{part}"', f'data-part="{part}" '
                                    f'{attribute}="{html.escape(value)}"')
        last = len(self.states) - 1
        noun = self.noun.lower()
        return (
            f'<div class="bp-stepper" role="group" tabindex="0" '
            f'aria-label="{html.escape(self.label)}">'
            f"<style>{STYLE}</style>"
            f"{figure}"
            '<div class="bp-controls">'
            f'<button type="button" data-go="first" aria-label="First {noun}">First</button>'
            f'<button type="button" data-go="previous" aria-label="Previous {noun}">'
            "Previous</button>"
            f'<input class="bp-slider" type="range" min="0" max="{last}" value="0" step="1" '
            f'aria-label="{self.noun}">'
            f'<button type="button" data-go="next" aria-label="Next {noun}">Next</button>'
            f'<button type="button" data-go="last" aria-label="Last {noun}">Last</button>'
            f'<span class="bp-counter">{self.noun} 1 of {len(self.states)}</span></div>'
            f'<div class="bp-text" aria-live="polite">{self.states[0].html}</div>'
            f"<details><summary>Every {noun} as text</summary><ol>{listed}</ol></details>"
            f'<script type="application/json" class="bp-data">{payload}</script>'
            f"<script>{SCRIPT}</script></div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def markdown(self) -> str:
        """Every step as a numbered list, in Markdown with its maths: the figure on paper.

        What a page shows where it runs no script and draws no SVG: the book's PDF edition,
        which takes a notebook's Markdown output where it cannot take its HTML.
        """
        items = "\n".join(f"{number}. {as_markdown(state.html)}"
                           for number, state in enumerate(self.states, start=1))
        return (f"**{self.label}**, {len(self)} {self.noun.lower()}s (the HTML edition steps "
                f"through them in a figure):\n\n{items}\n")

    def _repr_markdown_(self) -> str:
        return self.markdown()


SYMBOLS = {
    "\N{GREEK SMALL LETTER DELTA}": r"\delta ",
    "\N{GREEK CAPITAL LETTER SIGMA}": r"\Sigma ",
    "\N{LATIN SMALL LETTER Y WITH CIRCUMFLEX}": r"\hat{y}",
    "\N{PARTIAL DIFFERENTIAL}": r"\partial ",
    "\N{GREEK SMALL LETTER ALPHA}": r"\alpha ",
}
"""The Greek and other letters a step's symbols use, as TeX writes them in maths.

:meta hide-value:
"""

_SCRIPTED = re.compile(r"([^\s(>]*?)((?:<su[pb]>[^<]*</su[pb]>)+)")


def as_markdown(text: str) -> str:
    """A step's HTML as one Markdown paragraph: its symbols maths, its code code.

    ``z<sup>(1)</sup><sub>2</sub>`` becomes ``$z^{(1)}_{2}$``; bold and code keep their
    meaning; paragraphs run on, each closed by a full stop.
    """
    def math(found: re.Match) -> str:
        scripts = re.sub(r"<sup>([^<]*)</sup>", r"^{\1}", found[2])
        scripts = re.sub(r"<sub>([^<]*)</sub>", r"_{\1}", scripts)
        # A script inside a script (e to the z_k) was made maths already: one $ pair in all.
        body = "".join(SYMBOLS.get(char, char) for char in found[1] + scripts)
        return f"${body.replace('$', '')}$"

    # The innermost scripts first, then those around them.
    while (converted := _SCRIPTED.sub(math, text)) != text:
        text = converted
    text = re.sub(r"</?strong>", "**", text)
    text = re.sub(r"</?code>", "`", text)
    paragraphs = [html.unescape(part) for part in re.findall(r"<p>(.*?)</p>", text)]
    return " ".join(f"{part[:-2]}.**" if part.endswith("**") else
                    part if part.endswith(".") else f"{part}." for part in paragraphs)


def step_text(title: str, *lines: str, function: str = "") -> str:
    """A step's text as HTML: its title in bold, then a paragraph per line."""
    parts = [f"<p><strong>{html.escape(title)}</strong></p>"]
    parts += [f"<p>{line}</p>" for line in lines]
    if function:
        parts.append(f"<p>Computed by <code>{html.escape(function)}</code></p>")
    return "".join(parts)


def network_figure(sizes: Sequence[int], colours: Sequence[str]) -> str:
    r"""A small network as SVG with a slot for each value, then a table per weight matrix.

    Each unit after the inputs has slots for its :math:`z`, its :math:`a` (the outputs'
    :math:`\hat y`) and its :math:`\delta`; each input one for its value; each edge two for
    a label, near the unit it leaves (``source``) and near the one it reaches (``target``).
    Below, the tables of :math:`W^{(l)}` and :math:`\partial C / \partial W^{(l)}`, one cell
    per weight. Slots and parts are named as :mod:`backprop.walkthrough` names them.
    ``colours`` are the inputs', the hidden units' and the outputs' circles.
    """
    layers, tallest = len(sizes), max(sizes)
    margin, gap, radius, row, top = 70, 230, 40, 112, 44
    width, height = 2 * margin + (layers - 1) * gap, top + tallest * row + 4

    def place(l: int, j: int) -> tuple[float, float]:
        return margin + l * gap, top + row / 2 + (j + (tallest - sizes[l]) / 2) * row

    parts = []
    for l in range(1, layers):
        for i in range(sizes[l - 1]):
            for j in range(sizes[l]):
                (x0, y0), (x1, y1) = place(l - 1, i), place(l, j)
                length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
                ux, uy = (x1 - x0) / length, (y1 - y0) / length
                line = (f'<line x1="{x0 + radius * ux:.1f}" y1="{y0 + radius * uy:.1f}" '
                        f'x2="{x1 - radius * ux:.1f}" y2="{y1 - radius * uy:.1f}"/>')
                labels = "".join(
                    f'<text class="bp-label" text-anchor="middle" '
                    f'x="{x0 + share * (x1 - x0):.1f}" y="{y0 + share * (y1 - y0) - 5:.1f}" '
                    f'data-slot="{where}-{l}-{i}-{j}"></text>'
                    for where, share in (("source", 0.36), ("target", 0.64)))
                parts.append(f'<g class="bp-edge" data-part="edge-{l}-{i}-{j}">{line}</g>')
                parts.append(labels)
        parts.append(f'<text x="{margin + (l - 0.5) * gap:.0f}" y="16" '
                     f'text-anchor="middle">W<tspan dy="-5" font-size="10">({l})</tspan>'
                     "</text>")
    names = ["inputs"] + [f"hidden layer {l}" for l in range(1, layers - 1)] + ["outputs"]
    for l, title in enumerate(names):
        parts.append(f'<text class="bp-muted" x="{margin + l * gap}" y="34" '
                     f'text-anchor="middle">{title}</text>')
        colour = colours[0 if l == 0 else 2 if l == layers - 1 else 1]
        for j in range(sizes[l]):
            x, y = place(l, j)
            if l == 0:
                inside = (f'<text x="{x}" y="{y - 6}" text-anchor="middle">x'
                          f'<tspan dy="4" font-size="10">{j + 1}</tspan></text>'
                          f'<text x="{x}" y="{y + 14}" text-anchor="middle" '
                          f'data-slot="x-0-{j}"></text>')
            else:
                output = "ŷ" if l == layers - 1 else "a"
                inside = "".join(
                    f'<text x="{x}" y="{y + dy}" text-anchor="middle">'
                    f'<tspan class="bp-muted">{symbol} </tspan>'
                    f'<tspan data-slot="{kind}-{l}-{j}"></tspan></text>'
                    for symbol, kind, dy in (("z", "z", -6), (output, "a", 14)))
                inside += (f'<text class="bp-delta" x="{x}" y="{y + radius + 16}" '
                           f'text-anchor="middle">δ <tspan data-slot="delta-{l}-{j}"></tspan>'
                           "</text>")
            parts.append(f'<g class="bp-unit" data-part="unit-{l}-{j}">'
                         f'<circle cx="{x}" cy="{y}" r="{radius}" stroke="{colour}"/>'
                         f"{inside}</g>")
    svg = (f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="A network of '
           f'{"-".join(map(str, sizes))} units: each unit shows its z, its a and its delta; '
           f'each edge is a weight">{"".join(parts)}</svg>')
    tables = "".join(
        _table(f"{symbol}<sup>({l})</sup>", kind, l, sizes[l - 1], sizes[l])
        for l in range(1, layers) for kind, symbol in (("W", "W"), ("dW", "∂C/∂W")))
    return f'{svg}<div class="bp-tables">{tables}</div>'


def _table(caption: str, kind: str, layer: int, rows: int, columns: int) -> str:
    head = "".join(f'<th scope="col">{j + 1}</th>' for j in range(columns))
    body = "".join(
        f'<tr><th scope="row">{i + 1}</th>'
        + "".join(f'<td data-slot="{kind}-{layer}-{i}-{j}" data-part="{kind}-{layer}-{i}-{j}">'
                  "</td>" for j in range(columns)) + "</tr>"
        for i in range(rows))
    return (f"<table><caption>{caption}</caption><thead><tr><th scope=\"col\">i \\ j</th>"
            f"{head}</tr></thead><tbody>{body}</tbody></table>")


def bar_figure(
    groups: Sequence[tuple[str, str]], layers: int, decades: tuple[int, int], ylabel: str
) -> tuple[str, dict[str, float]]:
    """Bars of one measure per layer on a logarithmic axis, one colour per group.

    ``groups`` gives each group's label and colour, ``decades`` the axis's lowest and
    highest power of ten. Each bar is the part ``bar-G-L`` (group, layer, from 0) whose
    ``y`` and ``height`` every step sets; the slot ``where`` holds the figure's subtitle.
    Returns the SVG and the axis's geometry (``bottom``, ``top``, pixels; ``low``, ``high``,
    decades), from which a bar's attributes follow (:func:`bar_height`).
    """
    left, per_layer, top, bottom = 78, 52, 52, 262
    width, height = left + layers * per_layer + 12, bottom + 48
    low, high = decades
    geometry = {"bottom": bottom, "top": top, "low": low, "high": high}
    parts = [f'<text x="{left}" y="16" data-slot="where"></text>']
    for index, (label, colour) in enumerate(groups):
        x = left + index * 230
        parts.append(f'<rect x="{x}" y="26" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 17}" y="37">{html.escape(label)}</text>')
    for decade in range(low, high + 1):
        y = bar_height(10.0 ** decade, geometry)[0]
        parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#999" stroke-width="0.6" stroke-dasharray="3 3"/>'
                     f'<text class="bp-muted" x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">1e{decade}</text>')
    share = (per_layer - 10) / len(groups)
    for l in range(layers):
        x = left + l * per_layer + 5
        for g, (_, colour) in enumerate(groups):
            parts.append(f'<rect data-part="bar-{g}-{l}" x="{x + g * share:.1f}" '
                         f'width="{share - 2:.1f}" fill="{colour}"/>')
        name = "out" if l == layers - 1 else str(l + 1)
        parts.append(f'<text x="{x + (per_layer - 10) / 2:.1f}" y="{bottom + 16}" '
                     f'text-anchor="middle">{name}</text>')
    parts.append(f'<text x="{left + layers * per_layer / 2:.0f}" y="{bottom + 38}" '
                 f'text-anchor="middle">layer (out: the output layer)</text>')
    parts.append(f'<text transform="translate(14 {(top + bottom) / 2:.0f}) rotate(-90)" '
                 f'text-anchor="middle" class="bp-muted">{html.escape(ylabel)}</text>')
    svg = (f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Bars of '
           f'{html.escape(ylabel)}, layer by layer, one colour per network">'
           f'{"".join(parts)}</svg>')
    return svg, geometry


def bar_height(value: float, geometry: Mapping[str, float]) -> tuple[float, float]:
    """Where a bar of ``value`` starts (its ``y``) and its height, on the log axis."""
    low, high, top, bottom = (geometry[k] for k in ("low", "high", "top", "bottom"))
    share = (math.log10(value) - low) / (high - low)
    y = bottom - max(0.0, min(1.0, share)) * (bottom - top)
    return y, bottom - y
