"""Notices of every metric through the whole pipeline, in memory, with the shipped all-metrics
policy (contract sections 1b and 4): webhooks, the stream to the timer sync, timers firing into
the notifier, and the sweeper, on a fake clock.

Professional P2 under that policy: first response 6 business hours (warning at 0.75), next reply
8 business hours (warnings at 0.5, 0.75 and 0.9), resolution 40 business hours paused while
``pending`` or ``on_hold`` (warning at 0.75); Advanced P1: 1 hour, 2 hours and 24 hours, all
elapsed time. Business hours are 09:00-17:00 in Bratislava (08:00-16:00Z in November); the
comments beside instants give the local time.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla import Policy
from sla.core.notices import NoticeKind, notification_id, schedule_name
from sla.core.terms import MetricName
from tests.unit.world import World, check_invariants

CREATED = "2026-11-25T08:59:00Z"  # a Wednesday, 09:59 in Bratislava

# (type, metric, cycle, threshold, for): what a subscriber tells notices apart by
Sent = tuple[str, str, int, float | None, str]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def at(world: World, instant: str, type_: str, msg_id: str, **kwargs: Any) -> None:
    """Move the clock to ``instant`` (firing what falls due on the way), then deliver an event
    that happened then."""
    world.advance(instant)
    assert world.send(type_, instant, msg_id, **kwargs).outcome == "applied"


def sent(world: World, metric: MetricName | None = None) -> list[Sent]:
    return [
        (n.type, n.metric, n.cycle, n.threshold, n.for_.isoformat().replace("+00:00", "Z"))
        for n in world.topic.sent
        if metric is None or n.metric == metric
    ]


def timers_of(world: World, metric: MetricName, cycle: int = 1) -> dict[str, datetime]:
    """The live timers of T-1 for a metric's cycle: kind -> the instant it stands for."""
    found = {}
    for kind in ("warning", "breach"):
        name = schedule_name("T-1", kind, metric, cycle)
        if name in world.timers.schedules:
            found[kind] = world.timers.schedules[name][1].for_
    return found


@pytest.fixture
def world(all_metrics: Policy) -> World:
    return World(all_metrics)


def test_every_owed_notice_of_every_metric_and_cycle_goes_out_once(world: World) -> None:
    """Given a ticket answered in time, then two unanswered customer messages and no solve,
    when the clock runs a week, then each warning threshold and each deadline of each next-reply
    cycle and of the resolution gets its notice once, with a stable id per metric and cycle."""
    world.send("ticket.created", CREATED, "c")
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    at(world, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")  # cycle 1 from 11:00
    at(world, "2026-11-26T11:00:00Z", "ticket.responded", "r2", actor="agent")  # late
    at(world, "2026-11-26T11:30:00Z", "ticket.customer_replied", "m2")  # cycle 2 from 12:30
    world.advance("2026-12-02T10:00:00Z")
    assert sent(world) == [
        ("sla.warning", "next_reply", 1, 0.5, "2026-11-25T14:00:00Z"),  # 4 h: Wed 15:00
        ("sla.warning", "next_reply", 1, 0.75, "2026-11-25T16:00:00Z"),  # 6 h: Wed 17:00
        ("sla.warning", "next_reply", 1, 0.9, "2026-11-26T09:12:00Z"),  # 7.2 h: Thu 10:12
        ("sla.breached", "next_reply", 1, None, "2026-11-26T10:00:00Z"),  # 8 h: Thu 11:00
        ("sla.warning", "next_reply", 2, 0.5, "2026-11-26T15:30:00Z"),
        ("sla.warning", "next_reply", 2, 0.75, "2026-11-27T09:30:00Z"),
        ("sla.warning", "next_reply", 2, 0.9, "2026-11-27T10:42:00Z"),
        ("sla.breached", "next_reply", 2, None, "2026-11-27T11:30:00Z"),
        ("sla.warning", "resolution", 1, 0.75, "2026-11-30T14:59:00Z"),  # 30 h: Mon 15:59
        ("sla.breached", "resolution", 1, None, "2026-12-02T08:59:00Z"),  # 40 h: Wed 09:59
    ]
    kinds: dict[str, NoticeKind] = {"sla.warning": "warning", "sla.breached": "breach"}
    for n in world.topic.sent:
        expected = notification_id("T-1", kinds[n.type], n.for_, n.metric, n.cycle)
        assert n.notification_id == expected
        assert n.attributes()["metric"] == {"DataType": "String", "StringValue": n.metric}
        assert n.for_ <= n.published_at <= n.for_ + timedelta(minutes=1)  # on its timer
    for payload in list(world.fired) * 2:  # Scheduler and Lambda may deliver a timer again
        again = world.notifier.judge(
            payload.ticket_id, payload.kind, payload.for_, world.now, payload.metric, payload.cycle
        )
        assert again.outcome == "duplicate"
    assert len(world.topic.sent) == 10
    check_invariants(world)


def test_a_cycle_answered_in_time_owes_nothing_and_its_timers_are_deleted(world: World) -> None:
    """Given a next-reply cycle with its timers armed, when an agent replies before its first
    warning, then its timers are gone and nothing is ever published for it."""
    world.send("ticket.created", CREATED, "c")
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    at(world, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")
    assert timers_of(world, "next_reply") == {
        "warning": utc("2026-11-25T14:00:00Z"),
        "breach": utc("2026-11-26T10:00:00Z"),
    }
    at(world, "2026-11-25T11:00:00Z", "ticket.responded", "r2", actor="agent")
    assert timers_of(world, "next_reply") == {}
    world.advance("2026-11-27T12:00:00Z", step=timedelta(minutes=5))
    assert sent(world, "next_reply") == []
    check_invariants(world)


def test_a_cycle_answered_between_warnings_gets_only_the_earlier_ones(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    at(world, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")
    at(world, "2026-11-26T09:00:00Z", "ticket.responded", "r2", actor="agent")  # before 0.9
    world.advance("2026-11-27T12:00:00Z", step=timedelta(minutes=5))
    assert sent(world, "next_reply") == [
        ("sla.warning", "next_reply", 1, 0.5, "2026-11-25T14:00:00Z"),
        ("sla.warning", "next_reply", 1, 0.75, "2026-11-25T16:00:00Z"),
    ]
    assert timers_of(world, "next_reply") == {}
    check_invariants(world)


def test_each_next_reply_cycle_has_its_own_timers(world: World) -> None:
    """Given cycle 1 answered, when the customer writes again, then cycle 2's timers are armed
    under their own names and cycle 1 has none."""
    world.send("ticket.created", CREATED, "c")
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    at(world, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")
    at(world, "2026-11-25T10:30:00Z", "ticket.responded", "r2", actor="agent")
    at(world, "2026-11-25T11:00:00Z", "ticket.customer_replied", "m2")  # Wed 12:00
    assert timers_of(world, "next_reply", 1) == {}
    assert timers_of(world, "next_reply", 2) == {
        "warning": utc("2026-11-25T15:00:00Z"),  # 4 h: Wed 16:00
        "breach": utc("2026-11-26T11:00:00Z"),  # 8 h: Thu 12:00
    }
    check_invariants(world)


@pytest.mark.parametrize(
    ("plan", "priority", "pause", "warning", "deadline"),
    [
        # 40 business hours; paused Wed 13:00 to Thu 13:00 local: 8 business hours
        (
            "professional",
            2,
            ("2026-11-25T12:00:00Z", "2026-11-26T12:00:00Z"),
            "2026-12-01T14:59:00Z",  # was Mon 2026-11-30T14:59Z
            "2026-12-03T08:59:00Z",  # was Wed 2026-12-02T08:59Z
        ),
        # 24 elapsed hours; paused 26 hours, past the deadline it had
        (
            "advanced",
            1,
            ("2026-11-25T10:00:00Z", "2026-11-26T12:00:00Z"),
            "2026-11-27T04:59:00Z",  # was Thu 2026-11-26T02:59Z
            "2026-11-27T10:59:00Z",  # was Thu 2026-11-26T08:59Z
        ),
    ],
)
def test_a_paused_resolution_holds_no_timer_and_its_deadline_moves_by_the_pause(
    world: World,
    plan: str,
    priority: int,
    pause: tuple[str, str],
    warning: str,
    deadline: str,
) -> None:
    """Given a ticket answered in time, when it waits on the customer (``pending``), then its
    resolution has no live timer and owes nothing while paused, even past the deadline it had;
    when it reopens to ``open``, its warning and deadline are later by the paused time in the
    metric's own clock, and each gets its notice once."""
    ticket: dict[str, Any] = {"plan": plan, "priority": priority, "status": "open"}
    world.send("ticket.created", CREATED, "c", **ticket)
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent", **ticket)
    assert set(timers_of(world, "resolution")) == {"warning", "breach"}
    at(world, pause[0], "ticket.updated", "p", actor="agent", **{**ticket, "status": "pending"})
    assert timers_of(world, "resolution") == {}
    assert world.timers.schedules == {}  # nothing else runs: no timer at all
    check_invariants(world)
    world.advance(pause[1], step=timedelta(minutes=5))
    assert sent(world) == []
    at(world, pause[1], "ticket.updated", "o", actor="agent", **ticket)
    assert timers_of(world, "resolution") == {"warning": utc(warning), "breach": utc(deadline)}
    world.advance(utc(deadline) + timedelta(minutes=2), step=timedelta(minutes=5))
    assert sent(world) == [
        ("sla.warning", "resolution", 1, 0.75, warning),
        ("sla.breached", "resolution", 1, None, deadline),
    ]
    check_invariants(world)


def test_a_late_delivered_reply_in_time_retracts_that_cycles_breach_once(world: World) -> None:
    """Given next-reply cycle 1 breached and announced, when an agent reply that happened before
    its deadline is delivered (twice), then one retraction goes out for that metric and cycle,
    for the breached deadline, and nothing else changes."""
    world.send("ticket.created", CREATED, "c")
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    at(world, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")
    world.advance("2026-11-26T10:30:00Z")
    assert sent(world)[-1] == ("sla.breached", "next_reply", 1, None, "2026-11-26T10:00:00Z")
    for _ in range(2):
        world.send("ticket.responded", "2026-11-26T09:50:00Z", "r2", actor="agent")
    assert sent(world)[4:] == [
        ("sla.breach_retracted", "next_reply", 1, None, "2026-11-26T10:00:00Z")
    ]
    retraction = world.topic.sent[-1]
    assert retraction.notification_id == notification_id(
        "T-1", "retraction", utc("2026-11-26T10:00:00Z"), "next_reply", 1
    )
    assert retraction.sla.metrics is not None
    cycle = retraction.sla.metrics["next_reply"].completed_cycles[-1]
    assert (cycle.cycle, cycle.stopped_at, cycle.breached) == (
        1,
        utc("2026-11-26T09:50:00Z"),
        False,
    )
    world.advance("2026-11-26T12:00:00Z")
    assert len(sent(world, "next_reply")) == 5
    check_invariants(world)


def test_a_late_delivered_solve_in_time_retracts_the_resolution_breach(world: World) -> None:
    """Advanced P1: resolution due 24 hours after the creation. A solve 20 minutes before the
    deadline, delivered after the breach went out, retracts it once."""
    ticket: dict[str, Any] = {"plan": "advanced", "priority": 1}
    world.send("ticket.created", CREATED, "c", **ticket)
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent", **ticket)
    world.advance("2026-11-26T09:30:00Z", step=timedelta(minutes=5))
    assert sent(world) == [
        ("sla.warning", "resolution", 1, 0.75, "2026-11-26T02:59:00Z"),
        ("sla.breached", "resolution", 1, None, "2026-11-26T08:59:00Z"),
    ]
    world.send("ticket.solved", "2026-11-26T08:39:00Z", "s", actor="agent", **ticket)
    world.send("ticket.solved", "2026-11-26T08:39:00Z", "s", actor="agent", **ticket)
    assert sent(world)[2:] == [
        ("sla.breach_retracted", "resolution", 1, None, "2026-11-26T08:59:00Z")
    ]
    check_invariants(world)


def test_a_reclassification_that_breaches_at_once_publishes_once(world: World) -> None:
    """Given next-reply cycle 1 of a P3 ticket (16 business hours, nothing due before Thu),
    when an agent raises it to P1 (4 business hours) after the P1 deadline, then the P1
    warnings and breach go out at once, each once, judged by priority 1, and the P3 timers are
    gone."""
    ticket: dict[str, Any] = {"priority": 3}
    world.send("ticket.created", CREATED, "c", **ticket)
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent", **ticket)
    at(world, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1", **ticket)  # Wed 11:00
    assert timers_of(world, "next_reply")["breach"] == utc("2026-11-27T10:00:00Z")
    raised: dict[str, Any] = {"actor": "agent", "reason": "outage", "priority": 1}
    at(world, "2026-11-25T15:00:00Z", "ticket.updated", "u", **raised)
    world.send("ticket.updated", "2026-11-25T15:00:00Z", "u", **raised)  # delivered again
    assert sent(world) == [
        ("sla.warning", "next_reply", 1, 0.5, "2026-11-25T12:00:00Z"),  # 2 h: Wed 13:00
        ("sla.warning", "next_reply", 1, 0.75, "2026-11-25T13:00:00Z"),
        ("sla.warning", "next_reply", 1, 0.9, "2026-11-25T13:36:00Z"),
        ("sla.breached", "next_reply", 1, None, "2026-11-25T14:00:00Z"),  # 4 h: Wed 15:00
    ]
    assert {n.published_at for n in world.topic.sent} == {utc("2026-11-25T15:00:00Z")}
    assert {n.attributes()["priority"]["StringValue"] for n in world.topic.sent} == {"1"}
    assert timers_of(world, "next_reply") == {}
    world.advance("2026-11-27T12:00:00Z", step=timedelta(minutes=5))
    assert len(sent(world, "next_reply")) == 4
    check_invariants(world)


def test_the_sweeper_finds_nothing_to_repair_in_a_healthy_run(world: World) -> None:
    """Every five minutes of a week with all three metrics running, the sweeper repairs
    nothing: the timers fire everything on time."""
    world.send("ticket.created", CREATED, "c")
    runs = []
    for instant, type_, msg_id, actor in [
        ("2026-11-25T09:30:00Z", "ticket.responded", "r1", "agent"),
        ("2026-11-25T10:00:00Z", "ticket.customer_replied", "m1", "customer"),
        ("2026-11-26T11:00:00Z", "ticket.responded", "r2", "agent"),
        ("2026-11-26T11:30:00Z", "ticket.customer_replied", "m2", "customer"),
        ("2026-12-02T10:00:00Z", "ticket.solved", "s", "agent"),
    ]:
        while world.now < utc(instant):
            world.advance(min(world.now + timedelta(minutes=5), utc(instant)))
            runs.append(world.sweeper.run(world.now).repairs)
        world.send(type_, instant, msg_id, actor=actor)
    assert len(world.topic.sent) == 10
    assert set(runs) == {0}
    check_invariants(world)


def test_the_sweeper_repairs_a_lost_timer_of_a_next_reply_cycle(world: World) -> None:
    """Given next-reply cycle 1's warning timer lost, when the sweeper runs within the hour
    before it, then the timer is back as it was; lost again and overdue, the sweeper publishes
    the warning once and the next threshold's timer is armed."""
    world.send("ticket.created", CREATED, "c")
    at(world, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    at(world, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")
    name = schedule_name("T-1", "warning", "next_reply", 1)
    armed = world.timers.schedules.pop(name)
    world.advance("2026-11-25T13:30:00Z")
    assert world.sweeper.run(world.now).rearmed == 1
    assert world.timers.schedules[name] == armed
    del world.timers.schedules[name]
    world.now = utc("2026-11-25T14:10:00Z")  # past the warning and the sweeper's grace
    swept = world.sweeper.run(world.now)
    assert (swept.overdue, swept.published) == (1, 1)
    world.pump()
    assert sent(world) == [("sla.warning", "next_reply", 1, 0.5, "2026-11-25T14:00:00Z")]
    assert timers_of(world, "next_reply")["warning"] == utc("2026-11-25T16:00:00Z")
    check_invariants(world)


# -- the same scenario in any delivery order, with duplicates ------------------------------------

# Professional P2. Everything happens by 11:00Z, before any notice falls due (12:00Z): a first
# response, next-reply cycle 1 met, cycle 2 (two customer messages) raised to P1 by an agent
# and left unanswered, the resolution paused for half an hour, and a second ticket that is
# solved before anything is due.
SCENARIO: list[tuple[str, str, str, dict[str, Any]]] = [
    ("c", "ticket.created", "2026-11-25T08:59:00Z", {"status": "new"}),
    ("r1", "ticket.responded", "2026-11-25T09:10:00Z", {"actor": "agent", "status": "open"}),
    ("m1", "ticket.customer_replied", "2026-11-25T09:20:00Z", {}),
    ("r2", "ticket.responded", "2026-11-25T09:40:00Z", {"actor": "agent"}),
    ("m2", "ticket.customer_replied", "2026-11-25T10:00:00Z", {}),
    ("m3", "ticket.customer_replied", "2026-11-25T10:20:00Z", {}),  # cycle 2 still from m2
    ("p", "ticket.updated", "2026-11-25T10:30:00Z", {"actor": "agent", "status": "pending"}),
    (
        "u",
        "ticket.updated",
        "2026-11-25T10:45:00Z",
        {"actor": "agent", "reason": "outage", "priority": 1},
    ),
    ("o", "ticket.updated", "2026-11-25T11:00:00Z", {"actor": "customer", "status": "open"}),
    ("t2c", "ticket.created", "2026-11-25T09:00:00Z", {"id": "T-2"}),
    ("t2r", "ticket.responded", "2026-11-25T09:05:00Z", {"id": "T-2", "actor": "agent"}),
    ("t2s", "ticket.solved", "2026-11-25T09:15:00Z", {"id": "T-2", "actor": "agent"}),
]


def run_scenario(policy: Policy, order: list[int]) -> World:
    """Deliver the scenario's events in this order (an index twice: a duplicate) at 11:00Z, then
    run the clock for a fortnight."""
    world = World(policy, now=utc("2026-11-25T11:00:00Z"))
    # each delivery carries the ticket as of its instant: the latest snapshot wins
    snapshot = {"T-1": {"priority": 2}, "T-2": {"priority": 2}}
    fields: list[dict[str, Any]] = []
    for _, _, _, extra in SCENARIO:
        ticket_id = extra.get("id", "T-1")
        snapshot[ticket_id] = {
            **snapshot[ticket_id],
            **{k: v for k, v in extra.items() if k not in ("actor", "reason")},
        }
        fields.append({**extra, **snapshot[ticket_id]})
    for i in order:
        msg_id, type_, occurred_at, _ = SCENARIO[i]
        world.send(type_, occurred_at, msg_id, **fields[i])
    world.advance("2026-12-10T00:00:00Z", step=timedelta(minutes=30))
    return world


@pytest.fixture(scope="module")
def in_order(all_metrics: Policy) -> World:
    return run_scenario(all_metrics, list(range(len(SCENARIO))))


def test_the_scenario_in_order_publishes_what_each_metric_owes(in_order: World) -> None:
    assert sorted(sent(in_order)) == sorted(
        [
            # cycle 2 from Wed 11:00 local, P1: 4 business hours
            ("sla.warning", "next_reply", 2, 0.5, "2026-11-25T12:00:00Z"),
            ("sla.warning", "next_reply", 2, 0.75, "2026-11-25T13:00:00Z"),
            ("sla.warning", "next_reply", 2, 0.9, "2026-11-25T13:36:00Z"),
            ("sla.breached", "next_reply", 2, None, "2026-11-25T14:00:00Z"),
            # P1: 24 business hours from Wed 09:59 local, 30 minutes paused
            ("sla.warning", "resolution", 1, 0.75, "2026-11-27T11:29:00Z"),
            ("sla.breached", "resolution", 1, None, "2026-11-30T09:29:00Z"),
        ]
    )
    assert {n.ticket_id for n in in_order.topic.sent} == {"T-1"}
    check_invariants(in_order)


def published(world: World) -> Counter[str]:
    return Counter(n.notification_id for n in world.topic.sent)


def test_reversed_and_duplicated_deliveries_change_nothing(
    all_metrics: Policy, in_order: World
) -> None:
    order = [i for i in reversed(range(len(SCENARIO))) for _ in range(2)]
    world = run_scenario(all_metrics, order)
    assert published(world) == published(in_order)
    for ticket_id, stored in in_order.store.tickets.items():
        assert world.store.tickets[ticket_id].state == stored.state
    check_invariants(world)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    order=st.lists(st.sampled_from(range(len(SCENARIO))), max_size=4).flatmap(
        lambda again: st.permutations([*range(len(SCENARIO)), *again])
    )
)
def test_any_delivery_order_with_duplicates_publishes_the_in_order_notices(
    all_metrics: Policy, in_order: World, order: list[int]
) -> None:
    """Any order of the scenario's deliveries, some of them repeated, publishes exactly the
    notification ids that in-order delivery publishes, each once."""
    world = run_scenario(all_metrics, order)
    assert published(world) == published(in_order)
    assert set(published(world).values()) == {1}
