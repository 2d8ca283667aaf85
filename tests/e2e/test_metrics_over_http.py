"""The local stack with the all-metrics policy, over real HTTP: ``python -m local.run`` started as
``SLA_POLICY_FILE=layers/sla/sla/policies/all-metrics.toml make run`` starts it, its clock set to
Wednesday 2026-11-25 08:59Z (09:59 in Bratislava) and moved through ``/_local/clock``, signed
Standard Webhooks deliveries, the notifications and the SLA view read back.

A Professional P2 ticket: first response 6 business hours, next reply 8 (warnings at 0.5, 0.75,
0.9), resolution 40 paused while ``pending``. Answered in time, then the customer writes, then
the agent sets it pending: the next-reply cycle runs and warns three times, the resolution is
paused; the agent answers before the next-reply deadline and the ticket is solved.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from local.signing import signature_headers
from sla.core.notices import TimerKind, notification_id, schedule_name
from sla.core.terms import MetricName
from tests.e2e.conftest import Running, running_stack

POLICY_FILE = "layers/sla/sla/policies/all-metrics.toml"  # as the README runs it
START = "2026-11-25T08:59:00Z"
TICKET = "M-1"


class Stack(Running):
    def send(self, type_: str, occurred_at: str, msg_id: str, **extra: Any) -> dict[str, Any]:
        """Move the clock to ``occurred_at``, then deliver a signed event that happened then."""
        self.until(occurred_at)
        actor = extra.pop("actor", "customer")
        event = {
            "type": type_,
            "occurred_at": occurred_at,
            "ticket": {
                "id": TICKET,
                "created_at": START,
                "plan": "professional",
                "priority": 2,
                **extra,
            },
            "actor": {"type": actor, "id": f"{actor}-1"},
            "reason": None,
        }
        body = json.dumps(event).encode()
        now = datetime.fromisoformat(self.request("GET", "/_local/clock")[2]["now"])
        headers = signature_headers(body, int(now.timestamp()), secret=self.secret, msg_id=msg_id)
        status, _, view = self.request("POST", "/webhooks/tickets", body, headers)
        assert status == 200, view
        return dict(view)

    def until(self, instant: str) -> None:
        """Move the stack's clock forward to ``instant`` (it runs on in real time from there),
        and wait until what fell due has fired."""
        now = datetime.fromisoformat(self.request("GET", "/_local/clock")[2]["now"])
        if now >= datetime.fromisoformat(instant):
            return  # the clock only moves forward: just past the start, at the first delivery
        asked = json.dumps({"until": instant}).encode()
        status, _, answer = self.request("POST", "/_local/clock", asked)
        assert (status, answer["caught_up"]) == (200, True)

    def settle(self) -> None:
        """Wait for a round of the stack's pumps (stream, schedules, notifications) at the clock
        as it is: what a delivery changed has reached the schedules."""
        status, _, answer = self.request("POST", "/_local/clock", b'{"seconds": 0}')
        assert (status, answer["caught_up"]) == (200, True)

    def notifications(self) -> list[dict[str, Any]]:
        """The ticket's notifications, once no new one arrived for a second (publications reach
        the capture queue asynchronously)."""
        self.settle()
        seen: list[dict[str, Any]] = []
        for _ in range(10):
            found = [
                n
                for n in self.request("GET", "/_local/notifications")[2]
                if n["ticket_id"] == TICKET
            ]
            if found == seen:
                return found
            seen = found
            time.sleep(1)
        return seen

    def schedules(self) -> set[str]:
        self.settle()
        return {
            s["name"]
            for s in self.request("GET", "/_local/schedules")[2]
            if s["input"]["ticket_id"] == TICKET
        }

    def metrics(self) -> dict[str, Any]:
        status, _, view = self.request("GET", f"/tickets/{TICKET}/sla")
        assert status == 200
        return dict(view["metrics"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder: Path = tmp_path_factory.mktemp("metrics")
    with running_stack(folder, SLA_POLICY_FILE=POLICY_FILE, SLA_LOCAL_NOW=START) as running:
        yield Stack(**vars(running))


def name(kind: TimerKind, metric: MetricName = "first_response", cycle: int = 1) -> str:
    return schedule_name(TICKET, kind, metric, cycle)


def summary(n: dict[str, Any]) -> tuple[str, str, int, float | None, str]:
    return (n["type"], n["metric"], n["cycle"], n["threshold"], n["for"])


def test_a_ticket_through_every_metric(stack: Stack) -> None:
    """Each metric's schedules come and go with its cycles and pauses, each next-reply warning
    goes out once with its metric, cycle and threshold, and the view shows every cycle: ongoing
    with its elapsed and remaining time, paused without a deadline, completed with its outcome."""
    view = stack.send("ticket.created", START, "m-c", status="new")
    assert set(view["metrics"]) == {"first_response", "next_reply", "resolution"}
    assert view["metrics"]["next_reply"]["status"] == "idle"
    resolution = {name("warning", "resolution"), name("breach", "resolution")}
    assert stack.schedules() == {name("warning"), name("breach"), *resolution}

    # the first agent reply, in time: first response met, its timers gone
    view = stack.send("ticket.responded", "2026-11-25T09:30:00Z", "m-r1", actor="agent")
    assert (view["status"], view["metrics"]["first_response"]["status"]) == ("met", "met")
    assert stack.schedules() == resolution

    # the customer writes: next-reply cycle 1 from Wed 11:00 local
    view = stack.send("ticket.customer_replied", "2026-11-25T10:00:00Z", "m-m1", status="open")
    cycle = view["metrics"]["next_reply"]["ongoing_cycle"]
    assert (cycle["cycle"], cycle["started_at"], cycle["deadline"]) == (
        1,
        "2026-11-25T10:00:00Z",
        "2026-11-26T10:00:00Z",
    )
    assert [(w["threshold"], w["at"]) for w in cycle["warnings"]] == [
        (0.5, "2026-11-25T14:00:00Z"),
        (0.75, "2026-11-25T16:00:00Z"),
        (0.9, "2026-11-26T09:12:00Z"),
    ]
    assert stack.schedules() == {
        name("warning", "next_reply"),
        name("breach", "next_reply"),
        *resolution,
    }

    # the agent waits on the customer: the resolution pauses and holds no timer
    view = stack.send(
        "ticket.updated", "2026-11-25T12:00:00Z", "m-p", actor="agent", status="pending"
    )
    assert view["metrics"]["resolution"]["status"] == "paused"
    assert stack.schedules() == {name("warning", "next_reply"), name("breach", "next_reply")}

    # Thursday 09:30Z: the three next-reply warnings went out, each once
    stack.until("2026-11-26T09:30:00Z")
    sent = stack.notifications()
    assert [summary(n) for n in sent] == [
        ("sla.warning", "next_reply", 1, 0.5, "2026-11-25T14:00:00Z"),
        ("sla.warning", "next_reply", 1, 0.75, "2026-11-25T16:00:00Z"),
        ("sla.warning", "next_reply", 1, 0.9, "2026-11-26T09:12:00Z"),
    ]
    for n in sent:
        assert n["notification_id"] == notification_id(
            TICKET, "warning", datetime.fromisoformat(n["for"]), "next_reply", 1
        )
        assert n["sla"]["metrics"]["next_reply"]["status"] == "running"
    metrics = stack.metrics()
    ongoing = metrics["next_reply"]["ongoing_cycle"]
    # 7.5 business hours used (Wed 11:00-17:00, Thu 09:00-10:30 local) and the seconds the
    # stack's real-time clock ran since it was moved
    assert 27_000 <= ongoing["elapsed_seconds"] < 27_060
    assert ongoing["elapsed_seconds"] + ongoing["remaining_seconds"] == 8 * 3600
    paused = metrics["resolution"]["ongoing_cycle"]
    assert (paused["paused"], paused["paused_since"], paused["deadline"]) == (
        True,
        "2026-11-25T12:00:00Z",
        None,  # not known until it resumes
    )
    assert paused["elapsed_seconds"] == 3 * 3600 + 60  # Wed 09:59-13:00 local, then paused
    assert paused["remaining_seconds"] == 40 * 3600 - paused["elapsed_seconds"]
    assert metrics["first_response"]["completed_cycles"][0]["stopped_at"] == (
        "2026-11-25T09:30:00Z"
    )

    # the agent answers before the next-reply deadline, reopening the ticket; then solves it
    stack.send("ticket.responded", "2026-11-26T09:40:00Z", "m-r2", actor="agent", status="open")
    again = stack.send(
        "ticket.responded", "2026-11-26T09:40:00Z", "m-r2", actor="agent", status="open"
    )
    assert stack.schedules() == resolution  # resumed: its timers are back
    view = stack.send(
        "ticket.solved", "2026-11-26T10:00:00Z", "m-s", actor="agent", status="solved"
    )
    assert again["metrics"]["next_reply"]["status"] == "met"
    assert stack.schedules() == set()

    metrics = stack.metrics()
    assert {m: v["status"] for m, v in metrics.items()} == {
        "first_response": "met",
        "next_reply": "met",
        "resolution": "met",
    }
    (reply,) = metrics["next_reply"]["completed_cycles"]
    assert (reply["stopped_at"], reply["deadline"], reply["breached"]) == (
        "2026-11-26T09:40:00Z",
        "2026-11-26T10:00:00Z",
        False,
    )
    assert reply["elapsed_seconds"] == 7 * 3600 + 40 * 60  # Wed 11:00-17:00, Thu 09:00-10:40
    (done,) = metrics["resolution"]["completed_cycles"]
    assert done["pauses"] == [["2026-11-25T12:00:00Z", "2026-11-26T09:40:00Z"]]
    # 3 h 01 min before the pause, 20 min after it (Thu 10:40-11:00 local)
    assert done["elapsed_seconds"] == 3 * 3600 + 21 * 60
    # were it still running: 36 h 39 min left from Thu 11:00 local, Wed 2 Dec 15:39 local
    assert (done["stopped_at"], done["deadline"], done["breached"]) == (
        "2026-11-26T10:00:00Z",
        "2026-12-02T14:39:00Z",
        False,
    )

    # a week later, nothing more went out
    stack.until("2026-12-03T12:00:00Z")
    assert [summary(n) for n in stack.notifications()] == [summary(n) for n in sent]


def page(stack: Stack, path: str) -> tuple[int, str, str]:
    """A GET whose answer is not JSON: its status, content type and text."""
    try:
        with urllib.request.urlopen(stack.url + path, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_the_stack_serves_the_report_of_its_tickets(stack: Stack) -> None:
    """After the ticket's life, ``GET /_local/report`` answers the page ``sla report --html``
    draws for the stack's table: a section per metric, charts, no script; a malformed period is
    a 400 and a period without tickets says so."""
    # the ticket's first deliveries, the very ones of the first test (repeats when it ran): the
    # stack has a ticket with every metric to report when this test runs alone
    stack.send("ticket.created", START, "m-c", status="new")
    stack.send("ticket.responded", "2026-11-25T09:30:00Z", "m-r1", actor="agent")
    stack.send("ticket.customer_replied", "2026-11-25T10:00:00Z", "m-m1", status="open")
    status, kind, text = page(stack, "/_local/report")
    assert (status, kind.split(";")[0]) == (200, "text/html")
    for title in ("First response", "Next reply", "Resolution"):
        assert title in text
    assert "<svg" in text and "<script" not in text
    assert page(stack, "/_local/report?from=2027-13-01")[0] == 400
    status, _, empty = page(stack, "/_local/report?from=2030-01-01")
    assert status == 200 and "no tickets" in empty.lower()
