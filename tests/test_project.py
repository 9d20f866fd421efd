"""The project's promises about itself: its README's commands and examples, its lint, and
its citation."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import backprop

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


def test_the_citation_file_says_what_the_package_says():
    yaml = pytest.importorskip("yaml", reason="the docs extra reads CITATION.cff")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["version"] == backprop.__version__ == project["version"]
    assert cff["license"] == project["license"]
    assert [author["name"] for author in cff["authors"]] == [a["name"] for a in project["authors"]]


@pytest.fixture(scope="module")
def cffconvert(tmp_path_factory):
    """cffconvert, the Citation File Format's own checker, in a venv of its own.

    Its pins (jsonschema before 4) would break Jupyter's, so it never joins the project's.
    """
    folder = tmp_path_factory.mktemp("cffconvert")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    installed = subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install",
                                "--quiet", "cffconvert>=2"], capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.skip(f"cffconvert could not be installed: {installed.stderr[-300:]}")
    return folder / "bin" / "cffconvert"


def test_the_citation_file_validates(cffconvert):
    checked = subprocess.run([str(cffconvert), "--validate", "-i", str(ROOT / "CITATION.cff")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid according to schema version 1.2.0" in checked.stdout
