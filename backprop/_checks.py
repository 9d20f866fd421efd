"""Input checks shared by the public functions: each failure is a ValueError that names it."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

T = TypeVar("T")

_NUMERIC_KINDS = "iuf"


def _as_array(values: ArrayLike, name: str) -> np.ndarray:
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
    if columns is not None and array.shape[1] != columns:
        raise ValueError(
            f"{name} has {array.shape[1]} columns but {columns} are expected "
            f"(shape {array.shape})"
        )
    if dtype is not None:
        array = np.asarray(array, dtype=dtype)
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
        array = array.astype(np.intp)
    outside = (array < 0) | (array >= num_classes)
    if outside.any():
        index = int(np.argmax(outside))
        raise ValueError(
            f"label {array[index]} at position {index} lies outside [0, {num_classes}): "
            f"there are {num_classes} classes"
        )
    return array.astype(np.intp, copy=False)


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
            f"unknown {what} {name!r}; choose one of {', '.join(map(repr, table))}"
        ) from None
