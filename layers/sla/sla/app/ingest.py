"""Ingest a delivery: read the body, let its source verify and turn it into canonical events, and
record each exactly once.

Recording costs the same whatever the ticket's history: the stored state is read (one
consistent read of one bounded item), the event is applied to it (one step of the fold), and one
transaction writes the event and the new state (conditions: the event is new, the version is the
one read). Only an event older than what the state has seen (reordering, which is rare) reads the
ticket's events and folds them again. A lost race reads and applies again; a delivery recorded
already is answered with the current view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sla.core.errors import TransientError
from sla.core.events import TicketEvent
from sla.core.notices import due_at, kept_notices
from sla.core.policy import Policy
from sla.core.state import TicketState, apply_event, reduce_events
from sla.core.view import View, ticket_view
from sla.ports import DuplicateDeliveryError, StoredTicket, TicketStore, VersionConflictError
from sla.sources import Source
from sla.sources.body import check_json_media_type, raw_body

__all__ = ["MAX_ATTEMPTS", "Ingest", "IngestResult", "next_state"]

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class IngestResult:
    outcome: Literal["applied", "duplicate", "ignored"]
    view: View | None
    event_id: str


def next_state(
    policy: Policy, store: TicketStore, stored: StoredTicket | None, event: TicketEvent
) -> TicketState | None:
    """The ticket's state with ``event`` added, or None when the event is recorded already.

    In order (the usual case), one step of the fold on the stored state; otherwise the ticket's
    events are read and folded again with it. A state that tracks other metrics than the policy
    (stored before the policy gained one) is folded again from the events too, once."""
    if stored is None:
        return apply_event(None, event, policy)
    last = stored.state.last_key
    same_metrics = tuple(stored.state.metrics) == policy.metrics
    if event.order_key > last and same_metrics:
        return apply_event(stored.state, event, policy)
    if event.order_key == last and same_metrics:
        return None  # the state's own last event
    recorded = store.events(stored.ticket_id)
    if any(e.event_id == event.event_id for e in recorded):
        return None
    return reduce_events([*recorded, event], policy).model_copy(update={"history": None})


class Ingest:
    def __init__(self, policy: Policy, store: TicketStore, body_limit: int) -> None:
        self.policy = policy
        self.store = store
        self.body_limit = body_limit

    def __call__(
        self,
        source: Source,
        headers: Mapping[str, str],
        body: str | None,
        is_base64: bool,
        now: datetime,
    ) -> IngestResult:
        raw = raw_body(body, is_base64, self.body_limit)
        check_json_media_type(headers)
        delivery_id = source.verify(headers, raw, now)
        result = IngestResult("ignored", None, delivery_id)  # no events: acknowledged, not stored
        for event in source.events(raw, delivery_id, now):
            result = self.record(event, now)
        return result

    def record(self, event: TicketEvent, now: datetime) -> IngestResult:
        ticket_id = event.ticket.id
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.load(ticket_id)
            state = next_state(self.policy, self.store, stored, event)
            if state is None:
                assert stored is not None
                return IngestResult(
                    "duplicate",
                    ticket_view(stored.state, now, calendar=self.policy.calendar),
                    event.event_id,
                )
            notices = kept_notices(state, stored.notices) if stored else ()
            published = frozenset(n.key for n in notices)
            ticket = StoredTicket(
                ticket_id,
                (stored.version if stored else 0) + 1,
                state,
                notices,
                due_at(state, published),
            )
            try:
                self.store.save(ticket, event, now)
            except VersionConflictError:
                continue
            except DuplicateDeliveryError:
                # the delivery and the ticket are written in one transaction: a recorded delivery
                # is always applied to the stored state
                current = self.store.load(ticket_id)
                if current is None:
                    continue
                return IngestResult(
                    "duplicate",
                    ticket_view(current.state, now, calendar=self.policy.calendar),
                    event.event_id,
                )
            return IngestResult(
                "applied", ticket_view(state, now, calendar=self.policy.calendar), event.event_id
            )
        raise TransientError("The ticket is being changed by many deliveries at once; retry.")
