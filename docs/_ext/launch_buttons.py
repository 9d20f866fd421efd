"""Each executed page opens in Colab or on Binder, as its plain-Jupyter notebook.

The Pages workflow publishes every notebook the download menu offers (``_sources/PAGE.ipynb``,
written by :mod:`notebook_downloads`) on the repository's ``notebooks`` branch, with the
``requirements.txt`` Binder installs; d2l keeps its Colab notebooks in a repository of their
own for the same reason: Colab and Binder open a notebook from GitHub, not from a web page.
This extension adds the two links to the header's launch menu, as sphinx-book-theme draws
its own. The repository is ``backprop_github`` (``OWNER/NAME``) in ``docs/conf.py``.
"""

from __future__ import annotations

from urllib.parse import quote

COLAB = "https://colab.research.google.com/github/{repository}/blob/{branch}/{path}"
BINDER = "https://mybinder.org/v2/gh/{repository}/{branch}?labpath={path}"


def launch_links(repository: str, branch: str, notebook: str) -> dict[str, str]:
    """Where Colab and Binder open ``notebook`` (a path in ``branch`` of ``repository``)."""
    return {"Colab": COLAB.format(repository=repository, branch=branch, path=notebook),
            "Binder": BINDER.format(repository=repository, branch=branch,
                                    path=quote(notebook, safe=""))}


def add_launch_menu(app, pagename, templatename, context, doctree) -> None:
    """Add "Colab" and "Binder" to the header of a page that offers its notebook."""
    notebook = context.get("ipynb_source")
    if not notebook or "header_buttons" not in context:
        return
    links = launch_links(app.config.backprop_github, app.config.backprop_notebooks_branch,
                         notebook)
    icons = {"Colab": "_static/images/logo_colab.png",
             "Binder": "_static/images/logo_binder.svg"}
    context["header_buttons"].append({
        "type": "group", "tooltip": "Run this page's notebook online", "icon": "fas fa-rocket",
        "label": "launch-buttons",
        "buttons": [{"type": "link", "text": name, "tooltip": f"Open in {name}",
                     "icon": icons[name], "url": url} for name, url in links.items()],
    })


def setup(app):
    # It registers backprop_github, and names each page's notebook.
    app.setup_extension("notebook_downloads")
    app.add_config_value("backprop_notebooks_branch", "notebooks", "html")
    # After the theme makes the header's buttons (500), before it draws them.
    app.connect("html-page-context", add_launch_menu, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
