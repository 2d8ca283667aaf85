"""`make send` (local/send.py) places a sample ticket at the local stack's clock: every instant
of the body moves by one amount, and the next step it prints is the clock command that brings
the breach timer due."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from local.events import WEBHOOKS
from local.send import next_steps, place

URL = "http://127.0.0.1:3000"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_created_sample_is_created_at_the_given_instant() -> None:
    # Given the created sample (a ticket created 2026-11-25T08:59Z)
    body = WEBHOOKS["ticket-created"][1]
    # When it is placed at a Saturday night
    placed = place(body, at("2026-11-28T21:30:00Z"))
    # Then its creation and its occurrence are that instant, and nothing else changed
    assert placed["ticket"]["created_at"] == "2026-11-28T21:30:00Z"
    assert placed["occurred_at"] == "2026-11-28T21:30:00Z"
    assert {**placed, "occurred_at": None, "ticket": {**placed["ticket"], "created_at": None}} == {
        **body,
        "occurred_at": None,
        "ticket": {**body["ticket"], "created_at": None},
    }


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_every_sample_keeps_its_distance_from_the_creation(name: str) -> None:
    # Given a sample whose event happened some seconds after the ticket's creation
    body = WEBHOOKS[name][1]
    before = at(body["occurred_at"]) - at(body["ticket"]["created_at"])
    # When it is placed at the spring-forward night
    placed = place(body, at("2027-03-28T00:30:00Z"))
    # Then it happened as long after the new creation (the reply stays 40 s after it)
    assert at(placed["occurred_at"]) - at(placed["ticket"]["created_at"]) == before
    assert placed["ticket"]["created_at"] == "2027-03-28T00:30:00Z"


def test_the_reply_sample_is_placed_after_a_known_creation() -> None:
    # Given the stack already has T-1001, created on Friday 16:50 in Bratislava
    body = WEBHOOKS["ticket-responded"][1]
    # When the reply sample is placed at that creation
    placed = place(body, at("2026-11-27T15:50:00Z"))
    # Then the reply happened 40 s after it, whatever the stack's clock says now
    assert placed["occurred_at"] == "2026-11-27T15:50:40Z"


def test_a_body_without_a_ticket_creation_is_left_alone() -> None:
    body = {"type": "ticket.created", "occurred_at": "2026-11-25T08:59:00Z"}
    assert place(body, at("2027-01-01T00:00:00Z")) == body


def view(status: str, **fields: str | None) -> dict[str, object]:
    return {
        "ticket_id": "T-1001",
        "status": status,
        "warning_at": "2026-11-30T12:20:00Z",
        "deadline": "2026-11-30T13:50:00Z",
        **fields,
    }


def test_a_running_ticket_gets_the_clock_command_for_its_breach_timer() -> None:
    # Given a running ticket due 2026-11-30T13:50:00Z
    # When the next step is printed
    lines = next_steps(URL, view("running"))
    # Then it names the warning and the deadline, and the command moves the clock to the first
    # whole minute after the deadline, when the breach timer fires
    assert lines[0].startswith("warning at 2026-11-30T12:20:00Z, deadline 2026-11-30T13:50:00Z")
    command = lines[1].strip()
    prefix = f"curl -s -X POST {URL}/_local/clock -d "
    assert command.startswith(prefix)
    assert json.loads(command.removeprefix(prefix).strip("'")) == {"until": "2026-11-30T13:51:00Z"}


def test_a_deadline_with_seconds_gets_the_next_whole_minute() -> None:
    lines = next_steps(URL, view("running", deadline="2026-11-30T13:50:05.25Z"))
    assert lines[1].endswith("""-d '{"until": "2026-11-30T13:51:00Z"}'""")


@pytest.mark.parametrize(
    "answer",
    [view("met"), view("breached"), view("no_target", deadline=None), {"ignored": True}],
)
def test_no_clock_command_when_nothing_is_to_come(answer: dict[str, object]) -> None:
    assert next_steps(URL, answer) == []
