"""Progress displays: a widget in Jupyter, a bar on a terminal, nothing where no one watches.

A sweep of runs, or one long run, takes minutes; these displays show that it is alive. A
sweep shows the runs done over the total (trained here, or served from the results store),
the runs training now and the time left; one run shows its steps, with the latest batch loss
and validation accuracy. They come from ``tqdm.auto``: a widget in Jupyter where ipywidgets
is installed (``pip install -e ".[notebook]"``), text otherwise.

Whether to show one is the ``progress`` argument of the functions that train: ``True``,
``False``, or ``None`` to show it in a Jupyter kernel or on a terminal, never in a pipe or a
log, and never while the environment variable ``BACKPROP_PROGRESS`` is ``0`` (the book sets
it while it executes its pages, so that no display lands in a built page).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from backprop.checks import boolean

if TYPE_CHECKING:
    from backprop.runs import Config, RunResult
    from backprop.training import History

ENVIRONMENT_VARIABLE = "BACKPROP_PROGRESS"
"""Set to ``0`` to hide every display that ``progress=None`` would show."""


def in_jupyter() -> bool:
    """Whether this code runs in a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


def wanted(progress: bool | None) -> bool:
    """Whether to show a display: as asked, or for ``None`` where someone is watching.

    Raises
    ------
    ValueError
        If ``progress`` is neither True, False nor None.
    """
    if progress is not None:
        return boolean(progress, "progress")
    if os.environ.get(ENVIRONMENT_VARIABLE, "").strip() == "0":
        return False
    return in_jupyter() or sys.stderr.isatty()


def bar(total: int, description: str, unit: str, enabled: bool) -> Any:
    """A tqdm display: a widget that stays in a notebook, a bar a terminal clears after."""
    if not enabled:
        from tqdm.std import tqdm

        return tqdm(total=total, disable=True)
    if in_jupyter():
        # Without ipywidgets tqdm.auto falls back to text, and warns about it on stderr.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
        return tqdm(total=total, desc=description, unit=unit, file=sys.stdout)
    from tqdm.std import tqdm

    return tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr,
                dynamic_ncols=True)


class RunsProgress:
    """The runs of a sweep: done over the total, the runs training now, the time left.

    Parameters
    ----------
    total : int
        Runs in the sweep, stored ones included.
    enabled : bool
        Whether to show the display (see :func:`wanted`).
    """

    def __init__(self, total: int, enabled: bool) -> None:
        self.display = bar(total, "runs", "run", enabled)
        self.trained = self.served = 0
        self.pending: list[Config] = []
        self.workers = 1

    def __enter__(self) -> RunsProgress:
        return self

    def __exit__(self, *_: object) -> None:
        self.display.close()

    def start(self, configs: Sequence[Config], workers: int) -> None:
        """Training starts: ``configs`` in the order the ``workers`` take them."""
        self.pending, self.workers = list(configs), workers
        self._describe()

    def __call__(self, result: RunResult, computed: bool) -> None:
        """Count one run done: trained here, or served from the store."""
        if computed:
            self.trained += 1
            self.pending = [c for c in self.pending if c != result.config]
        else:
            self.served += 1
        self._describe()
        self.display.update()

    def _describe(self) -> None:
        # Workers take the runs in order, so the first unfinished ones are those training.
        training = ", ".join(config.stem for config in self.pending[: self.workers])
        text = f"{self.trained} trained, {self.served} stored"
        self.display.set_postfix_str(text + (f"; training {training}" if training else ""),
                                     refresh=False)


class StepsProgress:
    """The steps of one run, with the latest batch loss and validation accuracy.

    Parameters
    ----------
    total : int
        The most steps the run can take (early stopping may end it sooner).
    enabled : bool
        Whether to show the display (see :func:`wanted`).
    description : str
        What the display is labelled.
    """

    def __init__(self, total: int, enabled: bool, description: str = "steps") -> None:
        self.display = bar(total, description, "step", enabled)
        self.loss = float("nan")

    def __enter__(self) -> StepsProgress:
        return self

    def __exit__(self, *_: object) -> None:
        self.display.close()

    def step(self, step: int, loss: float) -> None:
        """Advance by one training step."""
        self.loss = loss
        self.display.update()

    def check(self, step: int, history: History) -> None:
        """Show the latest batch loss and validation accuracy."""
        self.display.set_postfix(loss=f"{self.loss:.3f}",
                                 val_acc=f"{history.val_accuracy[step]:.2%}", refresh=False)
