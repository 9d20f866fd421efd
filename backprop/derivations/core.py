"""What a derivation is, how it is proved, and the registry that pairs it with numpy code."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import sympy as sp


@dataclass(frozen=True)
class Step:
    r"""One line of a derivation: ``lhs = rhs``, with a line of prose that justifies it.

    ``lhs=None`` continues a chain of equalities: the line reads :math:`= \text{rhs}` and
    states that ``rhs`` equals the previous line's ``rhs``. A step is proved on its own
    unless ``checked=False``, which marks a line written with indices for the reader, whose
    content the derivation's ``instances`` prove at concrete sizes.
    """

    rhs: sp.Basic
    text: str
    lhs: sp.Basic | None = None
    checked: bool = True


@dataclass(frozen=True)
class Derivation:
    """A claim a student would derive by hand, the steps that derive it, and its proof.

    Attributes
    ----------
    name : str
        A short identifier, e.g. ``"sigmoid-derivative"``, that docstrings cite.
    title : str
        A heading for the book.
    claim : sympy.Eq
        The result, as the book shows it.
    steps : tuple of Step
        The derivation a student would write, each line with its justification.
    scope : str
        What exactly is proved: "for all real z", "for every number of classes K >= 2",
        "for I = 3 inputs, J = 2 hidden and K = 3 output units", ...
    justifies : tuple of str
        Qualified names of the numpy functions that compute what the claim states.
    definitions : mapping
        Symbols (or undefined functions) that the book shows for readability, and what they
        stand for; they are substituted before anything is proved.
    instances : callable, optional
        For claims stated with indices, generic sizes or cases: returns the expressions that
        must vanish at the concrete sizes (or in the cases) of :attr:`scope`, in place of the
        claim as it stands. Steps marked ``checked`` are proved as they stand either way.
    """

    name: str
    title: str
    claim: sp.Eq
    steps: tuple[Step, ...]
    scope: str
    justifies: tuple[str, ...]
    definitions: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    instances: Callable[[], Iterable[sp.Basic]] | None = None

    def residuals(self) -> list[sp.Basic]:
        """The expressions whose vanishing proves the derivation, definitions substituted."""
        if self.instances is not None:
            expressions = list(self.instances())
        else:
            expressions = [self.claim.lhs - self.claim.rhs]
        previous = None
        for step in self.steps:
            lhs = step.lhs if step.lhs is not None else previous
            if step.checked and lhs is not None:
                expressions.append(lhs - step.rhs)
            previous = step.rhs
        return [self._substitute(expression) for expression in expressions]

    def verify(self) -> bool:
        """Prove the claim and every checked step symbolically.

        Each residual is expanded and, failing that, simplified; the derivation is proved
        when every residual is identically zero. No value is ever sampled: a residual that
        does not simplify to zero counts as unproved, never as nearly proved.

        Returns
        -------
        bool
            Whether every residual vanished.
        """
        return all(is_zero(residual) for residual in self.residuals())

    def latex(self) -> str:
        r"""The claim and its steps as a LaTeX ``aligned`` block, each step's prose beside it."""
        lines = []
        for step in self.steps:
            lhs = sp.latex(step.lhs) if step.lhs is not None else ""
            lines.append(f"{lhs} &= {sp.latex(step.rhs)} && {prose_latex(step.text)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def claim_latex(self) -> str:
        """The claim alone, in LaTeX."""
        return sp.latex(self.claim)

    def _substitute(self, expression: sp.Basic) -> sp.Basic:
        for name, meaning in self.definitions.items():
            if isinstance(name, sp.FunctionClass):
                expression = expression.replace(name, meaning)
            else:
                expression = expression.subs(name, meaning)
        return expression.doit()


def prose_latex(text: str) -> str:
    r"""Prose for a LaTeX math block: words in ``\text{}``, ``$...$`` pieces as math."""
    pieces = text.split("$")
    if len(pieces) % 2 == 0:
        raise ValueError(f"unbalanced $ in {text!r}")
    return " ".join(
        piece if index % 2 else f"\\text{{{piece}}}"
        for index, piece in enumerate(pieces)
        if piece
    )


def is_zero(expression: sp.Basic) -> bool:
    """Whether ``expression`` (a scalar or a matrix) is identically zero.

    Cheap rewritings are tried first: ``expand`` settles polynomial identities, ``together``
    then ``expand`` rational ones. Where both fail, ``simplify`` (after writing every function
    through ``exp``) is tried on expressions of at most :data:`SIMPLIFY_LIMIT` operations,
    those of identities between a few transcendental functions; a larger one is reported as
    unproved at once rather than after minutes of searching. Each rewriting keeps the
    expression's value, so a result of zero is a proof, and ``False`` means "not proved".
    """
    if isinstance(expression, sp.MatrixBase):
        return all(is_zero(entry) for entry in expression)
    expression = sp.sympify(expression)
    if sp.expand(expression) == 0 or sp.expand(sp.together(expression)) == 0:
        return True
    if sp.count_ops(expression) > SIMPLIFY_LIMIT:
        return False
    return sp.simplify(expression.rewrite(sp.exp)) == 0


SIMPLIFY_LIMIT = 200
"""The largest expression (in operations) that :func:`is_zero` hands to ``simplify``."""


DERIVATIONS: dict[str, Derivation] = {}
"""Every derivation, by name, in the order a course would teach them.

:meta hide-value:
"""


def register(derivation: Derivation) -> Derivation:
    """Add a derivation to :data:`DERIVATIONS`; names are unique."""
    if derivation.name in DERIVATIONS:
        raise ValueError(f"a derivation named {derivation.name!r} is registered already")
    DERIVATIONS[derivation.name] = derivation
    return derivation


def implementation(name: str) -> object:
    """The function or method a qualified name (as in :attr:`Derivation.justifies`) names."""
    module_name, attribute = name, ""
    while True:
        try:
            obj = importlib.import_module(module_name)
            break
        except ModuleNotFoundError:
            module_name, _, outer = module_name.rpartition(".")
            attribute = f"{outer}.{attribute}".rstrip(".")
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def implementation_source(name: str) -> str:
    """The source of a justified function without its docstring: the lines that compute."""
    obj = implementation(name)
    source = textwrap.dedent(inspect.getsource(obj))
    function = ast.parse(source).body[0]
    lines = source.splitlines()
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        del lines[first.lineno - 1 : first.end_lineno]
    return "\n".join(lines)


def qualified_name(obj: object) -> str:
    """``module.qualname`` of a function or method, as :attr:`Derivation.justifies` spells it."""
    return f"{obj.__module__}.{obj.__qualname__}"


def derivations_for(obj: object) -> list[Derivation]:
    """The derivations that justify a numpy function (or method)."""
    name = qualified_name(obj)
    return [d for d in DERIVATIONS.values() if name in d.justifies]
