"""The child process of :mod:`backprop.exercises.runner`: it loads an answer and serves calls.

Run as ``python -m backprop.exercises.child IN OUT CPU MEMORY FILESIZE``: it limits itself,
reads the answer from the pipe ``IN``, then, for each input the checker sends, writes the
answer's value (or the exception it raised) to the pipe ``OUT``; a derivation's steps, or a
choice's or a number's value, it sends back once, as text. It decides nothing.
"""

from __future__ import annotations

import builtins
import json
import pickle
import resource
import sys
import types
from collections.abc import Callable
from typing import Any

from backprop.exercises.runner import decode, encode, receive, send, written


def limit(cpu_seconds: int, memory: int, file_size: int) -> None:
    """CPU seconds, address space, file size and new processes, before any answer loads."""
    for name, value in (("RLIMIT_CPU", cpu_seconds), ("RLIMIT_AS", memory),
                        ("RLIMIT_FSIZE", file_size), ("RLIMIT_NPROC", 0)):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError, AttributeError):
            continue


NOT_HERE = "(checked by the grader, not here)"
"""What ``check`` returns inside the child: the answer's own calls of it decide nothing."""

HANDED_OUT = frozenset({"check", "check_file", "show"})
"""What an answer may import from the package: the names the exercise notebooks import."""


def handed_out() -> types.ModuleType:
    """``backprop.exercises`` as an answer sees it: ``check`` and ``show``, deciding nothing."""
    module = types.ModuleType("backprop.exercises")
    module.check = module.check_file = lambda *_, **__: NOT_HERE
    module.show = lambda *_, **__: ""
    return module


def guarded_import(exercises: types.ModuleType) -> Callable[..., Any]:
    """``__import__`` for an answer: anything but the package's own code.

    An answer must not call the package on the exercise's behalf (``from backprop.solutions
    import ...``).
    """
    package = types.ModuleType("backprop")
    package.exercises = exercises

    def answer_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "backprop" or name.startswith("backprop.")):
            if name == "backprop.exercises" and set(fromlist or ()) <= HANDED_OUT:
                return exercises if fromlist else package
            raise ImportError(f"an answer is written with numpy, not with the package's own "
                              f"code ({name})")
        return builtins.__import__(name, globals, locals, fromlist, level)

    return answer_import


def load(kind: str, payload: bytes, name: str) -> Any:
    """The answer: a function unpickled here, or the value of ``name`` once its code has run.

    Code runs with :func:`guarded_import`: a notebook's ``from backprop.exercises import
    check, show`` works (``check`` decides nothing here), the rest of the package does not.
    """
    if kind == "function":
        import cloudpickle  # noqa: F401 -- what the pickle refers to

        return pickle.loads(payload)
    source = json.loads(payload)
    cells = source["cells"]
    namespace: dict[str, Any] = {
        "__name__": "__submission__",
        "__builtins__": {**vars(builtins), "__import__": guarded_import(handed_out())},
    }
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
    return ("!" + type(error).__name__ + (f": {detail}" if detail else "")).encode()


def main() -> None:
    """Serve the checker until it closes the pipe."""
    incoming, outgoing = int(sys.argv[1]), int(sys.argv[2])
    limit(int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    header = json.loads(receive(incoming))
    payload = receive(incoming)
    try:
        answer = load(header["kind"], payload, header["name"])
    except BaseException as error:
        send(outgoing, failure(error))
        return
    if header["reply"] == "steps":
        steps = answer if isinstance(answer, list | tuple) else [answer]
        send(outgoing, json.dumps([str(step) for step in steps]).encode())
        return
    if header["reply"] == "value":
        # A choice or a number: its type and its text, nothing that could run.
        send(outgoing, json.dumps(written(answer)).encode())
        return
    send(outgoing, json.dumps("loaded").encode())
    while True:
        try:
            arguments = receive(incoming)
        except EOFError:
            return
        try:
            value = encode(answer(*decode(arguments, losses=True)))
        except BaseException as error:
            value = failure(error)
        send(outgoing, value)


if __name__ == "__main__":
    main()
