"""The sample events in events/ are current, and the handler accepts each at its signing instant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local.events import SIGNED_AT, WEBHOOKS, main
from tests.integration.conftest import Api

EVENTS = Path(__file__).parents[2] / "events"


def test_sample_files_match_their_generator() -> None:
    assert main(["--check"]) == 0


def test_the_samples_tell_a_ticket_story(api: Api) -> None:
    api.now = datetime.fromtimestamp(SIGNED_AT, UTC)
    statuses = []
    for name in WEBHOOKS:
        answer = api.invoke(json.loads((EVENTS / f"{name}.json").read_text()))
        assert answer.status == 200, (name, answer.raw)
        statuses.append(
            (answer.body["priority"], answer.body["priority_reason"], answer.body["status"])
        )
    assert statuses[0] == (2, "requested", "running")
    assert statuses[1] == (3, "non_production", "running")  # moved to staging
    assert statuses[2] == (1, "agent", "running")  # the agent's choice wins
    assert statuses[3] == (1, "agent", "met")
    read = api.invoke(json.loads((EVENTS / "get-ticket-sla.json").read_text()))
    assert len(read.body["history"]) == len(WEBHOOKS)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_samples_are_refused_once_stale(api: Api, name: str) -> None:
    api.now = datetime.fromtimestamp(SIGNED_AT + 301, UTC)
    assert api.invoke(json.loads((EVENTS / f"{name}.json").read_text())).status == 401


def test_quote_sample(api: Api) -> None:
    answer = api.invoke(json.loads((EVENTS / "get-quote.json").read_text()))
    assert answer.body["deadline"] == "2026-11-30T10:30:00Z"
