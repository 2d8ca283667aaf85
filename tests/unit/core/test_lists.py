"""Which SLA list each metric of a ticket is on (``sla.core.lists``), from its state and its
ledger of published notices, and the rank that orders a list.

Instants are computed by hand on the default calendar (Mon-Fri 09:00-17:00 Europe/Bratislava,
UTC+1 in winter). The tickets are Professional P2 created Wednesday 2026-11-25T08:59Z (09:59
local) unless a test says otherwise: first response warns at 13:29Z and is due 14:59Z (6
business hours); with the shipped all-metrics policy, resolution is due in 40 business hours,
Wednesday 2026-12-02T08:59Z, and next reply in 8, warning at 50, 75 and 90 %.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.payloads import ticket_event
from sla import Policy, TicketEvent, load_policy, reduce_events
from sla.core.lists import RANK, ListEntry, list_entries, rank, rank_deadline
from sla.core.notices import Notice, NoticeKind, notification_id
from sla.core.state import TicketState
from sla.core.terms import MetricName
from tests.unit.helpers import utc

ALL_METRICS = Path(__file__).resolve().parents[3] / "layers/sla/sla/policies/all-metrics.toml"
DEFAULT = load_policy()
ALL = load_policy(ALL_METRICS)
T0 = "2026-11-25T08:59:00Z"
DEADLINE = utc("2026-11-25T14:59:00Z")
RESOLVED_BY = utc("2026-12-02T08:59:00Z")


class Ticket:
    """A scenario: one ticket's events, each given by its instant."""

    def __init__(self, policy: Policy, **fields: Any) -> None:
        self.policy = policy
        self.fields: dict[str, Any] = {"created_at": T0, **fields}
        self.events: list[TicketEvent] = []
        self.add("ticket.created", T0)

    def add(self, type_: str, at: str, actor: str = "customer", **fields: Any) -> Ticket:
        self.fields.update(fields)
        event_id = f"e{len(self.events):03d}"
        self.events.append(ticket_event(event_id, type_, at, actor=actor, **self.fields))
        return self

    def reply(self, at: str) -> Ticket:
        return self.add("ticket.responded", at, "agent")

    @property
    def state(self) -> TicketState:
        return reduce_events(self.events, self.policy)


def sent(
    state: TicketState,
    kind: NoticeKind,
    metric: MetricName = "first_response",
    cycle: int | None = None,
    warning: int = 0,
) -> Notice:
    """The notice of ``kind`` for the cycle's current instant (its latest cycle unless
    ``cycle``), as the notifier records it once published."""
    cycles = state.metrics[metric].cycles
    c = cycles[-1] if cycle is None else next(c for c in cycles if c.number == cycle)
    for_ = c.warnings[warning].at if kind == "warning" else c.deadline
    assert for_ is not None
    return Notice(
        kind, for_, notification_id(state.ticket_id, kind, for_, metric, c.number), metric, c.number
    )


def entry(
    status: str, deadline: datetime, metric: MetricName = "first_response", **fields: Any
) -> ListEntry:
    values: dict[str, Any] = {"cycle": 1, "plan": "professional", "priority": 2, **fields}
    return ListEntry(metric, status, values["cycle"], deadline, values["plan"], values["priority"])  # type: ignore[arg-type]


# -- first response: running, at risk, breached --------------------------------------------------


@pytest.mark.parametrize(
    ("ledger", "status"),
    [
        ((), "running"),
        (("warning",), "at_risk"),
        (("warning", "breach"), "breached"),
        (("breach",), "breached"),  # created past its deadline: no warning ever went out
    ],
)
def test_a_running_clock_is_listed_by_the_notices_that_went_out(
    ledger: tuple[NoticeKind, ...], status: str
) -> None:
    """Given a ticket nobody answered, when these notices were published, then it is on this
    list, with its deadline, plan and priority."""
    state = Ticket(DEFAULT).state
    notices = [sent(state, kind) for kind in ledger]

    assert list_entries(state, notices) == {"first_response": entry(status, DEADLINE)}


def test_a_reply_in_time_takes_the_ticket_off_every_list() -> None:
    """Given a warned ticket, when an agent replies before the deadline, then it is on no list
    (met)."""
    ticket = Ticket(DEFAULT)
    warning = sent(ticket.state, "warning")

    assert list_entries(ticket.reply("2026-11-25T14:00:00Z").state, [warning]) == {}


def test_a_late_reply_takes_a_breached_ticket_off_the_list() -> None:
    """Given a breached ticket, when an agent replies after the deadline, then it is on no list:
    its clock stopped, the breach stands, and the report counts it."""
    ticket = Ticket(DEFAULT)
    notices = [sent(ticket.state, "warning"), sent(ticket.state, "breach")]

    assert list_entries(ticket.reply("2026-11-25T16:00:00Z").state, notices) == {}


def test_a_reply_in_time_delivered_after_the_breach_takes_it_off_the_breached_list() -> None:
    """Given a breach that went out, when the reply that happened before the deadline is
    recorded (and its retraction published), then the ticket is on no list."""
    ticket = Ticket(DEFAULT)
    notices = [sent(ticket.state, "warning"), sent(ticket.state, "breach")]
    answered = ticket.reply("2026-11-25T14:00:00Z").state
    retraction = sent(answered, "retraction")

    assert list_entries(answered, notices) == {}
    assert list_entries(answered, [*notices, retraction]) == {}


def test_a_retracted_breach_does_not_list_a_running_clock_as_breached() -> None:
    """Given a ledger whose breach for the current deadline was retracted, when the clock runs,
    then the ticket is listed by its warning, not as breached."""
    state = Ticket(DEFAULT).state
    notices = [sent(state, "warning"), sent(state, "breach"), sent(state, "retraction")]

    assert list_entries(state, notices) == {"first_response": entry("at_risk", DEADLINE)}


def test_a_notice_for_an_instant_the_cycle_no_longer_has_does_not_count() -> None:
    """Given a ticket warned at 13:29Z, when an agent then lowers it to P3 (9 business hours:
    warning 15:44Z, due Thursday 09:59Z), then it is running again, judged by P3, until the
    warning for the new instant goes out."""
    ticket = Ticket(DEFAULT)
    old_warning = sent(ticket.state, "warning")
    lowered = ticket.add(
        "ticket.updated", "2026-11-25T13:40:00Z", "agent", priority=3, reason="not urgent"
    ).state

    assert list_entries(lowered, [old_warning]) == {
        "first_response": entry("running", utc("2026-11-26T09:59:00Z"), priority=3)
    }
    assert list_entries(lowered, [old_warning, sent(lowered, "warning")]) == {
        "first_response": entry("at_risk", utc("2026-11-26T09:59:00Z"), priority=3)
    }


@pytest.mark.parametrize(
    "fields",
    [{"plan": "basic"}, {"product_stage": "beta"}, {"plan": None}],
    ids=["no_target", "exempt", "pending"],
)
def test_a_ticket_without_a_target_is_on_no_list(fields: dict[str, Any]) -> None:
    assert list_entries(Ticket(DEFAULT, **fields).state, []) == {}


# -- more metrics: one entry per metric ----------------------------------------------------------


def test_each_metric_has_its_own_entry() -> None:
    """Given (all metrics) a new ticket, then first response and resolution are running; next
    reply, before any exchange, is on no list."""
    assert list_entries(Ticket(ALL).state, []) == {
        "first_response": entry("running", DEADLINE),
        "resolution": entry("running", RESOLVED_BY, "resolution"),
    }


def test_a_paused_clock_is_on_no_list_and_comes_back_when_it_resumes() -> None:
    """Given resolution pausing on pending, when the ticket waits on the customer from 09:59Z
    to 11:59Z, then resolution is on no list meanwhile (first response, which does not pause,
    still runs), and afterwards runs again, due two business hours later."""
    ticket = Ticket(ALL).add("ticket.updated", "2026-11-25T09:59:00Z", "agent", status="pending")

    assert list_entries(ticket.state, []) == {"first_response": entry("running", DEADLINE)}
    resumed = ticket.add("ticket.updated", "2026-11-25T11:59:00Z", "agent", status="open").state
    assert list_entries(resumed, [])["resolution"] == entry(
        "running", RESOLVED_BY + timedelta(hours=2), "resolution"
    )


def test_a_breached_clock_stays_breached_while_paused() -> None:
    """Given Advanced P1 (resolution: 24 elapsed hours, due 2026-11-26T08:59Z) whose breach went
    out, when the ticket then waits on the customer, then resolution is still breached (and,
    paused, it is on no other list while only its warning went out)."""
    ticket = Ticket(ALL, plan="advanced", priority=1)
    warning = sent(ticket.state, "warning", "resolution")
    breach = sent(ticket.state, "breach", "resolution")
    paused = ticket.add("ticket.updated", "2026-11-26T10:00:00Z", "agent", status="pending").state

    assert "resolution" not in list_entries(paused, [warning])
    assert list_entries(paused, [breach])["resolution"] == entry(
        "breached", utc("2026-11-26T08:59:00Z"), "resolution", plan="advanced", priority=1
    )


def test_next_reply_lists_the_exchange_waiting_for_an_answer() -> None:
    """Given an answered ticket, when the customer writes at 10:00Z, then next reply's cycle 1
    runs (8 business hours: due Thursday 10:00Z); when an agent answers, it is on no list; when
    the customer writes again, cycle 2 runs, and a warning of cycle 1 does not put it at risk."""
    ticket = Ticket(ALL).reply("2026-11-25T09:30:00Z")
    first = ticket.add("ticket.customer_replied", "2026-11-25T10:00:00Z").state
    assert list_entries(first, [])["next_reply"] == entry(
        "running", utc("2026-11-26T10:00:00Z"), "next_reply"
    )
    earlier_warning = sent(first, "warning", "next_reply")

    answered = ticket.reply("2026-11-25T11:00:00Z").state
    assert "next_reply" not in list_entries(answered, [earlier_warning])

    second = ticket.add("ticket.customer_replied", "2026-11-25T12:00:00Z").state
    assert list_entries(second, [earlier_warning])["next_reply"] == entry(
        "running", utc("2026-11-26T12:00:00Z"), "next_reply", cycle=2
    )


@pytest.mark.parametrize("warning", [0, 1, 2], ids=["50%", "75%", "90%"])
def test_any_warning_of_the_cycle_puts_it_at_risk(warning: int) -> None:
    ticket = Ticket(ALL).reply("2026-11-25T09:30:00Z")
    state = ticket.add("ticket.customer_replied", "2026-11-25T10:00:00Z").state
    notices = [sent(state, "warning", "next_reply", warning=warning)]

    assert list_entries(state, notices)["next_reply"].status == "at_risk"


def test_a_reopened_ticket_is_listed_again_on_resolution() -> None:
    """Given a ticket solved at 10:59Z, then it is on no list; when reopened Thursday at 08:59Z,
    then resolution runs again, due six business hours later than before (the time it was
    solved, Wednesday 11:59 to 17:00 and Thursday 09:00 to 09:59 local, is not counted)."""
    ticket = Ticket(ALL).add("ticket.solved", "2026-11-25T10:59:00Z", "agent")
    assert list_entries(ticket.state, []) == {}

    reopened = ticket.add("ticket.reopened", "2026-11-26T08:59:00Z").state
    assert list_entries(reopened, []) == {
        "resolution": entry("running", RESOLVED_BY + timedelta(hours=6), "resolution")
    }


# -- the rank ------------------------------------------------------------------------------------


def test_ranks_order_by_deadline_first_whatever_the_id() -> None:
    d = DEADLINE
    assert rank(d, "zzz") < rank(d + timedelta(microseconds=1), "aaa")
    assert rank(d - timedelta(days=400), "b") < rank(d, "a")


def test_ranks_are_in_utc_whatever_the_offset() -> None:
    local = DEADLINE.astimezone(timezone(timedelta(hours=1)))
    assert rank(local, "T-1") == rank(DEADLINE, "T-1")
    assert rank(DEADLINE, "T-1").startswith("2026-11-25T14:59:00.000000Z#")


@given(
    ticket_id=st.text(min_size=1, max_size=256),
    deadline=st.datetimes(datetime(2000, 1, 1), datetime(9999, 1, 1), timezones=st.just(UTC)),
)
def test_a_rank_is_short_and_well_formed_whatever_the_id(
    ticket_id: str, deadline: datetime
) -> None:
    """44 characters for any id (an index key has a byte limit; an id may take 1 KiB of UTF-8),
    and the deadline reads back from it."""
    value = rank(deadline, ticket_id)
    assert RANK.fullmatch(value) and len(value) == 44
    assert rank_deadline(value) == deadline


@given(st.lists(st.text(min_size=1, max_size=64), min_size=2, max_size=50, unique=True))
def test_tickets_sharing_a_deadline_have_distinct_ranks(ids: list[str]) -> None:
    assert len({rank(DEADLINE, i) for i in ids}) == len(ids)
