"""GET /tickets?status=...: the SLA lists through the real webhook handler, on a table built from
template.yaml under moto, with tickets written by webhooks and notices recorded by the real
notifier service."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.signing import http_api_event
from sla import load_policy
from sla.app.notifier import NotifierService
from sla.aws.store import DynamoTicketStore
from sla.fakes import MemoryPublisher
from sla.runtime.wiring import webhook_service
from tests.integration.conftest import TABLE, Answer, Api, payload

ROOT = Path(__file__).resolve().parents[2]
ALL_METRICS = ROOT / "layers/sla/sla/policies/all-metrics.toml"


def listed(api: Api, **query: Any) -> Answer:
    """GET /tickets as API Gateway hands it over: the query decoded."""
    params = {k: str(v) for k, v in query.items()}
    return api.invoke(http_api_event("GET", "/tickets", query=params, route_key="ANY /tickets"))


def pages(api: Api, **query: Any) -> list[list[str]]:
    """The ticket ids of every page, following next_cursor."""
    found: list[list[str]] = []
    for _ in range(50):
        answer = listed(api, **query)
        assert answer.status == 200, answer.raw
        found.append([t["ticket_id"] for t in answer.body["tickets"]])
        if answer.body["next_cursor"] is None:
            return found
        query = {**query, "cursor": answer.body["next_cursor"]}
    raise AssertionError("the pages never ended")


def ids(api: Api, **query: Any) -> list[str]:
    return [t for page in pages(api, **query) for t in page]


def create(api: Api, ticket_id: str, at: str, **fields: Any) -> None:
    answer = api.post(payload("ticket.created", at, id=ticket_id, created_at=at, **fields))
    assert answer.status == 200, answer.raw


def assert_problem(answer: Answer, status: int) -> None:
    assert answer.status == status, answer.raw
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["status"] == status


@pytest.fixture
def notifier(api: Api, dynamodb: Any) -> NotifierService:
    """The notifier's use case on the same table: it records what it publishes on the ticket."""
    return NotifierService(DynamoTicketStore(TABLE, load_policy(), dynamodb), MemoryPublisher())


@pytest.fixture
def all_metrics(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("SLA_POLICY_FILE", str(ALL_METRICS))
    webhook_service.cache_clear()
    yield api
    webhook_service.cache_clear()


# -- pages ---------------------------------------------------------------------------------------


def test_the_list_pages_through_tickets_soonest_deadline_first(api: Api) -> None:
    """Given five Professional P2 tickets created a minute apart, their ids in the reverse order,
    when the running list is read two at a time, then three pages give them soonest deadline
    first, each with its deadline (6 business hours after creation)."""
    for n in range(5):
        create(api, f"T-{9 - n}", f"2026-11-25T08:5{n}:00Z")

    assert pages(api, status="running", limit=2) == [["T-9", "T-8"], ["T-7", "T-6"], ["T-5"]]
    first = listed(api, status="running", limit=1).body
    assert first == {
        "status": "running",
        "metric": "first_response",
        "tickets": [
            {
                "ticket_id": "T-9",
                "metric": "first_response",
                "status": "running",
                "cycle": 1,
                "deadline": "2026-11-25T14:50:00Z",
                "plan": "professional",
                "priority": 2,
            }
        ],
        "next_cursor": first["next_cursor"],
    }
    assert isinstance(first["next_cursor"], str)


def test_the_default_page_holds_fifty_tickets(api: Api) -> None:
    for n in range(51):
        create(api, f"T-{n:02d}", "2026-11-25T08:59:00Z")

    assert [len(page) for page in pages(api, status="running")] == [50, 1]


def test_filters_take_a_plan_in_any_letter_case_and_a_priority(api: Api) -> None:
    create(api, "T-p2", "2026-11-25T08:50:00Z")
    create(api, "T-a1", "2026-11-25T08:51:00Z", plan="advanced", priority=1)
    create(api, "T-a3", "2026-11-25T08:52:00Z", plan="advanced", priority=3)

    assert ids(api, status="running", plan="Advanced", limit=1) == ["T-a1", "T-a3"]
    assert ids(api, status="running", priority=3) == ["T-a3"]
    assert ids(api, status="running", plan="advanced", priority=2) == []


def test_a_filtered_page_may_be_short_or_empty_and_still_lead_on(api: Api) -> None:
    """Given seven tickets a minute apart, the first and fourth on Advanced P3 (the same deadline
    as Professional P2's), when the Advanced ones are read two at a time, then each page holds
    what matched among the next three entries: one ticket and a cursor, twice, the last page
    empty and the end of the list."""
    for n in range(7):
        fields = {"plan": "advanced", "priority": 3} if n in (0, 3) else {}
        create(api, f"T-{n}", f"2026-11-25T08:5{n}:00Z", **fields)

    assert pages(api, status="running", plan="advanced", limit=2) == [["T-0"], ["T-3"], []]


# -- the life of a ticket on the lists -----------------------------------------------------------


def test_a_ticket_moves_from_list_to_list_as_its_notices_go_out(
    api: Api, notifier: NotifierService
) -> None:
    """Given a ticket due 14:59Z, when the notifier publishes its warning (13:29Z), then it is at
    risk; when it publishes the breach, then breached; when an agent answers late, then it is on
    no list."""
    create(api, "T-1001", "2026-11-25T08:59:00Z")
    assert ids(api, status="running") == ["T-1001"]

    api.now = datetime.fromisoformat("2026-11-25T13:30:00Z")
    assert [j.outcome for j in notifier.judge_due("T-1001", api.now)] == ["published"]
    assert (ids(api, status="running"), ids(api, status="at_risk")) == ([], ["T-1001"])

    api.now = datetime.fromisoformat("2026-11-25T15:00:00Z")
    assert [j.outcome for j in notifier.judge_due("T-1001", api.now)] == ["published"]
    assert (ids(api, status="at_risk"), ids(api, status="breached")) == ([], ["T-1001"])

    reply = payload("ticket.responded", "2026-11-25T14:59:30Z", actor="agent", id="T-1001")
    assert api.post(reply).status == 200
    assert [ids(api, status=s) for s in ("running", "at_risk", "breached")] == [[], [], []]


def test_a_ticket_is_on_one_list_per_metric(all_metrics: Api) -> None:
    """Given (all three metrics) a ticket answered at 09:30Z whose customer wrote again at 10:00Z,
    then it is running on next reply (cycle 1, 8 business hours) and on resolution, and on no
    first-response list."""
    api = all_metrics
    api.now = datetime.fromisoformat("2026-11-25T10:01:00Z")
    create(api, "T-1", "2026-11-25T08:59:00Z")
    api.post(payload("ticket.responded", "2026-11-25T09:30:00Z", actor="agent", id="T-1"))
    api.post(payload("ticket.customer_replied", "2026-11-25T10:00:00Z", id="T-1"))

    (next_reply,) = listed(api, status="running", metric="next_reply").body["tickets"]
    assert (next_reply["cycle"], next_reply["deadline"]) == (1, "2026-11-26T10:00:00Z")
    assert ids(api, status="running", metric="resolution") == ["T-1"]
    assert ids(api, status="running") == []


# -- bad queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "status"),
        ({"status": "late"}, "status"),
        ({"status": "running,breached"}, "status"),  # a repeated parameter, as HTTP API joins it
        ({"status": "running", "metric": "happiness"}, "metric"),
        ({"status": "running", "metric": "next_reply"}, "metric"),  # not in the default policy
        ({"status": "running", "plan": "gold"}, "plan"),
        ({"status": "running", "priority": "4"}, "priority"),
        ({"status": "running", "priority": "high"}, "priority"),
        ({"status": "running", "limit": "0"}, "limit"),
        ({"status": "running", "limit": "201"}, "limit"),
        ({"status": "running", "limit": "ten"}, "limit"),
    ],
)
def test_a_bad_parameter_is_a_422_problem_naming_it_without_its_value(
    api: Api, query: dict[str, str], field: str
) -> None:
    answer = listed(api, **query)

    assert_problem(answer, 422)
    assert [e["loc"] for e in answer.body["errors"]] == [["query", field]]
    for value in query.values():
        if value != "running":
            assert json.dumps(value) not in answer.raw


def test_unknown_parameters_are_ignored_and_never_echoed(api: Api) -> None:
    create(api, "T-1", "2026-11-25T08:59:00Z")

    answer = listed(api, status="running", colour="CANARY-blue")

    assert answer.status == 200 and "CANARY" not in answer.raw
    assert answer.body == listed(api, status="running").body


def _b64(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("forge", "asked"),
    [
        (lambda c: "not a cursor!", {}),
        (lambda c: c + "A", {}),
        (lambda c: c[:-2], {}),
        (lambda c: c + "==", {}),  # the same bytes, spelled with padding
        (lambda c: c * 20, {}),
        (lambda c: _b64({"after": "x"}), {}),
        (lambda c: _b64([1, "running", "first_response", None, None, "2026-11-25T14:50"]), {}),
        (lambda c: c, {"status": "at_risk"}),  # another list's cursor
        (lambda c: c, {"plan": "advanced"}),  # another filter's
        (lambda c: c, {"priority": "2"}),
    ],
)
def test_a_cursor_this_list_did_not_give_is_a_400_problem(
    api: Api, forge: Any, asked: dict[str, str]
) -> None:
    for n in range(3):
        create(api, f"T-{n}", f"2026-11-25T08:5{n}:00Z")
    cursor = listed(api, status="running", limit=1).body["next_cursor"]

    answer = listed(api, **{"status": "running", **asked, "cursor": forge(cursor)})

    assert_problem(answer, 400)
    assert answer.body["type"] == "urn:sla-keeper:problem:malformed-request"
    assert listed(api, status="running", limit=1, cursor=cursor).status == 200


def test_a_cursor_resumes_after_its_ticket_even_when_the_list_changed(api: Api) -> None:
    """Given a page that ended at T-1, when a ticket due before it and one due after it arrive,
    then the next page starts right after T-1: the earlier one is not shown again, the later one
    is."""
    create(api, "T-1", "2026-11-25T08:51:00Z")
    create(api, "T-3", "2026-11-25T08:53:00Z")
    cursor = listed(api, status="running", limit=1).body["next_cursor"]
    create(api, "T-0", "2026-11-25T08:50:00Z")
    create(api, "T-2", "2026-11-25T08:52:00Z")

    assert ids(api, status="running", cursor=cursor) == ["T-2", "T-3"]


def test_the_list_reads_the_index_never_the_table(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Query of the list index per page; no Scan, no read of a ticket item."""
    create(api, "T-1", "2026-11-25T08:59:00Z")
    store = webhook_service().store
    assert isinstance(store, DynamoTicketStore)
    calls: list[tuple[str, str]] = []
    real = store.client

    class Recording:
        def __getattr__(self, name: str) -> Any:
            def call(**kwargs: Any) -> Any:
                calls.append((name, kwargs.get("IndexName", "")))
                return getattr(real, name)(**kwargs)

            return call

    monkeypatch.setattr(store, "client", Recording())
    assert listed(api, status="running").status == 200
    assert calls == [("query", "FirstResponseIndex")]


def test_a_cursor_is_short_and_url_safe_page_after_page(api: Api) -> None:
    start = datetime.fromisoformat("2026-11-25T08:50:00Z")
    for n in range(6):
        create(api, f"T-{n}", (start + timedelta(minutes=n)).isoformat())
    cursor = None
    for _ in range(5):
        query: dict[str, Any] = {"status": "running", "limit": 1}
        if cursor:
            query["cursor"] = cursor
        cursor = listed(api, **query).body["next_cursor"]
        assert cursor is not None and len(cursor) < 200
        assert set(cursor) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
