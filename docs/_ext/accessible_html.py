"""What the HTML writer emits that an accessibility checker refuses, put right.

docutils marks each entry of a citation list with the DPUB-ARIA role ``doc-biblioentry``,
which ARIA 1.3 deprecates and axe-core refuses on a ``div``; and the list it sits in
(``role="list"``) may hold only list items. Each entry becomes a ``listitem``, which is what
it is. The browser test runs axe-core on every page, so another such rule shows there.
"""

from __future__ import annotations


def fix_roles(app, pagename, templatename, context, doctree) -> None:
    """Give a citation list's entries the role a list's children must have."""
    if "body" in context:
        context["body"] = context["body"].replace(' role="doc-biblioentry"', ' role="listitem"')


def setup(app):
    app.connect("html-page-context", fix_roles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
