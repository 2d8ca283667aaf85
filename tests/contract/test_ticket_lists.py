"""The ticket store's lists (``TicketStore.listed``): every case runs on ``MemoryTicketStore`` and
on ``DynamoTicketStore`` under moto (its list indexes built from template.yaml), with the same
expected result. Which list a ticket's metric is on is ``sla.core.lists``' (unit-tested there);
these cases hold the store to keeping the lists as the ticket item is written, in order, paged
without loss or repeat."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from local.payloads import ticket_event
from sla import Policy, TicketEvent, apply_event, load_policy
from sla.core.lists import ListStatus
from sla.core.notices import Notice, NoticeKind, notification_id
from sla.core.state import TicketState
from sla.core.terms import MetricName
from sla.ports import StoredTicket
from tests.contract.conftest import T0, StoreUnderTest

ALL_METRICS = Path(__file__).resolve().parents[2] / "layers/sla/sla/policies/all-metrics.toml"


def published(
    state: TicketState, kind: NoticeKind, metric: MetricName = "first_response", cycle: int = 1
) -> Notice:
    """The notice of ``kind`` for the cycle's current instant, as the notifier records it."""
    ongoing = state.metrics[metric].cycles[cycle - 1]
    for_ = ongoing.deadline if kind == "breach" else ongoing.warnings[0].at
    assert for_ is not None
    key = notification_id(state.ticket_id, kind, for_, metric, cycle)
    return Notice(kind, for_, key, metric, cycle)


def created(
    policy: Policy, ticket_id: str, minutes: int, **fields: Any
) -> tuple[TicketState, TicketEvent]:
    """A ticket created ``minutes`` after T0 (Professional P2 unless ``fields`` say otherwise):
    its deadline falls as many minutes later."""
    at = T0 + timedelta(minutes=minutes)
    event = ticket_event("e0", "ticket.created", at, id=ticket_id, created_at=at, **fields)
    return apply_event(None, event, policy), event


def put(
    store: StoreUnderTest,
    policy: Policy,
    ticket_id: str,
    minutes: int,
    status: ListStatus | None = "running",
    **fields: Any,
) -> StoredTicket:
    """Store a ticket on list ``status`` of first response (None: answered in time, on none)."""
    state, event = created(policy, ticket_id, minutes, **fields)
    notices: tuple[Notice, ...] = ()
    if status == "at_risk":
        notices = (published(state, "warning"),)
    elif status == "breached":
        notices = (published(state, "warning"), published(state, "breach"))
    ticket = StoredTicket(ticket_id, 1, state, notices)
    store.port.save(ticket, event, T0)
    if status is None:
        answer = ticket_event(
            "e1",
            "ticket.responded",
            event.occurred_at + timedelta(minutes=5),
            actor="agent",
            id=ticket_id,
            **fields,
        )
        answered = StoredTicket(ticket_id, 2, apply_event(state, answer, policy))
        store.port.save(answered, answer, T0)
        return answered
    return ticket


def ids(store: StoreUnderTest, status: ListStatus, limit: int = 200, **filters: Any) -> list[str]:
    """Every ticket on the first-response list ``status``, page after page."""
    return [ticket for page in pages(store, status, limit, **filters) for ticket in page]


def pages(store: StoreUnderTest, status: ListStatus, limit: int, **filters: Any) -> list[list[str]]:
    """The ticket ids of every page of the first-response list ``status``, following cursors;
    no page holds more than ``limit``."""
    found: list[list[str]] = []
    after = None
    for _ in range(100):
        page = store.port.listed("first_response", status, limit, after, **filters)
        assert len(page.tickets) <= limit
        found.append([t.ticket_id for t in page.tickets])
        if page.after is None:
            return found
        after = page.after
    raise AssertionError("the pages never ended")


# -- order and pages -----------------------------------------------------------------------------


def test_a_list_is_in_deadline_order_whatever_the_ids(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given five running tickets whose ids sort against their deadlines, when the running list
    is read, then soonest deadline first, with each ticket's deadline, cycle, plan and priority."""
    for n in range(5):
        put(store, policy, f"T-{9 - n}", minutes=n)

    page = store.port.listed("first_response", "running", 50)

    assert [t.ticket_id for t in page.tickets] == ["T-9", "T-8", "T-7", "T-6", "T-5"]
    assert page.after is None
    first = page.tickets[0]
    assert (first.metric, first.status, first.cycle) == ("first_response", "running", 1)
    assert (first.plan, first.priority) == ("professional", 2)
    assert first.deadline == T0 + timedelta(hours=6)  # 09:59 local, plus 6 business hours


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_pages_hold_limit_tickets_and_the_cursor_resumes_exactly(
    store: StoreUnderTest, policy: Policy, limit: int
) -> None:
    """Given seven running tickets, when read ``limit`` at a time, then every page but the last
    holds exactly ``limit``, the pages together give each ticket once in deadline order, and a
    list that ends on a full page says so on that page (no empty page after it)."""
    expected = [f"T-{n}" for n in range(7)]
    for n, ticket_id in enumerate(expected):
        put(store, policy, ticket_id, minutes=n)

    pages = []
    after = None
    while True:
        page = store.port.listed("first_response", "running", limit, after)
        pages.append([t.ticket_id for t in page.tickets])
        if page.after is None:
            break
        after = page.after

    assert [t for p in pages for t in p] == expected
    assert all(len(p) == limit for p in pages[:-1])
    assert 0 < len(pages[-1]) <= limit


def test_a_herd_sharing_one_deadline_pages_through_every_ticket_once(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given 48 tickets all created at one instant (one deadline), when read 7 at a time, then
    each comes once, in one fixed order shared by both stores."""
    herd = [f"T-{n:03d}" for n in range(48)]
    for ticket_id in herd:
        put(store, policy, ticket_id, minutes=0)

    found = ids(store, "running", limit=7)

    assert sorted(found) == herd and len(found) == len(herd)
    assert found == ids(store, "running")  # one page of all gives the same order
    assert found != herd  # ties are not in id order but in the rank's (a hash of the id)


# -- which list ----------------------------------------------------------------------------------


def test_each_ticket_is_on_the_list_of_its_status_only(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given a running, an at-risk, a breached and an answered ticket, then each list holds its
    own, and the answered one is on none."""
    put(store, policy, "T-running", 0, "running")
    put(store, policy, "T-risk", 1, "at_risk")
    put(store, policy, "T-breached", 2, "breached")
    put(store, policy, "T-met", 3, None)

    assert ids(store, "running") == ["T-running"]
    assert ids(store, "at_risk") == ["T-risk"]
    assert ids(store, "breached") == ["T-breached"]


def test_recording_a_notice_moves_the_ticket_to_the_next_list(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given a running ticket, when the notifier records its warning (save_notices), then it
    is at risk; when it records the breach, then breached."""
    ticket = put(store, policy, "T-1", 0)
    warned = replace(ticket, version=2, notices=(published(ticket.state, "warning"),))
    store.port.save_notices(warned, T0)
    assert (ids(store, "running"), ids(store, "at_risk")) == ([], ["T-1"])

    breach = published(ticket.state, "breach")
    store.port.save_notices(replace(warned, version=3, notices=(*warned.notices, breach)), T0)
    assert (ids(store, "at_risk"), ids(store, "breached")) == ([], ["T-1"])


def test_a_reply_takes_the_ticket_off_its_list(store: StoreUnderTest, policy: Policy) -> None:
    put(store, policy, "T-1", 0, "at_risk")
    assert ids(store, "at_risk") == ["T-1"]
    ticket = store.port.load("T-1")
    assert ticket is not None
    reply = ticket_event(
        "T-1-e1", "ticket.responded", T0 + timedelta(hours=5), actor="agent", id="T-1"
    )
    answered = replace(ticket, version=2, state=apply_event(ticket.state, reply, policy))
    store.port.save(answered, reply, T0)
    assert ids(store, "at_risk") == []


def test_an_entry_reads_back_any_ticket_id(store: StoreUnderTest, policy: Policy) -> None:
    """Ids with #, /, spaces and four-byte characters, up to 256 of them: the index keys stay
    short (the rank hashes the id), and the id reads back as it was."""
    odd = ["T#1/ ä", "🎫" * 256, "x" * 256]
    for n, ticket_id in enumerate(odd):
        put(store, policy, ticket_id, n)
    assert ids(store, "running") == odd


# -- filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"plan": "advanced"}, ["T-a1", "T-a2", "T-a3"]),
        ({"priority": 3}, ["T-a3", "T-p3"]),
        ({"plan": "advanced", "priority": 3}, ["T-a3"]),
        ({"plan": "professional", "priority": 1}, []),
    ],
)
def test_filters_give_exactly_the_matching_tickets_in_order_over_pages(
    store: StoreUnderTest, policy: Policy, filters: dict[str, Any], expected: list[str]
) -> None:
    """Given running tickets of two plans and three priorities, when filtered and read a page of
    one at a time, then the pages together give exactly the matching tickets, soonest deadline
    first (a page may be shorter than its limit, even empty, while more follow)."""
    put(store, policy, "T-p3", 0, plan="professional", priority=3)  # Thursday 09:58Z
    put(store, policy, "T-a1", 1, plan="advanced", priority=1)  # 10:00Z (1 hour, 24/7)
    put(store, policy, "T-a2", 2, plan="advanced", priority=2)  # 12:01Z
    put(store, policy, "T-a3", 3, plan="advanced", priority=3)  # 15:02Z
    put(store, policy, "T-p2", 4, plan="professional", priority=2)  # 15:03Z

    assert ids(store, "running", limit=1, **filters) == expected
    assert ids(store, "running", **filters) == expected


def test_a_filtered_page_is_what_one_read_of_limit_plus_one_entries_matched(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given eleven running tickets a minute apart, T-00, T-03 and T-06 on Advanced P3 (the same
    6 business hours as Professional P2), when the Advanced ones are read 2 at a time,
    then each page is the matches among the next 3 entries (the Limit, before the filter): one
    ticket and a cursor, three times, then an empty page that ends the list."""
    for n in range(11):
        fields: dict[str, Any] = {"plan": "advanced", "priority": 3} if n in (0, 3, 6) else {}
        put(store, policy, f"T-{n:02d}", n, **fields)

    assert pages(store, "running", 2, plan="advanced") == [["T-00"], ["T-03"], ["T-06"], []]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 16, 17])
def test_following_filtered_cursors_gives_each_matching_ticket_once(
    store: StoreUnderTest, policy: Policy, limit: int
) -> None:
    """Given 48 tickets sharing one deadline, every third on Advanced P3, when the Advanced ones
    are read ``limit`` at a time, then the pages give each of them once, in the list's order."""
    herd = [f"T-{n:03d}" for n in range(48)]
    for n, ticket_id in enumerate(herd):
        fields: dict[str, Any] = {"plan": "advanced", "priority": 3} if n % 3 == 0 else {}
        put(store, policy, ticket_id, 0, **fields)
    in_order = [t for t in ids(store, "running") if int(t[2:]) % 3 == 0]

    found = pages(store, "running", limit, plan="advanced")

    assert [t for page in found for t in page] == in_order
    assert sorted(in_order) == herd[::3]
    assert all(len(page) <= limit for page in found)


# -- more metrics --------------------------------------------------------------------------------


def test_a_ticket_is_on_one_list_per_metric(store: StoreUnderTest) -> None:
    """Given (all three metrics) a ticket answered in time, then waiting on its next reply with
    that cycle's first warning sent, when the lists are read, then it is at risk on next reply
    (cycle 1), running on resolution (40 business hours: next Wednesday), and on no
    first-response list."""
    policy = load_policy(ALL_METRICS)
    state, event = created(policy, "T-1", 0)
    for n, (kind, minutes, actor) in enumerate(
        [("ticket.responded", 10, "agent"), ("ticket.customer_replied", 20, "customer")], 1
    ):
        event = ticket_event(
            f"T-1-e{n}", kind, T0 + timedelta(minutes=minutes), actor=actor, id="T-1"
        )
        state = apply_event(state, event, policy)
    warned = (published(state, "warning", "next_reply"),)
    store.port.save(StoredTicket("T-1", 1, state, warned), event, T0)

    (nr,) = store.port.listed("next_reply", "at_risk", 10).tickets
    (rs,) = store.port.listed("resolution", "running", 10).tickets
    assert (nr.ticket_id, nr.metric, nr.cycle) == ("T-1", "next_reply", 1)
    assert nr.deadline == state.metrics["next_reply"].cycles[0].deadline
    assert (rs.ticket_id, rs.metric, rs.deadline) == ("T-1", "resolution", T0 + timedelta(days=7))
    for status in ("running", "at_risk", "breached"):
        assert store.port.listed("first_response", status, 10).tickets == ()
    assert store.port.listed("next_reply", "running", 10).tickets == ()


# -- cost ----------------------------------------------------------------------------------------


def test_a_page_is_one_query_and_never_a_scan(store: StoreUnderTest, policy: Policy) -> None:
    for n in range(3):
        put(store, policy, f"T-{n}", n)
    store.calls.clear()
    store.port.listed("first_response", "running", 2)
    store.port.listed("first_response", "running", 2, plan="professional")
    if store.side == "dynamodb":
        assert store.calls == ["query"] * 2
