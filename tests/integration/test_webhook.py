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
