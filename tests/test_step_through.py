"""The step-through figure: its numbers are the package's, its rules name real functions,
its page holds everything it needs, and a bad example is refused by name."""

import doctest
import html
import importlib
import re
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop import interactive, losses, network, plotting, walkthrough
from backprop.activations import ACTIVATIONS

W1 = np.array([[0.1, -0.2, 0.3], [0.4, 0.3, -0.1]])
W2 = np.array([[0.5, -0.6], [-0.3, 0.8], [0.2, 0.1]])
X = np.array([[1.0, 0.5], [-0.5, 2.0]])
Y = np.array([[1.0, 0.0], [0.0, 1.0]])


@st.composite
def examples(draw):
    """A small network within the figure's limits, its batch and its labels."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=3))
    sizes.append(draw(st.integers(2, 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = [rng.normal(0, 1, (m, n)) for m, n in pairwise(sizes)]
    samples = draw(st.integers(1, 3))
    labels = rng.integers(0, sizes[-1], samples)
    activation = draw(st.sampled_from(sorted(ACTIVATIONS)))
    return weights, rng.normal(0, 1, (samples, sizes[0])), labels, activation


def text_of(state):
    """The step's text as a reader's browser shows it, a line per paragraph."""
    return re.sub(r"<[^>]+>", "", html.unescape(state.html.replace("</p>", "\n")))


@settings(max_examples=30, deadline=None)
@given(examples())
def test_stepping_to_the_end_shows_every_delta_and_gradient_the_package_computes(example):
    weights, x, labels, activation = example
    figure = plotting.step_through(weights, x, labels, activation)
    f = ACTIVATIONS[activation]
    targets = losses.one_hot(labels, weights[-1].shape[1])
    a = network.forward(weights, x, f)
    delta = losses.cross_entropy_delta(targets, a[-1])
    said = " ".join(text_of(state) for state in figure.states)
    for layer in network.deltas(weights, a, delta, f)[:-1]:
        for value in layer.flat:
            assert f"the code's delta: {walkthrough.number(value)}" in said
    last = figure.states[-1].values
    for l, gradient in enumerate(network.backward(weights, a, delta, f), start=1):
        for (i, j), value in np.ndenumerate(gradient):
            assert f"= {walkthrough.number(value)}" in said
            assert last[walkthrough.slot("dW", l, i, j)] == walkthrough.number(value)


def test_each_step_names_a_function_the_package_has():
    named = {name for step in plotting.step_through([W1, W2], X, Y).states
             for name in re.findall(r"backprop\.[\w.]+\w", step.html)}
    assert "backprop.network.deltas" in named
    for name in named:
        module, _, attribute = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), name


def test_a_step_highlights_what_it_computes_and_what_it_reads():
    figure = plotting.step_through([W1, W2], X, Y)
    second = figure.states[2]  # sample 1, hidden unit 2
    assert second.now == [walkthrough.unit(1, 1)]
    assert {walkthrough.edge(1, 0, 1), walkthrough.edge(1, 1, 1), "W-1-0-1"} <= set(second.used)
    assert second.values[walkthrough.slot("source", 1, 0, 1)] == "-0.2000"
    # A later step shows the same unit's value, but no longer that step's edge labels.
    assert walkthrough.slot("source", 1, 0, 1) not in figure.states[3].values


def test_the_update_step_shows_what_sgd_step_leaves():
    figure = plotting.step_through([W1, W2], X, Y, learning_rate=0.5)
    gradients = network.backward([W1, W2], network.forward([W1, W2], X, ACTIVATIONS["sigmoid"]),
                                 losses.cross_entropy_delta(Y, network.forward(
                                     [W1, W2], X, ACTIVATIONS["sigmoid"])[-1]),
                                 ACTIVATIONS["sigmoid"])
    last = figure.states[-1].values
    for l, (W, G) in enumerate(zip((W1, W2), gradients, strict=True), start=1):
        for (i, j), value in np.ndenumerate(W - 0.5 * G):
            assert last[walkthrough.slot("W", l, i, j)] == walkthrough.number(value)


def test_the_element_loads_nothing_and_shows_its_first_step_without_a_script():
    page = plotting.step_through([W1, W2], X, Y).html()
    assert re.search(r"https?:|\bsrc=|<link|@import", page) is None
    # The first step's values are in the figure itself, and its text below it.
    assert 'data-slot="x-0-0">1.0000<' in page
    assert "Sample 1 of 2: its inputs" in page
    for label in ("First step", "Previous step", "Next step", "Last step"):
        assert f'aria-label="{label}"' in page
    assert 'aria-live="polite"' in page


def test_no_step_text_can_end_the_element_s_script():
    state = interactive.State("t", "</script><b>x</b>", {}, {}, [], [])
    page = interactive.Stepper("label", "<svg></svg>", [state]).html()
    payload = page.split('class="bp-data">', 1)[1].split("</script>", 1)[0]
    assert "<\\/script>" in payload


@pytest.mark.parametrize(("weights", "x", "y", "message"), [
    ([], X, Y, "non-empty list of matrices"),
    ([W1, W2.T], X, Y, "W(2) has 2 rows but W(1) has 3 columns"),
    ([W1, W2[:, :1]], X, [0, 0], "softmax needs at least 2 classes"),
    ([W1, W2], X[:, :1], Y, "x has 1 columns but 2 are expected"),
    ([W1, W2], X, [[1, 0], [1, 1]], "one-hot"),
    ([W1, W2], np.ones((5, 2)), [0] * 5, "at most 4 samples"),
    ([np.ones((2, 6)), np.ones((6, 2))], X, Y, "at most 5 units a layer"),
    ([W1, np.full((3, 2), np.nan)], X, Y, "W(2) holds non-finite values"),
    ([W1] + [np.eye(3)] * 3 + [W2], X, Y, "at most 3 weight matrices"),
])
def test_a_bad_example_is_refused_by_name(weights, x, y, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plotting.step_through(weights, x, y)


def test_a_learning_rate_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="learning_rate"):
        plotting.step_through([W1, W2], X, Y, learning_rate=0)


TIMES = "\N{MULTIPLICATION SIGN}"
ARITHMETIC = re.compile(rf"[\d.()+\-{TIMES} /]+")


def test_the_arithmetic_each_step_writes_comes_out_at_its_result():
    checked = 0
    for state in plotting.step_through([W1, W2], X, Y).states:
        numbers = text_of(state).split("\n")[2]
        for piece in re.split(r"; |: ", numbers):
            sides = [side.strip() for side in piece.split(" = ")]
            for left, right in pairwise(sides):
                if ARITHMETIC.fullmatch(left) and re.fullmatch(r"-?\d+\.\d{4}", right) \
                        and any(sign in left for sign in TIMES + "+"):
                    # Four decimals a factor: each term may be off by a few 1e-5.
                    assert eval(left.replace(TIMES, "*")) == pytest.approx(float(right),
                                                                        abs=3e-4), piece
                    checked += 1
    assert checked >= 30


def test_the_documented_example_runs_as_written():
    finder = doctest.DocTestFinder()
    [test] = finder.find(plotting.step_through, "step_through", globs=vars(plotting))
    result = doctest.DocTestRunner().run(test)
    assert result.attempted >= 4
    assert result.failed == 0


def test_on_paper_every_step_is_an_item_with_its_numbers_and_no_html():
    figure = plotting.step_through([W1, W2], X, Y)
    paper = figure.markdown()
    items = re.findall(r"^(\d+)\. (.*)$", paper, re.MULTILINE)
    assert [int(number) for number, _ in items] == list(range(1, len(figure) + 1))
    assert re.search(r"<[a-z/]", paper) is None
    assert (f"$\\delta ^{{(1)}}_{{2}}$ = 0.2498 {TIMES} ((-0.3000) {TIMES} (-0.4621) + "
            f"0.8000 {TIMES} 0.4621)") in paper
    for state, (_, item) in zip(figure.states, items, strict=True):
        assert item.startswith(f"**{html.unescape(state.title)}.**")
