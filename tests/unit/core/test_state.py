"""Ticket state: a pure function of the set of a ticket's events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.payloads import ticket_event
from sla import Policy, TicketEvent, apply_event, load_policy, reduce_events, sla_view
from tests.examples import CONTRACT_VIEW
from tests.unit.helpers import utc

CREATED = "2026-11-25T08:59:00Z"  # Wed 09:59 CET


def event(
    event_id: str,
    type_: str,
    occurred_at: str,
    *,
    actor: str = "customer",
    reason: str | None = None,
    **ticket: Any,
) -> TicketEvent:
    return ticket_event(
        event_id, type_, occurred_at, actor=actor, actor_id=f"{actor}-1", reason=reason, **ticket
    )


def view(policy: Policy, events: list[TicketEvent], now: str) -> dict[str, Any]:
    return sla_view(reduce_events(events, policy), utc(now)).model_dump(
        mode="json", exclude={"history"}
    )


def test_contract_example(policy: Policy) -> None:
    got = view(policy, [event("w1", "ticket.created", CREATED)], "2026-11-25T09:00:00Z")
    assert got == CONTRACT_VIEW


@pytest.mark.parametrize(
    ("reply_at", "now", "status"),
    [
        (None, "2026-11-25T14:59:00Z", "running"),  # the deadline instant itself is not late yet
        (None, "2026-11-25T14:59:00.000001Z", "breached"),
        ("2026-11-25T14:59:00Z", "2026-11-26T00:00:00Z", "met"),  # at the deadline: met
        ("2026-11-25T14:59:01Z", "2026-11-26T00:00:00Z", "breached"),
        ("2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z", "met"),
    ],
)
def test_first_reply_stops_the_clock(
    policy: Policy, reply_at: str | None, now: str, status: str
) -> None:
    events = [event("w1", "ticket.created", CREATED)]
    if reply_at:
        events.append(event("w2", "ticket.responded", reply_at, actor="agent"))
    got = view(policy, events, now)
    assert got["status"] == status
    assert got["first_response_at"] == (reply_at.replace(".000001", "") if reply_at else None)


@pytest.mark.parametrize("type_", ["ticket.solved", "ticket.closed"])
def test_solving_before_any_reply_stops_the_clock(policy: Policy, type_: str) -> None:
    events = [event("w1", "ticket.created", CREATED), event("w2", type_, "2026-11-25T12:00:00Z")]
    got = view(policy, events, "2026-11-30T00:00:00Z")
    assert (got["status"], got["first_response_at"], got["clock_stopped_at"]) == (
        "met",
        None,
        "2026-11-25T12:00:00Z",
    )


def test_earliest_reply_is_the_first_response(policy: Policy) -> None:
    events = [
        event("w1", "ticket.created", CREATED),
        event("w3", "ticket.responded", "2026-11-25T16:00:00Z", actor="agent"),
        event("w2", "ticket.responded", "2026-11-25T10:00:00Z", actor="agent"),
    ]
    assert (
        view(policy, events, "2026-11-26T00:00:00Z")["first_response_at"] == "2026-11-25T10:00:00Z"
    )


def raised_by_an_agent(reason: str) -> list[TicketEvent]:
    """A P3 ticket created 08:59Z, raised to P1 by an agent at 10:00Z with ``reason``."""
    return [
        event("w1", "ticket.created", CREATED, priority=3),
        event(
            "w2", "ticket.updated", "2026-11-25T10:00:00Z", actor="agent", priority=1, reason=reason
        ),
    ]


def test_agent_reclassification_recomputes_from_the_original_clock_start(policy: Policy) -> None:
    events = raised_by_an_agent("outage confirmed")
    got = view(policy, events, "2026-11-25T10:00:00Z")
    assert (got["priority"], got["priority_reason"], got["requested_priority"]) == (1, "agent", 3)
    assert got["deadline"] == "2026-11-25T11:59:00Z"  # 3 business hours from 09:59 CET


def test_raising_priority_past_the_new_deadline_breaches_at_once(policy: Policy) -> None:
    events = [
        event("w1", "ticket.created", CREATED, priority=3),
        event("w2", "ticket.updated", "2026-11-25T13:00:00Z", actor="agent", priority=1),
    ]
    assert view(policy, events, "2026-11-25T13:00:00Z")["status"] == "breached"


def test_agent_choice_wins_over_the_non_production_rule(policy: Policy) -> None:
    created = event("w1", "ticket.created", CREATED, priority=1, environment="staging")
    assert view(policy, [created], CREATED)["priority_reason"] == "non_production"
    confirmed = event(
        "w2",
        "ticket.updated",
        "2026-11-25T09:30:00Z",
        actor="agent",
        priority=1,
        environment="staging",
        reason="production is affected after all",
    )
    got = view(policy, [created, confirmed], CREATED)
    assert (got["priority"], got["priority_reason"]) == (1, "agent")


def test_customer_changing_priority_after_the_agent_does_not_override(policy: Policy) -> None:
    events = [
        event("w1", "ticket.created", CREATED, priority=1),
        event("w2", "ticket.updated", "2026-11-25T09:30:00Z", actor="agent", priority=3),
        event("w3", "ticket.updated", "2026-11-25T09:40:00Z", priority=2),
    ]
    got = view(policy, events, CREATED)
    assert (got["requested_priority"], got["priority"], got["priority_reason"]) == (2, 3, "agent")


def test_outcome_is_judged_against_the_deadline_in_force_when_the_clock_stopped(
    policy: Policy,
) -> None:
    events = [
        event("w1", "ticket.created", CREATED, priority=3),
        event("w2", "ticket.responded", "2026-11-25T13:00:00Z", actor="agent", priority=3),
        event("w3", "ticket.updated", "2026-11-25T14:00:00Z", actor="agent", priority=1),
    ]
    got = view(policy, events, "2026-11-26T00:00:00Z")
    assert (got["status"], got["priority"]) == ("met", 3)


def test_late_snapshot_wins_for_ticket_fields(policy: Policy) -> None:
    events = [
        event("w2", "ticket.updated", "2026-11-25T09:10:00Z", plan="advanced"),
        event("w1", "ticket.created", CREATED),
    ]
    assert view(policy, events, CREATED)["plan"] == "advanced"


@pytest.mark.parametrize(
    ("ticket", "status"),
    [({"plan": "basic"}, "no_target"), ({"product_stage": "beta"}, "exempt")],
)
def test_untargeted_tickets(policy: Policy, ticket: dict[str, str], status: str) -> None:
    got = view(policy, [event("w1", "ticket.created", CREATED, **ticket)], "2027-01-01T00:00:00Z")
    assert (got["status"], got["target"], got["deadline"], got["warning_at"]) == (
        status,
        None,
        None,
        None,
    )


def test_history_says_what_when_why_and_who(policy: Policy) -> None:
    events = raised_by_an_agent("outage")
    history = reduce_events(events, policy).history
    assert history is not None
    assert [h.event for h in history] == ["ticket.created", "ticket.updated"]
    last = history[-1]
    assert (last.actor.type, last.reason, last.at) == (
        "agent",
        "outage",
        utc("2026-11-25T10:00:00Z"),
    )
    assert last.changes["priority"] == (3, 1)
    assert last.changes["priority_reason"] == ("requested", "agent")


def test_events_of_other_tickets_are_refused(policy: Policy) -> None:
    with pytest.raises(ValueError, match="different tickets"):
        reduce_events(
            [
                event("w1", "ticket.created", CREATED),
                event("w2", "ticket.created", CREATED, id="T-2"),
            ],
            policy,
        )


def test_no_events_is_an_error(policy: Policy) -> None:
    with pytest.raises(ValueError, match="at least one"):
        reduce_events([], policy)


# -- laws -----------------------------------------------------------------------------------------

POLICY = load_policy()
LIFE = [
    event("w1", "ticket.created", CREATED, priority=1, environment="staging"),
    event("w2", "ticket.updated", "2026-11-25T09:10:00Z", priority=1, environment="production"),
    event(
        "w3",
        "ticket.updated",
        "2026-11-25T09:20:00Z",
        actor="agent",
        priority=2,
        reason="workaround",
    ),
    event("w4", "ticket.responded", "2026-11-25T15:30:00Z", actor="agent", priority=2),
    event("w5", "ticket.responded", "2026-11-25T16:00:00Z", actor="agent", priority=2),
    event("w6", "ticket.updated", "2026-11-25T16:30:00Z", actor="agent", priority=3),
    event("w7", "ticket.solved", "2026-11-26T08:00:00Z", priority=3),
    event("w8", "ticket.closed", "2026-11-27T08:00:00Z", priority=3),
]
IN_ORDER = reduce_events(LIFE, POLICY)


# every event at least once, some several times, in any order (no filtering: no flaky health checks)
ANY_DELIVERY = st.tuples(
    st.permutations(LIFE), st.lists(st.sampled_from(LIFE), max_size=2 * len(LIFE))
).flatmap(lambda t: st.permutations([*t[0], *t[1]]))


@settings(max_examples=300, deadline=None)
@given(ANY_DELIVERY)
def test_any_order_and_any_duplication_gives_the_in_order_state(events: list[TicketEvent]) -> None:
    assert reduce_events(events, POLICY) == IN_ORDER


@settings(max_examples=200, deadline=None)
@given(st.permutations(LIFE), st.integers(min_value=1, max_value=len(LIFE)))
def test_every_prefix_set_is_order_independent(events: list[TicketEvent], n: int) -> None:
    subset = events[:n]
    by_time = sorted(subset, key=lambda e: e.order_key)
    assert reduce_events(subset, POLICY) == reduce_events(by_time, POLICY)


def test_the_in_order_life(policy: Policy) -> None:
    got = sla_view(IN_ORDER, datetime.fromisoformat("2026-11-28T00:00:00Z"))
    # agent set 2 at 10:20 CET: 6 business hours from 09:59 CET -> 15:59 CET; replied 16:30 CET
    assert (got.priority, got.priority_reason, got.status) == (2, "agent", "breached")
    assert got.deadline == utc("2026-11-25T14:59:00Z")
    assert got.first_response_at == utc("2026-11-25T15:30:00Z")
    # the agent's change to 3 after the stop is the ticket's classification now, not the terms
    assert (got.current.priority, got.current.priority_reason) == (3, "agent")


def test_a_reclassification_after_the_stop_shows_in_current_and_not_in_the_terms(
    policy: Policy,
) -> None:
    """Given a P1 ticket answered in time, when an agent lowers it to 3 afterwards, then the view
    still judges the outcome by P1's deadline, and says the ticket is P3 now, as its history
    does."""
    events = [
        event("w1", "ticket.created", CREATED, priority=1),
        event("w2", "ticket.responded", "2026-11-25T10:00:00Z", actor="agent", priority=1),
        event(
            "w3",
            "ticket.updated",
            "2026-11-25T10:30:00Z",
            actor="agent",
            reason="not an outage",
            priority=3,
        ),
    ]
    state = reduce_events(events, policy)
    got = sla_view(state, utc("2026-11-26T00:00:00Z"), with_history=True)
    assert (got.priority, got.priority_reason, got.status) == (1, "requested", "met")
    assert got.deadline == utc("2026-11-25T11:59:00Z")
    assert got.current.model_dump() == {
        "plan": "professional",
        "requested_priority": 1,
        "priority": 3,
        "priority_reason": "agent",
        "kind": "targeted",
    }
    assert got.history is not None
    assert got.history[-1].changes["priority"] == (1, 3)


@settings(max_examples=200, deadline=None)
@given(ANY_DELIVERY)
def test_applying_in_order_one_event_at_a_time_is_the_fold_of_the_set(
    events: list[TicketEvent],
) -> None:
    """The stored state of the in-order path (one step per delivery, no history) equals the
    reduction of every event, whatever was delivered and how often."""
    state = None
    for event_ in sorted({e.event_id: e for e in events}.values(), key=lambda e: e.order_key):
        state = apply_event(state, event_, POLICY)
    assert state == IN_ORDER.model_copy(update={"history": None})


def test_apply_event_refuses_an_event_that_does_not_come_last(policy: Policy) -> None:
    state = apply_event(None, LIFE[1], policy)
    with pytest.raises(ValueError, match="does not come after"):
        apply_event(state, LIFE[0], policy)
    with pytest.raises(ValueError, match="does not come after"):
        apply_event(state, LIFE[1], policy)  # itself: a duplicate
    other = event("x1", "ticket.updated", "2026-11-26T00:00:00Z", id="T-2")
    with pytest.raises(ValueError, match="another ticket"):
        apply_event(state, other, policy)
