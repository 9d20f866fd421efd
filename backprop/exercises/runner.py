"""A student's answer runs in a child process with limits; the process that decides never runs it.

The checker (trusted) draws the inputs, sends each to a child process over a private pipe,
and reads back what the answer returned (:mod:`backprop.exercises.wire`: numbers and
structure, nothing unpickled). The child (the script ``child.py`` beside this module) is not the
package: it runs isolated (``python -I -S``), with only numpy, cloudpickle, SymPy and the
wire on its module path, so no reference answer is in it or within its reach by any import.
It limits itself before it loads the answer (CPU seconds, address space, file size, new
processes), and gives up root first where it has it and is asked to (``drop_root``), since
root ignores the process limit. It works in an empty folder of its own, with one BLAS
thread and its standard streams closed, in a session of its own that the parent kills whole
at the wall-clock limit and at the end.

Under bubblewrap (Debian's ``bwrap``, :func:`bubblewrap`) the child sees only what it needs:
the interpreter and its standard library, numpy, cloudpickle and SymPy (read-only), its empty
folder, no network and no other process; not the package's source, not other students'
submissions, not the teacher's folders. Without it the child can read what the user can
read: :func:`backprop.exercises.grading.grade` then refuses other people's code unless told
otherwise.

A function defined in a notebook goes to the child by value (cloudpickle); code (a file, or
a notebook's cells) goes as text, which only the child runs; for a derivation the child
sends back only the steps, as text, and for a choice or a number only the value, as text
(:func:`~backprop.exercises.wire.written`), for the checker to read.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from backprop.exercises.wire import (
    CALLBACK,
    FAILED,
    AnswerTimeoutError,
    Remote,
    Returned,
    decode,
    encode,
    receive,
    send,
)

__all__ = ["AnswerError", "AnswerTimeoutError", "Child", "Launcher", "Loss", "Returned",
           "bubblewrap", "read_code", "source_payload"]

MEMORY_LIMIT = 2 * 2**30
"""Bytes of address space the child may map."""

FILE_LIMIT = 2**20
"""The largest file the child may write, in bytes."""

MAX_REPLY = 64 * 2**20
"""The longest message the checker reads from the child, in bytes: an answer's value on the
small inputs it is given is a few kilobytes."""

UNPRIVILEGED = "nobody"
"""The user a child started by root runs as."""


class AnswerError(Exception):
    """The answer raised (``raised``), or the child stopped: the message says which."""

    def __init__(self, message: str, raised: bool = False) -> None:
        super().__init__(message)
        self.raised = raised


class Loss(Remote):
    r"""A loss an answer is handed: a small network's mean cross-entropy, of one matrix.

    ``loss(W)`` is the mean cross-entropy of the network whose weights are ``weights`` with
    ``W`` in place of ``weights[layer]``, sigmoid hidden layers and a softmax output, on the
    inputs ``X`` and one-hot ``targets``. Only its description crosses to the child; an
    answer that calls it calls back over the pipe, and the checker computes it here.
    """

    def __init__(self, weights: tuple[np.ndarray, ...], X: np.ndarray, targets: np.ndarray,
                 layer: int) -> None:
        self.weights, self.X, self.targets, self.layer = weights, X, targets, layer

    def __call__(self, W: Any) -> float:
        """The loss with ``W`` in place of ``weights[layer]``.

        Raises
        ------
        ValueError
            If ``W`` is not numbers of the shape of the weights it replaces.
        """
        from backprop.activations import ACTIVATIONS
        from backprop.losses import mean_cross_entropy
        from backprop.network import forward

        shape = self.weights[self.layer].shape
        try:
            W = np.asarray(W, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"loss(W) takes an array of numbers of shape {shape}") from None
        if W.shape != shape:
            raise ValueError(f"loss(W) takes an array of shape {shape}, got {W.shape}")
        weights = list(self.weights)
        weights[self.layer] = W
        outputs = forward(weights, self.X, ACTIVATIONS["sigmoid"])[-1]
        return float(mean_cross_entropy(self.targets, outputs))

    def describe(self) -> str:
        """The loss in words, as the answer's ``repr`` of it shows and feedback names it."""
        sizes = "-".join(str(n) for n in (self.weights[0].shape[0],
                                          *(w.shape[1] for w in self.weights)))
        return (f"<the mean cross-entropy of a {sizes} network on {len(self.X)} "
                f"{'sample' if len(self.X) == 1 else 'samples'}, as a function of "
                f"W^({self.layer + 1}), shape {self.weights[self.layer].shape}>")

    __repr__ = describe


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


CHILD = Path(__file__).with_name("child.py")
"""The script the child runs: not imported by the package, and importing nothing of it."""

WIRE = Path(__file__).with_name("wire.py")
"""The one file of the package on the child's module path: how values cross the pipe."""


class Launcher:
    """The process that starts a student's answers: one child per answer, forked from it.

    The launcher (the script ``child.py``, run isolated, as :func:`child_command` says) loads
    numpy and the wire once, gives up root, and then, for each answer, forks a child that
    limits itself, loads that one answer from its own pipes and serves it; it holds no
    answer itself, since each answer's code goes straight to its child. One launcher serves
    one student's answers in turn, each in a child with the limits a child started alone
    has; a launcher an answer stopped or outlived is killed whole and started again for the
    next answer. It is started when the first answer needs it.

    Parameters
    ----------
    sandbox : bool, optional
        Run inside bubblewrap (:class:`RuntimeError` if it cannot be used here); by default,
        wherever it can. Without it the launcher still runs isolated, with limits, as itself.
    drop_root : bool
        Started by root, run as :data:`UNPRIVILEGED`, so that each child's process limit
        holds (inside bubblewrap, always).
    """

    def __init__(self, sandbox: bool | None = None, drop_root: bool = False) -> None:
        self.sandbox = bubblewrap() is not None if sandbox is None else sandbox
        self.drop_root = drop_root or self.sandbox
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.folder = ""
        self.user = -1
        self.child = 0

    def start(self, header: dict[str, Any], deadline: float) -> tuple[int, int]:
        """A child for one answer, described by ``header``: the pipes to it and from it.

        The launcher is started first if it is not running, by ``deadline`` at most.
        """
        if self.process is None:
            self._spawn(deadline)
        work = os.path.join(self.folder, "work")
        for entry in os.scandir(work):
            # Each answer starts in an empty folder, whatever the one before it wrote.
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        to_child, writer = os.pipe()
        reader, from_child = os.pipe()
        try:
            socket.send_fds(self.control, [json.dumps({**header, "user": self.user}).encode()],
                            [to_child, from_child])
            started = self.status(deadline)
        except OSError:
            started = None
        finally:
            for descriptor in (to_child, from_child):
                os.close(descriptor)
        if not isinstance(started, dict):
            for descriptor in (writer, reader):
                os.close(descriptor)
            message = self.ended()
            self.kill()
            raise AnswerError(message)
        self.child = int(started["child"])
        return writer, reader

    def _spawn(self, deadline: float) -> None:
        self.folder = tempfile.mkdtemp(prefix="backprop-answer-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            command, work, user = child_command(self.folder, self.sandbox, self.drop_root)
            command += [str(theirs.fileno()), str(MEMORY_LIMIT), str(FILE_LIMIT)]
            self.user = user
            environment = {"PATH": "/usr/bin:/bin", "HOME": work,
                           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                           "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
            # A session of its own, so that whatever an answer starts is killed with it.
            self.process = subprocess.Popen(
                command, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd=os.path.join(self.folder, "work"), env=environment,
                start_new_session=True)
        except BaseException:
            ours.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        finally:
            theirs.close()
        self.control = ours
        ready = self.status(deadline)
        if ready != "ready":
            if ready is None and time.monotonic() >= deadline:
                self.kill()
                raise AnswerTimeoutError
            message = self.ended()
            self.kill()
            raise AnswerError(message)

    def status(self, deadline: float) -> Any:
        """The launcher's next word: ``"ready"``, or how a child ended; ``None`` by ``deadline``.

        ``None`` also if the launcher is gone or says something unreadable.
        """
        if self.control is None:
            return None
        remaining = max(0.0, deadline - time.monotonic())
        if not select.select([self.control], [], [], remaining)[0]:
            return None
        try:
            said = json.loads(self.control.recv(256) or b"null")
        except (OSError, ValueError):
            return None
        if isinstance(said, int):
            # Reaped by the launcher: its process id may be another's from now on.
            self.child = 0
        return said

    def ended(self) -> str:
        """How the last child ended, in words, once its pipes closed.

        The launcher says how; one that says nothing within a second is killed, and the
        child counts as stopped by it.
        """
        code = self.status(time.monotonic() + 1.0)
        if not isinstance(code, int):
            self.kill()
            code = -signal.SIGKILL
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else ""
            return (f"the process that ran it was stopped by signal {-code} {name} (a limit "
                    "on its time, memory or files)").replace("  ", " ")
        return (f"the process that ran it ended (exit code {code}) before it answered: does "
                "the code call exit() or sys.exit()? An answer returns its value instead")

    def kill(self) -> None:
        """Kill the launcher, its child and all they started; the next answer starts another.

        The launcher's folder goes with it.
        """
        if self.child and not self.sandbox:
            # The child's group of its own, which the launcher's is not; inside bubblewrap
            # its id is the sandbox's, and it ends with the sandbox.
            with contextlib.suppress(OSError):
                os.killpg(self.child, signal.SIGKILL)
        self.child = 0
        if self.process is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = ""

    close = kill

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


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
        function), a derivation's steps as text, or a value's
        :func:`~backprop.exercises.wire.written` text.
    seconds : float
        The wall-clock limit over the child's whole life; CPU time is limited to it too.
    sandbox, drop_root : bool, optional
        Those of the :class:`Launcher` the child is started from, when it is given none.
    launcher : Launcher, optional
        The launcher to fork the child from: a student's, shared by their answers; by
        default one of its own, started for it and killed with it.
    """

    def __init__(self, kind: str, payload: bytes, name: str, reply: str, seconds: float,
                 sandbox: bool | None = None, drop_root: bool = False,
                 launcher: Launcher | None = None) -> None:
        self.deadline = time.monotonic() + seconds
        self.own = launcher is None
        self.launcher = Launcher(sandbox, drop_root) if launcher is None else launcher
        self.ended = False
        header = {"kind": kind, "name": name, "reply": reply, "cpu": int(seconds) + 1}
        try:
            self._to_child, self._from_child = self.launcher.start(header, self.deadline)
        except BaseException:
            if self.own:
                self.launcher.close()
            raise
        os.set_blocking(self._to_child, False)
        try:
            self._send(payload)
            self.loaded = self._reply()
        except BaseException:
            self.close()
            raise

    def _close_pipes(self) -> None:
        # Once only: a number closed twice may by then be another file's.
        for descriptor in (self._to_child, self._from_child):
            if descriptor >= 0:
                with contextlib.suppress(OSError):
                    os.close(descriptor)
        self._to_child = self._from_child = -1

    def call(self, arguments: tuple) -> Any:
        """The answer's value on ``arguments``, computing here each function it calls back.

        Raises
        ------
        AnswerError
            If the answer raised (the message names the exception) or the child stopped.
        AnswerTimeoutError
            If the wall-clock limit passed; the child is killed.
        """
        remotes: list[Remote] = []
        self._send(encode(arguments, remotes))
        data = self._reply_bytes()
        while data.startswith(CALLBACK):
            self._send(called_back(data[1:], remotes))
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
        except (EOFError, OSError):
            raise AnswerError(self._stopped()) from None
        if data.startswith(FAILED):
            raise AnswerError(data[1:].decode(errors="replace")[:500], raised=True)
        return data

    def _stopped(self) -> str:
        # The pipe closed: the launcher says how the child ended.
        self._close_pipes()
        self.ended = True
        return self.launcher.ended()

    def close(self) -> None:
        """End the child: its pipes closed, it ends, or it is killed with its launcher.

        A child that does not end once its pipes close, within the time it has left (a
        second at most), is killed with everything its launcher started.
        """
        self._close_pipes()
        if not self.ended:
            self.ended = True
            wait = time.monotonic() + max(0.0, min(1.0, self.deadline - time.monotonic()))
            if not isinstance(self.launcher.status(wait), int):
                self.launcher.kill()
        if self.own:
            self.launcher.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def called_back(data: bytes, remotes: list[Remote]) -> bytes:
    """The reply to a child that calls a function it was handed: computed here, or why not."""
    try:
        index, arguments = decode(data)
        remote = remotes[int(index)]
        return encode(remote(*arguments))
    except Exception as error:  # the answer's own arguments: a message, never a traceback
        return FAILED + str(error).splitlines()[0].encode() if str(error) else FAILED


def unprivileged_user() -> int:
    """The user id of :data:`UNPRIVILEGED` (65534 where there is no such user)."""
    try:
        return pwd.getpwnam(UNPRIVILEGED).pw_uid
    except KeyError:
        return 65534


def child_library(folder: str) -> list[tuple[str, str]]:
    """What the child's module path holds, as ``(source, name)``: the wire and the libraries.

    numpy for code, cloudpickle for a notebook's function, and SymPy (with mpmath, which it
    needs) for steps or a number written as SymPy objects: libraries, none of which holds
    an answer.
    """
    import cloudpickle
    import mpmath
    import sympy

    found = [(str(WIRE), "wire.py")]
    for module in (np, cloudpickle, sympy, mpmath):
        package = Path(module.__file__).parent
        found.append((str(package), package.name))
        # A wheel's own copies of its shared libraries (numpy's OpenBLAS) sit beside it.
        libraries = package.with_name(package.name + ".libs")
        if libraries.is_dir():
            found.append((str(libraries), libraries.name))
    return found


def child_command(folder: str, sandbox: bool, drop_root: bool
                  ) -> tuple[list[str], str, int]:
    """The command that starts the child, its working folder as it sees it, and its user.

    The user is the id the child becomes, ``-1`` to stay who it is started as.

    Without a sandbox the child's module path is a folder of links, in ``folder``, to the
    modules it may load; inside bubblewrap, the same modules bound read-only.
    """
    python = os.path.realpath(sys.executable)
    user = unprivileged_user() if drop_root and os.getuid() == 0 else -1
    work = os.path.join(folder, "work")
    os.mkdir(work)
    if user >= 0:
        # The user the child becomes must reach its folder (and the links in it), and own
        # the one it writes in.
        os.chmod(folder, 0o711)
        os.chown(work, user, user)
    if not sandbox:
        library = os.path.join(folder, "library")
        os.mkdir(library)
        for source, name in child_library(folder):
            os.symlink(source, os.path.join(library, name))
        return [python, "-I", "-S", str(CHILD), library], work, user
    bwrap = bubblewrap()
    if bwrap is None:
        raise RuntimeError("bubblewrap (bwrap) cannot make a sandbox here")
    options = [bwrap, *BWRAP_OPTIONS, *(GIVE_UP_ROOT if user >= 0 else ())]
    for path in visible_system():
        # Folders above a bound path are made open to all: bubblewrap would copy the
        # host's, and root's home is closed to the user the child becomes.
        for parent in reversed(Path(path).parents[:-1]):
            options += ["--perms", "0755", "--dir", str(parent)]
        options += ["--ro-bind", path, path]
    for path in hidden_within(visible_system()):
        options += ["--tmpfs", path]
    options += ["--ro-bind", str(CHILD), "/answer/child.py"]
    for source, name in child_library(folder):
        options += ["--ro-bind", source, f"/answer/library/{name}"]
    options += ["--bind", work, "/answer/work", "--chdir", "/answer/work"]
    return [*options, python, "-I", "-S", "/answer/child.py", "/answer/library"], \
        "/answer/work", user


SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
          "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/alternatives")
"""What of the system the interpreter and its shared libraries need, where it exists."""


def visible_system() -> list[str]:
    """The paths the sandboxed child sees read-only: the system's, and the interpreter's own."""
    prefix = os.path.realpath(sys.base_prefix)
    paths = [path for path in SYSTEM if os.path.lexists(path)]
    if not any(prefix == path or prefix.startswith(path + "/") for path in paths):
        paths.append(prefix)
    return paths


def hidden_within(roots: list[str]) -> list[str]:
    """Folders in ``roots`` that hold installed modules, the package among them, to hide.

    Everything on this interpreter's module path but the standard library: site-packages,
    dist-packages, a project installed in place.
    """
    library = os.path.realpath(os.path.dirname(os.__file__))
    standard = {library, os.path.join(library, "lib-dynload")}
    import backprop

    candidates = {os.path.realpath(entry) for entry in sys.path if entry}
    candidates.add(os.path.realpath(Path(backprop.__file__).parent))
    candidates |= {os.path.realpath(os.path.join(prefix, "lib", name))
                   for prefix in {sys.base_prefix, sys.prefix, "/usr", "/usr/local"}
                   for name in ("python3", f"python{sys.version_info[0]}."
                                           f"{sys.version_info[1]}/site-packages")}
    return sorted(path for path in candidates
                  if os.path.isdir(path) and path not in standard
                  and any(path.startswith(root.rstrip("/") + "/") for root in roots))


BWRAP_OPTIONS = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                 "--cap-drop", "ALL", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                 "--dir", "/answer/library")
"""No network, no other process, no capability; the mounts :func:`child_command` adds."""

GIVE_UP_ROOT = ("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID")
"""The two capabilities a child started by root keeps, to become :data:`UNPRIVILEGED`: it
loses them, and every other, when it does."""


@functools.cache
def bubblewrap() -> str | None:
    """``bwrap``'s path if it is installed and can make a sandbox here; probed once."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    probe = subprocess.run([bwrap, "--ro-bind", "/", "/", *BWRAP_OPTIONS[:-2], "true"],
                           capture_output=True, check=False)
    return bwrap if probe.returncode == 0 else None
