"""Exercises: reference answers pass, typical mistakes fail with a specific message."""

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop import cli, exercises
from backprop.exercises import EXERCISES, check, parse_step

CODE = [name for name, exercise in EXERCISES.items() if exercise.kind == "code"]
DERIVATIONS = [name for name, exercise in EXERCISES.items() if exercise.kind == "derivation"]
NUMBERS = [name for name, exercise in EXERCISES.items() if exercise.kind == "number"]
CHOICES = [name for name, exercise in EXERCISES.items() if exercise.kind == "choice"]
MISTAKES = [(name, mistake) for name in CODE for mistake in EXERCISES[name].mistakes]


def test_the_issue_asks_for_these_exercises():
    assert CODE[:8] == ["sigmoid-derivative", "improved-sigmoid-derivative", "softmax",
                        "cross-entropy", "one-hot", "output-delta", "backward",
                        "momentum-step"]
    assert len(DERIVATIONS) >= 3


def test_the_catalogue_is_balanced():
    assert len(EXERCISES) >= 24
    assert all(len(names) >= 3 for names in exercises.CHAPTER_EXERCISES.values())
    assert len(NUMBERS) + len(CHOICES) >= 4
    assert {exercise.kind for exercise in EXERCISES.values()} == {
        "code", "derivation", "choice", "number"}


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_reference_solution_passes(name):
    feedback = check(name, EXERCISES[name].answer())
    assert feedback.passed, feedback.message


@pytest.mark.parametrize("name", CODE)
def test_every_code_exercise_knows_three_mistakes(name):
    assert len(EXERCISES[name].mistakes) >= 3


@pytest.mark.parametrize(("name", "mistake"), MISTAKES,
                         ids=[f"{name}:{mistake.name}" for name, mistake in MISTAKES])
def test_a_typical_mistake_fails_with_its_hint(name, mistake):
    feedback = check(name, mistake.answer)
    assert not feedback.passed
    message = feedback.message
    assert "not yet" in message
    assert f"Hint: {mistake.hint}" in message
    assert message.splitlines()[0].endswith("on this input:")
    assert "it should return" in message


WRONG_STEPS = {
    "derive-sigmoid-derivative": [
        (["exp(-z) / (1 + exp(-z))", "a * (1 - a)"], "Step 1 does not equal the start"),
        (["exp(-z) / (1 + exp(-z))**2", "1 / (1 + exp(-z)) * (1 + 1 / (1 + exp(-z)))"],
         "Step 2 does not follow from step 1"),
        (["exp(-z) / (1 + exp(-z))**2"], "last still uses z: write the result in terms "
                                         "of a"),
    ],
    "derive-output-delta": [
        (["exp(z1) / (exp(z1) + exp(z2) + exp(z3))"], "Step 1 does not equal the start"),
        (["exp(z1) / (exp(z1) + exp(z2) + exp(z3)) - y1", "yhat1"],
         "Step 2 does not follow from step 1"),
        (["exp(z1) / (exp(z1) + exp(z2) + exp(z3)) - y1"], "last still uses z1, z2, z3"),
    ],
    "derive-hidden-update": [
        (["a1 * (1 - a1) * (w2_11 * (yhat1 - y1) + w2_21 * (yhat2 - y2))"],
         "Step 1 does not equal the start"),
        (["delta1 * x1", "a1 * (1 - a1) * (w2_11 * (yhat1 + y1) + w2_21 * (yhat2 - y2)) * x1"],
         "Step 2 does not follow from step 1"),
        (["a1 * (1 - a1) * (w2_11 * (yhat1 - y1) + w2_21 * (yhat2 - y2)) * x1"],
         "last still uses a1, w2_11, w2_21, y1, y2, yhat1, yhat2"),
    ],
    "derive-squared-error-delta": [
        (["(yhat - y) * yhat"], "Step 1 does not equal the start"),
        (["(yhat - y) * diff(yhat, z)", "(yhat - y) * exp(-z)"],
         "Step 2 does not follow from step 1"),
        (["(yhat - y) * exp(-z) / (1 + exp(-z))**2"], "last still uses z"),
    ],
    "derive-batch-gradient": [
        (["(delta11*a11 + delta22*a21)/2"], "Step 1 does not equal the start"),
        (["((yhat11 - y11)*a11 + (yhat21 - y21)*a21)/2", "(delta11*a11 - delta21*a21)/2"],
         "Step 2 does not follow from step 1"),
        (["((yhat11 - y11)*a11 + (yhat21 - y21)*a21)/2"],
         "last still uses y11, y21, yhat11, yhat21"),
    ],
    "derive-improved-sigmoid-derivative": [
        (["1.7159*(1 - tanh(2*z/3))"], "Step 1 does not equal the start"),
        (["1.7159*2/3*(1 - tanh(2*z/3)**2)", "2/3*(1.7159 - a**2)"],
         "Step 2 does not follow from step 1"),
        (["1.7159*2/3*(1 - tanh(2*z/3)**2)"], "last still uses z"),
    ],
    "derive-momentum-series": [
        (["g + v3"], "Step 1 does not equal the start"),
        (["g + gamma*(g + gamma*v2)", "g + gamma*g + gamma*v2"],
         "Step 2 does not follow from step 1"),
        (["g + gamma*(g + gamma*v2)"], "last still uses v2"),
    ],
}
WRONG = [(name, steps, message) for name, cases in WRONG_STEPS.items()
         for steps, message in cases]


@pytest.mark.parametrize(("name", "steps", "message"), WRONG,
                         ids=[f"{name}:{index}" for index, (name, _, _) in enumerate(WRONG)])
def test_a_wrong_derivation_names_its_first_bad_step(name, steps, message):
    feedback = check(name, steps)
    assert not feedback.passed
    assert message in feedback.message


def test_every_derivation_exercise_lists_three_mistakes():
    assert set(WRONG_STEPS) == set(DERIVATIONS)
    assert all(len(cases) >= 3 for cases in WRONG_STEPS.values())


MALICIOUS = [
    "__import__('os').system('touch HACKED')",
    "z.__class__.__mro__",
    "open('/etc/passwd')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "lambda: 1",
    "exp(-z) if z else 0",
    "eval('1')",
    "2 ** 10 ** 10",
    "exp(z, z)",
    "a; import os",
    "x" * 3000,
    "1e309",
]


@pytest.mark.parametrize("text", MALICIOUS, ids=range(len(MALICIOUS)))
def test_a_malicious_or_malformed_step_is_refused_and_runs_nothing(text, tmp_path,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    feedback = check("derive-sigmoid-derivative", [text])
    assert not feedback.passed
    assert "Step 1 cannot be read" in feedback.message
    assert list(tmp_path.iterdir()) == []


def test_steps_build_sympy_expressions_without_python():
    names = EXERCISES["derive-sigmoid-derivative"].names
    assert parse_step("1 / (1 + exp(-z))", names) == names["a"]
    with pytest.raises(exercises.StepError, match=r"'y' is not a name here; a step may use z, a"):
        parse_step("y + 1", names)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda a: 1 / 0, "your function raised ZeroDivisionError"),
        (lambda a: "a(1 - a)", "expected numbers, got a str"),
        (lambda a: (a * (1 - a)).ravel(), "expected an array of shape"),
        (lambda a: a * np.nan, "NaN or infinite"),
        ("a * (1 - a)", "The answer must be a function f(a)"),
    ],
    ids=["raises", "string", "shape", "nan", "not a function"],
)
def test_a_broken_answer_gets_feedback_not_a_traceback(answer, message):
    feedback = check("sigmoid-derivative", answer)
    assert not feedback.passed
    assert message in feedback.message


def test_a_slow_answer_is_stopped(monkeypatch):
    monkeypatch.setattr(exercises.limits, "TIME_LIMIT", 0.5)

    def endless(a):
        while True:
            pass

    feedback = check("sigmoid-derivative", endless)
    assert "took longer than 0.5 s" in feedback.message


def test_an_unknown_exercise_lists_the_exercises():
    feedback = check("softmax-derivative", lambda a: a)
    assert "there is no exercise 'softmax-derivative'" in feedback.message
    assert "sigmoid-derivative" in feedback.message


def test_the_command_line_lists_the_exercises(capsys):
    assert cli.main(["exercises"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXERCISES)


@pytest.mark.parametrize(
    ("name", "source", "code", "message"),
    [
        ("sigmoid-derivative", "def answer(a):\n    return a * (1 - a)\n", 0, "correct"),
        ("output-delta", "def answer(targets, outputs):\n    return outputs - targets\n", 1,
         "factor 1/N"),
        ("derive-sigmoid-derivative", "steps = ['exp(-z) / (1 + exp(-z))**2', 'a * (1 - a)']\n",
         0, "2 steps follow"),
        ("sigmoid-derivative", "x = 1\n", 1, "defines no 'answer'"),
        ("sigmoid-derivative", "raise SystemExit(3)\n", 1, "could not be run"),
    ],
    ids=["right", "wrong", "derivation", "nothing defined", "exits"],
)
def test_backprop_check_runs_a_file(tmp_path, capsys, name, source, code, message):
    path = tmp_path / "submission.py"
    path.write_text(source)
    assert cli.main(["check", name, str(path)]) == code
    out = " ".join(capsys.readouterr().out.split())
    assert message in out


def test_backprop_check_stops_a_file_that_runs_too_long(tmp_path, capsys):
    path = tmp_path / "forever.py"
    path.write_text("while True:\n    pass\n")
    assert cli.main(["check", "sigmoid-derivative", str(path), "--timeout", "2"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "took longer than 2 s to load; it was stopped" in out


def test_backprop_check_says_it_is_not_a_sandbox():
    result = subprocess.run([sys.executable, "-m", "backprop.cli", "check", "--help"],
                            capture_output=True, text=True, check=True)
    assert "it is NOT a sandbox" in " ".join(result.stdout.split())


# The exercises in the book: each chapter ends with its exercises and has a notebook of them.

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("chapter", list(exercises.CHAPTER_EXERCISES))
def test_each_chapter_ends_with_its_exercises_and_has_their_notebook(chapter):
    names = exercises.CHAPTER_EXERCISES[chapter]
    text = (DOCS / f"{chapter}.md").read_text()
    notebook = (DOCS / "exercises" / f"{chapter}.md").read_text()
    for name in names:
        assert f":label: ex-{name}" in text
        assert f'check("{name}", ' in notebook


def test_every_exercise_is_in_a_chapter():
    placed = [name for names in exercises.CHAPTER_EXERCISES.values() for name in names]
    assert sorted(placed) == sorted(EXERCISES)


def run_notebook(path, solved):
    jupytext = pytest.importorskip("jupytext", reason="the notebooks need the docs extra")
    nbclient = pytest.importorskip("nbclient", reason="the notebooks need the docs extra")
    notebook = jupytext.read(path)
    for cell in notebook.cells:
        found = re.search(r'print\(check\("([a-z-]+)", (answer|steps)\)\)', cell.source)
        if solved and found:
            cell.source = exercises.solution_source(found[1]) + "\n" + found[0] + "\n"
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3")
    client.execute()
    reports = []
    for cell in notebook.cells:
        outputs = cell.get("outputs", [])
        for output in outputs:
            assert output.output_type != "error"
            assert not (output.output_type == "stream" and output.name == "stderr")
        # A cell's printed report can arrive in several pieces: it is one report.
        printed = "".join(output.text for output in outputs if output.output_type == "stream")
        if printed and "check(" in cell.source:
            reports.append(printed)
    return reports


@pytest.mark.parametrize("chapter", list(exercises.CHAPTER_EXERCISES))
def test_an_unsolved_notebook_runs_to_the_end_saying_not_yet(chapter):
    reports = run_notebook(DOCS / "exercises" / f"{chapter}.md", solved=False)
    assert len(reports) == len(exercises.CHAPTER_EXERCISES[chapter])
    assert all("not yet" in report for report in reports)


@pytest.mark.parametrize("chapter", list(exercises.CHAPTER_EXERCISES))
def test_a_solved_notebook_passes_every_check(chapter):
    reports = run_notebook(DOCS / "exercises" / f"{chapter}.md", solved=True)
    assert len(reports) == len(exercises.CHAPTER_EXERCISES[chapter])
    assert not any("not yet" in report for report in reports)


def test_an_unanswered_exercise_says_what_to_replace():
    def answer(a):
        raise NotImplementedError

    feedback = check("sigmoid-derivative", answer)
    assert not feedback.passed
    assert "not yet. Replace `raise NotImplementedError` with your answer" in feedback.message


# Derivations that show their working, read by a parser that cannot be exhausted.

@pytest.mark.parametrize(
    "steps",
    [["a*(1 - a)"] * 2, ["exp(-z)/(1 + exp(-z))**2", "a*(1 - a)", "(1 - a)*a"],
     ["a*(1 - a)*1", "a * (1 - a)"]],
    ids=["twice", "reordered", "times one"],
)
def test_a_step_that_repeats_another_in_form_fails(steps):
    feedback = check("derive-sigmoid-derivative", steps)
    assert not feedback.passed
    assert re.search(r"Step \d repeats step \d", feedback.message)


def test_too_many_steps_are_refused_at_once():
    feedback = check("derive-sigmoid-derivative", ["a*(1 - a)"] * 500)
    assert "not more than 50" in feedback.message


def test_the_start_may_be_written_as_a_derivative():
    feedback = check("derive-sigmoid-derivative", [
        "diff(1/(1 + exp(-z)), z)", "exp(-z)/(1 + exp(-z))**2", "a*(1 - a)"])
    assert feedback.passed, feedback.message


@pytest.mark.parametrize("name", DERIVATIONS)
def test_every_derivation_says_how_to_write_its_start(name):
    exercise = EXERCISES[name]
    written = parse_step(exercise.start_text, exercise.names)
    assert (written - exercise.start).doit().equals(0)
    assert exercise.start_text in exercise.statement


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (["1/(1 + exp(-z))", "a*(1 - a)"],
         "Step 1 is the expression before it is differentiated; the derivation starts from its "
         "derivative: write it as diff(1/(1 + exp(-z)), z)"),
        (["z^2"], "write ** for powers"),
        (["sigma(z)*(1 - sigma(z))"], "'sigma' is not a function here: write a, or "
                                      "1/(1 + exp(-z))"),
        (["ln(a)"], "'ln' is not a function here: write log"),
        (["exp(-z)/(1 + exp(-z))**2", "a*(1 + a)"],
         "Step 2 does not follow from step 1: it should have equalled "
         "exp(-z)/(1 + exp(-z))**2, and differs from it by"),
        (["f'(z) = a*(1 - a)"], "leave out '='"),
        (["2a"], "write * for every product"),
        (["a(1 - a)"], "a is not a function: write * for a product"),
        (["(1 - a)(1 + a)"], "write * for every product"),
        (["\\frac{1}{2}"], "not LaTeX"),
        (["d/dz a"], "write diff(expression, variable) for a derivative"),
        (["\N{GREEK SMALL LETTER SIGMA}(z)"], "write a, or 1/(1 + exp(-z))"),
        (["a \N{MINUS SIGN} 1"], "the minus sign on the keyboard"),
    ],
    ids=["the function itself", "caret", "sigma", "ln", "a wrong step", "equals sign",
         "2a", "a(1 - a)", "two brackets", "LaTeX", "d/dz", "Greek sigma", "typeset minus"],
)
def test_a_message_says_what_to_write(steps, message):
    feedback = check("derive-sigmoid-derivative", steps)
    assert not feedback.passed
    assert message in " ".join(feedback.message.split())


@pytest.mark.parametrize(
    "text",
    ["-" * 990 + "z", "-" * 1990 + "z", "1*" * 495 + "1", "1*" * 995 + "1",
     "(((10**100)**100)**100)**100", "(" * 300 + "z" + ")" * 300, "10**300 * 10**300"],
    ids=["990 minuses", "1990 minuses", "495 products", "995 products", "a tower of powers",
         "300 parentheses", "a product of huge numbers"],
)
def test_a_step_that_would_exhaust_the_parser_is_refused_quickly(text):
    start = time.monotonic()
    feedback = check("derive-sigmoid-derivative", [text, "a*(1 - a)"])
    assert time.monotonic() - start < 2
    assert "Step 1 cannot be read" in feedback.message


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DERIVATIONS),
       st.one_of(st.text(max_size=60), st.lists(st.text(max_size=30), max_size=4),
                 st.integers(), st.none(), st.binary(max_size=20),
                 st.lists(st.one_of(st.integers(), st.none(), st.floats()), max_size=3)))
def test_check_never_raises_whatever_it_is_given(name, answer):
    feedback = check(name, answer)
    assert isinstance(feedback, exercises.Feedback)
    assert not feedback.passed


def test_a_time_limit_cannot_be_swallowed_by_the_answer(monkeypatch):
    monkeypatch.setattr(exercises.limits, "TIME_LIMIT", 0.5)

    def stubborn(a):
        while True:
            try:
                while True:
                    pass
            except Exception:
                pass

    assert "took longer than 0.5 s" in check("sigmoid-derivative", stubborn).message


def test_an_answer_like_a_mistake_on_one_input_only_gets_no_hint():
    import math

    feedback = check("parameter-count", lambda sizes: math.prod(sizes))
    assert not feedback.passed
    assert "Hint" not in feedback.message


@pytest.mark.parametrize(
    ("name", "answer", "message"),
    [("cross-entropy", lambda targets, outputs: np.array([1.0]),
      "expected a single number, got an array of shape (1,)"),
     ("backward", lambda weights, X, targets: [], "expected 2 arrays, got 0"),
     ("cross-entropy", lambda targets, outputs: np.float64(0.5), "returned\n  0.5")],
    ids=["shape in words", "a list of the wrong length", "a number as a number"],
)
def test_a_message_names_shapes_and_numbers_as_a_student_reads_them(name, answer, message):
    feedback = check(name, answer)
    assert message in feedback.message
    assert "np.float64" not in feedback.message


def test_show_outside_a_notebook_is_text_and_wrapping_keeps_names_whole():
    assert exercises.show("derive-sigmoid-derivative").startswith("**Derive")
    feedback = exercises.Feedback(False, "x " * 40 + "derive-sigmoid-derivative " * 3)
    assert all("derive-sigmoid-derivative" in line or "-" not in line
               for line in str(feedback).splitlines())


# The answer runs in a child process with limits; only the checker decides.

@pytest.mark.parametrize(
    "source",
    ["import atexit\natexit.register(print, '[true, \"correct\"]')\n"
     "def answer(a):\n    return a\n",
     "import backprop.exercises as e\nfrom backprop.exercises import Feedback\n"
     "e.check = lambda name, answer: Feedback(True, 'correct')\n"
     "e.check_file = e.check\ndef answer(a):\n    return a\n",
     "import sys, os\nos.write(1, b'[true, \"correct\"]\\n')\ndef answer(a):\n    return a\n"],
    ids=["an atexit verdict", "a replaced checker", "a verdict on standard output"],
)
def test_a_file_cannot_forge_its_verdict(tmp_path, capsys, source):
    path = tmp_path / "forged.py"
    path.write_text(source)
    assert cli.main(["check", "sigmoid-derivative", str(path)]) == 1
    assert "not yet" in capsys.readouterr().out


def test_the_answer_runs_in_an_empty_folder_of_its_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def litter(a):
        with open("litter.txt", "w") as file:
            file.write("x")
        return a * (1 - a)

    assert check("sigmoid-derivative", litter).passed
    assert list(tmp_path.iterdir()) == []


def test_inside_bubblewrap_an_answer_writes_nothing_outside_and_has_no_network(tmp_path):
    from backprop.exercises import runner

    if runner.bubblewrap() is None:
        pytest.skip("bubblewrap (Debian's bwrap) is not installed, or cannot sandbox here")
    target = tmp_path / "escaped.txt"
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def escape(a):
            import socket

            try:
                with open(target, "w") as file:
                    file.write("x")
            except OSError:
                pass
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return a * (1 - a)
            raise RuntimeError("the answer reached the network")

        feedback = check("sigmoid-derivative", escape)
    assert feedback.passed, feedback.message
    assert not target.exists()


def test_an_answer_beyond_the_memory_limit_is_stopped_with_a_message():
    feedback = check("sigmoid-derivative", lambda a: np.ones(2**32) * a)
    assert not feedback.passed
    assert "MemoryError" in feedback.message


def test_values_cross_from_the_child_without_pickle():
    from backprop.exercises import wire

    value = (np.arange(3.0), [np.eye(2), 1.5], np.float32(2.0))
    back = wire.decode(wire.encode(value))
    np.testing.assert_array_equal(back[0], value[0])
    np.testing.assert_array_equal(back[1][0], np.eye(2))
    assert back[1][1] == 1.5
    assert back[2] == np.float32(2.0)
    assert wire.decode(wire.encode("a(1 - a)")) == wire.Returned("a str")
    assert wire.decode(wire.encode(np.array([object()]))) == wire.Returned(
        "an array of object")



@pytest.mark.parametrize(
    ("steps", "message"),
    [(["exp(-z)/(1 + exp(-z))**2",
       "z**7 + (exp(z + 1) - exp(1)*exp(z))/(exp(z + 2) - exp(2)*exp(z))", "a*(1 - a)"],
      "Step 2 divides by zero"),
     (["exp(-z)/(1 + exp(-z))**2", "a*(1 - a)*1.0000000000000002"],
      "Step 2 does not follow from step 1"),
     (["exp(-z)/(1 + exp(-z))**2", sp.Eq(sp.Symbol("z"), 1)], "Step 2 cannot be read"),
     ([sp.Integer(10) ** 5000, "a*(1 - a)"], "Step 1 cannot be read")],
    ids=["zero over zero", "a decimal near 1", "an equation object", "a huge integer"],
)
def test_steps_that_are_not_equal_or_not_expressions_are_refused(steps, message):
    feedback = check("derive-sigmoid-derivative", steps)
    assert not feedback.passed
    assert message in feedback.message


def test_a_sympy_object_that_lies_about_itself_is_read_from_its_text():
    class Liar(sp.Symbol):
        _op_priority = 1e9

        def __sub__(self, other):
            return sp.S.Zero

        __rsub__ = __sub__

    feedback = check("derive-sigmoid-derivative", [Liar("q"), Liar("r")])
    assert "'q' is not a name here" in feedback.message


def test_a_sequence_that_lies_about_its_length_is_read_only_so_far():
    class Endless(list):
        def __len__(self):
            return 3

        def __iter__(self):
            while True:
                yield "a*(1 - a)"

    feedback = check("derive-sigmoid-derivative", Endless())
    assert "not more than 50" in feedback.message


# A child that breaks the protocol: the checker gives feedback, within its limits.

CHILD_ATTACKS = {
    "closes its pipe and sleeps": "os.close(int(sys.argv[3]))\ntime.sleep(10**6)\n",
    "fills the checker's pipe and never reads": (
        "import fcntl\nfcntl.fcntl(int(sys.argv[2]), 1031, 4096)\n"
        "os.write(int(sys.argv[3]), struct.pack('>Q', 8) + b'\"loaded\"')\n"
        "for _ in range(2000):\n"
        "    os.write(int(sys.argv[3]), struct.pack('>Q', 4) + b'!Err')\n"
        "time.sleep(10**6)\n"),
    "sends what is not JSON": "os.write(int(sys.argv[3]), struct.pack('>Q', 3) + b'not')\n",
    "sends JSON nested too deep": (
        "data = b'[' * 100000 + b']' * 100000\n"
        "os.write(int(sys.argv[3]), struct.pack('>Q', len(data)) + data)\n"),
    "announces a terabyte": "os.write(int(sys.argv[3]), struct.pack('>Q', 2**40))\n"
                            "time.sleep(10**6)\n",
}


@pytest.mark.parametrize("attack", list(CHILD_ATTACKS))
def test_a_child_that_breaks_the_protocol_gets_feedback_in_time(attack, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(exercises.limits, "TIME_LIMIT", 2)
    path = tmp_path / "attack.py"
    path.write_text("import os, struct, sys, time\n" + CHILD_ATTACKS[attack]
                    + "def answer(a):\n    return a * (1 - a)\n")
    start = time.monotonic()
    feedback = exercises.check_file("sigmoid-derivative", path, seconds=5)
    assert not feedback.passed
    assert time.monotonic() - start < 15


def test_a_boolean_one_hot_is_a_one_hot():
    assert check("one-hot", lambda labels, k: np.asarray(labels)[:, None] == np.arange(k)
                 ).passed


@pytest.mark.parametrize("name", DERIVATIONS)
def test_a_solution_s_steps_fit_a_page_and_read_back_as_written(name):
    source = exercises.solution_source(name)
    found = {}
    exec(source, found)
    assert found["steps"] == list(EXERCISES[name].solution)


@pytest.mark.parametrize("name", EXERCISES)
def test_a_solution_fits_the_book_s_column(name):
    # 80 characters of code fit the column at the book's widest layout, unscrolled.
    assert max(map(len, exercises.solution_source(name).splitlines())) <= 80


# Derivations' known mistakes: a step equal to one gets its hint.

DERIVATION_MISTAKES = [(name, mistake) for name in DERIVATIONS
                       for mistake in EXERCISES[name].mistakes]


@pytest.mark.parametrize(("name", "mistake"), DERIVATION_MISTAKES,
                         ids=[f"{name}:{mistake.name}" for name, mistake in
                              DERIVATION_MISTAKES])
def test_a_derivation_that_reaches_a_known_mistake_gets_its_hint(name, mistake):
    from backprop.exercises.steps import in_names

    exercise = EXERCISES[name]
    wrong = in_names(mistake.answer(), exercise.names, limit=2000)
    feedback = check(name, [exercise.start_text, wrong])
    assert not feedback.passed
    assert "Step 2 does not follow from step 1" in feedback.message
    assert f"Hint: {mistake.hint}" in feedback.message


# Readings: a choice's letter, a number checked exactly, each key computed by the package.

NUMBER_MISTAKES = [(name, mistake) for name in NUMBERS for mistake in EXERCISES[name].mistakes]
WRONG_OPTIONS = [(name, letter) for name in CHOICES
                 for letter in exercises.LETTERS[: len(EXERCISES[name].options)]
                 if letter != EXERCISES[name].key()]


@pytest.mark.parametrize("name", NUMBERS + CHOICES)
def test_every_reading_knows_three_wrong_answers(name):
    exercise = EXERCISES[name]
    wrong = exercise.mistakes if exercise.kind == "number" else exercise.options[1:]
    assert len(wrong) >= 3


@pytest.mark.parametrize(("name", "mistake"), NUMBER_MISTAKES,
                         ids=[f"{name}:{mistake.name}" for name, mistake in NUMBER_MISTAKES])
def test_a_known_wrong_number_fails_with_its_hint(name, mistake):
    feedback = check(name, sp.sstr(mistake.answer()))
    assert not feedback.passed
    assert feedback.message.splitlines()[0].endswith("is not the value.")
    assert f"Hint: {mistake.hint}" in feedback.message


@pytest.mark.parametrize(("name", "letter"), WRONG_OPTIONS,
                         ids=[f"{name}:{letter}" for name, letter in WRONG_OPTIONS])
def test_every_wrong_option_is_answered_with_why(name, letter):
    exercise = EXERCISES[name]
    feedback = check(name, letter)
    assert not feedback.passed
    assert f"({letter}) is not it: {exercise.options['abcd'.index(letter)].why}" in (
        feedback.message)


@pytest.mark.parametrize("name", CHOICES)
def test_a_choice_s_key_is_the_one_option_its_measurement_finds_true(name):
    exercise = EXERCISES[name]
    holding = [option.holds() for option in exercise.options]
    assert holding.count(True) == 1
    assert exercise.key() == exercise_letters(name)[holding.index(True)]
    assert all(option.why for option in exercise.options)


def exercise_letters(name):
    return list(exercises.LETTERS[: len(EXERCISES[name].options)])


def test_ten_layers_measure_their_gradients_per_entry_under_a_second():
    from backprop.exercises import catalogue

    catalogue.ten_layer_gradient_ratio.cache_clear()
    start = time.monotonic()
    ratio = catalogue.ten_layer_gradient_ratio()
    assert time.monotonic() - start < 1
    assert ratio < 1e-3
    assert EXERCISES["ten-layer-gradients"].key() == "d"


def test_a_number_key_is_computed_from_the_package():
    from backprop import network, runs

    assert EXERCISES["ten-layer-parameters"].key() == network.parameter_count(
        [785, *runs.TEN_LAYERS])
    rate = EXERCISES["effective-learning-rate"].key()
    assert float(rate) == pytest.approx(
        runs.TASK3_MOMENTUM.learning_rate / (1 - runs.TASK3_MOMENTUM.momentum))
    assert EXERCISES["spread-at-initialisation"].key() == sp.sqrt(sp.Rational(785, 3))


@pytest.mark.parametrize(
    ("name", "answer"),
    [("effective-learning-rate", "0.2"), ("effective-learning-rate", 0.2),
     ("effective-learning-rate", "1/5"), ("effective-learning-rate", np.float64(0.2)),
     ("effective-learning-rate", sp.Rational(1, 5)),
     ("effective-learning-rate", __import__("fractions").Fraction(1, 5)),
     ("ten-layer-parameters", 87744), ("ten-layer-parameters", "785*64 + 9*64**2 + 640"),
     ("spread-at-initialisation", "sqrt(785/3)"), ("spread-at-initialisation",
                                                   "sqrt(2355)/3"),
     ("equal-width", "(-795 + sqrt(795**2 + 4*50880))/2"),
     ("zero-initialisation", "b"), ("zero-initialisation", " (B) ")],
    ids=["a decimal as text", "a float", "a fraction as text", "numpy's float",
         "SymPy's rational", "a Fraction", "an integer", "a sum", "a root",
         "the root rewritten", "the quadratic's formula", "a letter", "a letter dressed"],
)
def test_a_reading_is_accepted_in_every_exact_form(name, answer):
    feedback = check(name, answer)
    assert feedback.passed, feedback.message


@pytest.mark.parametrize(
    ("name", "answer", "message"),
    [("spread-at-initialisation", "16.2", "is close, but the check is exact"),
     ("spread-at-initialisation", 16.18, "is close, but the check is exact"),
     ("effective-learning-rate", "0.2000000000000001", "is close, but the check is exact"),
     ("effective-learning-rate", None, "The answer is one number"),
     ("effective-learning-rate", [0.2], "got list"),
     ("effective-learning-rate", True, "got bool"),
     ("effective-learning-rate", {"type": "str", "text": "0.2"}, "got dict"),
     ("effective-learning-rate", "alpha/(1 - gamma)", "'alpha' is not a name here: a "
                                                     "number is written with digits"),
     ("effective-learning-rate", "1/0", "not a finite number"),
     ("effective-learning-rate", "log(0)", "not a finite number"),
     ("effective-learning-rate", "sqrt(-1)", "not a real number"),
     ("effective-learning-rate", float("nan"), "The answer is nan, not a finite number"),
     ("effective-learning-rate", 10**5000, "got int"),
     ("effective-learning-rate", "9" * 5000, "longer than 1,000 characters"),
     ("effective-learning-rate", "(" * 300 + "1" + ")" * 300,
      "cannot be read as a number"),
     ("effective-learning-rate", "2 ** 10 ** 10", "exponents above 100 are refused"),
     ("effective-learning-rate", "__import__('os').system('touch HACKED')",
      "cannot be read as a number"),
     ("effective-learning-rate", "diff(1, z)", "no variable to differentiate by"),
     ("zero-initialisation", "e", "There is no option 'e': answer with one letter, a, b, "
                                  "c or d"),
     ("zero-initialisation", 2, "The answer is one letter"),
     ("zero-initialisation", ["b"], "got list"),
     ("zero-initialisation", "b" * 5000, "There is no option")],
    ids=["a rounded root", "a rounded float", "a decimal a hair off", "nothing", "a list",
         "a boolean", "a dict that looks like the child's", "symbols", "a division by zero",
         "log of 0", "an imaginary number", "NaN", "a huge integer", "a huge number",
         "deep nesting", "a tower of powers", "code", "a derivative", "an unknown letter",
         "a number for a letter", "a list for a letter", "a long string"],
)
def test_a_bad_reading_gets_one_line_of_feedback(name, answer, message, tmp_path,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    feedback = check(name, answer)
    assert not feedback.passed
    assert message in " ".join(feedback.message.split())
    assert feedback.message.startswith(f"{EXERCISES[name].title}: not yet.")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(NUMBERS + CHOICES),
       st.one_of(st.text(max_size=60), st.integers(), st.floats(), st.none(),
                 st.binary(max_size=20), st.lists(st.text(max_size=5), max_size=3),
                 st.fractions()))
def test_check_never_raises_whatever_value_it_is_given(name, answer):
    feedback = check(name, answer)
    assert isinstance(feedback, exercises.Feedback)
    assert feedback.message.startswith(EXERCISES[name].title)
    assert "could not be checked" not in feedback.message


@pytest.mark.parametrize(
    ("name", "source", "code", "message"),
    [("effective-learning-rate", 'answer = "0.02 / (1 - 0.9)"\n', 0, "correct"),
     ("effective-learning-rate", "answer = 0.02\n", 1, "first step only"),
     ("zero-initialisation", 'answer = "b"\n', 0, "correct, (b)"),
     ("zero-initialisation", 'answer = "a"\n', 1, "(a) is not it"),
     ("zero-initialisation", "answer = open('x.txt', 'w')\n", 1, "got TextIOWrapper"),
     ("spread-at-initialisation", "import sympy\nanswer = sympy.sqrt(sympy.Rational(785, 3))\n",
      0, "correct"),
     ("spread-at-initialisation", "class Sly(str):\n    pass\nanswer = Sly('sqrt(785/3)')\n",
      1, "got Sly"),
     ("spread-at-initialisation", "steps = ['sqrt(785/3)']\n", 1, "defines no 'answer'")],
    ids=["a number as text", "a known wrong number", "a letter", "a wrong letter",
         "an open file", "a SymPy number", "a string that is not one", "steps, not answer"],
)
def test_backprop_check_reads_a_file_s_value(tmp_path, capsys, name, source, code, message):
    path = tmp_path / "submission.py"
    path.write_text(source)
    assert cli.main(["check", name, str(path)]) == code
    out = " ".join(capsys.readouterr().out.split())
    assert message in out


def test_the_child_sends_back_a_value_s_text_and_type_only():
    from fractions import Fraction

    from backprop.exercises import wire as runner

    assert runner.written("b") == {"type": "str", "text": "b"}
    assert runner.written(0.1) == {"type": "float", "text": "0.1"}
    assert runner.written(np.int64(3)) == {"type": "int64", "text": "3"}
    assert runner.written(Fraction(1, 5)) == {"type": "Fraction", "text": "1/5"}
    assert runner.written(10**5000) == {"type": "int", "text": None}
    assert runner.written(["b"]) == {"type": "list", "text": None}
    assert len(runner.written("x" * 10**6)["text"]) == runner.MAX_TEXT + 1


def test_the_command_line_lists_the_kinds(capsys):
    assert cli.main(["exercises"]) == 0
    lines = capsys.readouterr().out.splitlines()
    kinds = {line.split()[1] for line in lines}
    assert kinds == {"code", "derivation", "choice", "number"}


def test_a_reading_s_solution_says_why():
    assert exercises.solution_source("zero-initialisation") == 'answer = "b"\n'
    shown = exercises.solution_markdown("zero-initialisation")
    assert "**(b)** With all weights zero" in shown
    assert "decades" in exercises.solution_markdown("ten-layer-gradients")
    assert exercises.solution_markdown("effective-learning-rate").endswith(
        "The momentum comparison changes the step size too.")


# A gradient check is handed a loss: only its description crosses; the checker computes it.

def test_a_loss_crosses_the_pipe_as_its_description_and_is_computed_here():
    from backprop.exercises import runner, wire

    rng = np.random.default_rng(0)
    weights = (rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))
    X, targets = rng.standard_normal((5, 3)), np.eye(2)[[0, 1, 1, 0, 1]]
    loss = runner.Loss(weights, X, targets, 1)
    remotes = []
    data = wire.encode((loss, weights[1]), remotes)
    assert remotes == [loss]
    assert wire.decode(data)[0] == wire.Returned("a function")
    called = wire.decode(data, lambda index, text: (index, text))[0]
    assert called == (0, repr(loss))
    assert "3-4-2 network on 5 samples" in repr(loss)
    reply = runner.called_back(wire.encode((0, [weights[1]])), remotes)
    assert wire.decode(reply) == loss(weights[1])
    assert runner.called_back(wire.encode((0, [np.ones(3)])), remotes).startswith(
        b"!loss(W) takes an array of shape (4, 2)")


def test_central_differences_match_the_backward_pass():
    from backprop import losses, network, solutions
    from backprop.activations import ACTIVATIONS
    from backprop.exercises import runner

    rng = np.random.default_rng(1)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal((3, 2))]
    X, targets = rng.standard_normal((6, 4)), np.eye(2)[rng.integers(0, 2, 6)]
    sigmoid = ACTIVATIONS["sigmoid"]
    a = network.forward(weights, X, sigmoid)
    gradients = network.backward(weights, a, losses.cross_entropy_delta(targets, a[-1]),
                                 sigmoid)
    for layer, gradient in enumerate(gradients):
        loss = runner.Loss(tuple(weights), X, targets, layer)
        numerical = solutions.central_differences(loss, weights[layer], 1e-5)
        np.testing.assert_allclose(numerical, gradient, atol=1e-9)


def test_delta_norms_measure_the_mean_delta_as_the_chapter_does():
    from backprop import losses, network
    from backprop.activations import ACTIVATIONS

    rng = np.random.default_rng(2)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal((3, 3)),
               rng.standard_normal((3, 2))]
    X, targets = rng.standard_normal((7, 4)), np.eye(2)[rng.integers(0, 2, 7)]
    f = ACTIVATIONS["sigmoid"]
    a = network.forward(weights, X, f)
    # The chapter's speed_of_learning: the per-sample deltas, averaged, then the norm.
    per_sample = a[-1] - targets
    expected = []
    for l in range(len(weights) - 1, 0, -1):
        per_sample = f.derivative(a[l]) * (per_sample @ weights[l].T)
        expected.insert(0, float(np.linalg.norm(per_sample.mean(axis=0))))
    np.testing.assert_allclose(EXERCISES["delta-norms"].reference(weights, X, targets),
                               expected)
    assert losses.cross_entropy_delta is not None


@pytest.mark.parametrize("answer", ["1e309", 1e309], ids=["text", "float"])
def test_a_number_too_large_for_a_float_is_told_so(answer):
    feedback = check("effective-learning-rate", answer)
    assert not feedback.passed
    assert "too large a number" in feedback.message or "not a finite number" in feedback.message
