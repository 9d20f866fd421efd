"""How many BLAS threads each phase of training uses: a small policy its callers apply.

A step on a batch of 32 makes matrix products too small to share well between threads: one
thread is the robust choice on a shared machine (see the benchmarks). A check of the whole
training and validation sets makes large products, which every core speeds up. The
:class:`~backprop.training.Trainer` enters :meth:`ThreadPolicy.steps` around its training
loop and :meth:`ThreadPolicy.checks` around each check; the benchmarks use the same policy.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from threadpoolctl import ThreadpoolController

from backprop.checks import positive_int

# One controller for the process: inspecting the loaded BLAS libraries is slow.
_BLAS = ThreadpoolController()


def blas_description() -> str:
    """The BLAS numpy's products run on: "openblas 0.3.31 (Haswell kernels)", say.

    OpenBLAS picks its kernels by the processor, unless ``OPENBLAS_CORETYPE`` names them:
    the kernels decide how fast a large product runs, so the timings name them.
    """
    found = []
    for info in _BLAS.info():
        if info["user_api"] != "blas":
            continue
        text = f"{info['internal_api']} {info['version']}"
        if info.get("architecture"):
            forced = " (set by OPENBLAS_CORETYPE)" if os.environ.get("OPENBLAS_CORETYPE") else ""
            text += f", {info['architecture']} kernels{forced}"
        found.append(text)
    return "; ".join(found) or "no BLAS library found"


def blas_threads(count: int | None) -> AbstractContextManager[Any]:
    """A context in which BLAS uses ``count`` threads (``None``: leave the setting alone)."""
    return _BLAS.limit(limits=count, user_api="blas")


@dataclass(frozen=True)
class ThreadPolicy:
    """BLAS threads for the training steps and for the checks (``None`` leaves the setting).

    Attributes
    ----------
    step_threads : int or None
        Threads while stepping through batches; 1 by default.
    check_threads : int or None
        Threads while scoring whole sets; every core by default.
    """

    step_threads: int | None = 1
    check_threads: int | None = os.cpu_count()

    def __post_init__(self) -> None:
        positive_int(self.step_threads, "step_threads", optional=True)
        positive_int(self.check_threads, "check_threads", optional=True)

    def steps(self) -> AbstractContextManager[Any]:
        """The context for training steps."""
        return blas_threads(self.step_threads)

    def checks(self) -> AbstractContextManager[Any]:
        """The context for checks of whole sets."""
        return blas_threads(self.check_threads)
