"""Read a ticket's SLA: its stored state, with the history of every event it recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sla.core.errors import NotFoundError
from sla.core.policy import Policy
from sla.core.state import reduce_events
from sla.core.view import View, ticket_view
from sla.ports import TicketStore

__all__ = ["MAX_TICKET_ID", "read_ticket"]

MAX_TICKET_ID = 256


def read_ticket(policy: Policy, store: TicketStore, ticket_id: str, now: datetime) -> View:
    """The view at ``now`` with its history; NotFoundError for an unknown ticket. The view is the
    stored state's (what notices were judged by); the history, and every completed cycle of each
    metric (the stored state keeps the latest few), are folded from the events."""
    stored = store.load(ticket_id) if 0 < len(ticket_id) <= MAX_TICKET_ID else None
    if stored is None:
        raise NotFoundError("No ticket with this id.")
    events = store.events(ticket_id)
    update: dict[str, Any] = {"history": ()}
    if events:
        full = reduce_events(events, policy, keep=None)
        update["history"] = full.history
        if full.last_key == stored.state.last_key and set(full.metrics) == set(
            stored.state.metrics
        ):
            update["metrics"] = full.metrics
    state = stored.state.model_copy(update=update)
    return ticket_view(state, now, with_history=True, calendar=policy.calendar)
