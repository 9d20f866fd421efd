"""The notebooks a page offers for download: hidden cells out, glued values written in."""

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the book's tests need the docs extra")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "_ext"))
from notebook_downloads import standalone  # noqa: E402 -- the book's own extension


def glued(data):
    return {"output_type": "display_data", "data": data}


def test_hidden_cells_go_and_glued_values_are_written_in():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from myst_nb import glue\nglue('loss', 0.25)",
                                  metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("print(1)"),
        nbformat.v4.new_markdown_cell(
            "A loss of {glue:text}`loss:.3f`, {glue:md}`story`, {glue:}`count` and "
            "{glue:text}`missing:.1f`.\n\n```{glue:md} table\n:format: myst\n```\n\n"
            "```{glue:figure} plot\n:alt: A curve.\n:name: fig\n\nCaption.\n```\n"),
    ])
    glue = {"loss": glued({"text/plain": "0.25"}),
            "story": glued({"text/markdown": "it **fell**", "text/plain": "<Markdown>"}),
            "count": glued({"text/plain": "3"}),
            "table": glued({"text/markdown": "| a |\n| --- |\n| 1 |"}),
            "plot": glued({"image/png": "iVBORw0KGgo=\n", "text/plain": "<Image>"})}
    cells = standalone(notebook, glue).cells
    assert [cell.cell_type for cell in cells] == ["code", "markdown"]
    text = cells[1].source
    assert text.startswith("A loss of 0.250, it **fell**, 3 and {glue:text}`missing:.1f`.")
    assert "| a |\n| --- |\n| 1 |" in text
    assert "![A curve.](data:image/png;base64,iVBORw0KGgo=)" in text
    assert "Caption." in text
