"""Sphinx configuration of the backprop book: MyST-NB pages executed at build time."""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

import backprop
from backprop.store import write_atomically

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The book's own Sphinx extension: every executed page downloads as a notebook.
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

# The experiments' results store, shared by the pages and the command line.
os.environ.setdefault("BACKPROP_RESULTS_DIR", str(ROOT / "results"))

project = "backprop"
author = "The backprop authors"
copyright = "2026, The backprop authors"
release = backprop.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx-mathjax-offline",
    "sphinx_exercise",
    "sphinx_copybutton",
    "sphinxcontrib.bibtex",
    # Collapses each exercise's solution until the reader asks for it.
    "sphinx_togglebutton",
    "notebook_downloads",
    "launch_buttons",
    "accessible_html",
    "pdf_edition",
    "chapter_times",
]

bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "plain"
# Copy buttons copy the code, never the prompts or the outputs.
copybutton_exclude = ".linenos, .gp, .go"

# The hosted book, where the links of a downloaded notebook lead: the address Read the Docs
# gives the build, or GitHub Pages gives this repository's, or BACKPROP_BOOK_URL.
html_baseurl = (os.environ.get("BACKPROP_BOOK_URL")
                or os.environ.get("READTHEDOCS_CANONICAL_URL")
                or (f"https://{os.environ['GITHUB_REPOSITORY_OWNER']}.github.io/"
                    f"{os.environ['GITHUB_REPOSITORY'].partition('/')[2]}/"
                    if os.environ.get("GITHUB_REPOSITORY") else None)
                or "https://backprop-textbook.readthedocs.io/en/latest/")


def _repository() -> str | None:
    """The repository the book is built from, as a hosting service or git names it."""
    if os.environ.get("GITHUB_REPOSITORY"):
        return f"{os.environ['GITHUB_SERVER_URL']}/{os.environ['GITHUB_REPOSITORY']}"
    if os.environ.get("READTHEDOCS_GIT_CLONE_URL"):
        return os.environ["READTHEDOCS_GIT_CLONE_URL"]
    try:
        found = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"],
                               capture_output=True, text=True, check=False)
    except OSError:
        return None
    url = found.stdout.strip()
    return url if found.returncode == 0 and url.startswith("https://") else None


# The GitHub repository whose notebooks branch the pages' Colab and Binder buttons open: the
# one the Pages workflow runs in, or this book's own.
backprop_github = os.environ.get("GITHUB_REPOSITORY") or "backprop-textbook/backprop"

# The install line a downloaded notebook opens with.
_REPOSITORY = _repository()
backprop_install = (
    f'`%pip install "backprop-textbook[notebook] @ git+{_REPOSITORY}"`' if _REPOSITORY else
    'in a clone of the book\'s repository, `pip install -e ".[notebook]"`'
)

html_theme = "sphinx_book_theme"
html_title = "backprop: a textbook you can run"
html_theme_options = {
    "use_download_button": True,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    **({"repository_url": _REPOSITORY, "use_repository_button": True} if _REPOSITORY else {}),
}
html_last_updated_fmt = None
# A first visit has no stored colour mode; without a default the theme logs a console error.
html_context = {"default_mode": "light"}
html_static_path = ["_static"]
templates_path = ["_templates"]
html_css_files = ["backprop.css"]

# The PDF edition (backprop book --pdf): LaTeX from the same executed notebooks, typeset by
# xelatex, as d2l's is. xelatex reads the text's Unicode (δ, ∂, ŷ) in its own fonts and
# embeds every font; makeindex, not xindy, which Debian's TeX Live lacks by default.
latex_engine = "xelatex"
latex_use_xindy = False
# toctree_only: the chapters are the PDF's chapters, not sections of the landing page's last.
latex_documents = [("index", "backprop.tex", html_title, author, "manual", True)]
latex_show_urls = "no"
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "11pt",
    # Tables in a smaller size, as printed books set them: a gradebook's seven columns then
    # keep within the page.
    "preamble": "\n".join([r"\setcounter{tocdepth}{1}", r"\usepackage{etoolbox}",
                           r"\AtBeginEnvironment{tabulary}{\footnotesize}",
                           r"\AtBeginEnvironment{tabular}{\footnotesize}",
                           r"\AtBeginEnvironment{longtable}{\footnotesize}"]),
    # Code and outputs wrap at the margin rather than run past it.
    "sphinxsetup": "verbatimwrapslines=true, verbatimforcewraps=true",
}

exclude_patterns = ["_build", "_ext", "jupyter_execute", ".jupyter_cache",
                    "**.ipynb_checkpoints"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "substitution"]
# The landing page names the repository the book was built from, where the build knows it.
def _citation() -> dict[str, str]:
    """The landing page's "How to cite", in words and as BibTeX, from CITATION.cff."""
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    authors = " and ".join(author.get("name") or f"{author['family-names']}, "
                           f"{author['given-names']}" for author in cff["authors"])
    year = str(cff["date-released"])[:4]
    bibtex = "\n".join([
        "@software{backprop_textbook,",
        f"  author  = {{{{{authors}}}}},",
        f"  title   = {{{cff['title']}}},",
        f"  version = {{{cff['version']}}},",
        f"  year    = {{{year}}},",
        f"  url     = {{{cff['url']}}},",
        "}",
    ])
    return {
        "citation": f"{authors} ({year}). *{cff['title']}* (version {cff['version']}). "
                    f"<{cff['url']}>",
        "citation_bibtex": f"```bibtex\n{bibtex}\n```",
    }


myst_substitutions = {
    "repository": f"<{_REPOSITORY}>" if _REPOSITORY else "the repository this book was built "
                  "from (your teacher or the hosting page names it)",
    **_citation(),
    # backprop book --pdf makes the PDF edition beside the pages.
    "pdf": ('Read it on paper or offline in the <a href="backprop.pdf">PDF edition</a>, '
            "typeset from the same executed pages."
            if os.environ.get("BACKPROP_BOOK_PDF") else ""),
}
myst_heading_anchors = 3

# Progress displays stay out of the executed pages; a downloaded notebook shows them.
os.environ["BACKPROP_PROGRESS"] = "0"

# Every notebook page is executed; a failing cell or stray stderr fails the build.
nb_execution_mode = os.environ.get("BACKPROP_BOOK_EXECUTION", "cache")
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_output_stderr = "warn"
# Markdown that cells display (an exercise's statement, say) has maths in it, as Jupyter shows.
nb_render_markdown_format = "myst"
nb_execution_timeout = 600
nb_kernel_rgx_aliases = {".*": "python3"}
# jupyter-cache keys on the cells alone: every byte of the package (the derivations and the
# plots included, unlike the results store's key), and the length of the runs (shortened for
# tests by BACKPROP_EPOCHS), are part of the key here, so a change to either re-executes
# every page; the experiments themselves still come from the results store.
_runs = os.environ.get("BACKPROP_EPOCHS", "full")
_package = hashlib.sha256()
for _path in sorted(Path(backprop.__file__).parent.rglob("*.py")):
    _package.update(_path.read_bytes())
nb_execution_cache_path = str(
    ROOT / "docs" / "_build" / ".jupyter_cache" / f"{_package.hexdigest()[:16]}-epochs-{_runs}"
)

# The kernels that execute the pages log only their errors. At every start ipykernel warns
# that it talks to the build over TCP without encryption: true of any kernel on this
# machine's loopback, and nothing a reader of the build's output can act on. The kernel is
# named python3, as the notebooks say, and found first through JUPYTER_PATH.
_kernels = ROOT / "docs" / "_build" / "kernels"
_spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                  "--IPKernelApp.log_level=ERROR"],
         "display_name": "Python 3", "language": "python", "metadata": {"debugger": True}}
(_kernels / "kernels" / "python3").mkdir(parents=True, exist_ok=True)
write_atomically(_kernels / "kernels" / "python3" / "kernel.json",
                 lambda file: file.write(json.dumps(_spec).encode()))
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    [str(_kernels), *filter(None, [os.environ.get("JUPYTER_PATH")])])

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_type_aliases = {"ArrayLike": "ArrayLike", "DTypeLike": "DTypeLike",
                        "Array": "numpy.ndarray"}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Attributes as fields of their class, not as objects autodoc would describe a second time.
napoleon_use_ivar = True

_DERIVATION = re.compile(r"``([a-z0-9-]+)``")


def _link_derivations(app, what, name, obj, options, lines):
    """Turn the derivation names a docstring cites into links to the derivation chapter."""
    from backprop.derivations import DERIVATIONS

    for index, line in enumerate(lines):
        lines[index] = _DERIVATION.sub(
            lambda m: (f":ref:`{m.group(1)} <derivation-{m.group(1)}>`"
                       if m.group(1) in DERIVATIONS else m.group(0)),
            line,
        )


def setup(app):
    app.connect("autodoc-process-docstring", _link_derivations)
