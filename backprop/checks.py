"""The one checking boundary: every public entry point checks its arguments here, once.

Each check returns the value in the form the mathematics wants (a float, an int, an array of a
given dtype) or raises a :class:`ValueError` whose message names the argument and what is
wrong with it. Behind this boundary the plain maths functions of :mod:`backprop.activations`,
:mod:`backprop.losses`, :mod:`backprop.network` and :mod:`backprop.training` assume clean
inputs and check nothing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

T = TypeVar("T")

_NUMERIC_KINDS = "iuf"

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The dtypes a network computes in: float32 for speed, float64 for checks."""


def show(value: object) -> str:
    """``value``'s repr on one line, cut to a length that fits in a message."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def largest_magnitude(values: NDArray) -> float:
    """The largest absolute value in a non-empty numeric array, without a copy of it."""
    return max(float(values.max()), -float(values.min()))


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool
    )


def _is_whole(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def positive_int(value: object, name: str, *, optional: bool = False) -> int | None:
    """``value`` as an int of at least 1 (or ``None``, where ``optional``).

    Raises
    ------
    ValueError
        If ``value`` is not a whole number (booleans are not), or is below 1.
    """
    if optional and value is None:
        return None
    if not (_is_whole(value) and value >= 1):
        alternative = " or None" if optional else ""
        raise ValueError(f"{name} must be a positive integer{alternative}, got {show(value)}")
    return int(value)


def dense_checks(value: object) -> tuple[int, int] | None:
    """``value`` as ``(every, epochs)``, two positive whole numbers, or ``None``.

    Raises
    ------
    ValueError
        If it is neither ``None`` nor a pair of positive integers.
    """
    if value is None:
        return None
    if not (isinstance(value, tuple | list) and len(value) == 2):
        raise ValueError("dense_checks must be (every, epochs), two positive integers, or "
                         f"None, got {show(value)}")
    every, epochs = value
    return (positive_int(every, "dense_checks' every"),
            positive_int(epochs, "dense_checks' epochs"))


def boolean(value: object, name: str) -> bool:
    """``value`` itself, if it is ``True`` or ``False`` (numpy's booleans included).

    Raises
    ------
    ValueError
        For anything else: ``"no"``, 0 and ``None`` are not booleans.
    """
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {show(value)}")
    return bool(value)


def int_in_range(value: object, name: str, low: int, high: int) -> int:
    """``value`` as an int from ``low`` to ``high``, both included.

    Raises
    ------
    ValueError
        If ``value`` is not a whole number (booleans are not), or lies outside.
    """
    if not (_is_whole(value) and low <= value <= high):
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {show(value)}")
    return int(value)


def real_in_range(
    value: object,
    name: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high``.

    The interval is closed at ``low`` and open at ``high`` unless ``low_open`` or
    ``high_open`` say otherwise; an infinite bound is always open.

    Raises
    ------
    ValueError
        If ``value`` is not a real number (booleans are not), is NaN, or lies outside.
    """
    try:
        inside = _is_real(value) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        inside = False
    if inside:
        inside = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high
        )
    if not inside:
        left = "(" if low_open or low == -math.inf else "["
        right = ")" if high_open or high == math.inf else "]"
        raise ValueError(f"{name} must be a real number in {left}{low:g}, {high:g}{right}, "
                         f"got {show(value)}")
    return float(value)


def seed(value: object, name: str = "seed") -> int:
    """``value`` as a seed for :func:`numpy.random.default_rng`: a whole number >= 0.

    Raises
    ------
    ValueError
        If ``value`` is not a non-negative whole number.
    """
    if not (_is_whole(value) and value >= 0):
        raise ValueError(f"{name} must be a whole number >= 0, got {show(value)}")
    return int(value)


def float_dtype(value: Any, name: str = "dtype") -> np.dtype:
    """``value`` as one of :data:`FLOAT_DTYPES`.

    Raises
    ------
    ValueError
        If ``value`` names no dtype, or another one.
    """
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or not any(dtype == allowed for allowed in FLOAT_DTYPES):
        raise ValueError(f"{name} must be float32 or float64, got {show(value)}")
    return dtype


def callable_or_none(value: object, name: str) -> Callable[..., Any] | None:
    """``value`` itself, if it is callable or ``None``.

    Raises
    ------
    ValueError
        If it is neither.
    """
    if value is not None and not callable(value):
        raise ValueError(f"{name} must be callable or None, got {type(value).__name__}")
    return value


def _as_array(values: ArrayLike, name: str) -> np.ndarray:
    # numpy would drop the mask, and compute with the values it hides.
    if isinstance(values, np.ma.MaskedArray) or (
            isinstance(values, list | tuple)
            and any(isinstance(row, np.ma.MaskedArray) for row in values)):
        raise ValueError(f"{name} is or holds a masked array, whose mask would be ignored: "
                         "fill the masked entries (numpy.ma.filled) or drop them first")
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} is not a rectangular numeric array ({error})") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise ValueError(
            f"{name} has dtype {array.dtype}; expected real numbers (integers or floats)"
        )
    return array


def check_matrix(
    values: ArrayLike, name: str, *, columns: int | None = None, dtype: DTypeLike = None
) -> NDArray:
    """Return ``values`` as a finite, non-empty 2-D array, converted to ``dtype`` if given.

    Raises
    ------
    ValueError
        Naming ``name`` and what is wrong: not 2-D, no rows, the wrong number of columns, a
        non-numeric dtype, or NaN or infinite entries (with the first one's position).
    """
    array = _as_array(values, name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (one row per sample), got shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has shape {array.shape} and no rows")
    if array.shape[1] == 0:
        raise ValueError(f"{name} is empty: it has shape {array.shape} and no columns")
    if columns is not None and array.shape[1] != columns:
        raise ValueError(
            f"{name} has {array.shape[1]} columns but {columns} are expected "
            f"(shape {array.shape})"
        )
    if dtype is not None:
        given = array
        with np.errstate(over="ignore", invalid="ignore"):
            array = np.asarray(array, dtype=dtype)
        if array is not given and array.dtype.kind == "f" and not np.isfinite(array).all() \
                and (given.dtype.kind != "f" or np.isfinite(given).all()):
            raise ValueError(f"{name} holds values beyond the range of {array.dtype} (the "
                             f"largest is {largest_magnitude(given):.3g} in absolute value)")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        row, column = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name} holds non-finite values (NaN or infinity), the first at row {row}, "
            f"column {column}: {array[row, column]}"
        )
    return array


def check_labels(labels: ArrayLike, num_classes: int) -> NDArray[np.intp]:
    """Return ``labels`` as a 1-D integer array with every label in ``[0, num_classes)``.

    Raises
    ------
    ValueError
        If the labels are not 1-D, not integers, or out of range (naming the first offender).
    """
    array = _as_array(labels, "labels")
    if array.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class indices, got shape {array.shape}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array) & (array == np.round(array))):
            raise ValueError("labels must be whole numbers (class indices), got fractions")
        if array.size and not (array.min() >= 0 and array.max() < num_classes):
            index = int(np.argmax((array < 0) | (array >= num_classes)))
            raise ValueError(f"label {array[index]:g} at position {index} lies outside "
                             f"[0, {num_classes}): there are {num_classes} classes")
        array = array.astype(np.intp)
    outside = (array < 0) | (array >= num_classes)
    if outside.any():
        index = int(np.argmax(outside))
        raise ValueError(
            f"label {array[index]} at position {index} lies outside [0, {num_classes}): "
            f"there are {num_classes} classes"
        )
    return array.astype(np.intp, copy=False)


def check_probabilities(targets: ArrayLike, outputs: ArrayLike) -> tuple[NDArray, NDArray]:
    r"""Targets and predicted probabilities of one shape, as float arrays of the outputs' dtype.

    Each row of both must be a distribution: entries in :math:`[0, 1]` that sum to 1 within
    :math:`\max(10^{-6}, 4\varepsilon)`, with :math:`\varepsilon` the machine epsilon of the
    coarser of the two dtypes given. Rounding each probability of a distribution to a dtype
    moves the row's sum by at most :math:`\varepsilon/2`, and a softmax computed in it by a
    few :math:`\varepsilon`: the tolerance is :math:`10^{-6}` in float32 and float64,
    :math:`3.9 \cdot 10^{-3}` in float16, whatever the number of classes.

    Raises
    ------
    ValueError
        If either is not a finite, non-empty 2-D array, their shapes differ, or a row of
        either is not a distribution (naming the first).
    """
    outputs = check_matrix(outputs, "outputs")
    targets = _as_array(targets, "targets")
    epsilon = max((float(np.finfo(dtype).eps) for dtype in (targets.dtype, outputs.dtype)
                   if dtype.kind == "f"), default=0.0)
    tolerance = max(1e-6, 4 * epsilon)
    if outputs.dtype not in FLOAT_DTYPES:
        # float16 cannot hold a loss of a few hundred summed over rows: compute in float64.
        outputs = outputs.astype(np.float64)
    targets = check_matrix(targets, "targets", dtype=outputs.dtype)
    if targets.shape != outputs.shape:
        raise ValueError(
            f"targets have shape {targets.shape} but outputs have shape {outputs.shape}; "
            "they must match"
        )
    if outputs.min() < 0 or outputs.max() > 1:
        raise ValueError(
            f"outputs must be probabilities in [0, 1], got values from {outputs.min()} "
            f"to {outputs.max()}"
        )
    _distributions(outputs, "outputs", tolerance)
    _distributions(targets, "targets", tolerance)
    return targets, outputs


def _distributions(rows: NDArray, name: str, tolerance: float) -> None:
    sums = rows.sum(axis=1, dtype=np.float64)
    wrong = (rows < 0).any(axis=1) | (np.abs(sums - 1) > tolerance)
    if wrong.any():
        row = int(np.argmax(wrong))
        raise ValueError(
            f"{name} must be distributions (entries >= 0 that sum to 1 within {tolerance:.1g})"
            f", but row {row} is {show(rows[row].tolist())}, which sums to {sums[row]:.6g}"
        )


def encode_one_hot(labels: NDArray[np.intp], num_classes: int, dtype: DTypeLike) -> NDArray:
    """One-hot rows for labels that :func:`check_labels` has already accepted."""
    encoded = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def check_targets(
    targets: ArrayLike, num_classes: int, *, rows: int, dtype: DTypeLike
) -> NDArray[np.floating]:
    """Return one-hot targets of shape ``(rows, num_classes)``.

    ``targets`` may be one-hot rows already, or a 1-D array of integer class labels, which is
    encoded.

    Raises
    ------
    ValueError
        If the shape is wrong, the rows are not one-hot, or a label is out of range.
    """
    array = _as_array(targets, "targets")
    if array.ndim == 1:
        array = encode_one_hot(check_labels(array, num_classes), num_classes, dtype)
    elif array.ndim != 2 or array.shape[1] != num_classes:
        raise ValueError(
            f"targets must be one-hot rows of shape (N, {num_classes}) or a 1-D array of "
            f"labels, got shape {array.shape}"
        )
    else:
        not_one_hot = ~(((array == 0) | (array == 1)).all(axis=1) & (array.sum(axis=1) == 1))
        if not_one_hot.any():
            row = int(np.argmax(not_one_hot))
            raise ValueError(
                f"targets must be one-hot (a single 1, zeros elsewhere), but row {row} is "
                f"{array[row].tolist()}"
            )
    if array.shape[0] != rows:
        raise ValueError(f"targets have {array.shape[0]} rows but the inputs have {rows}")
    return np.asarray(array, dtype=dtype)


def look_up(table: dict[str, T], name: str, what: str) -> T:
    """Return ``table[name]``, or raise a ValueError that lists the names ``table`` has."""
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown {what} {show(name)}; choose one of {', '.join(map(repr, table))}"
        ) from None


def check_layer_sizes(neurons_per_layer: Sequence[int], input_size: int) -> tuple[int, ...]:
    """The layer sizes, inputs first, once each is a positive integer and softmax has 2 classes.

    Raises
    ------
    ValueError
        Naming the first size that is not a positive integer, or an output layer of 1 unit.
    """
    try:
        sizes = (input_size, *neurons_per_layer)
    except TypeError:
        raise ValueError(
            f"neurons_per_layer must be a sequence of layer sizes, got {show(neurons_per_layer)}"
        ) from None
    if len(sizes) < 2:
        raise ValueError("neurons_per_layer is empty: the network needs an output layer")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(
                f"layer sizes must be positive integers, got {show(size)} in "
                f"input_size={show(input_size)}, "
                f"neurons_per_layer={show(list(neurons_per_layer))}"
            )
    if sizes[-1] < 2:
        raise ValueError(
            f"the output layer has {sizes[-1]} unit; softmax needs at least 2 classes"
        )
    return tuple(int(size) for size in sizes)


def memory_fits(size: int, what: str) -> None:
    """Make sure ``size`` bytes could be allocated at all, before trying.

    Raises
    ------
    ValueError
        If ``size`` exceeds the machine's physical memory, naming ``what`` and both sizes.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: let numpy decide
        return
    if size > total:
        raise ValueError(f"{what} needs {size / 2**30:,.1f} GiB, more than this machine's "
                         f"{total / 2**30:,.1f} GiB of memory")
