"""A student's answer runs in a child process with limits; the process that decides never runs it.

The checker (trusted) draws the inputs, sends each to a child process over a private pipe,
and reads back what the answer returned. Values cross the pipe in numpy's own format, read
with ``allow_pickle=False``: nothing the child sends is ever unpickled. The child limits
itself before it loads the answer (CPU seconds, address space, file size, new processes),
works in an empty temporary folder, with one BLAS thread and its standard streams closed,
and the parent kills it at the wall-clock limit, which nothing in the child can catch.
Where Debian's ``bwrap`` (bubblewrap) is installed, the child also runs in a read-only view
of the file system without network.

It is not a sandbox against a determined attacker: without bubblewrap the child can read
any file the user can read, and it runs with the user's rights until its limits stop it.

A function defined in a notebook goes to the child by value (cloudpickle); code (a file, or
a notebook's cells) goes as text, which only the child runs; for a derivation the child
sends back only the steps, as text, and for a choice or a number only the value, as text
(:func:`written`), for the checker to read.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

MEMORY_LIMIT = 2 * 2**30
"""Bytes of address space the child may map."""

FILE_LIMIT = 2**20
"""The largest file the child may write, in bytes."""

MAX_REPLY = 64 * 2**20
"""The longest message the checker reads from the child, in bytes: an answer's value on the
small inputs it is given is a few kilobytes."""


class AnswerError(Exception):
    """The answer raised, or the child stopped: the message says which, for the student."""


class AnswerTimeoutError(Exception):
    """The answer ran past its time: the child was killed."""


@dataclass(frozen=True)
class Returned:
    """A value the answer returned that is not numbers: only its type crosses the pipe."""

    type_name: str


@dataclass(frozen=True, eq=False)
class Loss:
    r"""A loss an answer is handed: a small network's mean cross-entropy, of one matrix.

    ``loss(W)`` is the mean cross-entropy of the network whose weights are ``weights`` with
    ``W`` in place of ``weights[layer]``, sigmoid hidden layers and a softmax output, on the
    inputs ``X`` and one-hot ``targets``. It crosses the pipe as its arrays (:func:`encode`),
    and only the child rebuilds it as something to call.
    """

    weights: tuple[np.ndarray, ...]
    X: np.ndarray
    targets: np.ndarray
    layer: int

    def __call__(self, W: Any) -> float:
        """The loss with ``W`` in place of ``weights[layer]``."""
        from backprop.activations import ACTIVATIONS
        from backprop.losses import mean_cross_entropy
        from backprop.network import forward

        weights = list(self.weights)
        weights[self.layer] = np.asarray(W, dtype=np.float64)
        outputs = forward(weights, self.X, ACTIVATIONS["sigmoid"])[-1]
        return float(mean_cross_entropy(self.targets, outputs))

    def __repr__(self) -> str:
        sizes = "-".join(str(n) for n in (self.weights[0].shape[0],
                                          *(w.shape[1] for w in self.weights)))
        return (f"<the mean cross-entropy of a {sizes} network on {len(self.X)} "
                f"{'sample' if len(self.X) == 1 else 'samples'}, as a function of "
                f"W^({self.layer + 1}), shape {self.weights[self.layer].shape}>")


MAX_TEXT = 2_000
"""The most characters of a value's text the child sends back: a choice is one letter, a
number a short expression, and the checker refuses more than 1,000."""


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


def encode(value: Any) -> bytes:
    """A value as numbers and structure: arrays in ``.npy`` form, the rest as JSON."""
    arrays: list[np.ndarray] = []
    structure = _structure(value, arrays)
    buffer = io.BytesIO()
    np.savez(buffer, *arrays)
    header = json.dumps(structure).encode()
    return struct.pack(">I", len(header)) + header + buffer.getvalue()


def decode(data: bytes, losses: bool = False) -> Any:
    """The value :func:`encode` wrote, read without unpickling anything.

    A :class:`Loss` is rebuilt only with ``losses`` (in the child, which is handed one);
    elsewhere it is a :class:`Returned` ``function``: nothing the child sends is called.

    Raises
    ------
    ValueError
        If the data are not what :func:`encode` writes, whatever else they are.
    """
    try:
        (length,) = struct.unpack(">I", data[:4])
        structure = json.loads(data[4 : 4 + length])
        with np.load(io.BytesIO(data[4 + length :]), allow_pickle=False) as arrays:
            found = [arrays[f"arr_{index}"] for index in range(len(arrays.files))]
        return _rebuild(structure, found, losses)
    except Exception as error:  # RecursionError, zipfile's, numpy's: all mean the same
        raise ValueError(f"unreadable data ({type(error).__name__})") from None


def _structure(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, Loss):
        return {"t": "loss", "layer": value.layer,
                "parts": _structure([list(value.weights), value.X, value.targets], arrays)}
    if isinstance(value, tuple | list):
        return {"t": type(value).__name__, "items": [_structure(v, arrays) for v in value]}
    if isinstance(value, int | float | np.number | np.ndarray) and not isinstance(value, bool):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            arrays.append(array)
            return {"t": "array", "index": len(arrays) - 1,
                    "scalar": not isinstance(value, np.ndarray)}
        return {"t": "other", "type": f"{type(value).__name__} of {array.dtype}"}
    return {"t": "other", "type": type(value).__name__}


def _rebuild(structure: dict[str, Any], arrays: list[np.ndarray], losses: bool = False
             ) -> Any:
    kind = structure["t"]
    if kind == "loss":
        if not losses:
            return Returned("function")
        weights, X, targets = _rebuild(structure["parts"], arrays)
        return Loss(tuple(weights), X, targets, int(structure["layer"]))
    if kind in ("tuple", "list"):
        items = [_rebuild(item, arrays, losses) for item in structure["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "array":
        array = arrays[structure["index"]]
        return array[()] if structure["scalar"] else array
    return Returned(str(structure["type"]))


MAX_CODE = 2**18
"""The longest file of code the checker reads, in bytes: a page of answers is a few
thousand, and Python's parser needs about 600 times the code's size in memory."""


def read_code(path: str | os.PathLike[str], limit: int = MAX_CODE,
              kind: str = "a Python file") -> str:
    """A student's file (``kind``, at most ``limit`` bytes), as text, read here, never run here.

    Raises
    ------
    ValueError
        Naming the file and why it cannot be read: missing, too long, not UTF-8 text.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except OSError as error:
        raise ValueError(f"{name} could not be read ({error.strerror or error})") from None
    if len(data) > limit:
        raise ValueError(f"{name} is longer than {limit // 2**10:,} KiB: is it {kind}?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not UTF-8 text: is it {kind}?") from None


def source_payload(cells: list[tuple[str, str]], fresh: bool = False) -> bytes:
    """Code for the child to run: ``(filename, code)`` cells, run in order in one namespace.

    An exception in a cell before the last is ignored, as a notebook's reader may have left
    a cell broken; the last defines the answer, and only an exception before it does is
    reported. With ``fresh`` the answer's name is forgotten before the last cell, so that
    only that cell can define it.
    """
    return json.dumps({"cells": cells, "fresh": fresh}).encode()


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
            written = os.write(descriptor, view)
        except BlockingIOError:
            continue
        view = view[written:]


def receive(descriptor: int, deadline: float | None = None, limit: int | None = None
            ) -> bytes:
    """Read one message, waiting until ``deadline`` (``time.monotonic()``) at most.

    Raises
    ------
    ValueError
        If the message says it is longer than ``limit`` bytes.
    """
    (length,) = struct.unpack(">Q", _read(descriptor, 8, deadline))
    if limit is not None and length > limit:
        raise ValueError(f"a message of {length:,} bytes, more than {limit:,}")
    return _read(descriptor, length, deadline)


def _read(descriptor: int, count: int, deadline: float | None) -> bytes:
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


class Child:
    """A child process holding a student's answer, which the checker calls input by input.

    Parameters
    ----------
    kind : {"function", "source"}
        A function pickled by value, or code for the child to run.
    payload : bytes
        The pickled function, or the code: :func:`source_payload`.
    name : str
        For code, the name it must define: the answer.
    reply : {"calls", "steps", "value"}
        What the child sends back: the answer's value on each input the checker sends (a
        function), a derivation's steps as text, or a value's :func:`written` text.
    seconds : float
        The wall-clock limit over the child's whole life; CPU time is limited to it too.
    """

    def __init__(self, kind: str, payload: bytes, name: str, reply: str, seconds: float
                 ) -> None:
        self.deadline = time.monotonic() + seconds
        self.folder = tempfile.mkdtemp(prefix="backprop-answer-")
        to_child, self._to_child = os.pipe()
        self._from_child, from_child = os.pipe()
        environment = {"PATH": os.environ.get("PATH", ""), "HOME": self.folder,
                       "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
        command = [sys.executable, "-m", "backprop.exercises.child", str(to_child),
                   str(from_child), str(int(seconds) + 1), str(MEMORY_LIMIT), str(FILE_LIMIT)]
        # A session of its own, so that whatever the answer starts is killed with it.
        self.process = subprocess.Popen(
            sandboxed(command, self.folder), pass_fds=(to_child, from_child),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=self.folder, env=environment, start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        os.set_blocking(self._to_child, False)
        try:
            header = json.dumps({"kind": kind, "name": name, "reply": reply}).encode()
            self._send(header)
            self._send(payload)
            self.loaded = self._reply()
        except BaseException:
            self.close()
            raise

    def call(self, arguments: tuple) -> Any:
        """The answer's value on ``arguments``.

        Raises
        ------
        AnswerError
            If the answer raised (the message names the exception) or the child stopped.
        AnswerTimeoutError
            If the wall-clock limit passed; the child is killed.
        """
        self._send(encode(arguments))
        data = self._reply_bytes()
        try:
            return decode(data)
        except ValueError as error:
            self.close()
            raise AnswerError(f"the process that ran it sent {error}") from None

    def _send(self, data: bytes) -> None:
        try:
            send(self._to_child, data, self.deadline)
        except AnswerTimeoutError:
            self.close()
            raise
        except OSError:
            raise AnswerError(self._stopped()) from None

    def _reply(self) -> Any:
        data = self._reply_bytes()
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            self.close()
            raise AnswerError("the process that ran it sent unreadable data") from None

    def _reply_bytes(self) -> bytes:
        try:
            data = receive(self._from_child, self.deadline, MAX_REPLY)
        except AnswerTimeoutError:
            self.close()
            raise
        except ValueError as error:
            self.close()
            raise AnswerError(f"the answer's value is too large: {error}") from None
        except (EOFError, OSError, struct.error):
            raise AnswerError(self._stopped()) from None
        if data.startswith(b"!"):
            raise AnswerError(data[1:].decode(errors="replace")[:500])
        return data

    def _stopped(self) -> str:
        # The pipe closed; the process may live on (it closed the pipe itself): give it a
        # moment to end, then kill it.
        try:
            code = self.process.wait(max(0.0, min(1.0, self.deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            self.close()
            code = self.process.returncode
        if code < 0:
            return f"the process that ran it was stopped by signal {-code} (a limit on its "\
                   "time, memory or files)"
        return f"the process that ran it ended (exit code {code})"

    def close(self) -> None:
        """Kill the child and every process it started, and remove its folder."""
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for descriptor in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(descriptor)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def sandboxed(command: list[str], folder: str) -> list[str]:
    """The command inside bubblewrap where ``bwrap`` is installed and works, else as it is."""
    bwrap = bubblewrap()
    if bwrap is None:
        return command
    return [bwrap, *_BWRAP_OPTIONS, "--bind", folder, folder, "--chdir", folder, *command]


_BWRAP_OPTIONS = ("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net",
                  "--unshare-pid", "--die-with-parent")


@functools.cache
def bubblewrap() -> str | None:
    """``bwrap``'s path if it is installed and can make a sandbox here; probed once."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    probe = subprocess.run([bwrap, *_BWRAP_OPTIONS, "true"], capture_output=True, check=False)
    return bwrap if probe.returncode == 0 else None
