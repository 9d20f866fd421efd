"""How many BLAS threads a matrix product gets: by the size of the work, in one place.

A product shared between threads costs each thread a wake-up and a share of the result to
hand back; below a few million multiply-adds that costs more than the second core saves.
Measured on the benchmark's machine (two cores, OpenBLAS; the performance chapter shows the
run), whole epochs of the in-place step take as long on two threads as on one for batches of
32 up to 128 hidden units, and less from a quarter of that work more on: batches of 128 or
512, 256 or 1,024 hidden units. Scoring a whole set, a few thousand rows a product, gains
most. So a product of at least :data:`PARALLEL_WORK` multiply-adds gets every core and a
smaller one gets one thread, unless a :class:`ThreadPolicy` says otherwise. A sweep's runs,
in worker processes side by side, each keep to one thread
(:data:`ONE_THREAD`).

The number of threads can change the last bits of a product: OpenBLAS splits a large product
differently between one thread and two. A run's bits therefore depend on its threads as
well as on its seed; the book's runs are all made on one thread, and the results store's key
says so (:mod:`backprop.store`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

from threadpoolctl import ThreadpoolController

from backprop.checks import positive_int


class _Loaded:
    """The BLAS libraries loaded in this process, looked for again once a module is imported.

    Looking for them is slow (milliseconds), and an import can load another: scipy brings an
    OpenBLAS of its own, whose threads must be set with numpy's.
    """

    modules: ClassVar[int] = -1
    libraries: ClassVar[list] = []

    @classmethod
    def blas(cls) -> list:
        if len(sys.modules) != cls.modules:
            cls.modules = len(sys.modules)
            cls.libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        return cls.libraries

PARALLEL_WORK = 4_000_000
"""Multiply-adds from which a product gets every core. A batch of 32 through 785 x 128
weights is 3.2 million: one thread; a batch of 128 through 785 x 64 is 6.4 million, and a
batch of 32 through 785 x 1,024 is 25.7 million: every core."""


def blas_description() -> str:
    """The BLAS numpy's products run on: "openblas 0.3.31 (Haswell kernels)", say.

    OpenBLAS picks its kernels by the processor, unless ``OPENBLAS_CORETYPE`` names them:
    the kernels decide how fast a large product runs, so the timings name them.
    """
    found = []
    for info in (library.info() for library in _Loaded.blas()):
        text = f"{info['internal_api']} {info['version']}"
        if info.get("architecture"):
            forced = " (set by OPENBLAS_CORETYPE)" if os.environ.get("OPENBLAS_CORETYPE") else ""
            text += f", {info['architecture']} kernels{forced}"
        found.append(text)
    return "; ".join(found) or "no BLAS library found"


class blas_threads(AbstractContextManager[None]):  # noqa: N801 - used as a function
    """A context in which BLAS uses ``count`` threads, as before once it ends.

    Setting a count the libraries already have is skipped, so that a context entered once a
    step costs about a microsecond, not the several that threadpoolctl's own takes.
    """

    __slots__ = ("before", "count", "libraries")

    def __init__(self, count: int) -> None:
        self.count = count
        self.before: list[int] = []
        self.libraries: list = []

    def __enter__(self) -> None:
        self.libraries = _Loaded.blas()
        before = [library.get_num_threads() for library in self.libraries]
        self.before = [] if before.count(self.count) == len(before) else before
        for library in self.libraries if self.before else ():
            library.set_num_threads(self.count)

    def __exit__(self, *_: object) -> None:
        for library, threads in zip(self.libraries, self.before, strict=False):
            library.set_num_threads(threads)


def largest_product(layer_sizes: Sequence[int], rows: int) -> int:
    """Multiply-adds of the largest product of ``rows`` rows through the layers' weights."""
    return rows * max(n_in * n_out for n_in, n_out in pairwise(layer_sizes))


def threads_for(multiply_adds: int) -> int:
    """Every core for a product of at least :data:`PARALLEL_WORK` multiply-adds, else 1."""
    return (os.cpu_count() or 1) if multiply_adds >= PARALLEL_WORK else 1


@dataclass(frozen=True)
class ThreadPolicy:
    """BLAS threads for the training steps and for the checks of whole sets.

    Attributes
    ----------
    step_threads : int or None
        Threads while stepping through batches; ``None`` (the default) chooses by the size
        of the step's largest product (:func:`threads_for`).
    check_threads : int or None
        Threads while scoring whole sets; ``None`` chooses the same way.
    """

    step_threads: int | None = None
    check_threads: int | None = None

    def __post_init__(self) -> None:
        positive_int(self.step_threads, "step_threads", optional=True)
        positive_int(self.check_threads, "check_threads", optional=True)

    def steps(self, multiply_adds: int) -> AbstractContextManager[None]:
        """The context for training steps whose largest product has ``multiply_adds``."""
        return blas_threads(self.step_threads or threads_for(multiply_adds))

    def checks(self, multiply_adds: int) -> AbstractContextManager[None]:
        """The context for checks whose largest product has ``multiply_adds``."""
        return blas_threads(self.check_threads or threads_for(multiply_adds))


ONE_THREAD = ThreadPolicy(step_threads=1, check_threads=1)
"""Every run of a sweep computes on one BLAS thread, steps and checks alike: its bits then
depend on nothing but its configuration and data, and parallel runs each keep to their own
core. The results store's key records it."""
