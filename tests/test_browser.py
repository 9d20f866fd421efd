"""The built book in a real browser: math typeset, figures loaded, nothing fetched from outside.

The test builds a shortened book (every run cut to one epoch) into a temporary directory,
serves it on 127.0.0.1, and opens every page in Debian's Chromium, driven by Playwright.
Each chapter shows its code, and the notebook its download menu offers runs alone in an
empty folder and reads as plain Jupyter in JupyterLab.
"""

import functools
import html
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

import backprop

playwright = pytest.importorskip("playwright.sync_api",
                                 reason="the browser test needs the docs extra")
CHROMIUM = shutil.which("chromium")
DOCS = Path(__file__).resolve().parent.parent / "docs"

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install "
                                                "chromium)"),
    pytest.mark.skipif(not os.environ.get("BACKPROP_DATA_DIR"),
                       reason="the book reads MNIST: set BACKPROP_DATA_DIR"),
]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync",
                  "--disable-quic"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A shortened build of the book's HTML: its folder, and the environment it was built in."""
    root = tmp_path_factory.mktemp("book")
    environment = dict(os.environ, BACKPROP_EPOCHS="1",
                       BACKPROP_RESULTS_DIR=str(root / "results"), BACKPROP_BOOK_PDF="1")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-b", "html", str(DOCS),
         str(root / "html")],
        env=environment, capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    # The kernels that executed the pages said nothing on the build's output.
    assert "IPKernelApp" not in build.stdout + build.stderr
    return root / "html", environment


@pytest.fixture(scope="module")
def site(built):
    handler = functools.partial(QuietHandler, directory=str(built[0]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# Two glued equations per derivation on the first chapter; the equal width on topology.
TYPESET_AT_LEAST = {"backpropagation": 26, "topology": 1, "tricks": 1}
FIGURES = {"backpropagation": 2, "mnist": 2, "one-hidden-layer": 1, "tricks": 1, "topology": 2,
           "performance": 1, "vanishing-gradients": 2}
TABLES = {"one-hidden-layer", "tricks", "topology", "performance", "vanishing-gradients",
          "index", "teachers"}
PAGES = ["index", "backpropagation", "mnist", "one-hidden-layer", "tricks", "topology",
         "performance", "vanishing-gradients", "api", "reproducibility",
         "exercises/backpropagation", "exercises/tricks", "references", "teachers"]


def stay_local(tab):
    """Refuse every request from ``tab`` that leaves 127.0.0.1; the list of those refused."""
    outside = []

    def route(request_route):
        if urlparse(request_route.request.url).hostname != "127.0.0.1":
            outside.append(request_route.request.url)
            request_route.abort()
        else:
            request_route.continue_()

    tab.route("**/*", route)
    return outside


def typeset(tab):
    """Wait until MathJax, where a page loads it, has typeset the page."""
    tab.wait_for_function("() => !window.MathJax || (window.MathJax.startup && "
                          "window.MathJax.startup.promise)", timeout=30_000)
    tab.evaluate("() => window.MathJax ? window.MathJax.startup.promise : null")


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(site, browser, page):
    errors = []
    context = browser.new_context()
    tab = context.new_page()
    outside = stay_local(tab)
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{site}/{page}.html", wait_until="networkidle")
    typeset(tab)
    assert outside == []
    assert errors == []
    assert tab.locator("mjx-merror").count() == 0
    text = tab.evaluate("() => { const clone = document.querySelector('main').cloneNode(true);"
                        " clone.querySelectorAll('pre, code, .highlight, mjx-container,"
                        " script').forEach(e => e.remove()); return clone.innerText; }")
    for raw in ("\\frac", "\\begin", "\\partial", "$$", "\\("):
        assert raw not in text, f"raw TeX {raw!r} left on {page}"
    assert tab.locator("mjx-container").count() >= TYPESET_AT_LEAST.get(page, 0)
    images = tab.locator("main img").all()
    assert len(images) >= FIGURES.get(page, 0)
    assert tab.locator("main table").count() >= (1 if page in TABLES else 0)
    for image in images:
        assert image.get_attribute("alt"), f"an image on {page} has no alt text"
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    context.close()


def axe_core():
    """The path of axe-core's script, as axe-playwright-python ships it."""
    axe = pytest.importorskip("axe_playwright_python", reason="axe-core comes with the docs "
                                                             "extra")
    return Path(axe.__file__).parent / "axe.min.js"


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("page", [*PAGES, "genindex", "py-modindex", "search"])
def test_axe_core_finds_nothing_wrong(site, browser, page, mode):
    context = browser.new_context(color_scheme=mode)
    # The theme's own switch, as a reader who chose the mode leaves it.
    context.add_init_script(f"localStorage.setItem('mode', '{mode}');"
                            f"localStorage.setItem('theme', '{mode}');")
    tab = context.new_page()
    outside = stay_local(tab)
    tab.goto(f"{site}/{page}.html", wait_until="networkidle")
    typeset(tab)
    assert tab.evaluate("() => document.documentElement.dataset.theme") == mode
    tab.add_script_tag(path=str(axe_core()))
    violations = tab.evaluate("""async () => (await axe.run(document, {
        resultTypes: ['violations']})).violations.map(v => [v.id, v.impact,
        v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)])""")
    assert violations == []
    assert outside == []
    context.close()


CHAPTERS = ["backpropagation", "mnist", "one-hidden-layer", "tricks", "topology",
            "vanishing-gradients", "performance"]

# Elements that would scroll sideways: code, outputs, tables and displayed equations.
WIDE = """() => [...document.querySelectorAll(
    'main pre, main table, main mjx-container[display="true"]')]
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => e.tagName + ': ' + e.textContent.slice(0, 60))"""


def test_the_book_has_ten_figures_or_more():
    assert sum(FIGURES.values()) >= 10


@pytest.mark.parametrize("page", PAGES)
def test_nothing_is_wider_than_the_column(site, browser, page):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(f"{site}/{page}.html", wait_until="networkidle")
    typeset(tab)
    # Folded outputs and solutions too, as a reader who opens them sees them.
    tab.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    assert tab.evaluate(WIDE) == []
    tab.set_viewport_size({"width": 390, "height": 844})
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= 390
    context.close()


def test_the_api_reference_documents_no_solution(site, browser):
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{site}/api.html")
    assert tab.locator('[id^="backprop.solutions"]').count() == 0
    context.close()


def test_the_backpropagation_chapter_shows_each_function_once(site, browser):
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{site}/backpropagation.html")
    code = tab.locator("main pre").all_inner_texts()
    defined = [name for block in code for name in re.findall(r"^def (\w+)\(", block, re.M)]
    assert defined, "the chapter shows no function's code"
    # Every exercise's folded solution is a function named answer.
    repeated = {name for name in defined if defined.count(name) > 1} - {"answer"}
    assert repeated == set()
    context.close()


@pytest.mark.parametrize("page", CHAPTERS)
def test_a_chapter_shows_its_code_and_its_notebook_runs_alone(site, browser, page, tmp_path,
                                                             monkeypatch):
    tab = browser.new_context().new_page()
    tab.goto(f"{site}/{page}.html")
    shown = tab.locator("main div.cell:not(.tag_remove-input) > div.cell_input")
    assert shown.count() >= 1, f"{page} shows no code"
    assert tab.locator("main div.cell_output").count() >= 1
    link = tab.locator("a.btn-download-notebook-button")
    assert link.count() == 1
    assert link.text_content().strip() == ".ipynb"
    url = urljoin(tab.url, link.get_attribute("href"))
    tab.context.close()

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    folder = tmp_path / "alone"
    folder.mkdir()
    path = folder / f"{page}.ipynb"
    path.write_bytes(urllib.request.urlopen(url).read())
    notebook = nbformat.read(path, as_version=4)
    assert not any("{glue" in cell.source for cell in notebook.cells
                   if cell.cell_type == "markdown"), "a glued value was left out"
    # Alone: no results store, no docs tree, only the package and the data (the kernel
    # inherits this environment), each run cut to one epoch.
    monkeypatch.delenv("BACKPROP_RESULTS_DIR", raising=False)
    monkeypatch.setenv("BACKPROP_EPOCHS", "1")
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error"
            assert not (output.output_type == "stream" and output.name == "stderr"), output.text


def test_the_landing_page_says_how_to_cite(site):
    page = urllib.request.urlopen(f"{site}/index.html").read().decode()
    assert 'id="how-to-cite"' in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "@software{backprop_textbook" in text
    assert f"version = {{{backprop.__version__}}}" in text
    assert f"(version {backprop.__version__})" in text


@pytest.mark.parametrize("page", [*CHAPTERS, "exercises/tricks"])
def test_a_page_opens_its_notebook_in_colab_and_binder(site, page):
    html = urllib.request.urlopen(f"{site}/{page}.html").read().decode()
    links = set(re.findall(r'href="(https://(?:colab\.research\.google\.com|mybinder\.org)'
                           r'/[^"]+)"', html))
    repository = "backprop-textbook/backprop"
    assert links == {
        f"https://colab.research.google.com/github/{repository}/blob/notebooks/{page}.ipynb",
        f"https://mybinder.org/v2/gh/{repository}/notebooks?labpath="
        + urllib.parse.quote(f"{page}.ipynb", safe=""),
    }


@pytest.fixture(scope="module")
def pdf(built):
    """The PDF edition of the shortened build, typeset as backprop book --pdf does."""
    from backprop import book

    if book.missing_tex() or shutil.which("pdfinfo") is None:
        pytest.skip("the PDF edition needs TeX Live and poppler-utils: apt-get install "
                    f"{' '.join(book.TEX_PACKAGES)} poppler-utils")
    folder, environment = built
    assert book.typeset_pdf(DOCS, folder, environment) == 0
    return folder / book.PDF


def pdf_text(path):
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_pdf_edition_has_every_chapter_and_no_raw_markup(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)[1])
    assert pages >= 60
    text = pdf_text(pdf)
    # Each chapter's title, its first heading.
    titles = [re.search(r"^# (.+)$", (DOCS / f"{page}.md").read_text(), re.MULTILINE)[1]
              for page in CHAPTERS]
    flat = " ".join(text.split())
    for title in titles:
        assert title in flat, title
    for raw in ("\\frac", "\\begin{", "\\partial", "$$", "{glue", ":::", "{doc}", "{ref}",
                "{cite", "```{"):
        assert raw not in text, f"raw markup {raw!r} in the PDF"
    # The worked example's step-through, on paper as its numbered list of steps.
    assert "the HTML edition steps through them in a figure" in flat


def test_every_font_of_the_pdf_is_embedded(pdf):
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts
    # Columns: name, type, encoding, emb, sub, uni, object ID.
    assert [line for line in fonts if line.split()[-5] != "yes"] == []


def test_the_landing_page_links_the_pdf(site, pdf):
    page = urllib.request.urlopen(f"{site}/index.html").read().decode()
    assert 'href="backprop.pdf"' in page
    with urllib.request.urlopen(f"{site}/backprop.pdf") as response:
        assert response.read(5) == b"%PDF-"


def test_no_progress_display_lands_in_a_built_page(site):
    for page in (f"{site}/{page}.html" for page in CHAPTERS):
        html = urllib.request.urlopen(page).read().decode()
        assert "widget-view+json" not in html, page
        assert re.search(r"(runs|steps):\s+\d+%", html) is None, page


def printed_matrix(output: str, title: str) -> list[float]:
    """The numbers numpy printed below a line that starts with ``title``."""
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(title)) + 1
    block = []
    for line in lines[start:]:
        if not re.match(r"\s*\[", line):
            break
        block.append(line)
    return [float(value) for value in re.findall(r"-?\d+\.\d*", " ".join(block))]


def test_the_backward_pass_steps_through_to_the_numbers_the_page_printed(site, browser):
    tab = browser.new_context().new_page()
    outside = stay_local(tab)
    tab.goto(f"{site}/backpropagation.html", wait_until="networkidle")
    printed = next(text for text in tab.locator("main div.cell_output").all_inner_texts()
                   if "dC/dW(1), by backward()" in text)
    stepper = tab.locator(".bp-stepper").first
    text, counter = stepper.locator(".bp-text"), stepper.locator(".bp-counter")
    playwright.expect(text).to_contain_text("Sample 1 of 2: its inputs")
    playwright.expect(counter).to_have_text(re.compile(r"Step 1 of \d+"))
    total = int(counter.text_content().rpartition(" ")[2])
    seen = [text.inner_text()]
    for _ in range(total - 1):
        stepper.get_by_role("button", name="Next step").click()
        seen.append(text.inner_text())
    assert counter.text_content() == f"Step {total} of {total}"
    said = "\n".join(seen)
    # The code's hidden deltas and every gradient, as the page's cell printed them.
    for title in ("delta(1) =", "dC/dW(1), by backward()", "dC/dW(2), by backward()"):
        values = printed_matrix(printed, title)
        assert len(values) == 6, title
        for value in values:
            assert f"{value:.4f}" in said, (title, value)
    # The keyboard moves it too, once the figure has the focus.
    stepper.focus()
    for key, step in (("Home", 1), ("ArrowRight", 2), ("End", total), ("ArrowLeft", total - 1)):
        tab.keyboard.press(key)
        assert counter.text_content() == f"Step {step} of {total}"
    # Each step's text is in the page: the list a reader unfolds holds them all.
    assert stepper.locator("details li").count() == total
    assert outside == []
    tab.context.close()


def test_the_vanishing_gradients_slider_moves_the_bars(site, browser):
    tab = browser.new_context().new_page()
    outside = stay_local(tab)
    tab.goto(f"{site}/vanishing-gradients.html", wait_until="networkidle")
    stepper = tab.locator(".bp-stepper").first
    slider, counter = stepper.locator("input.bp-slider"), stepper.locator(".bp-counter")
    bars = stepper.locator("rect[data-part^=bar-]")
    assert bars.count() == 2 * 11
    before = [bar.get_attribute("height") for bar in bars.all()]
    first_text = stepper.locator(".bp-text").inner_text()
    slider.focus()
    tab.keyboard.press("End")
    total = int(slider.get_attribute("max")) + 1
    assert total > 1
    assert counter.text_content() == f"Check {total} of {total}"
    assert [bar.get_attribute("height") for bar in bars.all()] != before
    assert stepper.locator(".bp-text").inner_text() != first_text
    assert outside == []
    tab.context.close()


@pytest.fixture(scope="module")
def lab(site, tmp_path_factory):
    """JupyterLab on 127.0.0.1 (no token, its own port), holding the notebooks the book offers."""
    root = tmp_path_factory.mktemp("lab")
    folder = root / "notebooks"
    for page in [*CHAPTERS, "exercises/tricks"]:
        path = folder / f"{page}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(urllib.request.urlopen(f"{site}/_sources/{page}.ipynb").read())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Every cell rendered, not only those in view: the checks read the whole notebook.
    tracker = root / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    environment = dict(os.environ, JUPYTER_CONFIG_DIR=str(root / "config"),
                       JUPYTER_RUNTIME_DIR=str(root / "runtime"),
                       JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"),
                       JUPYTERLAB_SETTINGS_DIR=str(root / "settings"))
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         "--IdentityProvider.token=", f"--ServerApp.root_dir={folder}",
         "--LabApp.news_url=None"],
        stdout=log, stderr=subprocess.STDOUT, env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (root / "lab.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "JupyterLab did not start within 90 s"
            try:
                json.load(urllib.request.urlopen(f"{url}/api/status", timeout=5))
                break
            except OSError:
                time.sleep(0.5)
        yield url, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_a_trusted_notebook_s_step_through_steps_in_jupyterlab(lab, browser):
    url, folder = lab
    # Trusted, as a notebook is once its reader has run it: JupyterLab then runs the
    # figure's script, as it does for an output the reader's own kernel has just made.
    subprocess.run([sys.executable, "-m", "jupyter", "trust",
                    str(folder / "backpropagation.ipynb")], check=True, capture_output=True)
    tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    outside = stay_local(tab)
    tab.goto(f"{url}/lab/tree/backpropagation.ipynb?reset")
    stepper = tab.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .bp-stepper").first
    stepper.wait_for(timeout=60_000)
    counter = stepper.locator(".bp-counter")
    playwright.expect(counter).to_have_text(re.compile(r"Step 1 of \d+"), timeout=30_000)
    stepper.scroll_into_view_if_needed()
    stepper.get_by_role("button", name="Next step").click()
    playwright.expect(counter).to_have_text(re.compile(r"Step 2 of \d+"))
    playwright.expect(stepper.locator(".bp-text")).to_contain_text("hidden unit 1 of layer 1")
    assert outside == []
    tab.context.close()


# What JupyterLab would show raw, had MyST survived into a notebook's Markdown.
RAW_MYST = re.compile(r":::|\{cite|\{ref|\{doc|\{glue|\{mod|^\s*\([\w-]+\)=\s*$", re.MULTILINE)


@pytest.mark.parametrize("page", [*CHAPTERS, "exercises/tricks"])
def test_a_downloaded_notebook_reads_as_plain_jupyter_in_jupyterlab(lab, browser, page):
    url, folder = lab
    notebook = json.loads((folder / f"{page}.ipynb").read_text())
    markdown = "".join("".join(cell["source"]) for cell in notebook["cells"]
                       if cell["cell_type"] == "markdown")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    outside = stay_local(tab)
    tab.goto(f"{url}/lab/tree/{page}.ipynb?reset")
    panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    rendered = tab.locator(f"{panel} .jp-MarkdownCell .jp-RenderedMarkdown")
    rendered.first.wait_for(timeout=60_000)
    if "$" in markdown:
        tab.locator(f"{panel} .jp-MarkdownCell mjx-container").first.wait_for(timeout=60_000)
    text = tab.evaluate(
        "() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden)"
        " .jp-MarkdownCell .jp-RenderedMarkdown'))"
        ".map(cell => { const clone = cell.cloneNode(true); clone.querySelectorAll('code, pre,"
        " mjx-container').forEach(e => e.remove()); return clone.textContent; }).join('\\n')")
    assert RAW_MYST.findall(text) == [], f"raw MyST in {page}"
    for raw in ("$$", "\\frac", "\\begin", "\\mathcal"):
        assert raw not in text, f"untypeset maths {raw!r} in {page}"
    assert tab.locator(f"{panel} .jp-MarkdownCell mjx-merror").count() == 0
    # All of it rendered: as many cells on the page as in the file.
    assert tab.locator(f"{panel} .jp-Cell").count() == len(notebook["cells"])
    everything = tab.locator(f"{panel} .jp-Notebook").text_content()
    if page.startswith("exercises/"):
        assert "def answer(" in everything
    else:
        assert "def answer(" not in everything, f"a solution in the {page} notebook"
        # JupyterLab may draw a cell before it renders its text: wait for the text.
        playwright.expect(rendered.first).to_contain_text("BACKPROP_DATA_DIR",
                                                          timeout=60_000)
    assert outside == []
    context.close()
