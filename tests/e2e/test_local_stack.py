"""The local stack over real HTTP: `python -m local.run` in its own process, signed webhooks sent
with urllib, the clock moved forward through /_local/clock, notifications read back. A ticket's
whole life: created, reclassified, warned, breached, answered late, answered in time, duplicated,
reordered, forged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from local.signing import signature_headers
from tests.e2e.conftest import Running, running_stack

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Local(Running):
    """The running stack, with what the tests ask of it."""

    def now(self) -> datetime:
        return datetime.fromisoformat(self.request("GET", "/_local/clock")[2]["now"])

    def send(
        self, event: dict[str, Any], msg_id: str, secret: str | None = None
    ) -> tuple[int, dict[str, str], Any]:
        body = json.dumps(event).encode()
        headers = signature_headers(
            body, int(self.now().timestamp()), secret=secret or self.secret, msg_id=msg_id
        )
        return self.request("POST", "/webhooks/tickets", body, headers)

    def advance(self, amount: str) -> None:
        assert (
            self.request("POST", "/_local/clock", json.dumps({"advance": amount}).encode())[0]
            == 200
        )

    def notifications(self, ticket_id: str) -> list[str]:
        deadline = time.monotonic() + 5
        seen: list[str] = []
        while time.monotonic() < deadline:  # publications reach the capture queue asynchronously
            found = [
                n["type"]
                for n in self.request("GET", "/_local/notifications")[2]
                if n["ticket_id"] == ticket_id
            ]
            if found == seen and found:
                return found
            seen = found
            time.sleep(0.5)
        return seen


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    with running_stack(tmp_path_factory.mktemp("local")) as running:
        yield Local(**vars(running))


@pytest.fixture(autouse=True)
def stack_output(local: Local) -> Iterator[None]:
    """The stack's output during each test, which pytest shows when the test fails."""
    start = local.output.stat().st_size
    yield
    with local.output.open() as log:
        log.seek(start)
        print(log.read())


def ticket(
    type_: str,
    occurred_at: datetime,
    ticket_id: str,
    created_at: datetime,
    *,
    actor: str = "customer",
    reason: str | None = None,
    priority: int = 2,
) -> dict[str, Any]:
    return {
        "type": type_,
        "occurred_at": occurred_at.isoformat(),
        "ticket": {
            "id": ticket_id,
            "created_at": created_at.isoformat(),
            "plan": "advanced",
            "priority": priority,
        },
        "actor": {"type": actor, "id": f"{actor}-1"},
        "reason": reason,
    }


def test_forged_and_malformed_requests(local: Local) -> None:
    now = local.now()
    status, headers, body = local.send(
        ticket("ticket.created", now, "E-forged", now),
        "f1",
        secret="whsec_" + "Zm9yZ2VkLWtleS1mb3ItdGVzdHM=",
    )
    assert (status, headers["Content-Type"], body["status"]) == (
        401,
        "application/problem+json",
        401,
    )
    status, _, _ = local.request(
        "POST", "/webhooks/tickets", b"not json", {"content-type": "text/plain"}
    )
    assert status == 415
    assert local.request("GET", "/tickets/E-forged/sla")[0] == 404
    # a repeated parameter arrives comma-joined, as HTTP API passes it: not a valid plan
    assert local.request("GET", "/sla/quote?plan=professional&plan=basic&priority=1")[0] == 422


def test_a_whole_life_warned_breached_answered_late(local: Local) -> None:
    created = local.now()  # Advanced P1: one hour 24/7, warning at 45 minutes
    assert (
        local.send(ticket("ticket.created", created, "E-1", created, priority=3), "e1-c")[0] == 200
    )
    status, _, view = local.send(
        ticket(
            "ticket.updated", created, "E-1", created, actor="agent", reason="outage", priority=1
        ),
        "e1-u",
    )
    assert (status, view["priority"], view["priority_reason"]) == (200, 1, "agent")
    assert (
        local.send(
            ticket(
                "ticket.updated",
                created,
                "E-1",
                created,
                actor="agent",
                reason="outage",
                priority=1,
            ),
            "e1-u",
        )[2]
        == view
    )  # duplicate
    local.advance("46m")
    assert local.notifications("E-1") == ["sla.warning"]
    local.advance("20m")
    assert local.notifications("E-1") == ["sla.warning", "sla.breached"]
    late = local.now()
    status, _, view = local.send(
        ticket("ticket.responded", late, "E-1", created, actor="agent", priority=1), "e1-r"
    )
    assert (status, view["status"]) == (200, "breached")
    assert local.notifications("E-1") == ["sla.warning", "sla.breached"]
    history = local.request("GET", "/tickets/E-1/sla")[2]["history"]
    assert [h["event"] for h in history] == ["ticket.created", "ticket.updated", "ticket.responded"]


def test_answered_in_time_reordered_and_retracted(local: Local) -> None:
    created = local.now()
    reply_at = datetime.fromtimestamp(created.timestamp() + 30 * 60, created.tzinfo)
    # the reply arrives first (reordered), then the creation: the ticket is met, nothing is owed
    local.advance("31m")
    assert (
        local.send(
            ticket("ticket.responded", reply_at, "E-2", created, actor="agent", priority=1), "e2-r"
        )[0]
        == 200
    )
    status, _, view = local.send(
        ticket("ticket.created", created, "E-2", created, priority=1), "e2-c"
    )
    assert (status, view["status"]) == (200, "met")
    local.advance("2h")
    assert local.notifications("E-2") == []
    # a third ticket breaches, then a reply that happened in time is delivered late
    start = local.now()
    local.send(ticket("ticket.created", start, "E-3", start, priority=1), "e3-c")
    local.advance("61m")
    assert local.notifications("E-3") == ["sla.warning", "sla.breached"]
    in_time = datetime.fromtimestamp(start.timestamp() + 50 * 60, start.tzinfo)
    status, _, view = local.send(
        ticket("ticket.responded", in_time, "E-3", start, actor="agent", priority=1), "e3-r"
    )
    assert view["status"] == "met"
    assert local.notifications("E-3") == ["sla.warning", "sla.breached", "sla.breach_retracted"]
    schedules = local.request("GET", "/_local/schedules")[2]
    assert [s for s in schedules if s["input"]["ticket_id"] in ("E-2", "E-3")] == []


def test_quote_and_sample_events_with_make_send(local: Local) -> None:
    status, _, quote = local.request(
        "GET", "/sla/quote?plan=professional&priority=1&at=2026-11-27T15:30:00Z"
    )
    assert (status, quote["deadline"]) == (200, "2026-11-30T10:30:00Z")
    env = {**os.environ, "SLA_URL": local.url, "SLA_WEBHOOK_SECRET": local.secret}
    sent = subprocess.run(
        [sys.executable, "-m", "local.send", "events/ticket-created.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.splitlines()[0] == "200"
    assert json.loads(sent.stdout.splitlines()[1])["ticket_id"] == "T-1001"
