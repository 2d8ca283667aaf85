"""The laws of first response hold for every metric and every cycle, with pauses (hypothesis):

* any delivery order and any duplication give the in-order state;
* one fold step at a time, through storage, gives the same state as the whole fold;
* each cycle's clock counts exactly its target up to its deadline, whatever its pauses and
  whatever reclassification happened (elapsed time is kept: the deadline is where the target is
  used up from the cycle's own start);
* a pause never brings a deadline forward; the notices owed are each owed once;
* a fold carried across a ticket's events (as the report folds) gives, at every step, the state
  a delivery gives from the stored state before it, whatever changes in the ticket.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from local.payloads import ticket_event
from sla import TicketEvent, load_policy, reduce_events
from sla.aws.store import ticket_from_item, ticket_item
from sla.core.cycles import counted, judge
from sla.core.notices import owed
from sla.core.state import TicketFold, TicketState, apply_event
from sla.core.terms import Target
from sla.ports import StoredTicket
from tests.unit.helpers import utc

POLICY = load_policy("layers/sla/sla/policies/all-metrics.toml")
BASE = utc("2026-03-20T06:00:00Z")  # a Friday before the switch to CEST
ACTIONS = ("reply", "customer", "pending", "on_hold", "open", "solve", "reopen", "agent_priority")


@st.composite
def scenarios(draw: st.DrawFn) -> list[TicketEvent]:
    created = BASE + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60)))
    plan = draw(st.sampled_from(["professional", "advanced"]))
    priority = draw(st.sampled_from([1, 2, 3]))
    ticket = {"created_at": created, "plan": plan, "priority": priority}
    events = [ticket_event("e00", "ticket.created", created, **ticket)]
    at = created
    for i in range(draw(st.integers(1, 14))):
        at += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        action = draw(st.sampled_from(ACTIONS))
        event_id = f"e{i + 1:02d}"
        if action == "reply":
            event = ticket_event(event_id, "ticket.responded", at, actor="agent", **ticket)
        elif action == "customer":
            event = ticket_event(event_id, "ticket.customer_replied", at, **ticket)
        elif action in ("pending", "on_hold", "open"):
            ticket["status"] = action
            event = ticket_event(event_id, "ticket.updated", at, actor="agent", **ticket)
        elif action == "solve":
            ticket["status"] = "solved"
            event = ticket_event(event_id, "ticket.solved", at, actor="agent", **ticket)
        elif action == "reopen":
            ticket["status"] = "open"
            event = ticket_event(event_id, "ticket.reopened", at, **ticket)
        else:
            ticket["priority"] = draw(st.sampled_from([1, 2, 3]))
            event = ticket_event(
                event_id, "ticket.updated", at, actor="agent", reason="triage", **ticket
            )
        events.append(event)
    return events


@st.composite
def changing(draw: st.DrawFn) -> list[TicketEvent]:
    """A scenario whose later events may also move the creation, the plan or the environment,
    or leave the snapshot's status out, and may carry the very snapshot of the event before."""
    events = draw(scenarios())
    result = [events[0]]
    for event in events[1:]:
        change = draw(st.sampled_from(["none", "none", "created", "plan", "staging", "status"]))
        t = event.ticket
        if change == "created" and t.created_at is not None:
            minutes = draw(st.integers(-120, 120))
            t = t.model_copy(update={"created_at": t.created_at + timedelta(minutes=minutes)})
        elif change == "plan":
            t = t.model_copy(update={"plan": draw(st.sampled_from(["basic", "advanced"]))})
        elif change == "staging":
            t = t.model_copy(update={"environment": "staging"})
        elif change == "status":
            t = t.model_copy(update={"status": None})
        previous = result[-1].ticket
        if t == previous and draw(st.booleans()):
            t = previous  # the very snapshot again, as a reader shares the lines that repeat it
        result.append(event.model_copy(update={"ticket": t}))
    return result


@settings(max_examples=150, deadline=None)
@given(events=changing(), default=st.booleans())
def test_a_fold_carried_across_events_gives_each_delivery_s_state(
    events: list[TicketEvent], default: bool
) -> None:
    policy = load_policy() if default else POLICY
    fold = TicketFold(policy, keep=None)
    state: TicketState | None = None
    for event in sorted(events, key=lambda e: e.order_key):
        fold.add(event)
        state = apply_event(state, event, policy, keep=None)
        assert _plain(fold.state()) == _plain(state)


def _plain(state: TicketState) -> str:
    return state.model_copy(update={"history": None}).model_dump_json()


@settings(max_examples=150, deadline=None)
@given(events=scenarios(), data=st.data())
def test_any_order_and_any_duplicates_give_the_in_order_state(
    events: list[TicketEvent], data: st.DataObject
) -> None:
    delivered = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events)))))
    assert _plain(reduce_events(delivered, POLICY)) == _plain(reduce_events(events, POLICY))


@settings(max_examples=100, deadline=None)
@given(events=scenarios())
def test_one_step_at_a_time_through_storage_gives_the_fold(events: list[TicketEvent]) -> None:
    state: TicketState | None = None
    for event in sorted(events, key=lambda e: e.order_key):
        state = apply_event(state, event, POLICY)
        state = TicketState.model_validate_json(state.model_dump_json())
    assert state is not None
    assert _plain(state) == _plain(reduce_events(events, POLICY))


@settings(max_examples=150, deadline=None)
@given(events=scenarios())
def test_each_cycle_counts_exactly_its_target_up_to_its_deadline(
    events: list[TicketEvent],
) -> None:
    state = reduce_events(events, POLICY, keep=None)
    for ms in state.metrics.values():
        for cycle in ms.cycles:
            if cycle.target is None or cycle.deadline is None:
                continue
            assert cycle.started_at is not None
            pauses = [p for p in cycle.active_pauses() if p[0] < cycle.deadline]
            used = counted(
                POLICY.calendar, cycle.target.clock, cycle.started_at, pauses, cycle.deadline
            )
            assert used == cycle.target.duration
            for warning in cycle.warnings:
                if warning.at is not None and warning.threshold is not None:
                    upto = counted(
                        POLICY.calendar, cycle.target.clock, cycle.started_at, pauses, warning.at
                    )
                    expected = round(
                        cycle.target.duration / timedelta(microseconds=1) * warning.threshold
                    )
                    assert upto == timedelta(microseconds=expected)


@settings(max_examples=100, deadline=None)
@given(events=scenarios())
def test_each_owed_notice_is_owed_once(events: list[TicketEvent]) -> None:
    keys = [o.key for o in owed(reduce_events(events, POLICY), frozenset())]
    assert len(keys) == len(set(keys))


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 14 * 24 * 60),
    hours=st.sampled_from([1, 2, 4, 8, 24]),
    clock=st.sampled_from(["business", "elapsed"]),
    pauses=st.lists(
        st.tuples(st.integers(0, 10 * 24 * 60), st.integers(1, 3 * 24 * 60)), max_size=10
    ),
    extra=st.tuples(st.integers(0, 10 * 24 * 60), st.integers(1, 3 * 24 * 60)),
)
def test_a_pause_never_brings_a_deadline_forward(
    start: int,
    hours: int,
    clock: str,
    pauses: list[tuple[int, int]],
    extra: tuple[int, int],
) -> None:
    origin = BASE + timedelta(minutes=start)

    def intervals(raw: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
        merged: list[tuple[datetime, datetime]] = []
        for a, length in sorted(raw):
            lo = origin + timedelta(minutes=a)
            hi = lo + timedelta(minutes=length)
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        return merged

    target = Target(hours=hours, clock=clock)
    fewer = judge(POLICY.calendar, origin, target, (0.5,), intervals(pauses), None)
    more = judge(POLICY.calendar, origin, target, (0.5,), intervals([*pauses, extra]), None)
    assert fewer.deadline is not None and more.deadline is not None
    assert more.deadline >= fewer.deadline
    assert fewer.warnings[0].at is not None and more.warnings[0].at is not None
    assert more.warnings[0].at >= fewer.warnings[0].at


@settings(max_examples=100, deadline=None)
@given(events=scenarios(), stop=st.integers(1, 15))
def test_the_ticket_item_gives_back_the_state_it_holds(
    events: list[TicketEvent], stop: int
) -> None:
    """The item leaves out what the model restores (defaults, the classification now while the
    terms hold it): reading it gives the state written, at every step of a ticket's life."""
    state = reduce_events(events[:stop], POLICY).model_copy(update={"history": None})
    ticket = StoredTicket(state.ticket_id, 1, state)
    assert ticket_from_item(ticket_item(ticket, BASE), POLICY).state == state


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 400 * 24 * 60),
    hours=st.sampled_from([0.5, 1, 2, 4, 8, 24, 40, 160]),
    clock=st.sampled_from(["business", "elapsed"]),
    fractions=st.lists(st.sampled_from([0.25, 0.5, 0.75, 0.9]), max_size=3),
)
def test_a_cycle_without_pauses_is_judged_as_the_walk_over_its_segments_judges_it(
    start: int, hours: float, clock: str, fractions: list[float]
) -> None:
    """The shortcut for one open segment gives what the general walk gives (made to walk by a
    pause of no length at the start, which counts nothing)."""
    origin = BASE + timedelta(minutes=start)
    target = Target(hours=hours, clock=clock)
    shortcut = judge(POLICY.calendar, origin, target, fractions, (), None)
    walked = judge(POLICY.calendar, origin, target, fractions, ((origin, origin),), None)
    assert shortcut == walked
