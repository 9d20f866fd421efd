"""The book's sources: its chapters are its table of contents, and they agree on the seeds."""

from pathlib import Path

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
