"""POST /webhooks/tickets, GET /tickets/{id}/sla and GET /sla/quote through the real handler."""

from __future__ import annotations

from datetime import datetime

from tests.examples import CONTRACT_VIEW
from tests.integration.conftest import Api, payload


def test_new_ticket_is_stored_and_answered_with_its_view(api: Api) -> None:
    answer = api.post(payload(), msg_id="msg-1")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.body == CONTRACT_VIEW
    read = api.sla("T-1001")
    assert read.status == 200
    assert read.body["deadline"] == "2026-11-25T14:59:00Z"
    assert [h["event"] for h in read.body["history"]] == ["ticket.created"]


def test_unknown_ticket_is_a_404_problem(api: Api) -> None:
    answer = api.sla("T-404")
    assert answer.status == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["status"] == 404


def test_quote_without_the_table(api: Api) -> None:
    answer = api.quote(plan="professional", priority="1", at="2026-11-27T15:30:00Z")
    assert answer.status == 200
    assert answer.body["deadline"] == "2026-11-30T10:30:00Z"
    assert answer.body["status"] == "running"
    now = api.quote(plan="Advanced", priority="1")
    assert now.body["clock_started_at"] == "2026-11-25T09:00:00Z"
    assert datetime.fromisoformat(now.body["deadline"]) == datetime.fromisoformat(
        "2026-11-25T10:00:00Z"
    )


def test_quote_answers_in_utc_whatever_offset_it_is_asked_in(api: Api) -> None:
    answer = api.quote(plan="professional", priority="1", at="2026-11-27T16:30:00+01:00")
    assert answer.body["clock_started_at"] == "2026-11-27T15:30:00Z"
    assert answer.body["deadline"] == "2026-11-30T10:30:00Z"


def test_customer_messages_reopenings_and_statuses_are_recorded_and_change_no_deadline(
    api: Api,
) -> None:
    """Contract section 2: ``ticket.customer_replied``, ``ticket.reopened`` and the snapshot's
    ``status`` are accepted, recorded in the history, and leave the first response as it was."""
    first = api.post(payload(status="new"), msg_id="m1")
    assert first.status == 200
    for msg_id, type_, at, status in [
        ("m2", "ticket.customer_replied", "2026-11-25T08:59:10Z", "open"),
        ("m3", "ticket.updated", "2026-11-25T08:59:20Z", "on_hold"),
        ("m4", "ticket.reopened", "2026-11-25T08:59:30Z", "open"),
    ]:
        answer = api.post(payload(type_, at, status=status), msg_id=msg_id)
        assert answer.status == 200, answer.raw
        assert answer.body == first.body
    history = api.sla("T-1001").body["history"]
    assert [(h["event"], h["changes"].get("status")) for h in history] == [
        ("ticket.created", [None, "new"]),
        ("ticket.customer_replied", ["new", "open"]),
        ("ticket.updated", ["open", "on_hold"]),
        ("ticket.reopened", ["on_hold", "open"]),
    ]


def test_an_unknown_status_is_422_at_its_location(api: Api) -> None:
    answer = api.post(payload(status="waiting"), msg_id="m1")
    assert answer.status == 422
    assert ["body", "ticket", "status"] in [e["loc"] for e in answer.body["errors"]]
