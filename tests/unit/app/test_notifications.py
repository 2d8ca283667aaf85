"""Warnings, breaches and retractions through the whole pipeline, in memory."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from sla import Policy
from sla.core.errors import TransientError
from sla.core.notices import schedule_name
from tests.unit.world import World, check_invariants

CREATED = "2026-11-25T08:59:00Z"  # Professional P2: warning 13:29Z, deadline 14:59Z


@pytest.fixture
def world(policy: Policy) -> World:
    return World(policy)


def test_a_new_ticket_arms_a_warning_and_a_breach_timer(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    assert {n: (w, p.for_) for n, (w, p) in world.timers.schedules.items()} == {
        schedule_name("T-1", "warning"): (
            datetime(2026, 11, 25, 13, 29, tzinfo=UTC),
            datetime(2026, 11, 25, 13, 29, tzinfo=UTC),
        ),
        schedule_name("T-1", "breach"): (
            datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 14, 59, tzinfo=UTC),
        ),
    }
    check_invariants(world)


def test_unanswered_ticket_gets_one_warning_then_one_breach(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.advance("2026-11-25T13:28:00Z")
    assert world.types() == []
    world.advance("2026-11-25T13:29:00Z")
    assert world.types() == ["sla.warning"]
    world.advance("2026-11-25T14:59:00Z")
    assert world.types() == ["sla.warning"]  # the deadline minute itself is not late yet
    world.advance("2026-11-25T15:10:00Z")
    assert world.types() == ["sla.warning", "sla.breached"]
    breach = world.topic.sent[1]
    assert breach.sla.status == "breached"
    assert breach.attributes()["priority"] == {"DataType": "Number", "StringValue": "2"}
    check_invariants(world)


def test_answered_in_time_gets_nothing_and_timers_are_deleted(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.advance("2026-11-25T10:00:00Z")
    world.send("ticket.responded", "2026-11-25T10:00:00Z", "r", actor="agent")
    assert world.timers.schedules == {}
    world.advance("2026-11-26T00:00:00Z")
    assert world.types() == []
    check_invariants(world)


def test_answered_after_the_warning_gets_only_the_warning(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.advance("2026-11-25T14:00:00Z")
    world.send("ticket.responded", "2026-11-25T14:00:00Z", "r", actor="agent")
    world.advance("2026-11-26T00:00:00Z")
    assert world.types() == ["sla.warning"]
    check_invariants(world)


def test_duplicate_and_stale_timer_invocations_publish_nothing_more(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.advance("2026-11-25T15:00:00Z")
    assert world.types() == ["sla.warning", "sla.breached"]
    for payload in list(world.fired) * 3:  # Scheduler and Lambda may deliver again
        assert (
            world.notifier.judge(payload.ticket_id, payload.kind, payload.for_, world.now).outcome
            == "duplicate"
        )
    stale = world.notifier.judge(
        "T-1", "breach", datetime(2026, 11, 25, 12, 0, tzinfo=UTC), world.now
    )
    assert stale.outcome == "stale"
    assert world.notifier.judge("T-404", "breach", world.now, world.now).outcome == "stale"
    assert world.types() == ["sla.warning", "sla.breached"]
    check_invariants(world)


def test_a_timer_fired_early_publishes_nothing_and_rearms(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.now = datetime(2026, 11, 25, 14, 58, 30, tzinfo=UTC)
    world.timers.schedules.clear()
    judged = world.notifier.judge(
        "T-1", "breach", datetime(2026, 11, 25, 14, 59, tzinfo=UTC), world.now
    )
    assert judged.outcome == "early"
    assert world.types() == []
    when, _ = world.timers.schedules[schedule_name("T-1", "breach")]
    assert when == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def test_priority_raised_moves_timers_earlier_and_lowered_moves_them_later(world: World) -> None:
    world.send("ticket.created", CREATED, "c", priority=3)  # 9 h: due Thu 10:59 CET
    breach = schedule_name("T-1", "breach")
    assert world.timers.schedules[breach][1].for_ == datetime(2026, 11, 26, 9, 59, tzinfo=UTC)
    world.send("ticket.updated", "2026-11-25T09:00:00Z", "u1", actor="agent", priority=1)
    assert world.timers.schedules[breach][1].for_ == datetime(2026, 11, 25, 11, 59, tzinfo=UTC)
    world.send("ticket.updated", "2026-11-25T09:00:30Z", "u2", actor="agent", priority=2)
    assert world.timers.schedules[breach][1].for_ == datetime(2026, 11, 25, 14, 59, tzinfo=UTC)
    world.advance("2026-11-25T15:05:00Z")
    assert world.types() == ["sla.warning", "sla.breached"]
    assert world.topic.sent[1].for_ == datetime(2026, 11, 25, 14, 59, tzinfo=UTC)
    check_invariants(world)


def test_raising_priority_past_the_deadline_breaches_at_once(world: World) -> None:
    world.send("ticket.created", CREATED, "c", priority=3)
    world.advance("2026-11-25T12:30:00Z")
    world.send("ticket.updated", "2026-11-25T12:30:00Z", "u", actor="agent", priority=1)
    assert world.types() == ["sla.warning", "sla.breached"]  # P1 deadline was 11:59Z
    check_invariants(world)


def test_deadline_already_past_at_ingest_is_judged_at_once(world: World) -> None:
    world.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    world.send("ticket.created", CREATED, "c")  # a day late: the queue was down
    assert world.types() == ["sla.warning", "sla.breached"]
    assert world.timers.schedules == {}
    check_invariants(world)


def test_late_delivered_reply_after_the_breach_retracts_once(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.advance("2026-11-25T15:05:00Z")
    assert world.types() == ["sla.warning", "sla.breached"]
    world.send("ticket.responded", "2026-11-25T14:50:00Z", "r", actor="agent")  # in time, late news
    world.send("ticket.responded", "2026-11-25T14:50:00Z", "r", actor="agent")
    assert world.types() == ["sla.warning", "sla.breached", "sla.breach_retracted"]
    assert world.topic.sent[2].sla.status == "met"
    check_invariants(world)


def test_reply_after_the_deadline_still_yields_exactly_one_breach(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.timers.schedules.clear()  # the timers were lost
    world.now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    world.send("ticket.responded", "2026-11-25T16:00:00Z", "r", actor="agent")
    assert world.types() == ["sla.warning", "sla.breached"]
    check_invariants(world)


def test_publish_failing_after_the_claim_is_retried_and_goes_out_once(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    real = world.topic.publish
    calls = {"n": 0}

    def failing_once(message: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("SNS is down")
        real(message)  # type: ignore[arg-type]

    world.topic.publish = failing_once  # type: ignore[method-assign,assignment]
    for_ = datetime(2026, 11, 25, 14, 59, tzinfo=UTC)
    with pytest.raises(TransientError):
        world.notifier.judge("T-1", "breach", for_, world.now)
    assert (
        world.notifier.judge("T-1", "breach", for_, world.now).outcome == "published"
    )  # Lambda's retry
    assert world.notifier.judge("T-1", "breach", for_, world.now).outcome == "duplicate"
    world.pump()
    assert world.types().count("sla.breached") == 1
    ids = {n.notification_id for n in world.topic.sent if n.type == "sla.breached"}
    assert len(ids) == 1


def test_sweeper_repairs_a_lost_timer_and_an_unsent_breach(world: World) -> None:
    world.send("ticket.created", CREATED, "c")
    world.send("ticket.created", CREATED, "c2", id="T-2")
    world.timers.schedules.clear()  # both tickets' timers lost
    world.now = datetime(2026, 11, 25, 12, 45, tzinfo=UTC)  # T-2's warning within the horizon
    repaired = world.sweeper.run(world.now)
    assert repaired.rearmed == 4  # both tickets owe a warning within the hour: all their timers
    world.timers.schedules.clear()
    world.now = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    repaired = world.sweeper.run(world.now)
    assert (repaired.overdue, repaired.published) == (2, 4)  # a warning and a breach each
    assert sorted(world.types()) == ["sla.breached"] * 2 + ["sla.warning"] * 2
    check_invariants(world)


def test_exempt_and_basic_tickets_owe_nothing(world: World) -> None:
    world.send("ticket.created", CREATED, "c", product_stage="beta")
    world.send("ticket.created", CREATED, "b", id="T-2", plan="basic")
    assert world.timers.schedules == {}
    world.advance(datetime(2026, 11, 27, tzinfo=UTC), step=timedelta(hours=1))
    assert world.types() == []
    check_invariants(world)


@pytest.mark.parametrize(
    "reply_at", ["2026-11-25T14:58:59Z", "2026-11-25T14:59:00Z", "2026-11-25T14:59:30Z"]
)
def test_reply_racing_the_breach_timer(policy: Policy, reply_at: str) -> None:
    """Threads, many rounds: the breach timer fires while the reply is delivered. A reply at or
    before the deadline never leaves a breach standing (recorded first: none is published; recorded
    after the claim: one breach, then one retraction); a late reply yields exactly one breach."""
    import threading

    in_time = datetime.fromisoformat(reply_at) <= datetime(2026, 11, 25, 14, 59, tzinfo=UTC)
    orders = set()
    for _ in range(60):
        world = World(policy)
        world.send("ticket.created", CREATED, "c")
        world.now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
        world.timers.schedules.clear()
        barrier = threading.Barrier(2)
        done: dict[str, float] = {}

        def fire(
            world: World = world,
            barrier: threading.Barrier = barrier,
            done: dict[str, float] = done,
        ) -> None:
            barrier.wait()
            done["timer_start"] = time.perf_counter()
            world.notifier.judge(
                "T-1", "breach", datetime(2026, 11, 25, 14, 59, tzinfo=UTC), world.now
            )

        def reply(
            world: World = world,
            barrier: threading.Barrier = barrier,
            done: dict[str, float] = done,
        ) -> None:
            barrier.wait()
            result = world.webhooks.ingest(*signed_reply(world, reply_at), False, world.now)
            assert result.outcome == "applied"
            done["reply_recorded"] = time.perf_counter()

        threads = [threading.Thread(target=fire), threading.Thread(target=reply)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        world.pump()
        types = world.types()
        assert types.count("sla.breached") <= 1
        view = world.webhooks.read("T-1", world.now)
        assert view.first_response_at == datetime.fromisoformat(reply_at)
        if in_time:
            assert view.status == "met"
            assert types.count("sla.breach_retracted") == types.count("sla.breached")
            if done["reply_recorded"] < done["timer_start"]:
                assert "sla.breached" not in types
            orders.add(tuple(types))
        else:
            assert view.status == "breached"
            assert types.count("sla.breached") == 1
            assert "sla.breach_retracted" not in types
        check_invariants(world)
    if in_time:
        assert ("sla.warning",) in orders or (
            "sla.warning",
            "sla.breached",
            "sla.breach_retracted",
        ) in orders


def signed_reply(world: World, reply_at: str) -> tuple[dict[str, str], str]:
    import json

    from local.signing import signature_headers

    body = json.dumps(
        {
            "type": "ticket.responded",
            "occurred_at": reply_at,
            "ticket": {"id": "T-1", "created_at": CREATED, "plan": "professional", "priority": 2},
            "actor": {"type": "agent"},
        }
    ).encode()
    return signature_headers(body, int(world.now.timestamp()), msg_id="reply"), body.decode()


def test_sweeper_leaves_tickets_whose_stream_record_is_in_flight(world: World) -> None:
    world.send(
        "ticket.created", CREATED, "lagging", id="T-9", plan="advanced", priority=1, pump=False
    )
    assert world.sweeper.run(world.now).repairs == 0  # not a repair: the timers function arms it
    world.pump()
    assert schedule_name("T-9", "breach") in world.timers.schedules
    check_invariants(world)


def test_sweeper_leaves_overdue_tickets_whose_stream_record_is_in_flight(world: World) -> None:
    """A ticket that arrives with its deadline long past (a backfill, a delivery retried for
    hours) is judged by the timers function when it reads the stream record. A sweep in between
    is no repair: counting one would ring the repairs alarm in a healthy system."""
    world.now = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # Advanced P1 deadline 09:59Z: overdue
    world.send(
        "ticket.created", CREATED, "backfill", id="T-8", plan="advanced", priority=1, pump=False
    )
    swept = world.sweeper.run(world.now)
    assert (swept.overdue, swept.repairs) == (0, 0)
    world.pump()  # the timers function judges what is already due
    assert world.types() == ["sla.warning", "sla.breached"]
    world.now += timedelta(minutes=4)  # past the grace: had the stream lost it, a sweep repairs
    assert world.sweeper.run(world.now).repairs == 0  # nothing left to repair
    check_invariants(world)


def test_sweeper_repairs_an_overdue_ticket_whose_stream_record_was_lost(world: World) -> None:
    world.now = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    world.send("ticket.created", CREATED, "lost", id="T-7", plan="advanced", priority=1, pump=False)
    world.store.stream.clear()  # the stream record is lost
    world.now += timedelta(minutes=4)  # past the grace
    swept = world.sweeper.run(world.now)
    assert (swept.overdue, swept.published) == (1, 2)
    assert world.types() == ["sla.warning", "sla.breached"]
    check_invariants(world)
