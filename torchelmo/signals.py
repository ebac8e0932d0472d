"""Signal handling, in one place: handlers installed for a block and restored after it.

The CLI runs every command inside :func:`signals_raise`, so that SIGTERM and SIGHUP unwind
like Ctrl-C and every ``finally`` (temporaries, locks, partial output) runs.
"""
import signal
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from .errors import Terminated

Handler = Callable[[int, Any], None]


@contextmanager
def handling_signals(handler: Handler, signums: Iterable[int]) -> Iterator[bool]:
    """Within the block, ``handler`` handles ``signums``; the previous handlers return after it.

    Yields whether the handler is installed: only the main thread can install one, so in any
    other thread nothing changes (and it yields False)."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield True
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated(signum)


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`~torchelmo.errors.Terminated` in the
    main thread, so that cleanup runs; elsewhere (another thread) it changes nothing."""
    with handling_signals(_raise_terminated, (signal.SIGTERM, signal.SIGHUP)):
        yield
