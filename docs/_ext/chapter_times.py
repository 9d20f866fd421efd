"""A table of what each chapter's runs cost, measured by the build itself.

``{chapter-times}`` lists chapters, one name a line. Each chapter glues the number of its
training runs and the seconds they took to train (``reports.training_time``); MyST-NB times
the page's own execution. Once every page is read, the directive becomes a table of them:
chapter, runs, training time on one core, and the time the page took to execute (its runs
served from the store that ``backprop book`` fills first).
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from myst_nb.sphinx_ import NbMetadataCollector
from notebook_downloads import RUN_SECONDS, RUNS, duration
from sphinx.util.docutils import SphinxDirective

COLUMNS = ("chapter", "runs", "training, on one core", "page executed in")


class chapter_times(nodes.General, nodes.Element):  # noqa: N801 -- docutils names nodes so
    """Where the table goes, filled in once every chapter has executed."""


class ChapterTimes(SphinxDirective):
    """``{chapter-times}``: the chapters to list, one a line."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        node = chapter_times()
        node["chapters"] = [line.strip() for line in self.content if line.strip()]
        # Read again whenever a chapter changes, so that its times are never stale.
        for chapter in node["chapters"]:
            self.env.note_dependency(self.env.doc2path(chapter))
        return [node]


def glued(app, chapter: str, key: str) -> float:
    """A number the chapter glued, read from the notebook MyST-NB executed."""
    path = Path(app.outdir).parent / "jupyter_execute" / f"{chapter}.glue.json"
    glue = json.loads(path.read_text()) if path.exists() else {}
    return float(glue.get(key, {}).get("data", {}).get("text/plain", "nan"))


def table(rows: list[list[nodes.Node]]) -> nodes.table:
    """A docutils table with :data:`COLUMNS` as its header."""
    group = nodes.tgroup(cols=len(COLUMNS))
    group += [nodes.colspec(colwidth=1) for _ in COLUMNS]
    head, body = nodes.thead(), nodes.tbody()
    for target, cells in ((head, [[nodes.Text(title)] for title in COLUMNS]), *(
            (body, row) for row in rows)):
        line = nodes.row()
        for cell in cells:
            line += nodes.entry("", nodes.paragraph("", "", *cell))
        target += line
    group += [head, body]
    return nodes.table("", group)


def fill(app, doctree, docname: str) -> None:
    """Replace each placeholder with the chapters' measured times."""
    for node in doctree.findall(chapter_times):
        rows = []
        for chapter in node["chapters"]:
            title = app.env.titles[chapter].astext()
            link = nodes.reference("", title,
                                   refuri=app.builder.get_relative_uri(docname, chapter))
            runs, seconds = glued(app, chapter, RUNS), glued(app, chapter, RUN_SECONDS)
            runtime = (NbMetadataCollector.get_exec_data(app.env, chapter) or {}).get("runtime")
            rows.append([[link], [nodes.Text(f"{runs:.0f}")], [nodes.Text(duration(seconds))],
                         [nodes.Text(duration(runtime) if runtime is not None else "-")]])
        node.replace_self(table(rows))


def setup(app):
    app.add_node(chapter_times)
    app.add_directive("chapter-times", ChapterTimes)
    app.connect("doctree-resolved", fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
