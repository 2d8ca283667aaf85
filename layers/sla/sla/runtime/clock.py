"""``now`` for every handler: the system clock in UTC, or (in the local stack) a clock that can
be moved forward. The core never reads a clock; handlers read this one and pass ``now`` down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["now", "use"]


def _system() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system


def now() -> datetime:
    return _source()


def use(source: Callable[[], datetime] | None) -> None:
    """Read time from ``source`` from now on (None: the system clock again)."""
    global _source
    _source = source or _system
