"""The report's outcomes for next reply and resolution: one per cycle, with the time each took
in its target's clock, paused time left out (all-metrics policy: next reply professional P2 8
business hours, resolution 40 business hours with pauses on pending and on hold)."""

from __future__ import annotations

from datetime import timedelta

from local.payloads import ticket_event
from sla import Policy, reduce_events
from sla.tools.report import outcomes
from tests.unit.helpers import utc

CREATED = "2026-11-25T08:00:00Z"  # Wed 09:00 CET


def test_each_cycle_of_each_metric_is_an_outcome(all_metrics: Policy) -> None:
    """First reply at 09:00 UTC; the customer writes at 10:00 and is answered at 11:00 (1
    business hour: met); pending from 12:00 to Thu 09:00 UTC; solved Thu 10:00 UTC: resolution
    took 4 + 1 = 5 business hours (Wed 09:00-13:00 CET, Thu 10:00-11:00 CET)."""
    steps = [
        ("ticket.created", CREATED, "customer", {}),
        ("ticket.responded", "2026-11-25T09:00:00Z", "agent", {}),
        ("ticket.customer_replied", "2026-11-25T10:00:00Z", "customer", {}),
        ("ticket.responded", "2026-11-25T11:00:00Z", "agent", {}),
        ("ticket.updated", "2026-11-25T12:00:00Z", "agent", {"status": "pending"}),
        ("ticket.updated", "2026-11-26T09:00:00Z", "agent", {"status": "open"}),
        ("ticket.solved", "2026-11-26T10:00:00Z", "agent", {"status": "solved"}),
    ]
    events = [
        ticket_event(f"e{i}", kind, at, actor=actor, created_at=CREATED, **extra)
        for i, (kind, at, actor, extra) in enumerate(steps)
    ]
    state = reduce_events(events, all_metrics, keep=None)
    got = {
        (o.metric, o.cycle): (o.status, o.took, o.started_at, o.stopped_at)
        for o in outcomes(state, all_metrics, utc("2026-11-27T00:00:00Z"))
    }
    assert got == {
        ("first_response", 1): (
            "met",
            timedelta(hours=1),
            utc(CREATED),
            utc("2026-11-25T09:00:00Z"),
        ),
        ("next_reply", 1): (
            "met",
            timedelta(hours=1),
            utc("2026-11-25T10:00:00Z"),
            utc("2026-11-25T11:00:00Z"),
        ),
        ("resolution", 1): (
            "met",
            timedelta(hours=5),
            utc(CREATED),
            utc("2026-11-26T10:00:00Z"),
        ),
    }


def test_cycles_a_stored_state_dropped_still_count(all_metrics: Policy) -> None:
    """Eight exchanges answered at once: a stored state keeps five completed next-reply cycles in
    detail; the other three still count as met (cycle 0, without times)."""
    events = [ticket_event("e0", "ticket.created", CREATED, created_at=CREATED)]
    at = utc("2026-11-25T09:00:00Z")
    events.append(ticket_event("r0", "ticket.responded", at, actor="agent", created_at=CREATED))
    for i in range(8):
        asked = at + timedelta(minutes=10 * (2 * i + 1))
        answered = asked + timedelta(minutes=5)
        events.append(ticket_event(f"c{i}", "ticket.customer_replied", asked, created_at=CREATED))
        events.append(
            ticket_event(f"a{i}", "ticket.responded", answered, actor="agent", created_at=CREATED)
        )
    stored = reduce_events(events, all_metrics)
    rows = [o for o in outcomes(stored, all_metrics, at) if o.metric == "next_reply"]
    assert sorted((o.cycle, o.status) for o in rows) == [(0, "met")] * 3 + [
        (n, "met") for n in range(4, 9)
    ]
    full = reduce_events(events, all_metrics, keep=None)
    assert len([o for o in outcomes(full, all_metrics, at) if o.metric == "next_reply"]) == 8
