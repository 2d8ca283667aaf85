"""Next reply and resolution beside first response: cycles, pauses, reopening, several warnings.

Every literal below is computed by hand on the default calendar (Mon-Fri 09:00-17:00
Europe/Bratislava: CET = UTC+1 in winter, CEST = UTC+2 from 29 March 2026). The policy of these
tests has small targets so that the arithmetic stays readable:

* next reply: professional P2 2 business hours, advanced P1 1 elapsed hour and P3 4 business
  hours; warnings at 50 % and 75 %;
* resolution: professional P2 8 business hours, advanced P1 4 elapsed hours; pauses on pending
  and on hold (the default); one warning at 75 %.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.payloads import ticket_event
from sla import Policy, TicketEvent, load_policy, reduce_events
from sla.core.cycles import Cycle, counted
from sla.core.notices import NoticeKey, owed
from sla.core.state import TicketState, apply_event
from sla.core.view import MetricView, sla_view
from tests.unit.helpers import utc

POLICY_TEXT = """
default_priority = 3
non_production_priority = 3

[calendar]
timezone = "Europe/Bratislava"
[calendar.holidays]
country = "SK"
[calendar.hours]
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]

[plans.basic]
targets = {}
[plans.professional.targets]
1 = { hours = 3, clock = "business" }
2 = { hours = 6, clock = "business" }
3 = { hours = 9, clock = "business" }
[plans.advanced.targets]
1 = { hours = 1, clock = "elapsed" }
2 = { hours = 3, clock = "business" }
3 = { hours = 6, clock = "business" }

[metrics.next_reply]
warnings = [0.5, 0.75]
[metrics.next_reply.targets.professional]
2 = { hours = 2, clock = "business" }
[metrics.next_reply.targets.advanced]
1 = { hours = 1, clock = "elapsed" }
3 = { hours = 4, clock = "business" }

[metrics.resolution]
[metrics.resolution.targets.professional]
2 = { hours = 8, clock = "business" }
[metrics.resolution.targets.advanced]
1 = { hours = 4, clock = "elapsed" }
"""


@pytest.fixture(scope="module")
def metrics_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    path: Path = tmp_path_factory.mktemp("policy") / "metrics.toml"
    path.write_text(POLICY_TEXT)
    return load_policy(path)


class Ticket:
    """A scenario: events of one ticket, each given by its instant."""

    def __init__(self, created_at: str, **ticket: Any) -> None:
        self.ticket = {"created_at": created_at, **ticket}
        self.events: list[TicketEvent] = [self._event("ticket.created", created_at)]

    def _event(self, type_: str, at: str, actor: str = "customer", **fields: Any) -> TicketEvent:
        number = len(getattr(self, "events", ())) + 1
        ticket = {**self.ticket, **fields}
        return ticket_event(f"e{number:03d}", type_, at, actor=actor, **ticket)

    def add(self, type_: str, at: str, actor: str = "customer", **fields: Any) -> Ticket:
        self.ticket.update(fields)
        self.events.append(self._event(type_, at, actor))
        return self

    def reply(self, at: str) -> Ticket:
        return self.add("ticket.responded", at, "agent")

    def customer(self, at: str) -> Ticket:
        return self.add("ticket.customer_replied", at)

    def status(self, at: str, status: str) -> Ticket:
        return self.add("ticket.updated", at, "agent", status=status)

    def state(self, policy: Policy) -> TicketState:
        return reduce_events(self.events, policy)


def metric(state: TicketState, name: str, now: str, policy: Policy) -> MetricView:
    view = sla_view(state, utc(now), calendar=policy.calendar)
    assert view.metrics is not None
    return view.metrics[name]  # type: ignore[index]


def cycles(state: TicketState, name: str) -> tuple[Cycle, ...]:
    return state.metrics[name].cycles  # type: ignore[index]


def at(cycle: Cycle) -> list[datetime | None]:
    return [w.at for w in cycle.warnings]


# -- resolution: pauses ----------------------------------------------------------------------


def test_a_pause_across_a_weekend_moves_the_deadline_by_the_paused_business_time(
    metrics_policy: Policy,
) -> None:
    """Created Thu 26 Nov 09:00 CET, pending from Thu 15:00 CET (6 business hours counted) to Mon
    30 Nov 11:00 CET: 2 hours are left, so the deadline is Mon 13:00 CET (12:00 UTC). The 75 %
    warning (6 hours) falls exactly at the pause."""
    t = Ticket("2026-11-26T08:00:00Z", plan="professional", priority=2)
    t.status("2026-11-26T14:00:00Z", "pending")
    paused = t.state(metrics_policy)
    (cycle,) = cycles(paused, "resolution")
    assert (cycle.paused_since, cycle.deadline) == (utc("2026-11-26T14:00:00Z"), None)
    assert at(cycle) == [utc("2026-11-26T14:00:00Z")]
    during = metric(paused, "resolution", "2026-11-28T12:00:00Z", metrics_policy)
    assert during.status == "paused"
    assert during.ongoing_cycle is not None
    assert (during.ongoing_cycle.elapsed_seconds, during.ongoing_cycle.remaining_seconds) == (
        6 * 3600,
        2 * 3600,
    )

    t.status("2026-11-30T10:00:00Z", "open")
    (cycle,) = cycles(t.state(metrics_policy), "resolution")
    assert cycle.deadline == utc("2026-11-30T12:00:00Z")
    assert cycle.pauses == ((utc("2026-11-26T14:00:00Z"), utc("2026-11-30T10:00:00Z")),)
    assert at(cycle) == [utc("2026-11-26T14:00:00Z")]


def test_first_response_does_not_pause_by_default(metrics_policy: Policy) -> None:
    """The same pending status leaves first response running: 6 business hours from Thu 09:00
    CET is Thu 15:00 CET."""
    t = Ticket("2026-11-26T08:00:00Z", plan="professional", priority=2)
    t.status("2026-11-26T10:00:00Z", "pending")
    state = t.state(metrics_policy)
    assert state.deadline == utc("2026-11-26T14:00:00Z")
    assert cycles(state, "first_response")[0].pauses == ()


@pytest.mark.parametrize(
    ("plan", "priority", "created", "pause", "resume", "warning", "deadline"),
    [
        # elapsed: Sat 28 Mar 23:00 UTC, paused 23:30 to Sun 02:30 UTC across the switch to
        # CEST at 01:00 UTC: 3 hours paused, 30 min before and 3.5 h after -> 06:00 UTC
        (
            "advanced",
            1,
            "2026-03-28T23:00:00Z",
            "2026-03-28T23:30:00Z",
            "2026-03-29T02:30:00Z",
            "2026-03-29T05:00:00Z",
            "2026-03-29T06:00:00Z",
        ),
        # business: Fri 27 Mar 09:00 CET, paused 15:00 CET (6 h counted) to Mon 30 Mar 10:00
        # CEST: 2 hours left -> Mon 12:00 CEST = 10:00 UTC
        (
            "professional",
            2,
            "2026-03-27T08:00:00Z",
            "2026-03-27T14:00:00Z",
            "2026-03-30T08:00:00Z",
            "2026-03-27T14:00:00Z",
            "2026-03-30T10:00:00Z",
        ),
    ],
)
def test_a_pause_across_the_dst_night(
    metrics_policy: Policy,
    plan: str,
    priority: int,
    created: str,
    pause: str,
    resume: str,
    warning: str,
    deadline: str,
) -> None:
    t = Ticket(created, plan=plan, priority=priority)
    t.status(pause, "on_hold").status(resume, "open")
    (cycle,) = cycles(t.state(metrics_policy), "resolution")
    assert (at(cycle), cycle.deadline) == ([utc(warning)], utc(deadline))


def test_a_pause_that_starts_before_the_creation_counts_from_the_creation(
    metrics_policy: Policy,
) -> None:
    """On hold from 07:00 UTC by the helpdesk's clock, for a ticket created at 08:00 UTC (Thu
    09:00 CET), open again at 09:00 UTC: one business hour paused, so 8 hours from Thu 10:00 CET
    end Fri 27 Nov 10:00 CET (09:00 UTC)."""
    t = Ticket("2026-11-26T08:00:00Z", plan="professional", priority=2)
    t.events = []
    t.status("2026-11-26T07:00:00Z", "on_hold").status("2026-11-26T09:00:00Z", "open")
    (cycle,) = cycles(t.state(metrics_policy), "resolution")
    assert cycle.started_at == utc("2026-11-26T08:00:00Z")
    assert cycle.active_pauses() == ((utc("2026-11-26T08:00:00Z"), utc("2026-11-26T09:00:00Z")),)
    assert cycle.deadline == utc("2026-11-27T09:00:00Z")


def test_a_reopened_ticket_resumes_the_same_clock_and_is_judged_at_each_solve(
    metrics_policy: Policy,
) -> None:
    """Created Wed 25 Nov 09:00 CET, solved 12:00 CET (3 of 8 hours: met), reopened Thu 10:00
    CET: 5 hours are left -> Thu 15:00 CET (14:00 UTC); the 75 % warning (6 hours) at Thu 13:00
    CET. Solved again Thu 16:00 CET: breached."""
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.add("ticket.solved", "2026-11-25T11:00:00Z", "agent", status="solved")
    assert (
        metric(t.state(metrics_policy), "resolution", "2026-11-25T12:00:00Z", metrics_policy).status
        == "met"
    )

    t.add("ticket.reopened", "2026-11-26T09:00:00Z", status="open")
    reopened = t.state(metrics_policy)
    (cycle,) = cycles(reopened, "resolution")
    assert (cycle.number, cycle.stopped_at) == (1, None)
    assert (at(cycle), cycle.deadline) == (
        [utc("2026-11-26T12:00:00Z")],
        utc("2026-11-26T14:00:00Z"),
    )
    assert (
        metric(reopened, "resolution", "2026-11-26T10:00:00Z", metrics_policy).status == "running"
    )

    t.add("ticket.solved", "2026-11-26T15:00:00Z", "agent", status="solved")
    solved = t.state(metrics_policy)
    view = metric(solved, "resolution", "2026-11-27T00:00:00Z", metrics_policy)
    assert view.status == "breached"
    assert view.completed_cycles[0].stopped_at == utc("2026-11-26T15:00:00Z")
    # the breach is owed for the resumed deadline, once
    breaches = [o for o in owed(solved, frozenset()) if o.kind == "breach"]
    assert [(o.metric, o.for_) for o in breaches] == [("resolution", utc("2026-11-26T14:00:00Z"))]


# -- next reply ------------------------------------------------------------------------------


def test_a_customer_message_before_the_first_response_starts_no_next_reply_cycle(
    metrics_policy: Policy,
) -> None:
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.customer("2026-11-25T08:30:00Z").reply("2026-11-25T09:00:00Z")
    state = t.state(metrics_policy)
    assert cycles(state, "next_reply") == ()
    assert metric(state, "next_reply", "2026-11-25T10:00:00Z", metrics_policy).status == "idle"


def test_a_customer_message_while_the_agent_reply_is_in_flight(metrics_policy: Policy) -> None:
    """Reply at 10:30 UTC delivered after the customer's message of 10:31: the reply ends cycle 1
    (met) and the message starts cycle 2, whose 2 business hours end 12:31 UTC (warnings at 50 %
    and 75 %: 11:31 and 12:01 UTC)."""
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.reply("2026-11-25T09:00:00Z").customer("2026-11-25T10:00:00Z")
    t.customer("2026-11-25T10:31:00Z").reply("2026-11-25T10:30:00Z")
    first, second = cycles(t.state(metrics_policy), "next_reply")
    assert (first.started_at, first.stopped_at, first.met) == (
        utc("2026-11-25T10:00:00Z"),
        utc("2026-11-25T10:30:00Z"),
        True,
    )
    assert (second.number, second.started_at, second.stopped_at) == (
        2,
        utc("2026-11-25T10:31:00Z"),
        None,
    )
    assert (at(second), second.deadline) == (
        [utc("2026-11-25T11:31:00Z"), utc("2026-11-25T12:01:00Z")],
        utc("2026-11-25T12:31:00Z"),
    )


def test_two_customer_messages_before_one_reply_make_one_cycle_from_the_oldest(
    metrics_policy: Policy,
) -> None:
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.reply("2026-11-25T09:00:00Z").customer("2026-11-25T10:00:00Z")
    t.customer("2026-11-25T11:00:00Z").reply("2026-11-25T12:30:00Z")
    (cycle,) = cycles(t.state(metrics_policy), "next_reply")
    assert (cycle.started_at, cycle.deadline, cycle.stopped_at) == (
        utc("2026-11-25T10:00:00Z"),
        utc("2026-11-25T12:00:00Z"),
        utc("2026-11-25T12:30:00Z"),
    )
    view = metric(t.state(metrics_policy), "next_reply", "2026-11-25T13:00:00Z", metrics_policy)
    assert view.status == "breached"


def test_a_solve_ends_an_unanswered_next_reply_cycle(metrics_policy: Policy) -> None:
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.reply("2026-11-25T09:00:00Z").customer("2026-11-25T10:00:00Z")
    t.add("ticket.solved", "2026-11-25T10:15:00Z", "agent", status="solved")
    (cycle,) = cycles(t.state(metrics_policy), "next_reply")
    assert (cycle.stopped_at, cycle.stop_reason, cycle.met) == (
        utc("2026-11-25T10:15:00Z"),
        "solved",
        True,
    )


def test_an_agent_reclassification_keeps_the_elapsed_time_and_can_breach_at_once(
    metrics_policy: Policy,
) -> None:
    """Advanced P3: the customer writes at 09:00 UTC (4 business hours: 13:00 UTC). At 10:30 an
    agent makes it P1 (1 elapsed hour from 09:00): the deadline 10:00 has passed, breached."""
    t = Ticket("2026-11-25T08:00:00Z", plan="advanced", priority=3)
    t.reply("2026-11-25T08:30:00Z").customer("2026-11-25T09:00:00Z")
    assert cycles(t.state(metrics_policy), "next_reply")[0].deadline == utc("2026-11-25T13:00:00Z")
    t.add("ticket.updated", "2026-11-25T10:30:00Z", "agent", priority=1)
    t.events[-1] = t.events[-1].model_copy(update={"reason": "outage"})
    state = t.state(metrics_policy)
    (cycle,) = cycles(state, "next_reply")
    assert (cycle.priority, cycle.deadline) == (1, utc("2026-11-25T10:00:00Z"))
    assert metric(state, "next_reply", "2026-11-25T10:30:00Z", metrics_policy).status == "breached"
    due = [o for o in owed(state, frozenset()) if o.metric == "next_reply" and o.kind == "breach"]
    assert [o.due_at for o in due] == [utc("2026-11-25T10:00:01Z")]


def test_a_stop_in_time_delivered_after_the_breach_notice_retracts_it(
    metrics_policy: Policy,
) -> None:
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.reply("2026-11-25T09:00:00Z").customer("2026-11-25T10:00:00Z")
    deadline = utc("2026-11-25T12:00:00Z")
    published: frozenset[NoticeKey] = frozenset({("next_reply", 1, "breach", deadline)})
    t.reply("2026-11-25T11:59:00Z")  # in time, but delivered after the breach went out
    retractions = [o for o in owed(t.state(metrics_policy), published) if o.kind == "retraction"]
    assert [(o.metric, o.cycle, o.for_, o.due_at) for o in retractions] == [
        ("next_reply", 1, deadline, utc("2026-11-25T11:59:00Z"))
    ]


def test_each_warning_fraction_is_its_own_notice(metrics_policy: Policy) -> None:
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.reply("2026-11-25T09:00:00Z").customer("2026-11-25T10:00:00Z")
    warnings = [o for o in owed(t.state(metrics_policy), frozenset()) if o.metric == "next_reply"]
    assert [(o.kind, o.threshold, o.for_) for o in warnings] == [
        ("warning", 0.5, utc("2026-11-25T11:00:00Z")),
        ("warning", 0.75, utc("2026-11-25T11:30:00Z")),
        ("breach", None, utc("2026-11-25T12:00:00Z")),
    ]


@pytest.mark.parametrize(
    ("fields", "status"),
    [({"product_stage": "beta"}, "exempt"), ({"plan": "basic"}, "no_target")],
)
def test_exempt_and_untargeted_tickets_owe_nothing_on_any_metric(
    metrics_policy: Policy, fields: dict[str, Any], status: str
) -> None:
    t = Ticket("2026-11-25T08:00:00Z", **{"plan": "professional", "priority": 2, **fields})
    t.reply("2026-11-25T09:00:00Z").customer("2026-11-25T10:00:00Z")
    state = t.state(metrics_policy)
    assert owed(state, frozenset()) == []
    for name in ("next_reply", "resolution"):
        assert metric(state, name, "2026-11-25T10:00:00Z", metrics_policy).status == status


def test_a_long_exchange_keeps_the_latest_cycles_and_counts_the_others(
    metrics_policy: Policy,
) -> None:
    """Eight exchanges, each answered in 30 minutes but the third (3 hours: breached): the state
    keeps the ongoing cycle and the latest five completed; the view of a full fold shows all."""
    t = Ticket("2026-11-25T08:00:00Z", plan="professional", priority=2)
    t.reply("2026-11-25T08:10:00Z")
    start = utc("2026-11-26T08:00:00Z")
    for i in range(8):
        asked = start + timedelta(days=i if i < 2 else i + 2)  # skip the weekend
        took = timedelta(hours=3) if i == 2 else timedelta(minutes=30)
        t.customer(asked.isoformat()).reply((asked + took).isoformat())
    t.customer("2026-12-09T08:00:00Z")
    state = t.state(metrics_policy)
    ms = state.metrics["next_reply"]
    assert [c.number for c in ms.cycles] == [4, 5, 6, 7, 8, 9]
    assert (ms.earlier_met, ms.earlier_breached) == (2, 1)
    full = reduce_events(t.events, metrics_policy, keep=None)
    assert [c.number for c in full.metrics["next_reply"].cycles] == list(range(1, 10))


# -- the stored state and the clock ----------------------------------------------------------


def test_the_state_steps_equal_the_fold_and_survive_storage(metrics_policy: Policy) -> None:
    t = Ticket("2026-11-26T08:00:00Z", plan="professional", priority=2)
    t.reply("2026-11-26T09:00:00Z").customer("2026-11-26T10:00:00Z")
    t.status("2026-11-26T11:00:00Z", "pending").status("2026-11-27T09:00:00Z", "open")
    t.reply("2026-11-27T10:00:00Z").add("ticket.solved", "2026-11-27T11:00:00Z", "agent")
    stepped: TicketState | None = None
    for event in t.events:
        stepped = apply_event(stepped, event, metrics_policy)
        stepped = TicketState.model_validate_json(stepped.model_dump_json())
    assert stepped is not None
    folded = t.state(metrics_policy).model_copy(update={"history": None})
    assert stepped == folded


def test_a_cycle_counts_exactly_its_target_up_to_its_deadline(metrics_policy: Policy) -> None:
    t = Ticket("2026-11-26T08:00:00Z", plan="professional", priority=2)
    t.status("2026-11-26T14:00:00Z", "pending").status("2026-11-30T10:00:00Z", "open")
    (cycle,) = cycles(t.state(metrics_policy), "resolution")
    assert cycle.started_at is not None and cycle.deadline is not None
    used = counted(
        metrics_policy.calendar, "business", cycle.started_at, cycle.pauses, cycle.deadline
    )
    assert used == timedelta(hours=8)


def test_a_state_stored_before_metrics_keeps_its_first_response_cycle(policy: Policy) -> None:
    t = Ticket("2026-11-25T08:59:00Z", plan="professional", priority=2)
    state = t.state(policy)
    legacy = state.model_dump(mode="json", exclude={"history", "metrics"})
    restored = TicketState.model_validate(legacy)
    (cycle,) = restored.metrics["first_response"].cycles
    assert (cycle.deadline, [w.at for w in cycle.warnings]) == (
        state.deadline,
        [state.warning_at],
    )
    # the same notices (the stored state did not record the warning's fraction)
    assert [o.key for o in owed(restored, frozenset())] == [o.key for o in owed(state, frozenset())]


def test_a_stopping_event_that_reclassifies_is_judged_by_its_own_terms(
    metrics_policy: Policy,
) -> None:
    """The reply of an agent that also makes the ticket P3 (advanced: 6 business hours for first
    response, 4 for next reply): both cycles it stops are judged by P3, as first response always
    was."""
    t = Ticket("2026-11-25T08:00:00Z", plan="advanced", priority=1)
    t.reply("2026-11-25T08:30:00Z").customer("2026-11-25T09:00:00Z")
    t.add("ticket.responded", "2026-11-25T11:00:00Z", "agent", priority=3)
    state = t.state(metrics_policy)
    (reply,) = cycles(state, "next_reply")
    assert (reply.priority, reply.deadline, reply.met) == (3, utc("2026-11-25T13:00:00Z"), True)
    assert cycles(state, "first_response")[0].priority == 1  # it stopped at 08:30, as P1
