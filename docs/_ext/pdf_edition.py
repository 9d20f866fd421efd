"""What the PDF edition needs that the pages do not.

- **Long names break.** A digest or a long path in inline code has no space to break at,
  and LaTeX would run it past the margin, across the next column of a table; on paper it
  may break after every 16 characters.
- **Columns as wide as their words.** LaTeX's tabulary shares a table's width by the length
  of its cells, and a column of short cells gets less than its longest word: a seed of ten
  digits, ``max_points``. Each column here gets at least its longest word, and beyond that
  a share that grows with its text, so that a column of sentences takes what is left.
- **Equations are numbered.** Every displayed equation of the PDF has a number, as a
  printed book's have, for a reader to refer to; the pages, read on screens of any width,
  keep the whole line for the equation.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

CHUNK = 16
"""Characters of unbroken inline code between the places it may break on paper."""


class BreakLongLiterals(SphinxPostTransform):
    """Let inline code longer than :data:`CHUNK` characters, with no space, break on paper."""

    default_priority = 400
    builders = ("latex",)

    def run(self) -> None:
        for literal in list(self.document.findall(nodes.literal)):
            text = literal.astext()
            if len(text) <= CHUNK or any(char.isspace() for char in text):
                continue
            pieces = []
            for start in range(0, len(text), CHUNK):
                if start:
                    pieces.append(nodes.raw("", r"\allowbreak{}", format="latex"))
                pieces.append(nodes.literal(text[start:start + CHUNK],
                                            text[start:start + CHUNK],
                                            classes=literal["classes"]))
            literal.replace_self(pieces)


class WidenColumns(SphinxPostTransform):
    """Give each column of a table of three or more at least its longest word, on paper."""

    default_priority = 400
    builders = ("latex",)

    def run(self) -> None:
        for table in self.document.findall(nodes.table):
            groups = list(table.findall(nodes.tgroup))
            if len(groups) != 1 or "colwidths-given" in table["classes"]:
                continue
            colspecs = list(groups[0].findall(nodes.colspec))
            rows = list(groups[0].findall(nodes.row))
            if len(colspecs) < 3 or any(len(row) != len(colspecs) for row in rows):
                continue
            widths = []
            for column in range(len(colspecs)):
                cells = [row[column].astext() for row in rows]
                word = max((len(w) for cell in cells for w in cell.split()), default=1)
                mean = sum(map(len, cells)) / len(cells)
                widths.append(max(word + 2, min(round(mean), 30)))
            for colspec, width in zip(colspecs, widths, strict=True):
                colspec["colwidth"] = width
            table["classes"].append("colwidths-given")


def number_equations_on_paper(app) -> None:
    """Number every displayed equation, in the PDF only."""
    app.config.math_number_all = app.builder.name == "latex"


def setup(app):
    app.add_post_transform(BreakLongLiterals)
    app.add_post_transform(WidenColumns)
    app.connect("builder-inited", number_equations_on_paper)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
