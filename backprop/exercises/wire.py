"""What crosses the pipe between the checker and the child that runs an answer, and how.

This module is the one piece of the package that the child process loads: it imports only
the standard library and numpy, and holds nothing of the package's (a test keeps it so).
The child runs ``child.py``, beside this file, as a script, isolated, with this file and
numpy on its module path and the package nowhere on it.

A message is its length then its bytes (:func:`send`, :func:`receive`). A value is numbers
and structure (:func:`encode`): arrays in ``.npy`` form, read with ``allow_pickle=False``,
the rest as JSON; nothing the child sends is ever unpickled or called. A function the
checker hands the answer (a :class:`Remote`, such as a gradient check's loss) crosses as its
description only: the child calls it back over the pipe, and the checker computes it.
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import time
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_TEXT = 2_000
"""The most characters of a value's text the child sends back: a choice is one letter, a
number a short expression, and the checker refuses more than 1,000."""

CALLBACK = b"?"
"""The first byte of a child's message that calls a :class:`Remote` back, not a reply."""

FAILED = b"!"
"""The first byte of a message that reports an exception: its type and first line follow."""


class AnswerTimeoutError(Exception):
    """The other side did not answer in time."""


@dataclass(frozen=True)
class Returned:
    """A value that is not numbers: only what it is crosses the pipe, as ``what``."""

    what: str

    def __str__(self) -> str:
        return self.what


class Remote:
    """A function the checker holds and an answer may call: it crosses as :meth:`describe`."""

    def describe(self) -> str:
        """What the function is, in words, as the answer's ``repr`` of it shows."""
        raise NotImplementedError


def written(value: Any) -> dict[str, Any]:
    """A value answered to a choice or a number, as its type's name and its text.

    Only values whose text is their content are written out: strings, integers, floats,
    fractions, numpy's scalars and SymPy's expressions (``text`` is ``None`` for anything
    else, and for an integer too long to write). The text is cut after :data:`MAX_TEXT`
    characters. The child calls it on the answer; the checker reads the text, never the
    object.
    """
    kind = type(value)
    module = kind.__module__.partition(".")[0]
    text: str | None = None
    try:
        if kind is str or (module == "numpy" and isinstance(value, np.str_)):
            text = str.__str__(value)
        elif kind is float or (module == "numpy" and isinstance(value, np.floating)):
            text = repr(float(value))
        elif kind is int or (module == "numpy" and isinstance(value, np.integer)):
            text = str(int(value))
        elif module in ("fractions", "sympy"):
            text = str(value)
    except (ValueError, TypeError, RecursionError, OverflowError):
        text = None
    return {"type": kind.__name__, "text": None if text is None else text[: MAX_TEXT + 1]}


def encode(value: Any, remotes: list[Remote] | None = None) -> bytes:
    """A value as numbers and structure; each :class:`Remote` in it is appended to ``remotes``.

    Anything else that is not numbers crosses as what it is (:class:`Returned`).
    """
    arrays: list[np.ndarray] = []
    structure = structure_of(value, arrays, [] if remotes is None else remotes)
    buffer = io.BytesIO()
    np.savez(buffer, *arrays)
    header = json.dumps(structure).encode()
    return struct.pack(">I", len(header)) + header + buffer.getvalue()


def decode(data: bytes, remote: Any = None) -> Any:
    """The value :func:`encode` wrote, read without unpickling anything.

    A remote function becomes ``remote(index, description)`` where ``remote`` is given (in
    the child, which may call it back), else a :class:`Returned`: nothing is called.

    Arrays are read only as :func:`encode` stores them, uncompressed: a member that would
    inflate beyond the bytes received is refused before it is read, so a short reply cannot
    fill the checker's memory.

    Raises
    ------
    ValueError
        If the data are not what :func:`encode` writes, whatever else they are.
    """
    try:
        (length,) = struct.unpack(">I", data[:4])
        structure = json.loads(data[4 : 4 + length])
        archive = io.BytesIO(data[4 + length :])
        with zipfile.ZipFile(archive) as members:
            for member in members.infolist():
                if (member.compress_type != zipfile.ZIP_STORED
                        or member.file_size > len(data)):
                    raise ValueError("a compressed member")
        with np.load(archive, allow_pickle=False) as arrays:
            found = [arrays[f"arr_{index}"] for index in range(len(arrays.files))]
        return rebuilt(structure, found, remote)
    except Exception as error:  # RecursionError, zipfile's, numpy's: all mean the same
        raise ValueError(f"unreadable data ({type(error).__name__})") from None


def structure_of(value: Any, arrays: list[np.ndarray], remotes: list[Remote]) -> Any:
    """The JSON side of :func:`encode`: arrays go to ``arrays``, remotes to ``remotes``."""
    if isinstance(value, Remote):
        remotes.append(value)
        return {"t": "remote", "index": len(remotes) - 1, "text": value.describe()}
    if isinstance(value, tuple | list):
        return {"t": type(value).__name__,
                "items": [structure_of(v, arrays, remotes) for v in value]}
    if isinstance(value, int | float | np.number | np.ndarray) and not isinstance(value, bool):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            arrays.append(array)
            return {"t": "array", "index": len(arrays) - 1,
                    "scalar": not isinstance(value, np.ndarray)}
        return {"t": "other", "what": f"an array of {array.dtype}"}
    return {"t": "other", "what": described(value)}


def described(value: Any) -> str:
    """A value that is not numbers, as a student reads it: ``a str``, ``None``, ``a dict``."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if callable(value):
        return "a function"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def rebuilt(structure: dict[str, Any], arrays: list[np.ndarray], remote: Any = None) -> Any:
    """The value a :func:`structure_of` describes, from its arrays."""
    kind = structure["t"]
    if kind == "remote":
        if remote is None:
            return Returned("a function")
        return remote(int(structure["index"]), str(structure["text"]))
    if kind in ("tuple", "list"):
        items = [rebuilt(item, arrays, remote) for item in structure["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "array":
        array = arrays[structure["index"]]
        return array[()] if structure["scalar"] else array
    return Returned(str(structure["what"]))


def send(descriptor: int, data: bytes, deadline: float | None = None) -> None:
    """Write one message, its length then its bytes, waiting until ``deadline`` at most.

    With a deadline the descriptor must be non-blocking: a reader that never reads cannot
    hold the writer past it.
    """
    view = memoryview(struct.pack(">Q", len(data)) + data)
    while view:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [descriptor], [], remaining)[1]:
                raise AnswerTimeoutError
        try:
            count = os.write(descriptor, view)
        except BlockingIOError:
            continue
        view = view[count:]


def receive(descriptor: int, deadline: float | None = None, limit: int | None = None
            ) -> bytes:
    """Read one message, waiting until ``deadline`` (``time.monotonic()``) at most.

    Raises
    ------
    ValueError
        If the message says it is longer than ``limit`` bytes.
    EOFError
        If the other side closed the pipe.
    """
    (length,) = struct.unpack(">Q", read_exactly(descriptor, 8, deadline))
    if limit is not None and length > limit:
        raise ValueError(f"a message of {length:,} bytes, more than {limit:,}")
    return read_exactly(descriptor, length, deadline)


def read_exactly(descriptor: int, count: int, deadline: float | None) -> bytes:
    """``count`` bytes from ``descriptor``, waiting until ``deadline`` at most."""
    chunks, left = [], count
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([descriptor], [], [], remaining)[0]:
                raise AnswerTimeoutError
        chunk = os.read(descriptor, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
