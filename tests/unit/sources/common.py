"""What the helpdesk sources' tests share."""

from __future__ import annotations

from sla.core.events import TicketEvent


def without_origin(events: list[TicketEvent]) -> list[TicketEvent]:
    """The events with their snapshots' ``origin`` (where plan and priority came from) left out,
    for the tables that compare everything else; tests/unit/sources/test_origin.py checks it."""
    return [
        e.model_copy(update={"ticket": e.ticket.model_copy(update={"origin": {}})}) for e in events
    ]
