"""Small helpers for literal instants in tests."""

from __future__ import annotations

from datetime import datetime


def utc(text: str) -> datetime:
    """A literal UTC instant: ``utc("2026-11-25T08:59:00Z")``."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, "test instants must carry a timezone"
    return value
