"""The ``backprop`` command: run the report's experiments, train one network, manage the data.

::

    backprop experiment NAME... | all [--seeds S] [--jobs J | --dask ADDRESS] [--force]
                                      [--epochs N] [--results DIR] [--quiet]
    backprop claims [--seeds S] [--jobs J | --dask ADDRESS] [--epochs N] [--results DIR]
    backprop train [--hidden 64 ...] [--activation sigmoid] [--init uniform] [--table]
                   [...]
    backprop data [--data-dir DIR] [--no-download]
    backprop book [--source docs] [--output docs/_build/html] [--fresh] [--pdf]
    backprop exercises
    backprop check NAME FILE [--timeout 60]
    backprop grade SUBMISSION... --output grades.csv [--exercises NAME...]
                                 [--points points.toml] [--update] [--seed S]
                                 [--jobs J | --dask ADDRESS] [--quiet]
    backprop grade --gradescope DIR [--exercises NAME...] [--points points.toml]

Runs go to worker processes (``--jobs``, every core by default) or to a Dask cluster
(``--dask tcp://HOST:PORT``, the ``cluster`` extra); this process alone writes the results
store. Long work shows a progress bar on a terminal; it stays out of logs and pipes, and
``--quiet`` hides it everywhere. A bad option is one line on standard error and exit code 2;
every option is checked before any data is read. Any other failure (corrupt data, a
diverging run, a results directory that cannot be written) is one line and exit code 1;
missing data takes at most five, to say what is missing, why it could not be downloaded,
and where to put it. Results, figures and ``summary.md`` are saved before anything is
printed, so a closed pipe or a full disk on standard output loses no work.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import backprop
from backprop import book, claims, experiments, parallel, reports, runs, store
from backprop import data as mnist
from backprop.activations import ACTIVATIONS
from backprop.checks import int_in_range
from backprop.initialization import INITIALIZERS
from backprop.network import check_memory
from backprop.preprocessing import assignment_data

USAGE_ERROR = 2
FAILURE = 1


class UsageError(ValueError):
    """A bad option, found before any work starts: exit code 2."""


def _options(make):
    """Build something from the options, turning a ValueError into a :class:`UsageError`."""
    try:
        return make()
    except ValueError as error:
        raise UsageError(str(error)) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Tally:
    """How many runs of a sweep were trained, and how many served from the store."""

    def __init__(self) -> None:
        self.trained = self.served = 0

    def __call__(self, result: runs.RunResult, computed: bool) -> None:
        """Count one run done."""
        if computed:
            self.trained += 1
        else:
            self.served += 1


def _progress(arguments: argparse.Namespace) -> bool | None:
    """Progress on a terminal unless --quiet: never in a pipe or a log."""
    return False if arguments.quiet else None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not positive")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{text} is not from 0 to 2**32 - 1")
    return value


def _address(text: str) -> str:
    try:
        return parallel.check_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _where_options(parser: argparse.ArgumentParser, verb: str) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive_int,
                       help=f"worker processes (default every core: {parallel.default_jobs()})")
    where.add_argument("--dask", type=_address, metavar="ADDRESS",
                       help=f"{verb} on a Dask cluster's workers, tcp://HOST:PORT (needs the "
                            "cluster extra, and the package on every worker)")


def _sweep_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=_positive_int, default=1,
                        help="train every run from seeds 0 to S-1 (default 1)")
    _where_options(parser, "train")
    parser.add_argument("--epochs", type=_positive_int, help="epochs per run (default 50)")
    parser.add_argument("--results", type=Path,
                        help="the results directory (default $BACKPROP_RESULTS_DIR or "
                             "./results)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def plain(text: str) -> str:
    """The text with reStructuredText's inline markup taken out, as a terminal shows it.

    A name in double backquotes, or in a role such as ``:func:``, keeps only the name.
    """
    return re.sub(r"``([^`]+)``|:\w+:`~?([^`]+)`", lambda m: m.group(1) or m.group(2), text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="backprop", description=plain(__doc__.split("\n\n")[0]))
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {backprop.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    experiment = commands.add_parser(
        "experiment", help="run the report's experiments and write figures and a summary")
    experiment.add_argument("names", nargs="+", metavar="NAME",
                            help=f"one or more of {', '.join(runs.EXPERIMENTS)}, or all")
    experiment.add_argument("--force", action="store_true",
                            help="retrain even where a saved result exists")
    _sweep_options(experiment)

    claim = commands.add_parser(
        "claims", help="judge the report's claims over seeds, running what they need")
    _sweep_options(claim)

    train = commands.add_parser("train", help="train one network and print its figures")
    train.add_argument("--hidden", type=_positive_int, nargs="+", default=[64],
                       metavar="UNITS", help="hidden layer sizes (default 64)")
    train.add_argument("--activation", choices=sorted(ACTIVATIONS), default="sigmoid")
    train.add_argument("--init", choices=sorted(INITIALIZERS), default="uniform")
    train.add_argument("--learning-rate", type=float, default=0.1)
    train.add_argument("--momentum", type=float, default=0.0)
    train.add_argument("--batch-size", type=_positive_int, default=32)
    train.add_argument("--epochs", type=_positive_int, default=50)
    train.add_argument("--early-stopping", type=_positive_int, default=50,
                       help="checks without improvement before stopping (default 50)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    train.add_argument("--table", action="store_true",
                       help="print the figures as the summary's Markdown table, a column "
                            "each, rather than a line each")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    data = commands.add_parser("data", help="show where MNIST is, verify it, fetch what "
                                            "is missing")
    data.add_argument("--data-dir", type=Path,
                      help="the MNIST directory (default $BACKPROP_DATA_DIR or the cache)")
    data.add_argument("--no-download", action="store_true", help="only look, never download")

    building = commands.add_parser("book", help="build the book, executing every "
                                                "experiment (needs the docs extra)")
    building.add_argument("--source", type=Path, default=Path("docs"),
                          help="the book's sources (default docs)")
    building.add_argument("--output", type=Path, default=Path("docs/_build/html"),
                          help="where the HTML goes (default docs/_build/html)")
    building.add_argument("--fresh", action="store_true",
                          help="read every page again (executed pages still come from the "
                               "cache)")
    building.add_argument("--jobs", type=_positive_int,
                          help=f"worker processes for the experiments (default every core: "
                               f"{parallel.default_jobs()})")
    building.add_argument("--pdf", action="store_true",
                          help="the PDF edition too, typeset by xelatex from the same executed "
                               "pages, into the HTML's folder as backprop.pdf (needs TeX Live: "
                               f"apt-get install {' '.join(book.TEX_PACKAGES)})")
    building.add_argument("--quiet", action="store_true", help="no progress bar")
    commands.add_parser("exercises", help="list the exercises that backprop check can check")
    check = commands.add_parser(
        "check", help="check an answer to an exercise, defined in a Python file",
        description="Check the answer to exercise NAME that FILE defines: a function named "
                    "answer for a code exercise, a list named steps for a derivation, or a "
                    "value named answer for a choice (answer = \"b\") or a number (answer = "
                    "\"sqrt(785/3)\"), of which only the text comes back. FILE "
                    "runs in a child Python process with limits on its time, memory, files "
                    "and processes (inside bubblewrap where bwrap is installed); this process "
                    "draws the inputs and decides. Without bubblewrap it is NOT a sandbox: the "
                    "file can read whatever you can, so check only files you would run "
                    "yourself.")
    check.add_argument("name", metavar="NAME", help="the exercise (see backprop exercises)")
    check.add_argument("file", metavar="FILE", type=Path,
                       help="a Python file that defines answer (code, a choice or a number) "
                            "or steps (a derivation)")
    check.add_argument("--timeout", type=_positive_int, default=60,
                       help="seconds the file may take to run and load (default 60)")
    grade = commands.add_parser(
        "grade", help="grade a class's submissions into a gradebook and feedback files",
        description="Grade every exercise for every student. A submission is a student's "
                    ".py file (a function, list of steps or value per exercise, named after it "
                    "with _ for -), filled-in exercise notebook (.ipynb) or folder of these, the "
                    "student named by its stem. Writes OUTPUT (student, exercise, points, "
                    "max_points, passed, message, seed) and beside it gradebook.csv (a column "
                    "per exercise), canvas.csv, moodle.csv, summary.md, summary.png and "
                    "STUDENT.md for each student. Every answer runs in a child process with "
                    "limits inside bubblewrap; grading refuses to start without it unless "
                    "told --no-sandbox.")
    grade.add_argument("submissions", nargs="*", metavar="SUBMISSION", type=Path,
                       help="a student's .py file, .ipynb notebook or folder")
    grade.add_argument("--output", type=Path,
                       help="the grade sheet to write, a .csv (its folder gets the other "
                            "files); needed unless --gradescope")
    grade.add_argument("--exercises", nargs="+", metavar="NAME",
                       help="grade these exercises only (default all; see backprop "
                            "exercises)")
    grade.add_argument("--points", type=Path, metavar="TOML",
                       help="a TOML file whose [points] table gives exercises their points "
                            "(default: code 3, a derivation 2, a choice or a number 1)")
    grade.add_argument("--update", action="store_true",
                       help="grade only the SUBMISSIONs given and merge them into OUTPUT's "
                            "files, keeping the other students' rows")
    grade.add_argument("--gradescope", type=Path, metavar="DIR",
                       help="write a Gradescope autograder (setup.sh, run_autograder) into "
                            "DIR instead of grading: it grades /autograder/submission with "
                            "these --exercises and --points")
    grade.add_argument("--seed", type=_seed, default=None,
                       help="draw the code answers' inputs from this seed, as a grade sheet's "
                            "seed column records it, to grade again exactly (default: a "
                            "fresh seed, so that no answer can know its inputs)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="grade without bubblewrap: every answer then runs with your "
                            "rights, and can read your files and the other submissions")
    _where_options(grade, "grade")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    command = {"experiment": _experiment, "claims": _claims, "train": _train, "data": _data,
               "book": _book, "exercises": _exercises, "check": _check,
               "grade": _grade}[arguments.command]
    try:
        return command(arguments)
    except UsageError as error:
        parser.error(str(error).splitlines()[0])
    except BrokenPipeError:
        # The reader went away (``| head``): end quietly, and let nothing flush at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return FAILURE
    except mnist.MNISTNotFoundError as error:
        # What is missing, why, and where to put it: a few lines written to be read whole.
        print(f"backprop: {error}", file=sys.stderr)
        return FAILURE
    except (ValueError, ArithmeticError, OSError, ImportError) as error:
        print(f"backprop: {str(error).splitlines()[0]}", file=sys.stderr)
        return FAILURE


def check_seeds(seeds: int) -> int:
    """The number of seeds, checked against :data:`backprop.experiments.MAX_SEEDS`."""
    return int_in_range(seeds, "seeds", 1, experiments.MAX_SEEDS)


def _sweep(
    arguments: argparse.Namespace, names: list[str], tally: Tally | None = None
) -> dict[str, list]:
    """Run the experiments named over the seeds asked for; their runs, by experiment.

    ``tally`` counts the runs trained and served, ``arguments.extra`` among them where given.
    """
    selected = _options(lambda: list(runs.iter_experiments(names)))
    _options(lambda: check_seeds(arguments.seeds))
    # BACKPROP_EPOCHS is read here, so that a malformed value is refused before the data.
    for experiment in selected:
        experiments.experiment_configs(experiment.name, arguments.epochs)
    directory = store.results_directory(arguments.results)
    store.check_writable(directory)
    extra = getattr(arguments, "extra", ())
    data = assignment_data(dtype=runs.widest_dtype(
        [*extra, *(config for experiment in selected for config in experiment.all_runs)]))
    return experiments.run_experiments(
        [experiment.name for experiment in selected], data, directory,
        seeds=arguments.seeds, force=getattr(arguments, "force", False),
        epochs=arguments.epochs, jobs=arguments.jobs, dask=arguments.dask,
        on_result=tally, progress=_progress(arguments), extra=extra)


def _experiment(arguments: argparse.Namespace) -> int:
    found = _sweep(arguments, arguments.names)
    directory = store.results_directory(arguments.results)
    # Drawing is the only use of matplotlib: importing it here keeps --help quick.
    from backprop import plotting

    sections, tables = [], []
    for name, groups in found.items():
        experiment = runs.EXPERIMENTS[name]
        figures = [
            *plotting.save(plotting.plot_training(groups, experiment.title),
                           directory / "figures" / f"{experiment.name}-training"),
            *plotting.save(plotting.plot_gradient_norms(groups[len(experiment.compare_with):],
                                                        experiment.title),
                           directory / "figures" / f"{experiment.name}-gradients"),
        ]
        sections.append(reports.experiment_section(experiment, groups, figures))
        tables.append(f"{experiment.title}\n{reports.summary_table(groups)}")
    summary = directory / "summary.md"
    document = reports.summary_document(sections).encode()
    store.write_atomically(summary, lambda file: file.write(document))
    _print("\n".join(tables) + f"\nFigures and summary table in {directory}/ (open {summary})")
    return 0


def _claims(arguments: argparse.Namespace) -> int:
    found = _sweep(arguments, claims.needed_experiments())
    verdicts = claims.evaluate(group for groups in found.values() for group in groups)
    _print(claims.table(verdicts) + f"\n{claims.RULE}")
    return 0


def _print(text: str) -> None:
    """Print and flush, so that a failing standard output is seen here, after the work."""
    print(text)
    sys.stdout.flush()


def _train(arguments: argparse.Namespace) -> int:
    config = _options(lambda: runs.Config(
        name="train", label="backprop train",
        neurons_per_layer=(*arguments.hidden, 10), activation=arguments.activation,
        init=arguments.init, learning_rate=arguments.learning_rate,
        momentum=arguments.momentum, batch_size=arguments.batch_size, epochs=arguments.epochs,
        early_stopping=arguments.early_stopping, seed=arguments.seed, dtype=arguments.dtype,
    ))
    _options(lambda: check_memory((785, *config.neurons_per_layer), config.dtype))
    directory = store.results_directory()
    store.check_writable(directory)
    data = assignment_data(dtype=arguments.dtype)
    result = experiments.run(
        config, data, directory,
        progress=_progress(arguments),
    )
    group = runs.SeededRuns(config, (result,))
    sizes = "-".join(map(str, (784, *config.neurons_per_layer)))
    title = (f"{sizes}, {config.activation}, {config.init} init\nlearning rate "
             f"{config.learning_rate:g}, momentum {config.momentum:g}, batch {config.batch_size}")
    _print(reports.summary_table([group]) if arguments.table
           else reports.summary_lines(group, title))
    return 0


def _data(arguments: argparse.Namespace) -> int:
    directory = mnist.data_directory(arguments.data_dir)
    paths = mnist.locate_files(directory, download=not arguments.no_download)
    print(f"MNIST directory: {directory}")
    loaded = mnist.load_mnist(directory, download=False)
    for path, array in zip(paths, loaded, strict=True):
        kind = "images" if array.ndim == 2 else "labels"
        print(f"  {path.name}: verified, {len(array):,} {kind}")
    return 0


def _exercises(arguments: argparse.Namespace) -> int:
    from backprop.exercises import EXERCISES

    width = max(map(len, EXERCISES))
    _print("\n".join(f"{name:<{width}}  {exercise.kind:<10}  {exercise.title}"
                      for name, exercise in EXERCISES.items()))
    return 0


def _check(arguments: argparse.Namespace) -> int:
    from backprop.exercises import EXERCISES, check_file

    if arguments.name not in EXERCISES:
        raise UsageError(f"unknown exercise {arguments.name!r}; backprop exercises lists them")
    if not arguments.file.is_file():
        raise UsageError(f"{arguments.file} is not a file")
    feedback = check_file(arguments.name, arguments.file, arguments.timeout)
    _print(str(feedback))
    return 0 if feedback.passed else FAILURE


def _grade(arguments: argparse.Namespace) -> int:
    from backprop.exercises import EXERCISES, gradebook, grading

    for name in arguments.exercises or ():
        if name not in EXERCISES:
            raise UsageError(f"unknown exercise {name!r}; backprop exercises lists them")
    points = (_options(lambda: gradebook.read_points(arguments.points))
              if arguments.points else None)
    exercises = list(arguments.exercises or EXERCISES)
    if arguments.gradescope:
        return _gradescope(arguments, exercises, points)
    output = arguments.output
    if output is None or not arguments.submissions:
        raise UsageError("give the submissions to grade and --output, the grade sheet to "
                         "write (or --gradescope DIR to write an autograder)")
    if output.suffix != ".csv":
        raise UsageError(f"--output {output} is not a .csv file: give the grade sheet's name, "
                         "such as grades/grades.csv")
    folder = output.parent
    old = []
    if arguments.update:
        if not output.is_file():
            raise UsageError(f"--update merges into {output}, which does not exist: grade the "
                             "class without --update first")
        old = _options(lambda: gradebook.read_sheet(output))
        _options(lambda: gradebook.check_same(old, exercises,
                                              gradebook.points_of(exercises, points)))
    submissions = _options(lambda: grading.collect(arguments.submissions, ignore=folder))
    store.check_writable(folder, "the grades' folder", "give another --output")
    grades = grading.grade_all(submissions, exercises, jobs=arguments.jobs,
                               dask=arguments.dask, progress=_progress(arguments),
                               seed=arguments.seed, sandbox=not arguments.no_sandbox,
                               points=points)
    seed = grades[0].seed
    if arguments.update:
        grades = gradebook.merged(old, grades)
    gradebook.write(grades, output, [submission.student for submission in submissions])
    graded = len(submissions)
    print(gradebook.summary_markdown(grades))
    print(f"Graded {graded} {'student' if graded == 1 else 'students'}, inputs drawn from "
          f"seed {seed} (--seed {seed} grades the same way again). The sheet is {output}; "
          f"beside it gradebook.csv, canvas.csv, moodle.csv, summary.md and each student's "
          f"feedback, as in {folder / submissions[0].student}.md.")
    return 0


def _gradescope(arguments: argparse.Namespace, exercises: list[str],
                points: dict[str, float] | None) -> int:
    from backprop.exercises import gradescope

    if arguments.submissions or arguments.output or arguments.update:
        raise UsageError("--gradescope writes an autograder and grades nothing: give it no "
                         "submissions, --output or --update")
    folder = arguments.gradescope
    store.check_writable(folder, "the autograder's folder", "give another --gradescope")
    written = gradescope.write_autograder(folder, exercises, points)
    print(f"Wrote a Gradescope autograder of {len(exercises)} exercises into {folder}: "
          f"{', '.join(path.name for path in written)}. Zip the folder's contents (cd "
          f"{folder} && zip -r ../autograder.zip .) and upload it as the assignment's "
          "autograder.")
    return 0


def _book(arguments: argparse.Namespace) -> int:
    if not (arguments.source / "conf.py").is_file():
        raise UsageError(f"no book in {arguments.source}/: run this from the repository's root "
                         "or give --source")
    try:
        import myst_nb  # noqa: F401 -- only to say what is missing
    except ImportError:
        raise ValueError('the book needs the docs extra: pip install -e ".[docs]"') from None
    if arguments.pdf:
        missing = book.missing_tex()
        if missing:
            raise ValueError(f"the PDF edition needs {' and '.join(missing)}, from TeX Live: "
                             f"apt-get install {' '.join(book.TEX_PACKAGES)}")
    directory = store.results_directory().resolve()
    # Every experiment first, on every core: the pages then find each run in the store.
    start = time.perf_counter()
    tally = Tally()
    sweep = argparse.Namespace(seeds=runs.BOOK_SEEDS, jobs=arguments.jobs, dask=None,
                               epochs=None, results=directory, quiet=arguments.quiet,
                               extra=runs.BOOK_EXTRA_RUNS)
    _sweep(sweep, ["all"], tally)
    record = {"seeds": runs.BOOK_SEEDS, "jobs": parallel.check_jobs(arguments.jobs),
              "trained": tally.trained, "served": tally.served,
              "seconds": time.perf_counter() - start}
    store.write_atomically(directory / store.BOOK_SWEEP,
                           lambda file: file.write(json.dumps(record, indent=2).encode()))
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
               str(arguments.source), str(arguments.output)]
    if arguments.fresh:
        command.insert(3, "-E")
    middle = time.perf_counter()
    environment = {**os.environ, "BACKPROP_RESULTS_DIR": str(directory),
                   "BACKPROP_BOOK_PDF": "1" if arguments.pdf else ""}
    status = subprocess.run(command, check=False, env=environment).returncode
    if status == 0 and arguments.pdf:
        status = book.typeset_pdf(arguments.source, arguments.output, environment)
    print(f"The experiments took {record['seconds']:.0f} s ({record['trained']} runs trained, "
          f"{record['served']} served from the store, {record['jobs']} workers); the rest of "
          f"the book {time.perf_counter() - middle:.0f} s.")
    if status == 0:
        print(f"The book is built: open {(arguments.output / 'index.html').resolve()}")
        if arguments.pdf:
            print(f"Its PDF edition: {(arguments.output / book.PDF).resolve()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
