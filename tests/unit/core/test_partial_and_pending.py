"""Helpdesk events: a customer's message, a reopening and a status are recorded without changing
the first-response state; partial snapshots merge in any order; a ticket is pending until its
snapshots give a creation time and a plan, and gets its terms from its own creation time then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.payloads import ticket_event
from sla import Policy, TicketEvent, apply_event, load_policy, reduce_events, sla_view
from sla.core.events import TicketSnapshot
from sla.core.view import PendingView, SlaView, ticket_view
from tests.unit.helpers import utc

CREATED = "2026-11-25T08:59:00Z"


def partial(event_id: str, type_: str, at: str, *, actor: str = "agent", **carried: Any) -> Any:
    """An event whose snapshot carries only ``carried`` (as a Jira comment carries no creation
    time and no plan)."""
    return TicketEvent.model_validate(
        {
            "event_id": event_id,
            "type": type_,
            "occurred_at": at,
            "ticket": {"id": "T-1001", **carried, "fields": sorted(carried)},
            "actor": {"type": actor},
        }
    )


def test_a_customer_message_a_reopening_and_a_status_change_nothing_of_first_response(
    policy: Policy,
) -> None:
    base = [ticket_event("w1", "ticket.created", CREATED, status="new")]
    more = [
        *base,
        ticket_event("w2", "ticket.customer_replied", "2026-11-25T09:10:00Z", status="open"),
        ticket_event("w3", "ticket.updated", "2026-11-25T09:20:00Z", status="pending"),
        ticket_event("w4", "ticket.reopened", "2026-11-25T09:30:00Z", status="open"),
    ]
    now = utc("2026-11-25T10:00:00Z")
    before, after = (
        sla_view(reduce_events(base, policy), now),
        sla_view(reduce_events(more, policy), now, with_history=True),
    )
    assert after.model_dump(exclude={"history"}) == before.model_dump(exclude={"history"})
    assert after.history is not None
    assert [(h.event, h.changes.get("status")) for h in after.history] == [
        ("ticket.created", (None, "new")),
        ("ticket.customer_replied", ("new", "open")),
        ("ticket.updated", ("open", "pending")),
        ("ticket.reopened", ("pending", "open")),
    ]


def test_a_snapshot_without_a_status_keeps_the_earlier_status(policy: Policy) -> None:
    events = [
        ticket_event("w1", "ticket.created", CREATED, status="pending"),
        ticket_event("w2", "ticket.updated", "2026-11-25T09:10:00Z", priority=1),
    ]
    assert reduce_events(events, policy).snapshot.status == "pending"


def test_a_partial_snapshot_changes_only_what_it_carries(policy: Policy) -> None:
    events = [
        ticket_event("w1", "ticket.created", CREATED, priority=1, environment="production"),
        partial("w2", "ticket.updated", "2026-11-25T09:10:00Z", status="open"),
    ]
    state = reduce_events(events, policy)
    assert (state.snapshot.priority, state.snapshot.status, state.priority) == (1, "open", 1)
    assert state.deadline == utc("2026-11-25T11:59:00Z")


# the law: any order of partial snapshots gives the in-order merge
SNAPSHOTS = [
    ticket_event("p0", "ticket.created", CREATED, priority=3, status="new"),
    partial("p1", "ticket.updated", "2026-11-25T09:01:00Z", actor="customer", priority=2),
    partial("p2", "ticket.updated", "2026-11-25T09:02:00Z", status="open"),
    partial("p3", "ticket.updated", "2026-11-25T09:03:00Z", environment="staging"),
    partial("p4", "ticket.responded", "2026-11-25T09:04:00Z"),
    partial("p5", "ticket.updated", "2026-11-25T09:05:00Z", plan="advanced", priority=1),
]
POLICY = load_policy()
IN_ORDER = reduce_events(SNAPSHOTS, POLICY)


@settings(max_examples=150, deadline=None)
@given(st.permutations(SNAPSHOTS), st.lists(st.sampled_from(SNAPSHOTS), max_size=4))
def test_any_order_of_partial_snapshots_gives_the_in_order_merge(
    order: list[TicketEvent], repeats: list[TicketEvent]
) -> None:
    assert reduce_events([*order, *repeats], POLICY) == IN_ORDER


def test_the_in_order_merge_of_partial_snapshots() -> None:
    snap = IN_ORDER.snapshot
    assert (snap.plan, snap.priority, snap.environment, snap.status) == (
        "advanced",
        1,
        "staging",
        "open",
    )
    # the reply at 09:04 stopped the clock under the terms then in force (Professional, P2
    # requested from staging: 3); the agent's change to Advanced P1 after it is the ticket now
    assert IN_ORDER.terms is not None
    assert (IN_ORDER.terms.plan, IN_ORDER.terms.priority, IN_ORDER.terms.priority_reason) == (
        "professional",
        3,
        "non_production",
    )
    assert IN_ORDER.current is not None
    assert (IN_ORDER.current.plan, IN_ORDER.current.priority) == ("advanced", 1)


def test_a_ticket_is_pending_until_a_snapshot_gives_its_creation_time_and_plan(
    policy: Policy,
) -> None:
    """Given a comment on a ticket created before the helpdesk was wired, when only the comment
    arrives, then the ticket is pending and owes nothing; when its creation arrives later (a
    backfill), then the comment is applied on it in order."""
    reply = partial("c1", "ticket.responded", "2026-11-25T10:00:00Z", priority=2)
    pending = apply_event(None, reply, policy)
    assert pending.kind == "pending" and pending.terms is None
    assert pending.first_response_at == utc("2026-11-25T10:00:00Z")
    view = ticket_view(pending, utc("2026-11-25T10:05:00Z"))
    assert isinstance(view, PendingView)
    assert view.missing == ("created_at", "plan")
    with pytest.raises(ValueError, match="pending"):
        sla_view(pending, utc("2026-11-25T10:05:00Z"))

    creation = ticket_event("w1", "ticket.created", CREATED)
    state = reduce_events([reply, creation], policy)
    after = ticket_view(state, utc("2026-11-25T16:00:00Z"))
    assert isinstance(after, SlaView)
    assert (after.status, after.deadline, after.first_response_at) == (
        "met",
        utc("2026-11-25T14:59:00Z"),
        utc("2026-11-25T10:00:00Z"),
    )


def test_a_ticket_that_stopped_while_pending_is_judged_by_the_terms_it_then_gets(
    policy: Policy,
) -> None:
    """A reply and a solve arrive for a ticket nobody has described yet; then a snapshot gives
    its creation time and plan: the outcome is judged by those terms."""
    events = [
        partial("c1", "ticket.responded", "2026-11-25T16:00:00Z"),
        partial("c2", "ticket.solved", "2026-11-25T16:10:00Z", status="solved"),
        partial(
            "c3",
            "ticket.updated",
            "2026-11-25T16:20:00Z",
            created_at=CREATED,
            plan="professional",
            priority=2,
        ),
    ]
    view = ticket_view(reduce_events(events, policy), utc("2026-11-26T00:00:00Z"))
    assert isinstance(view, SlaView)
    assert (view.status, view.deadline, view.clock_stopped_at) == (
        "breached",
        utc("2026-11-25T14:59:00Z"),
        utc("2026-11-25T16:00:00Z"),
    )


def test_merging_never_drops_the_id_and_a_partial_first_snapshot_is_kept_as_it_is() -> None:
    first = TicketSnapshot.model_validate({"id": "T-1", "status": "open", "fields": ["status"]})
    assert first.merged_onto(None) is first
    assert not first.complete
    later = TicketSnapshot.model_validate(
        {"id": "T-1", "created_at": datetime.fromisoformat(CREATED), "plan": "basic"}
    )
    merged = later.merged_onto(first)
    assert (merged.complete, merged.status, merged.plan) == (True, "open", "basic")


def test_where_plan_and_priority_came_from_merges_like_the_fields(policy: Policy) -> None:
    """A partial snapshot's origin replaces only the origins of what it carries."""
    created = TicketEvent.model_validate(
        {
            "event_id": "w1",
            "type": "ticket.created",
            "occurred_at": CREATED,
            "ticket": {
                "id": "T-1001",
                "created_at": CREATED,
                "plan": "professional",
                "priority": 2,
                "origin": {"plan": "tag plan_professional", "priority": "zendesk priority HIGH"},
            },
        }
    )
    raised = partial("w2", "ticket.updated", "2026-11-25T09:10:00Z", priority=1)
    raised = raised.model_copy(
        update={
            "ticket": raised.ticket.model_copy(
                update={"origin": {"priority": "zendesk priority URGENT"}}
            )
        }
    )
    view = sla_view(reduce_events([raised, created], policy), utc("2026-11-25T09:20:00Z"))
    assert view.origin == {"plan": "tag plan_professional", "priority": "zendesk priority URGENT"}
