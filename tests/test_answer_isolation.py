"""A grade worth trusting: the answer's process holds nothing to copy and reaches nothing.

Each route a cheating student would try to the package's reference answers is tried from
inside the answer: if it finds the reference it uses it, else it answers wrong. None may
pass. Reading from disk, the other submissions and the process table are closed only by
bubblewrap, so those tests need it (CI installs it).
"""

import ast
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import backprop
from backprop import cli, exercises
from backprop.exercises import EXERCISES, grading, runner

SANDBOX = pytest.mark.skipif(runner.bubblewrap() is None,
                             reason="needs bubblewrap (Debian's bwrap) that works here")
SOLUTIONS = Path(backprop.__file__).with_name("solutions.py")

# Each sets ``found`` to the package's sigmoid derivative if its route reaches it.
ROUTES = {
    "import": "from backprop.solutions import sigmoid_derivative as found\n",
    "import machinery": "import importlib\n"
                        "found = importlib.import_module('backprop.solutions')"
                        ".sigmoid_derivative\n",
    "__import__ by another name": "import builtins\nload = getattr(builtins, '__imp' + 'ort__')\n"
                                  "found = load('backprop.solutions', fromlist=['x'])"
                                  ".sigmoid_derivative\n",
    "the loaded modules": "import sys\n"
                          "found = next(getattr(m, 'sigmoid_derivative') for m in "
                          "list(sys.modules.values()) if hasattr(m, 'sigmoid_derivative'))\n",
    "the garbage collector": "import gc\n"
                             "found = next(o for o in gc.get_objects() if callable(o) and "
                             "getattr(o, '__name__', '') == 'sigmoid_derivative' and "
                             "'backprop' in (getattr(o, '__module__', '') or ''))\n",
    "the builtins through an object": (
        "found = None\n"
        "for k in ().__class__.__base__.__subclasses__():\n"
        "    g = getattr(getattr(k, '__init__', None), '__globals__', {})\n"
        "    b = g.get('__builtins__')\n"
        "    i = b.get('__import__') if isinstance(b, dict) else getattr(b, '__import__', None)\n"
        "    if i:\n"
        "        try:\n"
        "            found = i('backprop.solutions', fromlist=['x']).sigmoid_derivative\n"
        "            break\n"
        "        except Exception:\n"
        "            pass\n"
        "assert found\n"),
    "the package's file on disk": (
        "namespace = {}\n"
        f"with open({str(SOLUTIONS)!r}) as file:\n"
        "    exec(file.read(), namespace)\n"
        "found = namespace['sigmoid_derivative']\n"),
}
WRONG = ("try:\n{route}except Exception:\n    found = None\n"
         "def answer(a):\n    return found(a) if found else a * 0 - 1\n")


def cheat(route: str) -> str:
    code = "".join("    " + line + "\n" for line in ROUTES[route].splitlines())
    return WRONG.format(route=code)


def test_the_cheats_are_python_and_would_work_in_this_process():
    # Each route reaches the reference here, where the package is loaded: the test is live.
    for route in ROUTES:
        namespace = {}
        exec(cheat(route), namespace)
        a = np.array([[0.3]])
        assert np.allclose(namespace["answer"](a), a * (1 - a)), route


@SANDBOX
@pytest.mark.parametrize("route", list(ROUTES))
def test_no_route_reaches_a_reference_answer_from_a_checked_file(route, tmp_path):
    path = tmp_path / "cheat.py"
    path.write_text(cheat(route))
    feedback = exercises.check_file("sigmoid-derivative", path)
    assert not feedback.passed
    assert "returned" in feedback.message


@SANDBOX
@pytest.mark.parametrize("route", list(ROUTES))
def test_no_route_reaches_a_reference_answer_in_a_grading_run(route, tmp_path):
    path = tmp_path / "mallory.py"
    path.write_text(cheat(route).replace("def answer(", "def sigmoid_derivative("))
    [row] = grading.grade([path], ["sigmoid-derivative"], jobs=1)
    assert not row.passed


def test_the_child_imports_nothing_of_the_package():
    # The child's script and the wire are read, not run: their imports are the standard
    # library's, numpy and cloudpickle, and the wire's own.
    folder = Path(runner.__file__).parent
    for name, allowed in (("child.py", {"cloudpickle", "numpy", "wire"}), ("wire.py", {"numpy"})):
        tree = ast.parse((folder / name).read_text())
        imported = {alias.name.partition(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.partition(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert imported - set(sys.stdlib_module_names) - {"__future__"} <= allowed, name


def test_a_reply_that_would_inflate_is_refused_unread():
    # A child that writes its own reply could send a few kilobytes that deflate to
    # gigabytes in the checker; encode never compresses, so decode reads nothing that is.
    import io
    import json
    import struct

    from backprop.exercises import wire

    honest = wire.encode(np.zeros(1000))
    assert wire.decode(honest).shape == (1000,)
    header = json.dumps({"t": "array", "index": 0, "scalar": False}).encode()
    archive = io.BytesIO()
    np.savez_compressed(archive, np.zeros(10**7))
    bomb = struct.pack(">I", len(header)) + header + archive.getvalue()
    assert len(bomb) < 10**6
    with pytest.raises(ValueError, match="unreadable data"):
        wire.decode(bomb)


@SANDBOX
def test_a_submission_cannot_read_another_student_s(tmp_path):
    alice = tmp_path / "alice.py"
    alice.write_text("def sigmoid_derivative(a):\n    return a * (1 - a)\n")
    mallory = tmp_path / "mallory.py"
    mallory.write_text(
        "try:\n"
        "    namespace = {}\n"
        f"    with open({str(alice)!r}) as file:\n"
        "        exec(file.read(), namespace)\n"
        "    found = namespace['sigmoid_derivative']\n"
        "except Exception:\n"
        "    found = None\n"
        "def sigmoid_derivative(a):\n    return found(a) if found else a * 0 - 1\n")
    grades = grading.grade([alice, mallory], ["sigmoid-derivative"], jobs=1)
    assert [row.passed for row in grades] == [True, False]


# Inputs an answer cannot know: a table recorded from backprop check fails a grading run.

def recorded_table(monkeypatch, name):
    """An answer that looks its inputs up in a table of those ``check`` draws."""
    seen = []
    call = runner.Child.call

    def recording(self, arguments):
        seen.append(arguments)
        return call(self, arguments)

    monkeypatch.setattr(runner.Child, "call", recording)
    reference = EXERCISES[name].reference
    assert exercises.check(name, reference).passed
    monkeypatch.setattr(runner.Child, "call", call)
    # Keys and values as bytes: every value exact, as recorded.
    table = {arguments[0].tobytes() + repr(arguments[0].shape).encode():
             (reference(*arguments).tobytes(), reference(*arguments).shape)
             for arguments in seen}
    return ("import numpy as np\n"
            f"TABLE = {table!r}\n"
            "def sigmoid_derivative(a):\n"
            "    key = np.asarray(a).tobytes() + repr(np.asarray(a).shape).encode()\n"
            "    if key not in TABLE:\n"
            "        return np.zeros_like(a)\n"
            "    data, shape = TABLE[key]\n"
            "    return np.frombuffer(data).reshape(shape)\n")


def test_a_table_recorded_from_check_passes_check_and_fails_a_grading_run(monkeypatch,
                                                                          tmp_path):
    path = tmp_path / "table.py"
    path.write_text(recorded_table(monkeypatch, "sigmoid-derivative"))
    # At home the table passes: check draws the same inputs every time.
    path.with_name("home.py").write_text(path.read_text().replace(
        "def sigmoid_derivative(", "def answer("))
    feedback = exercises.check_file("sigmoid-derivative", path.with_name("home.py"))
    assert feedback.passed, feedback.message
    [row] = grading.grade([path], ["sigmoid-derivative"], jobs=1, sandbox=None)
    assert not row.passed
    assert row.seed is not None


def test_a_grading_run_draws_fresh_inputs_and_its_seed_draws_them_again(tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text("def sigmoid_derivative(a):\n    return a * (1 + a)\n")
    first, second = (grading.grade([path], ["sigmoid-derivative"], jobs=1, sandbox=None)[0]
                     for _ in range(2))
    assert first.seed != second.seed
    again = grading.grade([path], ["sigmoid-derivative"], jobs=1, sandbox=None,
                          seed=first.seed)[0]
    assert again == first


# Grading without a sandbox is refused unless the teacher says so.

def test_without_bubblewrap_a_grading_run_refuses_to_start(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(grading, "bubblewrap", lambda: None)
    path = tmp_path / "alice.py"
    path.write_text("def sigmoid_derivative(a):\n    return a * (1 - a)\n")
    output = tmp_path / "grades" / "grades.csv"
    assert cli.main(["grade", str(path), "--output", str(output), "--jobs", "1"]) == 1
    assert "--no-sandbox" in capsys.readouterr().err
    assert not output.exists()
    code = cli.main(["grade", str(path), "--output", str(output), "--jobs", "1",
                     "--exercises", "sigmoid-derivative", "--no-sandbox", "--quiet"])
    assert code == 0
    assert "true" in output.read_text()


@pytest.mark.parametrize("sandbox", [True, False], ids=["bubblewrap", "no sandbox"])
def test_an_answer_leaves_no_process_behind_and_cannot_stop_the_grader(tmp_path, sandbox):
    if sandbox and runner.bubblewrap() is None:
        pytest.skip("needs bubblewrap")
    if not sandbox and os.getuid() != 0:
        pytest.skip("without bubblewrap only root can be kept from signalling the grader")
    marker = tmp_path / "outlived"
    path = tmp_path / "mallory.py"
    path.write_text(
        "import os, time\n"
        "try:\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        time.sleep(3)\n"
        f"        open({str(marker)!r}, 'w').write('x')\n"
        "        os._exit(0)\n"
        "except OSError:\n"
        "    pass\n"
        "for target in (os.getppid(), os.getpgid(os.getppid())):\n"
        f"    for sig in ({int(signal.SIGSTOP)}, {int(signal.SIGKILL)}):\n"
        "        try:\n"
        "            os.kill(target, sig)\n"
        "        except OSError:\n"
        "            pass\n"
        "def sigmoid_derivative(a):\n    return a * (1 - a)\n")
    start = time.monotonic()
    [row] = grading.grade([path], ["sigmoid-derivative"], jobs=1, sandbox=sandbox)
    assert row.passed, row.message
    # Had the answer stopped this process, the grading would not have come back.
    assert time.monotonic() - start < 30
    time.sleep(4)
    assert not marker.exists()


# Messages that keep the student going.

class Fake:
    pass


def endless(a):
    import numpy as np

    grown = []
    while True:
        grown.append(np.ones(10**6))


@pytest.mark.parametrize(
    ("name", "answer", "message"),
    [("sigmoid-derivative", endless, "ran out of memory"),
     ("sigmoid-derivative", lambda a: exit(0), "called exit() or sys.exit()"),
     ("sigmoid-derivative", lambda a: Fake(), "got a Fake"),
     ("array-shapes", lambda sizes, N: [((0, 0),) * 5] * (len(sizes) - 1), "item 0, item 0:")],
    ids=["memory", "exit", "an object of the answer's own", "a nested item"],
)
def test_a_message_says_what_happened_in_the_student_s_words(name, answer, message):
    feedback = exercises.check(name, answer)
    assert not feedback.passed
    assert message in feedback.message
    for internal in ("Returned(", "type_name", "loop that never ends"):
        assert internal not in feedback.message


def test_backprop_check_reads_a_notebook_by_its_tagged_cell(tmp_path, capsys):
    import json

    cells = [("import numpy as np", []), ("answer = None", ["sigmoid-derivative"]),
             ("def answer(a):\n    return a * (1 - a)", ["sigmoid-derivative"])]
    path = tmp_path / "exercises.ipynb"
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "source": source, "metadata": {"tags": tags},
                   "outputs": [], "execution_count": None, "id": str(index)}
                  for index, (source, tags) in enumerate(cells)]}))
    assert cli.main(["check", "sigmoid-derivative", str(path)]) == 0
    assert "correct" in capsys.readouterr().out
