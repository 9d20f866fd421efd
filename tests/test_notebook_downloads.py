"""The notebooks a page offers for download: plain Jupyter, hidden cells out, glue written in."""

import re
import sys
import types
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the book's tests need the docs extra")
jupytext = pytest.importorskip("jupytext", reason="the book's tests need the docs extra")
DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from jupyter_markdown import Links, author_year, to_jupyter  # noqa: E402 -- the book's own
from launch_buttons import launch_links  # noqa: E402
from notebook_downloads import colab_cell, first_cell, standalone, with_glue  # noqa: E402

BASE = "https://book.example/"
LINKS = Links(
    BASE,
    labels={"derivation-equal-width": ("backpropagation", "derivation-equal-width",
                                       "The width of two equal layers")},
    titles={"tricks": "Tricks of the trade", "exercises/tricks": "Exercises: Tricks",
            "references": "References"},
    objects={"backprop.claims": ("api", "module-backprop.claims")},
    citations={"rumelhart1986learning": ("Rumelhart et al.", "1986"),
               "nielsen2015neural": ("Nielsen", "2015")},
)

# What Jupyter would show raw: directive fences and their options, roles, targets, comments.
RAW_MYST = re.compile(r"^\s*(?::{3,}|`{3,})\{[\w:-]+\}|^\s*:[\w-]+:(?: |$)|\{[\w:+-]+\}`"
                      r"|^\s*\([\w-]+\)=\s*$|^\s*\+\+\+\s*$|^%", re.MULTILINE)


def raw_myst(text):
    """Every piece of MyST syntax in ``text`` that plain Jupyter Markdown would show raw."""
    return RAW_MYST.findall(text)


def test_an_admonition_is_a_blockquote_under_its_bold_title():
    text = to_jupyter(":::{admonition} In this chapter you will\n:class: tip\n\n1. derive;\n"
                      "2. train.\n:::\n\nAfter.", "tricks", LINKS)
    assert text == ("> **In this chapter you will**\n>\n> 1. derive;\n> 2. train.\n\nAfter.")


def test_a_citation_is_its_author_year_text_linked_to_the_references():
    text = to_jupyter("As {cite:t}`rumelhart1986learning` showed {cite:p}`nielsen2015neural`.",
                      "tricks", LINKS)
    assert text == (f"As [Rumelhart et al. (1986)]({BASE}references.html) showed "
                    f"([Nielsen, 2015]({BASE}references.html)).")


@pytest.mark.parametrize(
    ("myst", "markdown"),
    [
        ("{ref}`derivation-equal-width`",
         f"[The width of two equal layers]({BASE}backpropagation.html#derivation-equal-width)"),
        ("{ref}`the width <derivation-equal-width>`",
         f"[the width]({BASE}backpropagation.html#derivation-equal-width)"),
        ("{doc}`exercise notebook <exercises/tricks>`",
         f"[exercise notebook]({BASE}exercises/tricks.html)"),
        ("{doc}`../tricks`", f"[Tricks of the trade]({BASE}tricks.html)"),
        ("{mod}`backprop.claims`", f"[`backprop.claims`]({BASE}api.html#module-backprop.claims)"),
        ("{py:func}`backprop.data.load_mnist`", "`backprop.data.load_mnist`"),
        ("{ref}`no-such-label`", "no-such-label"),
        ("{math}`a^2`", "$a^2$"),
    ],
)
def test_a_reference_links_to_the_hosted_book_or_is_plain_text(myst, markdown):
    assert to_jupyter(myst, "exercises/tricks" if "../" in myst else "tricks", LINKS) == markdown


def test_targets_and_comments_disappear_and_maths_and_code_stay():
    text = to_jupyter("(derivation-x)=\n### A heading\n\n% a comment\n$a_j = f(z_j)$ and "
                      "`{ref}` in code.\n\n$$\n\\delta_j = f'(z_j)\n$$", "tricks", LINKS)
    assert text == ("### A heading\n\n$a_j = f(z_j)$ and `{ref}` in code.\n\n"
                    "$$\n\\delta_j = f'(z_j)\n$$")


def test_an_exercise_is_a_heading_and_its_solution_is_gone():
    text = to_jupyter(":::{exercise} A momentum step\n:label: ex-momentum\n\nWrite it.\n:::\n\n"
                      "::::{solution} ex-momentum\n:class: dropdown\n\n```python\n"
                      "def answer(v):\n    return v\n```\n::::\n", "tricks", LINKS)
    assert text == ("### Exercise: A momentum step\n\nWrite it.\n\nAnswer it in [the exercise "
                    f"notebook of this chapter]({BASE}exercises/tricks.html).")


def test_a_directive_jupyter_cannot_show_points_to_the_page():
    assert to_jupyter("```{nb-exec-table}\n```", "tricks", LINKS) == (
        f"*(Shown on [the book's page]({BASE}tricks.html).)*")


@pytest.mark.parametrize(
    ("surnames", "cited"),
    [(["Nielsen"], "Nielsen"), (["Glorot", "Bengio"], "Glorot and Bengio"),
     (["Rumelhart", "Hinton", "Williams"], "Rumelhart et al.")],
)
def test_authors_are_named_as_the_author_year_style_names_them(surnames, cited):
    assert author_year(surnames, "2010") == (cited, "2010")


class AnyGlue(dict):
    """Every glued value there is, each the number 1."""

    def __contains__(self, key):
        return True

    def __missing__(self, key):
        return {"data": {"text/plain": "1"}}


PAGES = sorted(path for path in DOCS.glob("**/*.md") if "_build" not in path.parts)


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.stem)
def test_no_page_leaves_myst_in_its_notebook(page):
    notebook = jupytext.read(page)
    docname = page.relative_to(DOCS).with_suffix("").as_posix()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            text = to_jupyter(with_glue(cell.source, AnyGlue()), docname, LINKS)
            assert raw_myst(text) == [], text


def glued(data):
    return {"output_type": "display_data", "data": data}


def test_hidden_cells_go_or_fold_and_glued_values_are_written_in():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from myst_nb import glue\nglue('loss', 0.25)",
                                  metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("show(1)", metadata={"tags": ["remove-input"]}),
        nbformat.v4.new_code_cell("table()", metadata={"tags": ["hide-output"]}),
        nbformat.v4.new_markdown_cell(
            "A loss of {glue:text}`loss:.3f`, {glue:md}`story`, {glue:}`count` and "
            "{glue:text}`missing:.1f`.\n\n```{glue:md} table\n:format: myst\n```\n\n"
            "```{glue:math} claim\n:label: eq-claim\n```\n\n"
            "```{glue:figure} plot\n:alt: A curve.\n:name: fig\n\nCaption.\n```\n"),
    ])
    glue = {"loss": glued({"text/plain": "0.25"}),
            "story": glued({"text/markdown": "it **fell**", "text/plain": "<Markdown>"}),
            "count": glued({"text/plain": "3"}),
            "table": glued({"text/markdown": "| a |\n| --- |\n| 1 |"}),
            "claim": glued({"text/latex": "$\\displaystyle a = b$", "text/plain": "<Math>"}),
            "plot": glued({"image/png": "iVBORw0KGgo=\n", "text/plain": "<Image>"})}
    cells = standalone(notebook, glue, "tricks", LINKS).cells
    assert [cell.cell_type for cell in cells] == ["code", "code", "markdown"]
    assert cells[0].metadata["jupyter"] == {"source_hidden": True}
    assert cells[1].metadata["jupyter"] == {"outputs_hidden": True}
    text = cells[2].source
    # A value the page never glued stays as it is, for the book's tests to find.
    assert text.startswith("A loss of 0.250, it **fell**, 3 and {glue:text}`missing:.1f`.")
    assert "| a |\n| --- |\n| 1 |" in text
    assert "$$\na = b\n$$" in text
    assert "![A curve.](data:image/png;base64,iVBORw0KGgo=)" in text
    assert "Caption." in text


def test_the_first_cell_says_what_to_install_where_the_data_are_and_how_long_it_took():
    text = first_cell("Tricks of the trade", f"{BASE}tricks.html", "`pip install x`", 14.2, 20,
                      451.0)
    assert "`pip install x`" in text
    assert "BACKPROP_DATA_DIR" in text
    assert "%env BACKPROP_EPOCHS=1" in text
    assert "20 training runs took 8 min of one core" in text
    assert "BACKPROP_RESULTS_DIR" in text
    assert "executed in 14 s" in text


REQUIREMENT = "backprop-textbook[notebook] @ git+https://github.com/owner/book"


class FakeShell:
    """What the cell asks of IPython: its line magics."""

    def __init__(self):
        self.magics = []

    def run_line_magic(self, name, line):
        self.magics.append((name, line))


def test_in_colab_the_first_cell_installs_the_package_and_fetches_mnist(monkeypatch):
    from backprop import data

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    fetched = []
    monkeypatch.setattr(data, "load_mnist", lambda: fetched.append(True))
    shell = FakeShell()
    exec(colab_cell(REQUIREMENT), {"get_ipython": lambda: shell})
    assert shell.magics == [("pip", f"install --quiet '{REQUIREMENT}'")]
    assert fetched == [True]


def test_elsewhere_the_first_cell_does_nothing(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shell = FakeShell()
    exec(colab_cell(REQUIREMENT), {"get_ipython": lambda: shell})
    assert shell.magics == []


def test_the_launch_links_open_the_notebook_from_the_notebooks_branch():
    links = launch_links("owner/book", "notebooks", "exercises/tricks.ipynb")
    assert links == {
        "Colab": "https://colab.research.google.com/github/owner/book/blob/notebooks/"
                 "exercises/tricks.ipynb",
        "Binder": "https://mybinder.org/v2/gh/owner/book/notebooks?labpath="
                  "exercises%2Ftricks.ipynb",
    }
