"""Checking a derivation: each step read without running it, and proved equal to the last.

Steps are strings in Python's maths notation, read by :func:`parse_step` from their syntax
tree (nothing is evaluated as Python), or SymPy expressions. Lengths, nesting and the size of
numbers are bounded before anything is built, and the whole check runs under
:data:`backprop.exercises.limits.TIME_LIMIT`.
"""

from __future__ import annotations

import ast
import cmath
import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

import sympy as sp

from backprop.exercises import limits
from backprop.exercises.catalogue import Exercise, Feedback

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
             "sigma": "a, or 1/(1 + exp(-z))", "sigmoid": "a, or 1/(1 + exp(-z))",
             "\N{GREEK SMALL LETTER SIGMA}": "a, or 1/(1 + exp(-z))",
             "\N{GREEK SMALL LETTER DELTA}": "delta1",
             "\N{GREEK SMALL LETTER GAMMA}": "gamma",
             "\N{LATIN SMALL LETTER Y WITH CIRCUMFLEX}": "yhat, with its index (yhat1)",
             "y_hat": "yhat, with its index (yhat1)", "o": "yhat, with its index (yhat1)",
             "v": "w2_ with the output weight's indices, as w2_11"}
"""What to write instead of names students often reach for."""

WRITING = (
    ("=", "a step is one expression: leave out '=' and write only the new right-hand side"),
    ("\\", "write the step in Python's notation, not LaTeX: exp(-z) / (1 + exp(-z))**2"),
    ("\N{MINUS SIGN}", "write - (the minus sign on the keyboard), not the typeset one"),
    ("'", "write diff(expression, variable) for a derivative, not a prime"),
)
"""What to write instead of notation that Python cannot read, by the character that shows it.

:meta hide-value:
"""

IMPLICIT_PRODUCT = re.compile(
    r"\d[A-Za-z(]|\)\(|\b(?:a\d*|z\d*|x\d|y\d*|yhat\d*|delta\d*|w\d_\d\d|g|gamma|v\d)\(")
"""A product written without ``*``: ``2a``, ``(1 - a)(1 + a)``, ``a(1 - a)``.

:meta hide-value:
"""


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
        raise StepError(_unreadable(text, error.msg)) from None
    except ValueError:
        raise StepError("the step holds characters that are not text (a lone surrogate or "
                        "a null)") from None
    except (RecursionError, MemoryError):
        raise StepError(f"the step is nested more than {MAX_DEPTH} levels deep") from None
    pending = [(tree.body, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise StepError(f"the step is nested more than {MAX_DEPTH} levels deep")
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    built = _build(tree.body, names)
    for number in built.atoms(sp.Rational):
        _bounded(number)
    return built


def _unreadable(text: str, reason: str) -> str:
    """Why Python cannot read a step, and what to write instead where that is known."""
    for sign, advice in WRITING:
        if sign in text:
            return advice
    if re.search(r"\bd\s*/\s*d", text):
        return "write diff(expression, variable) for a derivative, as in diff(a, z)"
    if IMPLICIT_PRODUCT.search(text):
        return "write * for every product, as in a*(1 - a) or 2*a"
    for name, advice in SPELLINGS.items():
        if not name.isascii() and name in text:
            return f"{name!r} is not a name here: write {advice}"
    return f"not an expression: {reason}"


def _build(node: ast.AST, names: dict[str, Any]) -> sp.Basic:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not \
            isinstance(node.value, bool):
        # A decimal is the exact number it writes: 1.0000000000000002 is not 1.
        if not math.isfinite(node.value):
            raise StepError(f"{ast.unparse(node)[:60]} is too large a number")
        return _bounded(sp.Rational(repr(node.value)) if isinstance(node.value, float) else
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
    if isinstance(node, ast.Call):
        raise StepError("write * for every product, as in (1 - a)*(1 + a)")
    raise StepError(f"{ast.unparse(node)[:60]!r} is not allowed: only numbers, names, "
                    "+ - * / **, the functions " + ", ".join(FUNCTIONS) + " and diff")


def _call_function(node: ast.Call, names: dict[str, Any]) -> sp.Basic:
    function, arguments = node.func.id, node.args
    if function in ("diff", "Derivative"):
        variable = arguments[1] if len(arguments) == 2 else None
        if not names:
            raise StepError("a number has no variable to differentiate by: write the value")
        if not (isinstance(variable, ast.Name) and isinstance(names.get(variable.id),
                                                              sp.Symbol)):
            symbols = ", ".join(name for name, value in names.items()
                                if isinstance(value, sp.Symbol))
            raise StepError("diff takes an expression and the variable to differentiate by,"
                            f" one of {symbols}: diff(expression, variable)")
        return sp.Derivative(_build(arguments[0], names), names[variable.id])
    if function in FUNCTIONS and len(arguments) == 1:
        return FUNCTIONS[function](_build(arguments[0], names))
    if function in FUNCTIONS:
        raise StepError(f"{function} takes one argument, got {len(arguments)}")
    raise StepError(_unknown(function, names, called=True))


def _unknown(name: str, names: dict[str, Any], called: bool = False) -> str:
    what = "a function" if called else "a name"
    if not names:
        return (f"{name!r} is not {what} here: a number is written with digits, "
                f"+ - * / ** and the functions {', '.join(FUNCTIONS)}")
    if called and name in names:
        return f"{name} is not a function: write * for a product, as in {name}*(1 - {name})"
    # A Greek letter with an index (δ1) gets the advice for the letter.
    spelling = SPELLINGS.get(name) or SPELLINGS.get(name.rstrip("0123456789"))
    if spelling:
        return f"{name!r} is not {what} here: write {spelling}"
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
    return _cut(sp.sstr(expression.xreplace(compound)).replace("Derivative(", "diff("), limit)


def _cut(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


SIMPLIFY_OPERATIONS = 60
"""The largest difference between steps that is simplified as it is, in SymPy's operations;
a larger one is simplified in the exercise's names (quick, where SymPy's simplify of a sum of
exponentials can take seconds), and shown as it is beyond 150."""

POINTS = 2
"""Points at which a residual is evaluated before SymPy tries to prove it zero."""


def _nonzero_somewhere(residual: sp.Basic) -> bool:
    """Whether ``residual`` is clearly not zero at one of :data:`POINTS` rational points.

    Every free symbol takes a value in (0.2, 0.9), which every assumption here allows
    (real, positive, a momentum below 1); a point where the residual is undefined or not a
    number decides nothing.
    """
    symbols = sorted(residual.free_symbols, key=str)
    if not symbols:
        return False
    for index in range(POINTS):
        point = {symbol: sp.Rational(20 + (37 * (number + 1) * (index + 3)) % 70, 100)
                 for number, symbol in enumerate(symbols)}
        try:
            value = complex(residual.xreplace(point).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if cmath.isfinite(value) and abs(value) > 1e-12:
            return True
    return False


def is_working(text: str, result_text: str, exercise: Exercise) -> bool:
    """Whether a step before the last shows working, rather than the start or the result.

    A step is working when it differs in form from the start and from the result, and
    holds neither as a term nor as factors. Each name is read as a symbol that stands for
    nothing, so that writing a named quantity out as what it stands for (``delta1`` as its
    sum, ``yhat1`` as its exponentials) changes the form and is working, as are expanding
    and factoring (``a - a**2`` before ``a*(1 - a)``). SymPy's own evaluation undoes a plus
    zero or a times one (``(z + 1)/(z + 1)``), and the term and factor tests refuse the
    result with something added or multiplied in (``delta1*x1 + a1 - 1/(1 + exp(-z1))``,
    ``a*(1 - a)*a*(1 + exp(-z))``). A derivative still to
    be taken is working when it is smaller than the start's, the chain rule applied
    (``(yhat - y)*diff(yhat, z)``), and not the start in other names (``-diff(-a, z)``).
    """
    start = exercise.start
    if isinstance(start, sp.Derivative):
        size = sp.count_ops(start.expr)
        if any(sp.count_ops(derivative.expr) >= size
               for derivative in parse_step(text, exercise.names).atoms(sp.Derivative)):
            return False
    plain = {name: sp.Symbol(name) for name in exercise.names}
    step = parse_step(text, plain)
    ends = [parse_step(end, plain) for end in (exercise.start_text, result_text)]
    return not any(step.has(end) or _divides(end, step) or _disguised(step, end)
                   for end in ends)


def _disguised(step: sp.Basic, end: sp.Basic) -> bool:
    """Whether ``step`` is ``end`` times a hidden one or plus a hidden zero, in its own names.

    ``(yhat1**2 - yhat1*y1)/yhat1`` is ``yhat1 - y1`` with a factor that cancels, and
    ``delta1*(x1 + 1) - delta1`` is ``delta1*x1`` with terms that cancel; ``a - a**2`` is
    ``a*(1 - a)`` expanded, and working. A factor that cancels is refused in any names
    (``(a*z - a**2*z)/z``); terms that cancel only in the end's own names, since a step that
    brings in a name the end does not use (``1 - y1 - y2`` for ``y3``) writes something out.
    """
    # Most steps differ from the end at a point, which is quick to see and spares simplify.
    if _nonzero_somewhere(step - end) or sp.simplify(step - end) != 0:
        return False
    for part in (step, *sp.Add.make_args(step)):
        if not sp.gcd(*sp.fraction(part)).is_Number:
            return True
    if step.free_symbols - end.free_symbols:
        return False
    return len(sp.Add.make_args(sp.expand(step))) < _terms(step)


def _terms(expression: sp.Basic) -> int:
    """How many terms expanding ``expression`` writes before like terms are collected."""
    if expression.is_Add:
        return sum(_terms(term) for term in expression.args)
    if expression.is_Mul:
        return math.prod(_terms(factor) for factor in expression.args)
    base, exponent = expression.as_base_exp()
    if base.is_Add and exponent.is_Integer and exponent > 0:
        return _terms(base) ** int(exponent)
    return 1


def _powers(expression: sp.Basic) -> dict[sp.Basic, sp.Basic]:
    powers: dict[sp.Basic, sp.Basic] = {}
    for factor in sp.Mul.make_args(expression):
        base, exponent = factor.as_base_exp()
        powers[base] = powers.get(base, sp.S.Zero) + exponent
    return powers


def _divides(end: sp.Basic, step: sp.Basic) -> bool:
    """Whether every factor of ``end`` is a factor of ``step``, at least as often.

    Then ``step`` is ``end`` times a rest, such as ``a*(1 + exp(-z))`` in
    ``a**2*(1 - a)*(1 + exp(-z))``.
    """
    have = _powers(step)
    for base, exponent in _powers(end).items():
        if base.is_Number:
            continue
        found = have.get(base, sp.S.Zero)
        if not (exponent.is_Number and found.is_Number):
            return False
        if (exponent > 0 and found < exponent) or (exponent < 0 and found > exponent):
            return False
    return True


def check_derivation(exercise: Exercise, answer: Any) -> Feedback:
    """Check a list of steps: readable, each equal to the last, with working shown."""
    if isinstance(answer, str | sp.Basic) or not isinstance(answer, Sequence):
        return Feedback(False, f"{exercise.title}: not yet. The answer is a list of steps, "
                               "each a SymPy expression or a string such as "
                               "'exp(-z)/(1 + exp(-z))'.")
    try:
        # Read once, and no further than one step past the limit, whatever len() says.
        steps = list(itertools.islice(iter(answer), MAX_STEPS + 1))
    except Exception as error:
        return Feedback(False, f"{exercise.title}: not yet. The steps could not be read as a "
                               f"list ({type(error).__name__}).")
    if not steps:
        return Feedback(False, f"{exercise.title}: not yet. The answer is a list of steps, "
                               "and this one is empty.")
    if len(steps) > MAX_STEPS:
        return Feedback(False, f"{exercise.title}: not yet. A derivation here takes a few "
                               f"steps, not more than {MAX_STEPS}.")
    try:
        with limits.time_limit(limits.TIME_LIMIT):
            return _derivation_feedback(exercise, steps)
    except (OverflowError, ValueError, TypeError, RecursionError) as error:
        # SymPy's own failures on a step it built but cannot compare, such as a huge power.
        return Feedback(False, f"{exercise.title}: not yet. SymPy could not compare the "
                               f"steps ({type(error).__name__}); write smaller steps, in "
                               "the exercise's own names.")
    except limits.TooSlowError:
        return Feedback(False, f"{exercise.title}: not yet. SymPy could not decide within "
                               f"{limits.TIME_LIMIT:g} s whether the steps follow; write "
                               "smaller steps, in the exercise's own names.")


def _text(expression: sp.Basic) -> str:
    """A SymPy step as text, or the reason it cannot be written out."""
    try:
        return sp.sstr(expression)
    except (ValueError, TypeError, RecursionError, AttributeError) as error:
        raise StepError(f"the SymPy expression could not be written out "
                        f"({type(error).__name__})") from None


def _derivation_feedback(exercise: Exercise, answer: list[Any]) -> Feedback:
    from backprop.derivations import is_zero

    title, names = exercise.title, exercise.names
    steps, forms, texts = [], [], []
    for number, step in enumerate(answer, start=1):
        try:
            # A SymPy expression is read from its text like any other step: no object a
            # student built takes part in the proof.
            if isinstance(step, sp.Basic):
                step = _text(step)
            if not isinstance(step, str):
                raise StepError(f"a step is a string or a SymPy expression, got "
                                f"{type(step).__name__}")
            steps.append(parse_step(step, names))
            forms.append(written_form(step))
            texts.append(step)
        except StepError as error:
            return Feedback(False, f"{title}: not yet. Step {number} cannot be read: {error}.")
    for number, step in enumerate(steps, start=1):
        denominator = sp.fraction(sp.together(step.doit()))[1]
        # Nonzero at a point settles most denominators at once, sparing is_zero's search.
        if (sp.count_ops(denominator) <= 200 and not _nonzero_somewhere(denominator)
                and is_zero(denominator)):
            return Feedback(False, f"{title}: not yet. Step {number} divides by zero: its "
                                   f"denominator {in_names(denominator, names)} is 0.")

    def same(left: sp.Basic, right: sp.Basic) -> bool:
        residual = sp.sympify(left - right).doit()
        # A residual that is not zero at a point is not zero: said at once, where SymPy's
        # search for a proof of a false identity could take seconds.
        return not _nonzero_somewhere(residual) and is_zero(residual)

    def difference(step: sp.Basic, wanted: sp.Basic) -> str:
        found = (step - wanted).doit()
        # Simplified where that is quick (SIMPLIFY_OPERATIONS); a large difference is shown
        # as it is, cut short.
        if sp.count_ops(found) <= SIMPLIFY_OPERATIONS:
            return in_names(sp.simplify(found), names)
        named = found.xreplace({value: sp.Symbol(name) for name, value in names.items()
                                if not isinstance(value, sp.Symbol)})
        if sp.count_ops(named) <= 150:
            named = sp.simplify(named)
        return in_names(named, names)

    def hinted(message: str, step: sp.Basic) -> Feedback:
        # A step equal to a known mistake's expression gets the mistake's hint.
        for mistake in exercise.mistakes:
            if same(step, mistake.answer()):
                return Feedback(False, f"{message}\nHint: {mistake.hint}")
        return Feedback(False, message)

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
        return hinted(f"{title}: not yet. Step 1 does not equal the start, "
                      f"{exercise.start_text}, which step 1 may be; it differs from it by "
                      f"{difference(steps[0], start)}.", steps[0])
    for number in range(1, len(steps)):
        if not same(steps[number - 1], steps[number]):
            return hinted(f"{title}: not yet. Step {number + 1} does not follow from step "
                          f"{number}: it should have equalled "
                          f"{_cut(texts[number - 1].strip())}, and differs from it by "
                          f"{difference(steps[number], steps[number - 1])}.", steps[number])
    if not same(steps[-1], exercise.result):
        return hinted(f"{title}: not yet. Every step follows, but the last is not the result "
                      f"{in_names(exercise.result, names)}.", steps[-1])
    last = texts[-1]
    if exercise.result_names:
        extra = {node.id for node in ast.walk(ast.parse(last.strip(), mode="eval"))
                 if isinstance(node, ast.Name) and node.id not in FUNCTIONS}
        extra -= exercise.result_names
        if extra:
            return Feedback(False, f"{title}: not yet. Every step follows, but the last still "
                                   f"uses {', '.join(sorted(extra))}: write the result in "
                                   f"terms of {', '.join(sorted(exercise.result_names))}.")
    if not any(is_working(text, last, exercise) for text in texts[:-1]):
        return Feedback(False, f"{title}: not yet. Show your working: write at least one "
                               "step between the start and the result that differs from "
                               "both in form: take a derivative, write a name out as what "
                               "it stands for, expand or factor. The start or the result "
                               "again, reordered, times 1 or plus 0, is not working.")
    return Feedback(True, f"{title}: {len(steps)} steps follow, from the start to the "
                          "result.")
