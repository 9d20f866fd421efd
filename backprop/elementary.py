r"""Elementary functions that run on float arrays and on object arrays of SymPy expressions.

The mathematics of this package is written once, in plain numpy, and the derivations prove
it by running those very functions on arrays whose entries are SymPy symbols. Arithmetic
(``+``, ``*``, ``@``, ``/``) already works on both kinds of array; the few functions below are
the rest: on floats each is the numpy ufunc (in place where ``out`` is given), and on an
object array it applies the SymPy function to every entry.

A float array keeps its dtype throughout. Nothing here checks its input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def is_symbolic(x: Array) -> bool:
    """Whether ``x`` is an object array, whose entries are SymPy expressions."""
    return x.dtype == object


def each(function: Callable[[Any], Any], x: Array, out: Array | None = None) -> Array:
    """``function`` applied to every entry of an object array (into ``out`` where given)."""
    result = np.empty(x.shape, dtype=object) if out is None else out
    for index in np.ndindex(x.shape):
        result[index] = function(x[index])
    return result


def exp(x: Array, out: Array | None = None) -> Array:
    """:math:`e^x`, entry by entry."""
    if is_symbolic(x):
        import sympy

        return each(sympy.exp, x, out)
    return np.exp(x, out=out)


def tanh(x: Array, out: Array | None = None) -> Array:
    r""":math:`\tanh x`, entry by entry."""
    if is_symbolic(x):
        import sympy

        return each(sympy.tanh, x, out)
    return np.tanh(x, out=out)


def floored_log(p: Array) -> Array:
    r""":math:`\ln p`, entry by entry, with floats floored at their dtype's smallest normal.

    A probability that rounds to zero would give :math:`\ln 0 = -\infty`; floored, it gives a
    large finite number instead (about :math:`-708` in float64, :math:`-87` in float32). On
    symbols there is nothing to round and this is :math:`\ln p`.
    """
    if is_symbolic(p):
        import sympy

        return each(sympy.log, p, None)
    return np.log(np.maximum(p, np.finfo(p.dtype).tiny))


def positive_part(x: Array) -> Array:
    r""":math:`\max(0, x)`, entry by entry."""
    if is_symbolic(x):
        import sympy

        return each(lambda entry: sympy.Max(0, entry), x, None)
    return np.maximum(x, 0)


def indicator_positive(x: Array) -> Array:
    r""":math:`[x > 0]`, entry by entry: 1 where positive, else 0, in ``x``'s dtype."""
    if is_symbolic(x):
        import sympy

        return each(lambda entry: sympy.Piecewise((1, entry > 0), (0, True)), x, None)
    return (x > 0).astype(x.dtype)


def row_max(z: Array) -> Array:
    """The largest entry of each row (over the last axis), kept as a column."""
    if is_symbolic(z):
        import sympy

        rows = z.reshape(-1, z.shape[-1])
        maxima = np.empty(rows.shape[0], dtype=object)
        for index, row in enumerate(rows):
            maxima[index] = sympy.Max(*row)
        return maxima.reshape((*z.shape[:-1], 1))
    # numpy reduces a short last axis one row at a time; across the rows of the transposed
    # copy it compares whole rows at once, ten times faster for ten classes, and a maximum
    # is exact whichever way it is taken.
    return np.ascontiguousarray(np.moveaxis(z, -1, 0)).max(axis=0)[..., None]
