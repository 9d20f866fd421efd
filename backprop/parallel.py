"""Where runs are computed: in this process, in worker processes, or on a Dask cluster.

:func:`compute` applies one function to many items, each with the same shared data, and
yields the answers as they finish. It is joblib's job: its ``loky`` backend for worker
processes on this machine, and its Dask backend for a ``dask.distributed`` cluster (the
optional ``cluster`` extra). Each worker limits BLAS to one thread, so that two runs never
compete for a core, and the function itself must not depend on where it runs: then the
answers are the same, to the bit, wherever they were computed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any, TypeVar

from joblib import Parallel, delayed, parallel_config

from backprop.checks import positive_int, show

Item = TypeVar("Item")
Answer = TypeVar("Answer")

CONNECT_TIMEOUT = 10
"""Seconds to wait for a Dask scheduler to answer before giving up."""


def default_jobs() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def check_jobs(jobs: int | None) -> int:
    """``jobs``, checked, or every core for ``None``.

    Raises
    ------
    ValueError
        If ``jobs`` is not a positive whole number.
    """
    return default_jobs() if jobs is None else positive_int(jobs, "jobs")


def compute(
    function: Callable[[Item, Any], Answer],
    items: Iterable[Item],
    shared: Any,
    *,
    jobs: int | None = None,
    dask: str | None = None,
) -> Iterator[Answer]:
    """``function(item, shared)`` for every item, yielded as each finishes.

    Parameters
    ----------
    function : callable
        Importable by name (a module-level function), so that workers can run it.
    items : iterable
        One task each; an iterator is drawn from as workers become free, so that making
        the items overlaps computing them.
    shared : object
        Passed to every call: large arrays are memory-mapped for local workers, and sent to
        a cluster once.
    jobs : int, optional
        Worker processes on this machine; 1 computes here, in order; every core by default.
    dask : str, optional
        The address of a Dask scheduler, ``tcp://host:port``: compute on its workers instead.

    Raises
    ------
    ValueError
        If ``jobs`` is not a positive whole number, or ``dask`` is not a ``tcp://`` address.
    ImportError
        If ``dask`` is given and ``distributed`` is not installed (the ``cluster`` extra).
    OSError
        If the scheduler does not answer within :data:`CONNECT_TIMEOUT` seconds.
    """
    if dask is not None:
        yield from _on_cluster(function, items, shared, check_address(dask))
        return
    jobs = check_jobs(jobs)
    count = len(items) if isinstance(items, Sized) else None
    if jobs == 1 or (count is not None and count <= 1):
        yield from (function(item, shared) for item in items)
        return
    with parallel_config(backend="loky", n_jobs=min(jobs, count or jobs),
                         inner_max_num_threads=1):
        yield from Parallel(return_as="generator_unordered")(
            delayed(function)(item, shared) for item in items
        )


def check_address(address: str) -> str:
    """A Dask scheduler's address, checked: ``tcp://host:port``.

    Raises
    ------
    ValueError
        Naming the address and the form it should take.
    """
    if not (isinstance(address, str) and address.startswith("tcp://")
            and address.rpartition(":")[2].isdigit()):
        raise ValueError(f"a Dask scheduler's address is tcp://HOST:PORT, got {show(address)}")
    return address


def _on_cluster(function, items, shared, address: str) -> Iterator[Any]:
    try:
        from distributed import Client
    except ImportError:
        raise ImportError('a Dask cluster needs the cluster extra: pip install -e ".[cluster]"'
                          ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise OSError(f"no Dask scheduler answered at {address} within {CONNECT_TIMEOUT} s "
                      f"({type(error).__name__})") from None
    with client, parallel_config(backend="dask", client=client, scatter=[shared],
                                 n_jobs=-1):
        yield from Parallel(return_as="generator_unordered")(
            delayed(function)(item, shared) for item in items
        )
