"""A class's grades as a teacher keeps them: points, a gradebook, a course site's files.

A grading run (:mod:`backprop.exercises.grading`) gives a :class:`Grade` per student and
exercise. This module turns them into the files a teacher reads and imports, all written by
:func:`write` into the grades' folder:

=================  ============================================================
``grades.csv``     a row per student and exercise: points, whether it passed, and
                   the message as one sentence that stands alone
``gradebook.csv``  a row per student, a column per exercise's points, then the
                   total, the maximum, the percent and the run's seed
``canvas.csv``     Canvas's gradebook import: one assignment column, the total
``moodle.csv``     Moodle's grade import: a username, a column per exercise
``summary.md``     the class at a glance: mean and median, each exercise's pass
                   rate and most common hint
``summary.png``    the same as a figure: pass rates, and a histogram of totals
``STUDENT.md``     each student's feedback, every exercise's message in full
=================  ============================================================

Points come from :data:`backprop.exercises.catalogue.DEFAULT_POINTS` by kind, or from a
teacher's TOML file (:func:`read_points`). A grade earns its exercise's points times its
feedback's :attr:`~backprop.exercises.catalogue.Feedback.share`: all of them for an answer
that passes, and for a code answer that does not, the shares of the cases it gets right
(:attr:`~backprop.exercises.catalogue.Exercise.cases`). Every file is written whole
or not at all, and the same grades give the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from backprop import plotting, store
from backprop.exercises.catalogue import DEFAULT_POINTS, EXERCISES, Feedback

SHEET = ("student", "exercise", "points", "max_points", "passed", "message", "seed")
"""The columns of ``grades.csv``, a row per student and exercise."""

ASSIGNMENT = "backprop exercises"
"""The assignment's name in the Canvas file: its one column, which Canvas creates."""


@dataclass(frozen=True)
class Grade:
    """One row of the grade sheet: a student's answer to one exercise, judged.

    ``points`` were earned of ``max_points``; ``seed`` is the grading run's: with it, a
    grading run draws the same inputs again.
    """

    student: str
    exercise: str
    passed: bool
    message: str
    seed: int | None = None
    points: float = 0.0
    max_points: float = 0.0


def points_of(exercises: Sequence[str], points: Mapping[str, float] | None = None
              ) -> dict[str, float]:
    """Each exercise's points: ``points``'s where it names the exercise, else its kind's."""
    given = points or {}
    return {name: float(given.get(name, DEFAULT_POINTS[EXERCISES[name].kind]))
            for name in exercises}


def read_points(path: str | Path) -> dict[str, float]:
    """A teacher's points, from a TOML file's ``[points]`` table of exercise names.

    For example::

        [points]
        sigmoid-derivative = 5
        derive-hidden-update = 4

    Raises
    ------
    ValueError
        If the file cannot be read, is not TOML, has no ``[points]`` table, or names an
        unknown exercise or points that are not a number from 0 to 1000.
    """
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"the points file {path} cannot be read "
                         f"({error.strerror or type(error).__name__})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"the points file {path} is not TOML: {error}") from None
    points = table.get("points")
    if not isinstance(points, dict):
        raise ValueError(f"the points file {path} has no [points] table: write [points], "
                         "then a line per exercise such as sigmoid-derivative = 5")
    read = {}
    for name, value in points.items():
        if name not in EXERCISES:
            raise ValueError(f"the points file {path} names {name!r}, which is not an "
                             f"exercise; the exercises are {', '.join(EXERCISES)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 <= value <= 1000):
            raise ValueError(f"the points file {path} gives {name} {value!r} points: give "
                             "a number from 0 to 1000")
        read[name] = float(value)
    return read


def judged(student: str, exercise: str, feedback: Feedback, seed: int | None,
           max_points: float) -> Grade:
    """The grade a feedback earns: its share of the exercise's points, to 0.01."""
    return Grade(student, exercise, feedback.passed, feedback.message, seed,
                 round(max_points * feedback.share, 2), max_points)


LEADS = re.compile(r"(?:, on this input|\. It ran on this input|"
                   r"\. It was running your function on this input):$")
"""How a message's first line leads into the input shown below it."""


def sentence(message: str) -> str:
    """A message as one sentence that stands alone, for a sheet's cell.

    The first line of a message may lead into the input shown below it (``... the values
    differ, on this input:``); here it ends where its own sense does, and the hint and the
    partial credit, if the message gives them, follow it.
    """
    lines = message.splitlines() or [""]
    first = LEADS.sub(".", lines[0].rstrip())
    hints = [line for line in lines[1:] if line.startswith("Hint: ")]
    credit = [line for line in lines[1:] if line.startswith("Credit: ")]
    return " ".join([first, *hints[:1], *credit[:1]])


def hint_of(message: str) -> str | None:
    """The hint a message gives, if it gives one: on a line of its own, or in a sentence."""
    _, found, hint = message.partition("Hint: ")
    return hint.splitlines()[0] if found and hint else None


def cell(text: str) -> str:
    """Text for a spreadsheet's cell: never read as a formula.

    A cell that starts with ``= + - @`` is a formula to a spreadsheet; a name or a message
    from a student's file never becomes one.
    """
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def uncell(text: str) -> str:
    """The text :func:`cell` was given."""
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t",
                                                                "\r") else text


def number(value: float) -> str:
    """Points as a sheet writes them: ``3``, ``1.5``."""
    return f"{value:g}"


def _csv(rows: Sequence[Sequence[object]]) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue()


def students_of(grades: Sequence[Grade]) -> list[str]:
    """The students, in the grades' order."""
    return list(dict.fromkeys(row.student for row in grades))


def exercises_of(grades: Sequence[Grade]) -> list[str]:
    """The exercises, in the grades' order."""
    return list(dict.fromkeys(row.exercise for row in grades))


def totals(grades: Sequence[Grade]) -> dict[str, float]:
    """Each student's total points."""
    found: dict[str, float] = {}
    for row in grades:
        found[row.student] = round(found.get(row.student, 0.0) + row.points, 2)
    return found


def maximum(grades: Sequence[Grade]) -> float:
    """The most points a student could earn."""
    exercises = {row.exercise: row.max_points for row in grades}
    return round(sum(exercises.values()), 2)


def sheet_csv(grades: Sequence[Grade]) -> str:
    """``grades.csv``: a row per student and exercise, in :data:`SHEET`'s columns."""
    return _csv([SHEET, *([cell(row.student), row.exercise, number(row.points),
                           number(row.max_points), str(row.passed).lower(),
                           cell(sentence(row.message)),
                           "" if row.seed is None else row.seed] for row in grades)])


def gradebook_csv(grades: Sequence[Grade]) -> str:
    """``gradebook.csv``: a row per student, a column of points per exercise, and totals.

    After the exercises come the total, the maximum, the percent and the run's seed.
    """
    exercises, best = exercises_of(grades), maximum(grades)
    earned = {(row.student, row.exercise): row.points for row in grades}
    seeds = {row.student: row.seed for row in grades}
    rows: list[list[object]] = [["student", *exercises, "total", "max", "percent", "seed"]]
    for student, total in totals(grades).items():
        rows.append([cell(student), *(number(earned[student, name]) for name in exercises),
                     number(total), number(best), f"{100 * total / best:.1f}" if best else "",
                     "" if seeds[student] is None else seeds[student]])
    return _csv(rows)


def canvas_csv(grades: Sequence[Grade], assignment: str = ASSIGNMENT) -> str:
    """``canvas.csv``: Canvas's gradebook import, with the total in one assignment column.

    Canvas reads ``Student, ID, SIS User ID, SIS Login ID, Section`` and then a column per
    assignment, which it creates where none has that name; a ``Points Possible`` row gives
    the assignment's points. Canvas matches a row to its student by the SIS Login ID, here
    the submission's name: name submissions by the students' logins.
    """
    rows: list[list[object]] = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                                 assignment],
                                ["Points Possible", "", "", "", "", number(maximum(grades))]]
    rows += [[cell(student), "", "", cell(student), "", number(total)]
             for student, total in totals(grades).items()]
    return _csv(rows)


def moodle_csv(grades: Sequence[Grade]) -> str:
    """``moodle.csv``: Moodle's grade import, a username and a column per exercise.

    Moodle's "Import grades from CSV" maps the ``Username`` column to its users and each
    exercise's column to a grade item the teacher picks (or a new one it creates).
    """
    exercises = exercises_of(grades)
    earned = {(row.student, row.exercise): row.points for row in grades}
    rows: list[list[object]] = [["Username", *exercises, "Total"]]
    rows += [[cell(student), *(number(earned[student, name]) for name in exercises),
              number(total)] for student, total in totals(grades).items()]
    return _csv(rows)


@dataclass(frozen=True)
class Summary:
    """The class at a glance: the totals, and per exercise the pass rate and commonest hint."""

    students: int
    maximum: float
    mean: float
    median: float
    exercises: tuple[str, ...]
    passed: tuple[float, ...]
    hints: tuple[tuple[str, int] | None, ...]
    totals: tuple[float, ...]


def summarised(grades: Sequence[Grade]) -> Summary:
    """The :class:`Summary` of ``grades``."""
    exercises, scores = exercises_of(grades), list(totals(grades).values())
    passed, hints = [], []
    for name in exercises:
        rows = [row for row in grades if row.exercise == name]
        passed.append(sum(row.passed for row in rows) / len(rows))
        counted = Counter(hint for row in rows if not row.passed
                          for hint in [hint_of(row.message)] if hint)
        hints.append(counted.most_common(1)[0] if counted else None)
    return Summary(len(scores), maximum(grades), round(statistics.fmean(scores), 2),
                   round(statistics.median(scores), 2), tuple(exercises), tuple(passed),
                   tuple(hints), tuple(scores))


def summary_markdown(grades: Sequence[Grade]) -> str:
    """``summary.md``: the class's mean and median, then a table of the exercises."""
    summary = summarised(grades)
    seeds = {row.seed for row in grades} - {None}
    drawn = f" The code answers' inputs were drawn from seed {min(seeds)}." if len(
        seeds) == 1 else ""
    lines = ["# The class at a glance", "",
             f"{summary.students} {'student' if summary.students == 1 else 'students'} "
             f"graded, out of {number(summary.maximum)} points: "
             f"mean {number(summary.mean)}, median {number(summary.median)}.{drawn}", "",
             "| exercise | passed | most common mistake hinted |", "| --- | --- | --- |"]
    for name, share, hint in zip(summary.exercises, summary.passed, summary.hints,
                                 strict=True):
        said = (f"{hint[0].replace('|', '&#124;')} ({hint[1]} "
                f"{'student' if hint[1] == 1 else 'students'})" if hint else "")
        lines.append(f"| {name} | {100 * share:.0f}% | {said} |")
    return "\n".join(lines) + "\n"


def plot_summary(grades: Sequence[Grade]) -> Figure:
    """The summary as a figure (:func:`backprop.plotting.plot_class`)."""
    summary = summarised(grades)
    return plotting.plot_class(summary.exercises, summary.passed, summary.totals,
                               summary.maximum)


def feedback_markdown(student: str, grades: Sequence[Grade]) -> str:
    """A student's feedback: a table of points, then each exercise's message in full."""
    earned = round(sum(row.points for row in grades), 2)
    best = round(sum(row.max_points for row in grades), 2)
    seeds = {row.seed for row in grades} - {None}
    drawn = (f" The inputs of the code exercises were drawn from seed {seeds.pop()}."
             if len(seeds) == 1 else "")
    lines = [f"# Feedback for {student}", "",
             f"{number(earned)} of {number(best)} points; {sum(row.passed for row in grades)} "
             f"of {len(grades)} exercises passed.{drawn}", "",
             "| exercise | points | passed |", "| --- | --- | --- |"]
    lines += [f"| {row.exercise} | {number(row.points)} of {number(row.max_points)} | "
              f"{'yes' if row.passed else 'no'} |" for row in grades]
    for row in grades:
        title = EXERCISES[row.exercise].title
        message = str(Feedback(row.passed, row.message))
        fence = "`" * max(3, 1 + max(map(len, re.findall("`+", message)), default=0))
        lines += ["", f"## {title} (`{row.exercise}`): {'passed' if row.passed else 'not yet'}",
                  "", f"{fence}text", message, fence]
    return "\n".join(lines) + "\n"


def read_sheet(path: Path) -> list[Grade]:
    """The grades a ``grades.csv`` holds, as :func:`sheet_csv` wrote them.

    Raises
    ------
    ValueError
        If the file is not a grade sheet of this version (its columns are not
        :data:`SHEET`'s), or names an unknown exercise.
    """
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path} cannot be read as a grade sheet "
                         f"({type(error).__name__})") from None
    if not rows or tuple(rows[0]) != SHEET:
        raise ValueError(f"{path} is not a grade sheet backprop grade wrote: its columns "
                         f"are not {', '.join(SHEET)}; grade the whole class again without "
                         "--update")
    grades = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            student, exercise, points, max_points, passed, message, seed = row
            if exercise not in EXERCISES:
                raise ValueError
            grades.append(Grade(uncell(student), exercise, passed == "true", uncell(message),
                                int(seed) if seed else None, float(points),
                                float(max_points)))
        except ValueError:
            raise ValueError(f"{path}, line {line}, is not a row of a grade sheet") from None
    return grades


def check_same(old: Sequence[Grade], exercises: Sequence[str],
               points: Mapping[str, float]) -> None:
    """Make sure a regrade grades what the sheet holds: the same exercises, the same points.

    Raises
    ------
    ValueError
        If the exercises or their points differ from the sheet's.
    """
    held = {row.exercise: row.max_points for row in old}
    if list(held) != list(exercises):
        raise ValueError(f"the sheet grades {', '.join(held)}; this run grades "
                         f"{', '.join(exercises)}: regrade with the sheet's --exercises, or "
                         "grade the whole class again without --update")
    for name, value in held.items():
        if value != points[name]:
            raise ValueError(f"the sheet gives {name} {number(value)} points and this run "
                             f"{number(points[name])}: regrade with the sheet's --points, or "
                             "grade the whole class again without --update")


def merged(old: Sequence[Grade], new: Sequence[Grade]) -> list[Grade]:
    """The old sheet's grades with the newly graded students' replaced, or added at the end.

    The students stay in the sheet's order, each graded student's rows in place of its old
    ones.
    """
    fresh = {student: [row for row in new if row.student == student]
             for student in students_of(new)}
    result: list[Grade] = []
    for student in students_of(old):
        result += fresh.pop(student, [row for row in old if row.student == student])
    for rows in fresh.values():
        result += rows
    return result


def stale(folder: Path, grades: Sequence[Grade]) -> list[Path]:
    """Feedback files in ``folder`` of students these grades do not hold."""
    students = set(students_of(grades))
    return sorted(path for path in folder.glob("*.md")
                  if path.name != "summary.md" and path.stem not in students
                  and path.read_text(encoding="utf-8", errors="replace").startswith(
                      "# Feedback for "))


def write(grades: Sequence[Grade], output: Path, students: Sequence[str] | None = None
          ) -> list[Path]:
    """Every file of a class's grades: ``output`` (the sheet) and the rest beside it.

    Feedback is written for ``students`` (by default every student the grades hold): a
    regrade writes the regraded students' and keeps the others'. Feedback files left in the
    folder by an earlier run, of students these grades do not hold, are removed, so that no
    student reads another run's feedback as this one's.

    Returns
    -------
    list of Path
        The files written, the feedback files last.
    """
    folder = output.parent
    folder.mkdir(parents=True, exist_ok=True)
    texts = {output: sheet_csv(grades),
             folder / "gradebook.csv": gradebook_csv(grades),
             folder / "canvas.csv": canvas_csv(grades),
             folder / "moodle.csv": moodle_csv(grades),
             folder / "summary.md": summary_markdown(grades)}
    for student in students_of(grades) if students is None else students:
        texts[folder / f"{student}.md"] = feedback_markdown(
            student, [row for row in grades if row.student == student])
    for path in stale(folder, grades):
        path.unlink()
    written = []
    for path, text in texts.items():
        store.write_atomically(path, lambda file, text=text: file.write(text.encode()))
        written.append(path)
    figure = plot_summary(grades)
    picture = folder / "summary.png"
    store.write_atomically(picture, lambda file: figure.savefig(
        file, format="png", dpi=100, metadata={"Software": None}))
    written.insert(5, picture)
    return written
