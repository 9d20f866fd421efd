"""Each executed page, downloadable as a notebook that runs on its own.

MyST-NB writes every executed page to ``jupyter_execute/PAGE.ipynb``, beside the values its
hidden cells glued into the prose (``PAGE.glue.json``). For the page's download menu this
extension writes ``_sources/PAGE.ipynb`` from it: the hidden cells removed (they import the
book's build tools and only glue numbers), and every glued value written into the prose and
the blocks that show it, so that the notebook reads in plain Jupyter as the page does and
runs with only the package installed. sphinx-book-theme lists it as ``.ipynb``.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat

ROLE = re.compile(r"\{glue(?::text|:md|:)?\}`([^`:]+)(?::([^`]*))?`")
BLOCK = re.compile(r"```\{glue:(?:md|figure|math)\} ([^\s`]+)\n(.*?)```", re.DOTALL)


def glued_text(value: dict, form: str | None) -> str:
    """A glued output as prose: Markdown as it is, a number in the role's format."""
    data = value.get("data", {})
    if "text/markdown" in data:
        return data["text/markdown"].strip()
    plain = data.get("text/plain", "")
    if not form:
        return plain
    try:
        return format(ast.literal_eval(plain), form)
    except (ValueError, SyntaxError):
        return plain


def glued_block(value: dict, body: str) -> str:
    """A glued block: its Markdown, its LaTeX, or its image with the block's alt text and
    caption (the lines of the block that are not options).
    """
    data = value.get("data", {})
    if "image/png" in data:
        found = re.search(r"^:alt: (.*)$", body, flags=re.MULTILINE)
        alt = found[1] if found else ""
        caption = "\n".join(line for line in body.splitlines()
                            if not line.startswith(":")).strip()
        image = f"![{alt}](data:image/png;base64,{data['image/png'].strip()})\n"
        return image + (f"\n{caption}\n" if caption else "")
    if "text/latex" in data:
        return data["text/latex"].strip() + "\n"
    return glued_text(value, None) + "\n"


def standalone(notebook: nbformat.NotebookNode, glue: dict) -> nbformat.NotebookNode:
    """The notebook without its hidden cells, with every glued value written in."""
    cells = []
    for cell in notebook.cells:
        if "remove-cell" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            source = BLOCK.sub(lambda m: glued_block(glue[m[1]], m[2]) if m[1] in glue
                               else m[0], cell.source)
            cell.source = ROLE.sub(lambda m: glued_text(glue[m[1]], m[2]) if m[1] in glue
                                   else m[0], source)
        cells.append(cell)
    notebook.cells = cells
    return notebook


def offer_notebook(app, pagename, templatename, context, doctree) -> None:
    """Write the page's standalone notebook into ``_sources`` and name it for the theme."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    glue_file = executed.with_suffix(".glue.json")
    glue = json.loads(glue_file.read_text()) if glue_file.exists() else {}
    notebook = standalone(nbformat.read(executed, as_version=4), glue)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    # Before sphinx-book-theme builds the header's download menu from the context.
    app.connect("html-page-context", offer_notebook, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
