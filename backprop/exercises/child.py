"""The process that runs a student's answers: it forks a child per answer, and decides nothing.

Not a module of the package: :mod:`backprop.exercises.runner` runs this file as a script,
isolated (``python -I -S``), with a module path that holds only numpy, cloudpickle, SymPy
and :mod:`backprop.exercises.wire`; the package is nowhere on it, and under bubblewrap nowhere
on the file system the child sees. So no route inside the child (an import by any name, the
table of loaded modules, the garbage collector, the builtins) reaches a reference answer:
there is none in the process, and none it can load.

``python -I -S child.py LIBRARY CONTROL MEMORY FILESIZE``: it puts ``LIBRARY`` on its
module path, imports what it needs, limits its memory and files, and says it is ready on the
socket ``CONTROL``. Then for each answer the checker asks for (a header, and two pipes
passed over the socket) it forks a child and says its process id. The child takes a process
group of its own, gives up root for the header's user id (``-1`` to keep its own), limits
its CPU seconds and new processes, reads the answer from the first pipe and, for each input
the checker sends, writes the answer's value (or the exception it raised) to the second; a
derivation's steps, or a choice's or a number's value, it sends back once, as text. When
the child ends, this process says how on the socket. It never reads an answer itself: each
goes straight to its child.
"""

import builtins
import importlib
import importlib.abc
import json
import os
import pickle
import resource
import socket
import sys
import types
from typing import Any, NoReturn

sys.path.insert(0, sys.argv[1])

import cloudpickle  # noqa: F401 -- what a notebook's function refers to, by name
import numpy
import wire

NOT_HERE = "(checked by the grader, not here)"
"""What ``check`` returns inside the child: the answer's own calls of it decide nothing."""

WARM = ("math", "cmath", "functools", "itertools", "operator", "fractions", "collections",
        "numpy.linalg", "numpy.random")
"""Modules loaded before the child gives up root, for answers that import them."""

HANDED_OUT = ("backprop", "backprop.exercises")
"""The modules a notebook imports (``from backprop.exercises import check, show``): in the
child they are empty stand-ins, so that the cell runs and its calls decide nothing."""


class PackageRefused(importlib.abc.MetaPathFinder):
    """Says why the package cannot be imported: an answer is written with numpy.

    A courtesy for the student, not a guard: the package is not on the module path at all.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        """Nothing of the package is found: the import fails, saying why."""
        if name.partition(".")[0] == "backprop":
            raise ImportError(f"an answer is written with numpy, not with the package's own "
                              f"code ({name})")
        return None


def refused(name: str) -> NoReturn:
    """Any other name of the stand-in ``backprop.exercises``: refused, saying why."""
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError(f"an answer is written with numpy, not with the package's own code "
                      f"(backprop.exercises.{name})")


def stand_ins() -> None:
    """The package as an answer sees it: ``check`` and ``show``, deciding nothing; and exit."""
    package = types.ModuleType("backprop")
    exercises = types.ModuleType("backprop.exercises")
    exercises.check = exercises.check_file = lambda *_, **__: NOT_HERE
    exercises.show = lambda *_, **__: ""
    exercises.__getattr__ = refused
    package.exercises = exercises
    package.__path__ = []  # a package, so that its other modules are asked for, and refused
    sys.modules.update(zip(HANDED_OUT, (package, exercises), strict=True))
    sys.meta_path.insert(0, PackageRefused())
    # What the site module would add (the child runs without it): exit() is SystemExit,
    # which the checker then names.
    builtins.exit = builtins.quit = sys.exit


def give_up_root(user: int) -> None:
    """Run as ``user`` from here on, so that the process limit holds: root ignores it."""
    if user < 0 or os.getuid() != 0:
        return
    os.setgroups([])
    os.setgid(user)
    os.setuid(user)


def limit(limits: dict[str, int]) -> None:
    """Set each resource limit, by ``resource``'s name, where this system has it."""
    for name, value in limits.items():
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError, AttributeError):
            continue


def load(kind: str, payload: bytes, name: str) -> Any:
    """The answer: a function unpickled here, or the value of ``name`` once its code has run."""
    if kind == "function":
        return pickle.loads(payload)
    source = json.loads(payload)
    cells = source["cells"]
    namespace = {"__name__": "__submission__"}
    for index, (filename, code) in enumerate(cells):
        last = index == len(cells) - 1
        if last and source["fresh"]:
            namespace.pop(name, None)
        try:
            # The one place where a student's code runs: in this limited child.
            exec(compile(code, filename, "exec"), namespace)
        except BaseException:
            # A cell that fails after it defines the answer (a print of a check never
            # imported) still answers, as it would in the notebook.
            if last and name not in namespace:
                raise
    if name not in namespace:
        raise LookupError(f"{cells[-1][0]} defines no {name!r}")
    return namespace[name]


def failure(error: BaseException) -> bytes:
    """What the checker is told of an exception: its type and first line."""
    detail = str(error).splitlines()[0] if str(error) else ""
    return wire.FAILED + (type(error).__name__ + (f": {detail}" if detail else "")).encode()


class Callback:
    """A function the checker holds, such as a gradient check's loss: called over the pipe."""

    def __init__(self, index: int, text: str, incoming: int, outgoing: int) -> None:
        self.index, self.text = index, text
        self.incoming, self.outgoing = incoming, outgoing

    def __call__(self, *arguments: Any) -> Any:
        """What the checker computes on ``arguments``; a :class:`ValueError` says why not."""
        wire.send(self.outgoing, wire.CALLBACK + wire.encode((self.index, list(arguments))))
        reply = wire.receive(self.incoming)
        if reply.startswith(wire.FAILED):
            raise ValueError(reply[1:].decode(errors="replace"))
        return wire.decode(reply)

    def __repr__(self) -> str:
        return self.text


def serve(answer: Any, incoming: int, outgoing: int) -> None:
    """The answer's value on each input the checker sends, until it closes the pipe."""
    wire.send(outgoing, json.dumps("loaded").encode())

    def remote(index: int, text: str) -> Callback:
        return Callback(index, text, incoming, outgoing)

    while True:
        try:
            arguments = wire.receive(incoming)
        except EOFError:
            return
        try:
            value = wire.encode(answer(*wire.decode(arguments, remote)))
        except BaseException as error:
            value = failure(error)
        wire.send(outgoing, value)


def answer(header: dict[str, Any], incoming: int, outgoing: int) -> None:
    """In a forked child: limit it, load the one answer from ``incoming`` and serve it."""
    # A group of its own, so that what the answer signals by group is never this process's
    # launcher; and another user than the launcher, so that it cannot signal it at all.
    os.setpgid(0, 0)
    give_up_root(header["user"])
    limit({"RLIMIT_CPU": header["cpu"], "RLIMIT_NPROC": 0})
    payload = wire.receive(incoming)
    try:
        loaded = load(header["kind"], payload, header["name"])
    except BaseException as error:
        wire.send(outgoing, failure(error))
        return
    if header["reply"] == "steps":
        steps = loaded if isinstance(loaded, list | tuple) else [loaded]
        wire.send(outgoing, json.dumps([str(step) for step in steps]).encode())
    elif header["reply"] == "value":
        # A choice or a number: its type and its text, nothing that could run.
        wire.send(outgoing, json.dumps(wire.written(loaded)).encode())
    else:
        serve(loaded, incoming, outgoing)


def main() -> None:
    """Load what answers use, limit this process, then fork a child for each answer."""
    control = socket.socket(fileno=int(sys.argv[2]))
    stand_ins()
    # What a round trip over the pipe loads (zipfile, numpy's formats), and modules answers
    # often use, loaded while their files can be read: as another user they may not be.
    wire.decode(wire.encode((numpy.zeros(1), [1.0])))
    for name in WARM:
        importlib.import_module(name)
    limit({"RLIMIT_AS": int(sys.argv[3]), "RLIMIT_FSIZE": int(sys.argv[4])})
    control.send(json.dumps("ready").encode())
    while True:
        try:
            message, descriptors, _, _ = socket.recv_fds(control, 2**12, 2)
        except OSError:
            return
        if not message or len(descriptors) != 2:
            return
        child = os.fork()
        if child == 0:
            # The child cannot speak for this process: only the pipes are its own.
            control.close()
            code = 1
            try:
                answer(json.loads(message), *descriptors)
                code = 0
            finally:
                # The child ends here, never returning to this loop of its launcher's.
                sys.exit(code)
        for descriptor in descriptors:
            os.close(descriptor)
        control.send(json.dumps({"child": child}).encode())
        _, status = os.waitpid(child, 0)
        control.send(json.dumps(os.waitstatus_to_exitcode(status)).encode())


if __name__ == "__main__":
    main()
