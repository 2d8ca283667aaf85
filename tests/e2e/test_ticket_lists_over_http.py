"""The SLA lists over real HTTP against the local stack (``python -m local.run`` with the shipped
all-metrics policy): tickets created by signed webhooks, paged soonest deadline first, moved from
list to list by the timers that fire as the stack's clock moves, and bad queries refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import running_stack
from tests.e2e.test_local_stack import Local, ticket

ROOT = Path(__file__).resolve().parents[2]
ALL_METRICS = ROOT / "layers/sla/sla/policies/all-metrics.toml"
IDS = [f"L-{n}" for n in range(9, 4, -1)]  # created in this order, a minute apart


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    with running_stack(
        tmp_path_factory.mktemp("lists"), SLA_POLICY_FILE=str(ALL_METRICS)
    ) as running:
        yield Local(**vars(running))


@pytest.fixture(autouse=True)
def stack_output(local: Local) -> Iterator[None]:
    """The stack's output during each test, which pytest shows when the test fails."""
    start = local.output.stat().st_size
    yield
    with local.output.open() as log:
        log.seek(start)
        print(log.read())


def listed(local: Local, **query: Any) -> tuple[int, Any]:
    status, _, body = local.request("GET", "/tickets?" + urlencode(query))
    return status, body


def pages(local: Local, **query: Any) -> list[list[str]]:
    found: list[list[str]] = []
    while True:
        status, body = listed(local, **query)
        assert status == 200, body
        found.append([t["ticket_id"] for t in body["tickets"]])
        if body["next_cursor"] is None:
            return found
        query = {**query, "cursor": body["next_cursor"]}


def ids(local: Local, **query: Any) -> list[str]:
    return [t for page in pages(local, **query) for t in page]


def eventually(local: Local, expected: list[str], **query: Any) -> list[str]:
    """The list once it shows ``expected`` (a timer's notice is recorded just after its clock
    request answers), or as it is after 10 seconds."""
    deadline = time.monotonic() + 10
    while True:
        found = ids(local, **query)
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_tickets_page_soonest_first_and_move_from_list_to_list_as_timers_fire(
    local: Local,
) -> None:
    """Given five Advanced P1 tickets (1 hour 24/7, warning at 45 minutes) created a minute apart,
    their ids in the reverse order, then the running list pages them soonest deadline first, two
    at a time; after 46 minutes all five are at risk; after 66, breached; resolution (24 hours)
    runs for all five meanwhile."""
    start = local.now() - timedelta(minutes=len(IDS))
    for n, ticket_id in enumerate(IDS):
        created = start + timedelta(minutes=n)
        event = ticket("ticket.created", created, ticket_id, created, priority=1)
        assert local.send(event, f"{ticket_id}-c")[0] == 200

    assert pages(local, status="running", limit=2) == [IDS[:2], IDS[2:4], IDS[4:]]
    (first,) = listed(local, status="running", limit=1)[1]["tickets"]
    assert (first["plan"], first["priority"], first["cycle"]) == ("advanced", 1, 1)
    assert datetime.fromisoformat(first["deadline"]) == start + timedelta(hours=1)

    local.advance("46m")
    assert eventually(local, IDS, status="at_risk") == IDS
    assert ids(local, status="running") == []

    local.advance("20m")
    assert eventually(local, IDS, status="breached") == IDS
    assert ids(local, status="at_risk") == []
    resolution = ids(local, status="running", metric="resolution", plan="advanced", priority=1)
    assert [i for i in resolution if i in IDS] == IDS


def test_a_ticket_waiting_on_its_next_reply_is_on_that_list(local: Local) -> None:
    created = local.now()
    reply = created + timedelta(seconds=10)
    customer = created + timedelta(seconds=20)
    for type_, at, actor in [
        ("ticket.created", created, "customer"),
        ("ticket.responded", reply, "agent"),
        ("ticket.customer_replied", customer, "customer"),
    ]:
        event = ticket(type_, at, "L-next", created, actor=actor, priority=1)
        assert local.send(event, f"L-next-{type_}")[0] == 200

    status, body = listed(local, status="running", metric="next_reply")
    assert status == 200
    assert [(t["ticket_id"], t["cycle"]) for t in body["tickets"]] == [("L-next", 1)]
    # Advanced P1 next reply: 2 hours, 24/7, from the customer's message
    assert datetime.fromisoformat(body["tickets"][0]["deadline"]) == customer + timedelta(hours=2)


def test_bad_queries_are_refused_over_http(local: Local) -> None:
    status, body = listed(local, status="late")
    assert (status, body["errors"][0]["loc"]) == (422, ["query", "status"])
    status, body = listed(local, status="running", cursor="forged")
    assert (status, body["type"]) == (400, "urn:sla-keeper:problem:malformed-request")
    assert local.request("POST", "/tickets?status=running")[1]["Allow"] == "GET"
