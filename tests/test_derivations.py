"""SymPy's proofs: that they hold, that they run the package's own code, and that they can fail."""

import dataclasses
import inspect
import sys

import numpy as np
import pytest
import sympy as sp

from backprop import activations, losses, network, training
from backprop.derivations import (
    DERIVATIONS,
    Step,
    derivations_for,
    parameters,
    qualified_name,
    verify_all,
)
from backprop.derivations import activations as activation_proofs
from backprop.derivations.core import implementation, implementation_source


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_every_derivation_is_proved(name):
    assert DERIVATIONS[name].verify()


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_a_page_shows_each_step_with_its_reason_beneath_it(name):
    derivation = DERIVATIONS[name]
    assert derivation.claim_latex()
    block, reasons = derivation.markdown().split("\n\n")
    assert block.startswith("$$\n\\begin{aligned}")
    assert block.count("&=") == len(derivation.steps)
    marks = [f"({letter})" for letter in "abcdefghijklmnopqrstuvwxyz"]
    assert reasons.splitlines() == [f"- {mark} {step.text}" for mark, step
                                    in zip(marks, derivation.steps, strict=False)]


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_no_displayed_step_repeats_the_line_it_follows(name):
    # A step that SymPy simplified away would read "x = x": each line must show a new form.
    from backprop.derivations.core import book_latex

    previous = None
    for step in DERIVATIONS[name].steps:
        shown = book_latex(step.rhs)
        left = book_latex(step.lhs) if step.lhs is not None else previous
        assert shown != left, f"{name}: {shown} follows itself"
        previous = shown


# A proof that cannot fail proves nothing: wrong claims, steps and code must fail.

sigma, z = activation_proofs.sigma, activation_proofs.z


def test_a_wrong_claim_fails():
    wrong = dataclasses.replace(
        activation_proofs.SIGMOID_DERIVATIVE,
        claim=sp.Eq(sp.Derivative(sigma(z), z), sigma(z) ** 2),
    )
    assert not wrong.verify()


def test_a_wrong_step_fails():
    derivation = activation_proofs.SIGMOID_DERIVATIVE
    steps = list(derivation.steps)
    steps[1] = Step(sp.exp(-z) / (1 + sp.exp(-z)), "forgot the square")
    assert not dataclasses.replace(derivation, steps=tuple(steps)).verify()


def test_proving_on_every_core_gives_each_derivation_s_own_verdict():
    wrong = dataclasses.replace(
        activation_proofs.SIGMOID_DERIVATIVE,
        claim=sp.Eq(sp.Derivative(sigma(z), z), sigma(z) ** 2),
    )
    derivations = {"right": activation_proofs.SIGMOID_DERIVATIVE, "wrong": wrong,
                   "softmax": DERIVATIONS["softmax-jacobian"]}
    assert verify_all(derivations, jobs=2) == {"right": True, "wrong": False, "softmax": True}


ONE_PERCENT = sp.Rational(101, 100)


def scaled(value):
    if isinstance(value, list | tuple):
        return type(value)(scaled(entry) for entry in value)
    return value * ONE_PERCENT


IN_PLACE = {"backprop.training.momentum_step", "backprop.training.sgd_step"}


def perturbed(function, in_place):
    """``function`` with its result 1% off; for one that works in place, its first argument."""

    def wrong(*arguments, **keywords):
        result = function(*arguments, **keywords)
        if not in_place:
            return scaled(result)
        first = arguments[0]
        for array in first if isinstance(first, list) else [first]:
            array *= ONE_PERCENT
        return result

    return wrong


def perturb_everywhere(monkeypatch, name):
    """Replace the function ``name`` wherever the package holds it: modules and activations."""
    original = implementation(name)
    wrong = perturbed(original, name in IN_PLACE)
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("backprop") and module is not None:
            for attribute, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, attribute, wrong)
    for key, record in list(activations.ACTIVATIONS.items()):
        fields = {field: wrong for field in ("function", "derivative")
                  if getattr(record, field) is original}
        if fields:
            monkeypatch.setitem(activations.ACTIVATIONS, key,
                                dataclasses.replace(record, **fields))


PAIRS = [(name, target) for name, derivation in DERIVATIONS.items()
         for target in derivation.justifies]


@pytest.mark.parametrize(("name", "target"), PAIRS, ids=[f"{n}:{t}" for n, t in PAIRS])
def test_a_one_percent_change_to_a_justified_function_fails_its_derivation(
    monkeypatch, name, target
):
    perturb_everywhere(monkeypatch, target)
    assert not DERIVATIONS[name].verify()


def test_the_proofs_run_the_functions_the_trainer_calls():
    # sgd_step reaches every function of the backward rule through the names it holds.
    trainer_names = vars(training) | vars(network)
    for target in ("backprop.network.forward", "backprop.network.backward",
                   "backprop.losses.mean_cross_entropy", "backprop.losses.cross_entropy_delta"):
        assert any(value is implementation(target) for value in trainer_names.values())


# Every public rule of the mathematics has a derivation that runs it, named in its docstring.

NOT_DERIVED = {
    "backprop.activations.get_activation": "looks a name up",
    "backprop.losses.one_hot": "encodes labels",
    "backprop.losses.cross_entropy": "checks its inputs, then calls mean_cross_entropy",
}
RULES = [network.forward, network.backward, network.parameter_count, training.momentum_step,
         training.sgd_step]


def public_functions(module):
    return [
        member for name, member in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and member.__module__ == module.__name__
    ]


@pytest.mark.parametrize(
    "function", [*public_functions(activations), *public_functions(losses), *RULES],
    ids=qualified_name,
)
def test_every_rule_has_a_derivation_that_its_docstring_names(function):
    name = qualified_name(function)
    if name in NOT_DERIVED:
        return
    found = derivations_for(function)
    assert found, f"{name} has no registered derivation"
    for derivation in found:
        assert f"``{derivation.name}``" in inspect.getdoc(function)


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_what_a_derivation_justifies_exists_and_its_code_shows(name):
    for target in DERIVATIONS[name].justifies:
        assert qualified_name(implementation(target)) == target
        code = implementation_source(target)
        assert code.lstrip().startswith("def ")
        assert '"""' not in code


def test_the_package_improved_sigmoid_is_the_proved_pair_at_its_constants():
    A, S = sp.symbols("A S", positive=True)
    u = np.array([sp.Symbol("u", real=True)], dtype=object)
    general = activations.improved_sigmoid(u, scale=A, slope=S)[0]
    at_constants = general.subs({A: activations.IMPROVED_SIGMOID_SCALE,
                                 S: activations.IMPROVED_SIGMOID_SLOPE})
    assert sp.simplify(at_constants - activations.improved_sigmoid(u)[0]) == 0


def test_the_equal_width_lies_between_59_and_60():
    root = parameters.equal_width(784, 64, 10)
    target = network.count_parameters([64, 10])
    below, above = int(sp.floor(root)), int(sp.ceiling(root))
    assert (below, above) == (59, 60)
    assert network.count_parameters([below, below, 10]) < target
    assert network.count_parameters([above, above, 10]) > target



def test_a_page_shows_each_function_s_code_once_and_links_back_after():
    from backprop.derivations.core import implementations_markdown

    shown = {}
    pages = [implementations_markdown(name, shown) for name in DERIVATIONS]
    page = "\n".join(pages)
    for target, label in shown.items():
        assert page.count(f"- `{target}`:\n") == 1
        repeats = sum(name.justifies.count(target) for name in DERIVATIONS.values()) - 1
        assert page.count(f"- `{target}`, shown with {{ref}}`{label}`.") == repeats


def test_the_book_writes_the_loss_s_derivatives_as_partial_and_w_ji_as_the_course_does():
    from backprop.derivations.core import book_latex

    w, z, C = sp.IndexedBase("w"), sp.IndexedBase("z"), sp.Symbol("C")
    j, i, m = sp.symbols("j i m")
    assert book_latex(sp.Derivative(C, w[j, i])) == r"\frac{\partial C}{\partial {w}_{ji}}"
    assert book_latex(sp.Derivative(C, z[m])) == r"\frac{\partial C}{\partial {z}_{m}}"
    assert book_latex(sp.Derivative(sp.sin(z[m]) * C, z[m])).startswith(r"\frac{\partial")
    assert book_latex(sp.Derivative(sp.Function("f")(sp.Symbol("x")), sp.Symbol("x"))) == \
        sp.latex(sp.Derivative(sp.Function("f")(sp.Symbol("x")), sp.Symbol("x")))


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_every_derivation_is_shown_in_the_book(name):
    # Its label, which the docstrings' links reach, and its glued steps, on one page.
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    assert any(f"(derivation-{name})=" in text and f"{name}-steps" in text
               for text in (page.read_text() for page in docs.glob("*.md")))
