"""Each executed page, downloadable as a notebook that reads and runs as plain Jupyter.

MyST-NB writes every executed page to ``jupyter_execute/PAGE.ipynb``, beside the values its
hidden cells glued into the prose (``PAGE.glue.json``). For the page's download menu this
extension writes ``_sources/PAGE.ipynb`` from it, a second edition of the page:

- a first cell that says what the notebook needs (the install line, where the data come
  from, ``BACKPROP_EPOCHS=1`` for a quick run) and how long it took when the book was built;
- the cells the page removes left out (they import the book's build tools and only glue
  numbers), the code the page hides collapsed, the outputs it folds folded;
- every glued value written into the prose, and the prose rewritten from MyST into the
  Markdown Jupyter renders (:mod:`jupyter_markdown`): links to the hosted book, author-year
  citations, exercises without their solutions.

sphinx-book-theme lists it as ``.ipynb``. The hosted book's address is ``html_baseurl``.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import json
import re
import shlex
from pathlib import Path

import latexcodec  # noqa: F401 -- registers the "ulatex" codec that decodes BibTeX names
import nbformat
from jupyter_client.kernelspec import NoSuchKernel, get_kernel_spec
from jupyter_markdown import Links, author_year, to_jupyter
from myst_nb.sphinx_ import NbMetadataCollector
from pybtex.database import parse_file

ROLE = re.compile(r"\{glue(?::text|:md|:)?\}`([^`:]+)(?::([^`]*))?`")
BLOCK = re.compile(r"```\{glue:(?:md|figure|math)\} ([^\s`]+)\n(.*?)```", re.DOTALL)
RUNS = "notebook-runs"
"""The glued number of training runs a chapter serves, or trains when run alone."""
RUN_SECONDS = "notebook-run-seconds"
"""The glued seconds those runs took to train when the book was built, summed."""


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
    """A glued block: its Markdown, its displayed maths, or its image with the block's alt
    text and caption (the lines of the block that are not options).
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
        latex = data["text/latex"].strip().strip("$").removeprefix(r"\displaystyle").strip()
        return f"$$\n{latex}\n$$\n"
    return glued_text(value, None) + "\n"


def with_glue(source: str, glue: dict) -> str:
    """A Markdown cell with every glued value written in."""
    source = BLOCK.sub(lambda m: glued_block(glue[m[1]], m[2]) if m[1] in glue else m[0],
                       source)
    return ROLE.sub(lambda m: glued_text(glue[m[1]], m[2]) if m[1] in glue else m[0], source)


def standalone(
    notebook: nbformat.NotebookNode, glue: dict, docname: str, links: Links
) -> nbformat.NotebookNode:
    """The page's notebook as plain Jupyter: hidden cells out, glue and MyST written out."""
    cells = []
    for cell in notebook.cells:
        tags = set(cell.metadata.get("tags", []))
        if "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            cell.source = to_jupyter(with_glue(cell.source, glue), docname, links)
            if not cell.source.strip():
                continue
        # Markdown a cell displays is MyST too (a {ref} back to a function's code).
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = to_jupyter(data["text/markdown"], docname, links)
        hidden = cell.metadata.setdefault("jupyter", {})
        if tags & {"remove-input", "hide-input"}:
            hidden["source_hidden"] = True
        if tags & {"hide-output", "remove-output"}:
            hidden["outputs_hidden"] = True
        if not hidden:
            del cell.metadata["jupyter"]
        cells.append(cell)
        caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
        if caption:
            cells.append(nbformat.v4.new_markdown_cell(f"*{caption}*"))
    notebook.cells = cells
    for key in ("jupytext", "mystnb", "source_map"):
        notebook.metadata.pop(key, None)
    # The kernel's own name for itself, which JupyterLab would otherwise write in on opening
    # and then ask to save a notebook the reader never changed.
    kernelspec = notebook.metadata.get("kernelspec", {})
    with contextlib.suppress(NoSuchKernel):
        kernelspec["display_name"] = get_kernel_spec(kernelspec.get("name", "python3")
                                                     ).display_name
    return notebook


def first_cell(
    title: str, page: str, install: str, runtime: float | None, runs: int, run_seconds: float
) -> str:
    """What a reader needs before the notebook's first cell, and how long it took to build."""
    lines = [
        f"**This notebook is the executable edition of [{title}]({page})**, a page of "
        "*backprop: a textbook you can run*. Run it from the top"
        + ("; a cell that trains shows its progress." if runs else "."),
        "",
        f"- **Install** the package into this notebook's environment: {install}",
        "- **Data**: MNIST is read from the folder that the environment variable "
        "`BACKPROP_DATA_DIR` names, else downloaded once into a per-user cache folder "
        "and verified by the SHA-256 checksums of the four canonical files.",
    ]
    if runs:
        lines += [
            f"- **Time**: when the book was built, its {runs:,} training runs took "
            f"{duration(run_seconds)} of one core in all; here they spread over every core. "
            "They are saved in a `results` folder beside the notebook (or where "
            "`BACKPROP_RESULTS_DIR` points) and served from there when you run it again.",
            "- **A quick first run**: insert a cell above the first one, run "
            "`%env BACKPROP_EPOCHS=1` in it, then the rest: every run is cut to one epoch.",
        ]
    if runtime is not None:
        with_runs = " with its runs already stored" if runs else ""
        lines.append(f"- The page itself executed in {duration(runtime)}{with_runs}.")
    return "\n".join(lines)


def colab_cell(requirement: str) -> str:
    """The notebook's first cell: in Colab, and only there, install the package and fetch MNIST.

    A Colab runtime has neither; elsewhere the reader has installed the package already.
    """
    return "\n".join([
        "# In Colab, and only there: install the package from its repository, then",
        "# download MNIST (once per runtime, checked by the canonical files' SHA-256).",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f'    get_ipython().run_line_magic("pip", "install --quiet {shlex.quote(requirement)}")',
        "    from backprop.data import load_mnist",
        "",
        "    load_mnist()",
    ])


def duration(seconds: float) -> str:
    """Seconds as a reader reads them: s, min or h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def book_links(app) -> Links:
    """Where the hosted book's labels, pages, Python objects and citations are."""
    env = app.env
    std, python = env.get_domain("std"), env.get_domain("py")
    labels = {name: (docname, anchor, "") for name, (docname, anchor)
              in std.anonlabels.items()}
    labels.update(std.labels)
    objects = {name: (entry.docname, entry.node_id) for name, entry in python.objects.items()}
    objects.update({name: (entry.docname, entry.node_id)
                    for name, entry in python.modules.items()})
    citations = {}
    for bibfile in app.config.bibtex_bibfiles:
        for key, entry in parse_file(Path(app.srcdir) / bibfile).entries.items():
            persons = entry.persons.get("author", [])
            citations[key] = author_year(
                [_plain(" ".join(person.prelast_names + person.last_names))
                 for person in persons],
                entry.fields.get("year", ""),
            )
    base = app.config.html_baseurl.rstrip("/") + "/"
    return Links(base, labels, {name: title.astext() for name, title in env.titles.items()},
                 objects, citations)


def _plain(latex: str) -> str:
    """A BibTeX name as text: ``M{\\"u}ller`` is Müller."""
    return codecs.decode(latex, "ulatex").replace("{", "").replace("}", "")


def offer_notebook(app, pagename, templatename, context, doctree) -> None:
    """Write the page's standalone notebook into ``_sources`` and name it for the theme."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    glue_file = executed.with_suffix(".glue.json")
    glue = json.loads(glue_file.read_text()) if glue_file.exists() else {}
    links = book_links(app)
    notebook = standalone(nbformat.read(executed, as_version=4), glue, pagename, links)
    if not pagename.startswith("exercises/"):
        exec_data = NbMetadataCollector.get_exec_data(app.env, pagename) or {}
        runs = glue.get(RUNS, {}).get("data", {}).get("text/plain", "0")
        seconds = glue.get(RUN_SECONDS, {}).get("data", {}).get("text/plain", "0")
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(first_cell(
            links.titles.get(pagename, pagename), links.page(pagename),
            app.config.backprop_install, exec_data.get("runtime"), int(runs), float(seconds),
        )))
    notebook.cells.insert(0, nbformat.v4.new_code_cell(colab_cell(
        f"backprop-textbook[notebook] @ git+https://github.com/{app.config.backprop_github}")))
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.add_config_value("backprop_install", "`pip install backprop-textbook`", "html")
    app.add_config_value("backprop_github", "backprop-textbook/backprop", "html")
    # Before sphinx-book-theme builds the header's download menu from the context.
    app.connect("html-page-context", offer_notebook, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
