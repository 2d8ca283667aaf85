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
from sla import apply_event, load_policy, sla_view
from sla.core.events import TicketEvent
from sla.core.state import TicketState
from tests.unit.helpers import utc

ALL_METRICS = load_policy(str(resources.files("sla") / "policies" / "all-metrics.toml"))
CREATED = utc("2026-11-23T08:00:00Z")


def waiting_on_the_customer(exchanges: int) -> TicketState:
    """A ticket whose agent sets it pending with every reply and whose customer's every message
    opens it again: the resolution clock pauses once per exchange."""
    events: list[TicketEvent] = [
        ticket_event("e0", "ticket.created", CREATED, created_at=CREATED, status="new")
    ]
    for i in range(exchanges):
        at = CREATED + timedelta(minutes=40 * i)
        events += [
            ticket_event(
                f"r{i}",
                "ticket.responded",
                at + timedelta(minutes=10),
                actor="agent",
                created_at=CREATED,
                status="pending",
            ),
            ticket_event(
                f"c{i}",
                "ticket.customer_replied",
                at + timedelta(minutes=30),
                created_at=CREATED,
                status="open",
            ),
        ]
    state = None
    for event in events:
        state = apply_event(state, event, ALL_METRICS)
    assert state is not None
    return state


def test_a_resolution_paused_two_hundred_times_is_stored_in_about_the_room_of_five() -> None:
    """Given a ticket waiting on its customer 200 times, its stored state is no more than 1 KB
    larger than that of one waiting 5 times (today: about 10 KB larger)."""
    few, many = waiting_on_the_customer(5), waiting_on_the_customer(200)
    cycle = many.metrics["resolution"].cycles[-1]
    assert cycle.merged is not None
    assert len(cycle.pauses) + cycle.merged.pauses == 200  # the scenario: 200 pauses
    assert len(many.model_dump_json()) <= len(few.model_dump_json()) + 1024


def test_merging_old_pauses_changes_no_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a ticket waiting on its customer 60 times (its resolution cycle merges its oldest
    pauses), its warnings, deadline and the elapsed time of its view are those of the same
    ticket with every pause kept."""
    merged = waiting_on_the_customer(60)
    monkeypatch.setattr("sla.core.cycles.MAX_PAUSES", 10_000)
    kept = waiting_on_the_customer(60)
    a, b = merged.metrics["resolution"].cycles[-1], kept.metrics["resolution"].cycles[-1]
    assert a.merged is not None and b.merged is None
    assert (a.warnings, a.deadline) == (b.warnings, b.deadline)
    now = CREATED + timedelta(days=3)
    views = [
        sla_view(state, now, calendar=ALL_METRICS.calendar).metrics["resolution"]  # type: ignore[index]
        for state in (merged, kept)
    ]
    assert views[0].ongoing_cycle is not None and views[1].ongoing_cycle is not None
    assert views[0].ongoing_cycle.elapsed_seconds == views[1].ongoing_cycle.elapsed_seconds
    assert views[0].ongoing_cycle.earlier_pauses + len(views[0].ongoing_cycle.pauses) == 60
    assert views[0].ongoing_cycle.earlier_pauses > 0
