"""Time limits for checking an answer: an alarm that ``except Exception`` cannot keep."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

TIME_LIMIT = 10.0
"""Seconds a code answer may take over all its examples before it counts as too slow."""

class TooSlowError(BaseException):
    """Raised by the alarm: not an Exception, so that ``except Exception`` cannot keep it."""


@contextmanager
def time_limit(seconds: float):
    """Interrupt the block after ``seconds`` where a signal can (the main thread on Unix)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def interrupt(*_: object) -> None:
        raise TooSlowError

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
