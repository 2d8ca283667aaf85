"""``now`` for every handler: the system clock in UTC, or (in the local stack) a clock that can
be moved forward. The core never reads a clock; handlers read this one and pass ``now`` down.

The local stack can also give one thread's invocation a clock of its own (``in_this_thread``):
its sweeper sees the instant up to which the stack's scheduler has fired everything, as a
sweeper on AWS sees the real time while Scheduler keeps up."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

__all__ = ["in_this_thread", "now", "use"]


def _system() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system
_thread = threading.local()


def now() -> datetime:
    source: Callable[[], datetime] | None = getattr(_thread, "source", None)
    return (source or _source)()


def use(source: Callable[[], datetime] | None) -> None:
    """Read time from ``source`` from now on (None: the system clock again)."""
    global _source
    _source = source or _system


@contextmanager
def in_this_thread(source: Callable[[], datetime]) -> Iterator[None]:
    """Within the block, this thread reads time from ``source``; other threads do not."""
    earlier = getattr(_thread, "source", None)
    _thread.source = source
    try:
        yield
    finally:
        _thread.source = earlier
