"""The book's sources: its chapters are its table of contents, and they agree on the seeds."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHAPTERS = sorted(path for path in DOCS.glob("*.md") if path.read_text().startswith("---"))


def test_the_notebook_chapters_are_the_toctree():
    index = (DOCS / "index.md").read_text()
    lines = [line for block in index.split("```{toctree}")[1:]
             for line in block.split("```")[0].splitlines()]
    toctree = [line.strip() for line in lines if line.strip() and not line.startswith(":")]
    assert {path.stem for path in CHAPTERS} <= set(toctree)
    assert all((DOCS / f"{name}.md").exists() for name in toctree)


def test_every_chapter_trains_the_seeds_the_book_command_trains():
    from backprop.runs import BOOK_SEEDS

    for chapter in CHAPTERS:
        for line in chapter.read_text().splitlines():
            if line.startswith("SEEDS = "):
                assert line == f"SEEDS = {BOOK_SEEDS}", chapter.name


def test_every_visible_code_line_fits_80_columns():
    jupytext = pytest.importorskip("jupytext", reason="the book's tests need the docs extra")
    wide = []
    for chapter in CHAPTERS + sorted((DOCS / "exercises").glob("*.md")):
        for cell in jupytext.read(chapter).cells:
            tags = cell.metadata.get("tags", [])
            if cell.cell_type != "code" or {"remove-cell", "remove-input"} & set(tags):
                continue
            wide += [f"{chapter.name}: {line}" for line in cell.source.splitlines()
                     if len(line) > 80]
    assert wide == []


def test_the_api_reference_leaves_the_solutions_out():
    assert "backprop.solutions" not in (DOCS / "api.md").read_text().replace(
        "answers, `backprop.solutions`, are left out", "")


def test_the_landing_page_times_every_chapter_that_trains():
    index = (DOCS / "index.md").read_text()
    listed = index.split("```{chapter-times}")[1].split("```")[0].split()
    training = [path.stem for path in CHAPTERS if "reports.training_time(" in path.read_text()]
    assert sorted(listed) == sorted(training)


def test_the_prose_states_the_check_schedule_and_the_thresholds_the_code_uses():
    from backprop.claims import THRESHOLD, VERY_HIGH
    from backprop.runs import DENSE_CHECKS

    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
    schedules, very_high = set(), set()
    for page in DOCS.glob("*.md"):
        text = " ".join(page.read_text().split())
        schedules |= {(int(every), words[epochs]) for every, epochs in re.findall(
            r"every (\d+) steps over (?:the|their) first (\w+) epochs", text)}
        very_high |= set(re.findall(r"at least (\d+)% of the scored", text))
        assert not {int(p) for p in re.findall(r"(\d+)% validation accuracy", text)} - {
            round(100 * THRESHOLD)}, page.name
    assert schedules == {tuple(DENSE_CHECKS)}
    assert very_high == {f"{100 * VERY_HIGH:.0f}"}
