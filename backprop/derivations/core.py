"""What a derivation is, how it is proved, and the registry that pairs it with numpy code."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter


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
        Qualified names of the package's functions that compute what the claim states. The
        proof runs each of them on SymPy symbols, looked up where the package keeps it, so
        a change to any of them makes the proof fail (unless :attr:`scope` says otherwise).
    definitions : mapping
        Symbols (or undefined functions) that the book shows for readability, and what they
        stand for; they are substituted before anything is proved.
    instances : callable, optional
        Runs the justified functions on symbols and yields the expressions that must vanish:
        the package's result minus what SymPy's own differentiation (or the textbook
        definition) gives, at the sizes and in the cases :attr:`scope` names. They replace
        the claim as it stands, which is written for the reader. Steps marked ``checked``
        are proved as they stand either way.
    claim_checked : bool
        With :attr:`instances`, prove the claim as it stands too (definitions substituted);
        without them the claim is always proved as it stands.
    """

    name: str
    title: str
    claim: sp.Eq
    steps: tuple[Step, ...]
    scope: str
    justifies: tuple[str, ...]
    definitions: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    instances: Callable[[], Iterable[sp.Basic]] | None = None
    claim_checked: bool = False

    def residuals(self) -> Iterator[sp.Basic]:
        """The expressions whose vanishing proves the derivation, one at a time.

        The checked steps come first (definitions substituted), then the claim: the
        instances that run the package's functions, or the claim as it stands.
        """
        previous = None
        for step in self.steps:
            lhs = step.lhs if step.lhs is not None else previous
            if step.checked and lhs is not None:
                yield self._substitute(lhs - step.rhs)
            previous = step.rhs
        if self.instances is None or self.claim_checked:
            yield self._substitute(self.claim.lhs - self.claim.rhs)
        if self.instances is not None:
            yield from self.instances()

    def verify(self) -> bool:
        """Prove the claim and every checked step symbolically.

        Each residual must be identically zero (:func:`is_zero`); the first that is not ends
        the proof. No value is ever sampled: a residual that does not reduce to zero counts
        as unproved, never as nearly proved.

        Returns
        -------
        bool
            Whether every residual vanished.
        """
        return all(is_zero(residual) for residual in self.residuals())

    def markdown(self) -> str:
        """The steps for a page: the equations aligned, each marked, and the reasons below.

        Beside its step a reason makes the block as wide as the longest reason; below, in
        a list keyed by the marks (a), (b), ..., it wraps to the column.
        """
        marks = [f"({chr(ord('a') + index)})" for index in range(len(self.steps))]
        lines = []
        for step, mark in zip(self.steps, marks, strict=True):
            lhs = book_latex(step.lhs) if step.lhs is not None else ""
            lines.append(f"{lhs} &= {book_latex(step.rhs)} && \\text{{{mark}}}")
        block = "$$\n\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}\n$$"
        reasons = [f"- {mark} {step.text}" for step, mark in zip(self.steps, marks,
                                                                    strict=True)]
        return block + "\n\n" + "\n".join(reasons)

    def claim_latex(self) -> str:
        """The claim alone, in LaTeX."""
        return book_latex(self.claim)

    def _substitute(self, expression: sp.Basic) -> sp.Basic:
        for name, meaning in self.definitions.items():
            if isinstance(name, sp.FunctionClass):
                expression = expression.replace(name, meaning)
            else:
                expression = expression.subs(name, meaning)
        return expression.doit()


class BookLatexPrinter(LatexPrinter):
    r"""SymPy's LaTeX in the book's notation: :math:`\partial C/\partial w_{ji}`.

    The loss depends on every weight and logit, so a derivative with respect to one indexed
    variable is a partial one, however SymPy sees the expression; and an index pair of single
    letters is written together, as the course writes :math:`w_{ji}`.
    """

    def _print_Derivative(self, expr: sp.Derivative) -> str:  # noqa: N802 -- SymPy dispatches by name
        if not any(isinstance(variable, sp.Indexed) for variable in expr.variables):
            return LatexPrinter().doprint(expr)
        below = " ".join(rf"\partial {self.doprint(variable)}" for variable in expr.variables)
        order = len(expr.variables)
        above = r"\partial" if order == 1 else rf"\partial^{{{order}}}"
        return rf"\frac{{{above} {self.doprint(expr.expr)}}}{{{below}}}"

    def _print_HadamardProduct(self, expr: sp.HadamardProduct) -> str:  # noqa: N802 -- as above
        # The elementwise product as the package's docstrings write it.
        return r" \odot ".join(
            self.doprint(arg) if isinstance(arg, sp.MatrixSymbol | sp.Symbol)
            else rf"\left({self.doprint(arg)}\right)" for arg in expr.args)

    def _print_Indexed(self, expr: sp.Indexed) -> str:  # noqa: N802 -- as above
        indices = [self.doprint(index) for index in expr.indices]
        if len(indices) > 1 and all(len(index) == 1 for index in indices):
            return f"{{{self.doprint(expr.base)}}}_{{{''.join(indices)}}}"
        return LatexPrinter().doprint(expr)


def book_latex(expression: sp.Basic) -> str:
    """An expression in the book's notation (:class:`BookLatexPrinter`), logarithms as ln."""
    return BookLatexPrinter({"ln_notation": True}).doprint(expression)


def is_zero(expression: sp.Basic) -> bool:
    """Whether ``expression`` (a scalar, a matrix or an array) is identically zero.

    First the residual is made :func:`generic`: every exponential, tanh, maximum, step and
    undefined function becomes a free symbol. If the result is zero as a rational function of
    those symbols it is zero for every value they stand for, so that settles the many
    identities of backpropagation, which hold by the chain rule alone, without expanding
    nested functions. Then ``expand`` settles polynomial identities and ``together`` with
    ``expand`` rational ones. Where all fail, ``simplify`` (after writing every function
    through ``exp``) is tried on expressions of at most :data:`SIMPLIFY_LIMIT` operations,
    those of identities between a few transcendental functions; a larger one is reported as
    unproved at once rather than after minutes of searching. Each rewriting keeps the
    expression's value or generalises it, so a result of zero is a proof, and ``False``
    means "not proved".
    """
    if isinstance(expression, sp.MatrixBase | sp.NDimArray):
        return all(is_zero(entry) for entry in expression)
    if hasattr(expression, "dtype"):
        return all(is_zero(entry) for entry in expression.flat)
    expression = sp.sympify(expression)
    if _vanishes(generic(expression)):
        return True
    if sp.count_ops(expression) > SIMPLIFY_LIMIT:
        return False
    if sp.expand(expression) == 0 or _vanishes(expression):
        return True
    if sp.count_ops(expression) > SIMPLIFY_LIMIT:
        return False
    return sp.simplify(expression.rewrite(sp.exp)) == 0


SIMPLIFY_LIMIT = 200
"""The largest expression (in operations) that :func:`is_zero` hands to ``simplify``."""


def _vanishes(expression: sp.Basic) -> bool:
    numerator, _ = sp.fraction(sp.together(expression))
    return sp.expand(numerator) == 0


_PLACEHOLDERS = sp.symbols("p0:9")


def _derivative_at_point(subs: sp.Subs) -> sp.Basic:
    """A ``Subs`` as an undefined function of its point, named by what it differentiates."""
    placeholders = dict(zip(subs.variables, _PLACEHOLDERS, strict=False))
    return sp.Function(f"at[{subs.expr.xreplace(placeholders)}]")(*subs.point)


def generic(expression: sp.Basic) -> sp.Basic:
    r"""``expression`` with every non-rational function replaced by a free symbol.

    Exponentials are split over sums first, and :math:`e^{-u}` becomes the reciprocal of
    :math:`e^{u}`'s symbol and :math:`\tanh(-u)` the negative of :math:`\tanh(u)`'s, so
    that the relations the chain rule relies on survive. The derivative of an undefined
    function at a point, however SymPy names its dummy variable, is one symbol per point.
    An identity of the result holds for every value of the new symbols, and so in
    particular for the values of the functions they replaced.
    """
    expression = expression.replace(lambda e: isinstance(e, sp.Subs), _derivative_at_point)
    expression = sp.expand_power_exp(expression)
    symbols: dict[object, sp.Dummy] = {}

    def symbol(key: object) -> sp.Dummy:
        return symbols.setdefault(key, sp.Dummy())

    def replace(e: sp.Basic) -> sp.Basic:
        if isinstance(e, sp.exp | sp.tanh):
            argument = e.args[0]
            odd = argument.could_extract_minus_sign()
            value = symbol((e.func, -argument if odd else argument))
            if not odd:
                return value
            return 1 / value if isinstance(e, sp.exp) else -value
        return symbol(e)

    kinds = (sp.exp, sp.tanh, sp.Max, sp.Heaviside, sp.Piecewise, AppliedUndef)
    return expression.replace(lambda e: isinstance(e, kinds), replace)


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


def implementations_markdown(name: str, shown: dict[str, str]) -> str:
    """The functions a derivation's proof ran, as Markdown for a page.

    A function's code appears the first time the page shows it; later, a link leads back to
    it. ``shown`` maps each function already shown to the label of the derivation it was
    shown under (``derivation-NAME``), and is updated.
    """
    parts = ["The proof ran these functions of the package on SymPy symbols:"]
    for target in DERIVATIONS[name].justifies:
        if target in shown:
            parts.append(f"- `{target}`, shown with {{ref}}`{shown[target]}`.")
            continue
        shown[target] = f"derivation-{name}"
        parts.append(f"- `{target}`:\n\n  ```python\n"
                     + textwrap.indent(implementation_source(target), "  ") + "\n  ```")
    return "\n".join(parts)


def qualified_name(obj: object) -> str:
    """``module.qualname`` of a function or method, as :attr:`Derivation.justifies` spells it."""
    return f"{obj.__module__}.{obj.__qualname__}"


def verify_all(
    derivations: Mapping[str, Derivation] | None = None, jobs: int | None = None
) -> dict[str, bool]:
    """Prove every derivation as :meth:`Derivation.verify` does, on every core.

    Each derivation's residuals are made here, by running the package's functions on
    symbols, and proved to vanish in worker processes (:func:`backprop.parallel.compute`)
    while the next are made: the residuals are independent, and the largest derivations
    have over a hundred.

    Parameters
    ----------
    derivations : mapping of str to Derivation, optional
        Every derivation (:data:`DERIVATIONS`) by default.
    jobs : int, optional
        Worker processes; every core by default, 1 proves them here.

    Returns
    -------
    dict of str to bool
        Whether each derivation's every residual vanished.
    """
    from backprop.parallel import compute

    derivations = DERIVATIONS if derivations is None else derivations
    tasks = ((name, residual) for name, derivation in derivations.items()
             for residual in derivation.residuals())
    proved = dict.fromkeys(derivations, True)
    for name, vanished in compute(_prove, tasks, None, jobs=jobs):
        proved[name] = proved[name] and vanished
    return proved


def _prove(task: tuple[str, sp.Basic], _: object) -> tuple[str, bool]:
    name, residual = task
    return name, is_zero(residual)


def derivations_for(obj: object) -> list[Derivation]:
    """The derivations that justify a numpy function (or method)."""
    name = qualified_name(obj)
    return [d for d in DERIVATIONS.values() if name in d.justifies]
