"""What the helpdesk sources' tests share."""

from __future__ import annotations

from sla.core.events import TicketEvent
from sla.core.signature import SigningSecret, parse_text_secrets


def without_origin(events: list[TicketEvent]) -> list[TicketEvent]:
    """The events with their snapshots' ``origin`` (where plan and priority came from) left out,
    for the tables that compare everything else; tests/unit/sources/test_origin.py checks it."""
    return [
        e.model_copy(update={"ticket": e.ticket.model_copy(update={"origin": {}})}) for e in events
    ]


class RotatingSecrets:
    """A secret source whose current and refreshed secrets (a rotation the cache missed) a test
    chooses, as the text the helpdesk shows; ``refreshes`` counts the refreshes asked for."""

    def __init__(self, current: str | tuple[SigningSecret, ...], fresh: str | None = None) -> None:
        self._current = parse_text_secrets(current) if isinstance(current, str) else current
        self._fresh = None if fresh is None else parse_text_secrets(fresh)
        self.refreshes = 0

    def current(self) -> tuple[SigningSecret, ...]:
        return self._current

    def refreshed(self) -> tuple[SigningSecret, ...] | None:
        self.refreshes += 1
        return self._fresh
