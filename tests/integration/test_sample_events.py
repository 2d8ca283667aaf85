"""The sample events in events/ are current, and the handler accepts each at its signing instant:
the canonical ones with the test secret, the helpdesks' ones (events/<helpdesk>/) with each
helpdesk's test secret and the local stack's mapping (local/mapping.toml)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local.events import HELPDESK_SAMPLES, SIGNED_AT, WEBHOOKS, helpdesk_payloads, main
from local.signing import HELPDESK_TEST_SECRETS
from tests.integration.conftest import Api

ROOT = Path(__file__).parents[2]
EVENTS = ROOT / "events"


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


@pytest.fixture
def helpdesks(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The API as ``make run`` configures it: every helpdesk enabled, the local mapping."""
    from sla.runtime.wiring import webhook_service

    monkeypatch.setenv("SLA_MAPPING_FILE", str(ROOT / "local" / "mapping.toml"))
    for name, secret in HELPDESK_TEST_SECRETS.items():
        monkeypatch.setenv(f"SLA_{name.upper()}_SECRET", secret)
    webhook_service.cache_clear()
    yield api
    webhook_service.cache_clear()


# how each helpdesk's samples end, sent in the order of their times: the status, and when the
# first public agent reply was written
STORIES = {
    # raised to urgent by an agent at 11:30 (Professional P1: 3 business hours from 11:12 CET,
    # so 14:12 CET), first answered at 15:25 CET
    "zendesk": ("breached", "2025-01-08T14:25:30.123456Z"),
    "jira": ("met", "2026-04-25T13:54:31.907000Z"),  # 20:54:31.907+0700, 49 min after creation
    "freshdesk": ("met", "2026-03-11T07:32:05Z"),  # 13:02:05 in Asia/Kolkata, the mapping's zone
    "zammad": ("met", "2020-11-13T15:02:10.517000Z"),
}


@pytest.mark.parametrize("helpdesk", list(HELPDESK_SAMPLES))
def test_each_helpdesks_samples_tell_its_ticket_story(helpdesks: Api, helpdesk: str) -> None:
    # Given the handler's clock at the samples' signing instant
    helpdesks.now = datetime.fromtimestamp(SIGNED_AT, UTC)
    # When the helpdesk's samples are sent in the order of their times
    tickets = set()
    for kind in helpdesk_payloads(helpdesk):
        answer = helpdesks.invoke(json.loads((EVENTS / helpdesk / f"{kind}.json").read_text()))
        # Then each is accepted
        assert answer.status == 200, (kind, answer.raw)
        tickets.add(answer.body.get("ticket_id"))
    # and they are about one ticket, which ends as the SLA says
    (ticket_id,) = tickets - {None}
    view = helpdesks.sla_by_query(ticket_id).body
    assert (view["status"], view["first_response_at"]) == STORIES[helpdesk]
