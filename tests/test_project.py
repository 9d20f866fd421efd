"""The project's promises about itself: its README's commands and examples, and its lint."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def fenced(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_ci_runs_the_readme_commands_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for block in fenced("sh") for line in block.splitlines()]
    assert commands
    for command in commands:
        assert command in ci


@pytest.mark.parametrize("block", fenced("python"))
def test_readme_python_examples_run(block):
    if "load_" in block and not os.environ.get("BACKPROP_DATA_DIR"):
        pytest.skip("the example reads MNIST: set BACKPROP_DATA_DIR to run it")
    exec(compile(block, "README.md", "exec"), {})


def test_ruff_is_clean():
    pytest.importorskip("ruff", reason="ruff comes with the test extra: pip install -e .[test]")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
