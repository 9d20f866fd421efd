"""MyST Markdown rewritten as the plain Markdown that Jupyter renders.

A page's text is MyST: directives in fences (``:::{admonition}``), roles (``{cite:p}`key```),
targets (``(label)=``). Jupyter knows none of them, so a downloaded notebook would show them
raw. :func:`to_jupyter` rewrites them into what JupyterLab, Notebook 7, VS Code and Colab all
render: an admonition becomes a blockquote under its bold title, a cross-reference a link to
the hosted book, a citation its author-year text linked to the references page, an exercise
a heading with its statement, and a solution nothing at all (it stays on the page, folded,
and in ``backprop.solutions``). Maths stays ``$...$`` and ``$$...$$``.

The blocks are found by the same markdown-it parser, with the same extensions, that
MyST-Parser builds the page with; roles are rewritten outside code spans.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention",
               "danger", "error", "seealso"}
DROPPED = {"solution", "toctree"}
PYTHON_ROLES = {"mod", "func", "class", "meth", "attr", "data", "exc", "obj"}

# A role, or a code span, whichever starts first: roles inside code spans stay as written.
ROLE_OR_CODE = re.compile(
    r"\{(?P<role>[\w:+-]+)\}(?P<ticks>`+)(?P<content>.+?)(?P=ticks)(?!`)"
    r"|(?P<code>(?P<fence>`+).+?(?P=fence)(?!`))",
    re.DOTALL,
)
EXPLICIT_TITLE = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
OPTION = re.compile(r"^:[\w-]+:(\s.*)?$")


@dataclass
class Links:
    """Where the book's cross-references point: pages of the hosted book.

    Attributes
    ----------
    base : str
        The hosted book's address, ending in ``/``.
    labels : dict
        Each label's ``(docname, anchor, title)``.
    titles : dict
        Each page's title, by docname.
    objects : dict
        Each documented Python object's ``(docname, anchor)``, by its full name.
    citations : dict
        Each bibliography key's ``(authors, year)``.
    """

    base: str
    labels: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    objects: dict[str, tuple[str, str]] = field(default_factory=dict)
    citations: dict[str, tuple[str, str]] = field(default_factory=dict)

    def page(self, docname: str, anchor: str = "") -> str:
        """The hosted address of a page, and of an anchor on it."""
        return f"{self.base}{docname}.html" + (f"#{anchor}" if anchor else "")


def _parser():
    config = MdParserConfig(enable_extensions={"dollarmath", "amsmath", "colon_fence"})
    return create_md_parser(config, RendererHTML)


PARSER = _parser()


def to_jupyter(source: str, docname: str, links: Links) -> str:
    """A Markdown cell of the page ``docname``, as plain Jupyter Markdown.

    Parameters
    ----------
    source : str
        The cell's MyST Markdown, glued values already written in.
    docname : str
        The page it belongs to, such as ``"tricks"``: relative references start there.
    links : Links
        Where references, pages, objects and citations point.
    """
    lines = source.splitlines()
    out: list[str] = []
    position = 0
    for token in PARSER.parse(source):
        if token.map is None or token.map[0] < position:
            continue
        start, end = token.map
        replacement = _block(token, docname, links)
        if replacement is None:
            continue
        # A block inside a list item keeps the item's indentation.
        indent = re.match(r"[ \t]*", lines[start])[0]
        out.extend(_inline("\n".join(lines[position:start]), docname, links).splitlines())
        out.extend(indent + line if line else line for line in replacement)
        position = end
    out.extend(_inline("\n".join(lines[position:]), docname, links).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def _block(token, docname: str, links: Links) -> list[str] | None:
    """A MyST block's replacement lines, or None for Markdown that Jupyter reads as it is."""
    if token.type in ("myst_target", "myst_line_comment", "myst_block_break", "front_matter"):
        return [""]
    if token.type not in ("fence", "colon_fence") or not token.info.startswith("{"):
        return None
    name, _, argument = token.info[1:].partition("}")
    name, argument = name.strip(), argument.strip()
    if name in DROPPED:
        return [""]
    body = to_jupyter(_without_options(token.content), docname, links)
    if name == "admonition" or name in ADMONITIONS:
        title = argument or name.capitalize()
        return ["", *_quoted(f"**{_inline(title, docname, links)}**\n\n{body}"), ""]
    if name == "exercise":
        exercises = f"exercises/{docname}"
        pointer = (f"Answer it in [the exercise notebook of this chapter]"
                   f"({links.page(exercises)})." if exercises in links.titles else "")
        heading = f"### Exercise: {_inline(argument, docname, links)}" if argument else (
            "### Exercise")
        return ["", heading, "", body, "", pointer, ""]
    if name == "math":
        return ["", "$$", _without_options(token.content).strip(), "$$", ""]
    if name in ("code-block", "code", "sourcecode"):
        return ["```" + argument, _without_options(token.content).rstrip("\n"), "```"]
    return ["", f"*(Shown on [the book's page]({links.page(docname)}).)*", ""]


def _without_options(content: str) -> str:
    """A directive's body without its options, as ``:key: value`` lines or a YAML block."""
    lines = content.splitlines()
    if lines and lines[0].strip() == "---":
        closing = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"),
                       len(lines) - 1)
        lines = lines[closing + 1:]
    else:
        while lines and OPTION.match(lines[0].strip()):
            lines = lines[1:]
    return "\n".join(lines)


def _quoted(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in text.splitlines()]


def _inline(text: str, docname: str, links: Links) -> str:
    """Rewrite every role in ``text``, leaving code spans as they are."""

    def replace(match: re.Match) -> str:
        if match["code"]:
            return match[0]
        return _role(match["role"], match["content"], docname, links)

    return ROLE_OR_CODE.sub(replace, text)


def _role(role: str, content: str, docname: str, links: Links) -> str:
    """One role's plain Markdown: a link where one fits, else its text."""
    if role.startswith("glue"):
        return f"{{{role}}}`{content}`"
    role = role.removeprefix("py:").removeprefix("std:")
    explicit = EXPLICIT_TITLE.match(content)
    title, target = (explicit["title"], explicit["target"]) if explicit else (None, content)
    handlers: dict[str, Callable[[], str]] = {
        "ref": lambda: _reference(title, target, links),
        "numref": lambda: _reference(title, target, links),
        "eq": lambda: _reference(title, target, links),
        "doc": lambda: _document(title, target, docname, links),
        "math": lambda: f"${content}$",
        "cite": lambda: _citation(target, links, parenthetical=True),
        "cite:p": lambda: _citation(target, links, parenthetical=True),
        "cite:t": lambda: _citation(target, links, parenthetical=False),
    }
    if role in handlers:
        return handlers[role]()
    if role in PYTHON_ROLES:
        return _python(title, target, links)
    return title or content


def _reference(title: str | None, label: str, links: Links) -> str:
    if label not in links.labels:
        return title or label
    docname, anchor, section = links.labels[label]
    return f"[{title or section or label}]({links.page(docname, anchor)})"


def _document(title: str | None, target: str, docname: str, links: Links) -> str:
    if target.startswith("/"):
        resolved = target[1:]
    else:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(docname), target))
    if resolved not in links.titles:
        return title or target
    return f"[{title or links.titles[resolved]}]({links.page(resolved)})"


def _python(title: str | None, target: str, links: Links) -> str:
    name = target.lstrip("~.")
    shown = title or (name.rpartition(".")[2] if target.startswith("~") else name)
    if name not in links.objects:
        return f"`{shown}`"
    return f"[`{shown}`]({links.page(*links.objects[name])})"


def _citation(keys: str, links: Links, parenthetical: bool) -> str:
    cited = []
    for key in (key.strip() for key in keys.split(",")):
        authors, year = links.citations.get(key, (key, ""))
        text = (f"{authors}, {year}" if parenthetical else f"{authors} ({year})") if year else (
            authors)
        cited.append(f"[{text}]({links.page('references')})")
    joined = "; ".join(cited)
    return f"({joined})" if parenthetical else joined


def author_year(surnames: list[str], year: str) -> tuple[str, str]:
    """A citation's authors as the author-year style names them, and its year.

    One author is "Nielsen", two "Glorot and Bengio", three or more "Rumelhart et al.".
    """
    if len(surnames) >= 3:
        return f"{surnames[0]} et al.", year
    return " and ".join(surnames), year
