"""A ticket's stored state stays bounded however often its clocks pause (RELIABILITY.md,
invariant 5: no item that can outgrow DynamoDB's 400 KB limit, no write whose cost grows with
history). Next-reply cycles are bounded (``KEEP_CYCLES``); the pauses of the resolution cycle are
not yet: each pause adds an interval to the ongoing cycle, about 48 bytes of the item and a
segment that every later judgement walks (``benchmarks/metrics.py`` times one more delivery
after 10, 100 and 1,000 such events)."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest

from local.payloads import ticket_event
from sla import apply_event, load_policy
from sla.core.events import TicketEvent
from sla.core.state import TicketState
from tests.unit.helpers import utc

ALL_METRICS = load_policy(str(resources.files("sla") / "policies" / "all-metrics.toml"))
CREATED = utc("2026-11-23T08:00:00Z")


def waiting_on_the_customer(exchanges: int) -> TicketState:
    """A ticket whose agent sets it pending with every reply and whose customer's every message
    opens it again: the resolution clock pauses once per exchange."""
    events: list[TicketEvent] = [ticket_event("e0", "ticket.created", CREATED, status="new")]
    for i in range(exchanges):
        at = CREATED + timedelta(minutes=40 * i)
        events += [
            ticket_event(
                f"r{i}",
                "ticket.responded",
                at + timedelta(minutes=10),
                actor="agent",
                status="pending",
            ),
            ticket_event(
                f"c{i}", "ticket.customer_replied", at + timedelta(minutes=30), status="open"
            ),
        ]
    state = None
    for event in events:
        state = apply_event(state, event, ALL_METRICS)
    assert state is not None
    return state


@pytest.mark.xfail(
    strict=True,
    reason="the resolution cycle keeps every pause: its state grows with the ticket's history",
)
def test_a_resolution_paused_two_hundred_times_is_stored_in_about_the_room_of_five() -> None:
    """Given a ticket waiting on its customer 200 times, its stored state is no more than 1 KB
    larger than that of one waiting 5 times (today: about 10 KB larger)."""
    few, many = waiting_on_the_customer(5), waiting_on_the_customer(200)
    assert len(many.metrics["resolution"].cycles[-1].pauses) == 200  # the scenario: 200 pauses
    assert len(many.model_dump_json()) <= len(few.model_dump_json()) + 1024
