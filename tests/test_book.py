"""Every chapter runs as a notebook outside Sphinx, shortened, without error or stderr."""

import os
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext", reason="the book's tests need the docs extra")
nbclient = pytest.importorskip("nbclient", reason="the book's tests need the docs extra")

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHAPTERS = sorted(path for path in DOCS.glob("*.md") if path.read_text().startswith("---"))

needs_mnist = pytest.mark.skipif(
    not os.environ.get("BACKPROP_DATA_DIR"),
    reason="the chapters read MNIST: set BACKPROP_DATA_DIR to a directory with the files",
)


def test_the_notebook_chapters_are_the_toctree():
    index = (DOCS / "index.md").read_text()
    lines = index.split("```{toctree}")[1].split("```")[0].splitlines()
    toctree = [line.strip() for line in lines if line.strip() and not line.startswith(":")]
    assert {path.stem for path in CHAPTERS} <= set(toctree)
    assert all((DOCS / f"{name}.md").exists() for name in toctree)


def test_every_chapter_trains_the_seeds_the_book_command_trains():
    from backprop.runs import BOOK_SEEDS

    for chapter in CHAPTERS:
        for line in chapter.read_text().splitlines():
            if line.startswith("SEEDS = "):
                assert line == f"SEEDS = {BOOK_SEEDS}", chapter.name


@needs_mnist
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_runs_as_a_notebook(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_EPOCHS", "1")
    monkeypatch.setenv("BACKPROP_RESULTS_DIR", str(tmp_path / "results"))
    notebook = jupytext.read(chapter)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(DOCS)}})
    client.execute()
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"{chapter.name} wrote to stderr: {output.text}"
            )
            assert output.output_type != "error"
