"""The book's PDF edition: LaTeX from the pages the HTML build executed, typeset by xelatex.

``backprop book --pdf`` builds the HTML first, which executes every page into MyST-NB's
cache; Sphinx's LaTeX builder then reads the same executed notebooks from that cache, so
nothing runs twice, and latexmk runs xelatex until the cross-references settle. The PDF
lands beside the HTML's ``index.html``, whose landing page links it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from backprop.store import write_atomically

TEX_PACKAGES = ("texlive-xetex", "texlive-latex-extra", "texlive-fonts-recommended", "latexmk",
                "fonts-freefont-otf")
"""Debian's packages of what the PDF edition is typeset with."""

PDF = "backprop.pdf"
"""The PDF edition's name, beside the HTML's ``index.html``."""


def missing_tex() -> list[str]:
    """The programs the PDF edition needs that are not on this machine's ``PATH``."""
    return [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]


def typeset_pdf(source: Path, html: Path, environment: Mapping[str, str]) -> int:
    """Make the PDF edition of the book in ``source`` and put it in ``html`` as :data:`PDF`.

    The LaTeX goes to ``latex`` beside ``html``, with latexmk's log. Run after the HTML
    build, with the same ``environment``, so that the pages come from its cache.

    Returns
    -------
    int
        0, or the failing step's exit code, after one line on standard error that names the
        log and its first errors.
    """
    latex = html.parent / "latex"
    status = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                             "latex", str(source), str(latex)],
                            check=False, env=dict(environment)).returncode
    if status != 0:
        return status
    log = latex / "latexmk.log"
    with log.open("w") as output:
        typeset = subprocess.run(["latexmk", "-xelatex", "-interaction=nonstopmode",
                                  "-halt-on-error", "-file-line-error", "backprop.tex"],
                                 cwd=latex, stdout=output, stderr=subprocess.STDOUT,
                                 check=False)
    if typeset.returncode != 0:
        errors = [line for line in log.read_text(errors="replace").splitlines()
                  if line.startswith(("!", "./backprop.tex:"))]
        print(f"backprop: xelatex failed (see {log}): {' '.join(errors[:3])}", file=sys.stderr)
        return typeset.returncode
    write_atomically(html / PDF, lambda file: file.write((latex / "backprop.pdf").read_bytes()))
    return 0
