"""The child process of :mod:`backprop.exercises.runner`: it loads an answer and serves calls.

Run as ``python -m backprop.exercises.child IN OUT CPU MEMORY FILESIZE``: it limits itself,
reads the answer from the pipe ``IN``, then, for each input the checker sends, writes the
answer's value (or the exception it raised) to the pipe ``OUT``. It decides nothing.
"""

from __future__ import annotations

import json
import pickle
import resource
import runpy
import sys
from typing import Any

from backprop.exercises.runner import decode, encode, receive, send


def limit(cpu_seconds: int, memory: int, file_size: int) -> None:
    """CPU seconds, address space, file size and new processes, before any answer loads."""
    for name, value in (("RLIMIT_CPU", cpu_seconds), ("RLIMIT_AS", memory),
                        ("RLIMIT_FSIZE", file_size), ("RLIMIT_NPROC", 0)):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError, AttributeError):
            continue


def load(kind: str, payload: bytes, wanted: str) -> Any:
    """The answer: a function unpickled here, or the name a file defines when run here."""
    if kind == "function":
        import cloudpickle  # noqa: F401 -- what the pickle refers to

        return pickle.loads(payload)
    found = runpy.run_path(payload.decode(), run_name="__submission__")
    if wanted not in found:
        raise LookupError(f"the file defines no {wanted!r}")
    return found[wanted]


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
        answer = load(header["kind"], payload, header["wanted"])
    except BaseException as error:
        send(outgoing, failure(error))
        return
    if header["wanted"] == "steps":
        steps = answer if isinstance(answer, list | tuple) else [answer]
        send(outgoing, json.dumps([str(step) for step in steps]).encode())
        return
    send(outgoing, json.dumps("loaded").encode())
    while True:
        try:
            arguments = receive(incoming)
        except EOFError:
            return
        try:
            value = encode(answer(*decode(arguments)))
        except BaseException as error:
            value = failure(error)
        send(outgoing, value)


if __name__ == "__main__":
    main()
