"""`make send` (local/send.py) places a sample ticket at the local stack's clock: every instant
of the body moves by one amount, and the next step it prints is the clock command that brings
the breach timer due. A helpdesk's sample is placed the same way, each instant kept in the
helpdesk's format, and signed as the helpdesk signs with the stack's secret for it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from local import send
from local.events import EVENTS, HELPDESK_SAMPLES, WEBHOOKS, helpdesk_payloads
from local.send import (
    helpdesk_creation,
    move_clock_first,
    next_steps,
    place,
    place_helpdesk,
)

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


# -- helpdesk samples (events/<helpdesk>/) ---------------------------------------------------------

HELPDESK_CASES = [
    (helpdesk, kind) for helpdesk in HELPDESK_SAMPLES for kind in helpdesk_payloads(helpdesk)
]
KOLKATA = ZoneInfo("Asia/Kolkata")


def instants(document: Any, zone: tzinfo, path: tuple[Any, ...] = ()) -> dict[Any, datetime]:
    """Every instant in a helpdesk body by its path (Jira's epoch-millisecond timestamp too)."""
    found: dict[Any, datetime] = {}
    if isinstance(document, dict | list):
        items = document.items() if isinstance(document, dict) else enumerate(document)
        for key, value in items:
            if path == () and key == "timestamp" and isinstance(value, int):
                found[(key,)] = datetime.fromtimestamp(value / 1000, UTC)
            else:
                found |= instants(value, zone, (*path, key))
    elif isinstance(document, str) and re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", document):
        parsed = datetime.fromisoformat(document)  # a date alone (a version) is no instant
        found[path] = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    return found


@pytest.mark.parametrize(
    ("helpdesk", "kind"), HELPDESK_CASES, ids=[f"{h}-{k}" for h, k in HELPDESK_CASES]
)
def test_every_instant_of_a_helpdesk_sample_moves_by_one_amount(helpdesk: str, kind: str) -> None:
    # Given a helpdesk's sample, and the creation of its ticket (as the created sample says)
    body = helpdesk_payloads(helpdesk)[kind]
    created = helpdesk_creation(helpdesk, helpdesk_payloads(helpdesk)["ticket-created"], KOLKATA)
    assert created is not None
    # When it is placed at the spring-forward night
    placed = place_helpdesk(helpdesk, body, at("2027-03-28T00:30:00Z"), KOLKATA)
    # Then every instant in it moved by the amount that puts the creation there, and nothing else
    # changed
    delta = at("2027-03-28T00:30:00Z") - created
    before, after = instants(body, KOLKATA), instants(placed, KOLKATA)
    assert before and after.keys() == before.keys()
    assert {path: after[path] - before[path] for path in before} == dict.fromkeys(before, delta)
    assert _without(placed, before) == _without(body, before)


def _without(document: Any, paths: dict[Any, datetime]) -> Any:
    """The document with the values at ``paths`` blanked."""
    copy = json.loads(json.dumps(document))
    for path in paths:
        target = copy
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = None
    return copy


def test_a_zendesk_sample_keeps_its_format_to_the_nanosecond() -> None:
    # Given Zendesk's agent reply: the ticket created 10:12:07Z, the reply 14:25:30.123456789Z
    body = helpdesk_payloads("zendesk")["agent-reply"]
    # When the ticket is placed at a Saturday night
    placed = place_helpdesk("zendesk", body, at("2026-11-28T21:30:00Z"), UTC)
    # Then the reply is as long after the creation, written as Zendesk writes it
    assert placed["detail"]["created_at"] == "2026-11-28T21:30:00Z"
    assert placed["time"] == "2026-11-29T01:43:23.123456789Z"


def test_a_jira_comment_is_placed_as_its_created_sample_and_keeps_its_offsets() -> None:
    # Given Jira's agent reply, a comment delivery that states no creation (KAN-3 was created
    # 2026-04-25T18:35:13.605+0530, the reply written 20:54:31.907+0700, 49 min 18.302 s later)
    body = helpdesk_payloads("jira")["agent-reply"]
    assert helpdesk_creation("jira", body, UTC) is None
    # When it is placed on a ticket the stack created at 2026-11-30T09:00:00Z
    placed = place_helpdesk("jira", body, at("2026-11-30T09:00:00Z"), UTC)
    # Then the reply is 49 min 18.302 s after it, in the author's +0700, and the delivery's
    # epoch-millisecond timestamp moved with it
    assert placed["comment"]["created"] == "2026-11-30T16:49:18.302+0700"
    assert placed["timestamp"] == 1796032158302  # 2026-11-30T09:49:18.302Z


def test_freshdesk_local_times_keep_the_true_distance_across_a_clock_change() -> None:
    # Given Freshdesk's agent reply, 17 min 46 s after the creation, in local times without an
    # offset, and a helpdesk in Berlin
    berlin = ZoneInfo("Europe/Berlin")
    body = helpdesk_payloads("freshdesk")["agent-reply"]
    # When the ticket is placed at 01:50 local time on the night 02:00 becomes 03:00
    placed = place_helpdesk("freshdesk", body, at("2026-03-29T00:50:00Z"), berlin)
    # Then the reply reads 03:07:46 local time: 17 min 46 s later, not 1 h 17 min 46 s
    assert placed["ticket"]["created_on"] == "2026-03-29 01:50:00"
    assert placed["ticket"]["modified_on"] == "2026-03-29 03:07:46"


def test_a_delivery_after_the_stack_clock_gets_the_clock_command_rounded_up() -> None:
    lines = move_clock_first(URL, at("2026-11-30T04:53:23.123456Z"), at("2026-11-30T00:41:00Z"))
    assert lines[0].startswith("not sent: it happened at 2026-11-30T04:53:23.123456Z, 4h 12m after")
    assert lines[1].endswith("""-d '{"until": "2026-11-30T04:53:24Z"}'""")


@dataclass
class FakeStack:
    """What send_helpdesk asks of the running stack: its clock, a ticket's creation, a post."""

    now: datetime
    created: dict[str, datetime] = field(default_factory=dict)
    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(send, "stack_now", lambda url: self.now)
        monkeypatch.setattr(send, "known_creation", lambda url, ticket: self.created.get(ticket))
        monkeypatch.setattr(send, "_post", self.post)

    def post(
        self, target: str, body: bytes, headers: dict[str, str], method: str
    ) -> tuple[int, str]:
        self.posts.append((target, body, headers))
        return 200, json.dumps({"ticket_id": "zendesk:5158", "status": "met"})


def sample(helpdesk: str, kind: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / helpdesk / f"{kind}.json").read_text())
    return event


SETTINGS = {"url": URL, "helpdesk_secrets": {"zendesk": "the-stacks-zendesk-secret"}}


def test_a_zendesk_sample_is_signed_as_zendesk_signs_with_the_stacks_secret_and_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a running stack whose clock reads 2026-11-30T10:00:30Z and that has the ticket,
    # created at 10:00
    monkeypatch.delenv("SLA_ZENDESK_SECRET", raising=False)
    stack = FakeStack(at("2026-11-30T10:00:30Z"), {"zendesk:5158": at("2026-11-30T10:00:00Z")})
    stack.install(monkeypatch)
    # When the created sample is sent
    assert send.send_helpdesk("zendesk", sample("zendesk", "ticket-created"), URL, SETTINGS) == 0
    # Then the placed body went to /webhooks/zendesk with the sample's delivery id, signed as
    # Zendesk signs (base64 HMAC-SHA256 of the timestamp and the body) with the stack's secret
    target, body, headers = stack.posts[0]
    assert target == f"{URL}/webhooks/zendesk"
    assert json.loads(body)["detail"]["created_at"] == "2026-11-30T10:00:00Z"
    assert headers["x-zendesk-webhook-invocation-id"] == "zendesk-sample-ticket-created"
    assert headers["x-zendesk-webhook-signature-timestamp"] == "2026-11-30T10:00:30Z"
    mac = hmac.new(b"the-stacks-zendesk-secret", b"2026-11-30T10:00:30Z" + body, hashlib.sha256)
    assert headers["x-zendesk-webhook-signature"] == base64.b64encode(mac.digest()).decode()


def test_sending_a_sample_twice_is_a_retry_of_one_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a stack that has the ticket, and its clock past the reply
    monkeypatch.delenv("SLA_ZENDESK_SECRET", raising=False)
    stack = FakeStack(at("2026-11-30T15:00:00Z"), {"zendesk:5158": at("2026-11-30T10:00:00Z")})
    stack.install(monkeypatch)
    reply = sample("zendesk", "agent-reply")
    # When the reply is sent twice, the clock having moved in between
    send.send_helpdesk("zendesk", reply, URL, SETTINGS)
    stack.now += timedelta(minutes=3)
    send.send_helpdesk("zendesk", reply, URL, SETTINGS)
    # Then both carry the same body and the same delivery id
    (_, first, first_headers), (_, second, second_headers) = stack.posts
    assert first == second
    assert json.loads(first)["time"] == "2026-11-30T14:13:23.123456789Z"
    assert (
        first_headers["x-zendesk-webhook-invocation-id"]
        == (second_headers["x-zendesk-webhook-invocation-id"])
    )


def test_a_reply_hours_after_the_stack_clock_is_not_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the stack created the ticket at 10:00 and its clock reads 10:05
    monkeypatch.delenv("SLA_ZENDESK_SECRET", raising=False)
    stack = FakeStack(at("2026-11-30T10:05:00Z"), {"zendesk:5158": at("2026-11-30T10:00:00Z")})
    stack.install(monkeypatch)
    # When the reply, written 4 h 13 min after the creation, is sent
    status = send.send_helpdesk("zendesk", sample("zendesk", "agent-reply"), URL, SETTINGS)
    # Then nothing is posted, and the command that moves the clock to the reply is printed
    assert (status, stack.posts) == (1, [])
    assert """-d '{"until": "2026-11-30T14:13:24Z"}'""" in capsys.readouterr().out


def test_a_secret_set_in_the_environment_wins_and_the_new_one_of_a_rotation_signs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given SLA_JIRA_SECRET holds a rotation, "<new> <old>"
    monkeypatch.setenv("SLA_JIRA_SECRET", "new-jira-secret old-jira-secret")
    stack = FakeStack(at("2026-11-30T10:00:30Z"))
    stack.install(monkeypatch)
    # When Jira's created sample is sent
    send.send_helpdesk("jira", sample("jira", "ticket-created"), URL, SETTINGS)
    # Then it is signed as Jira signs, with the new secret
    _, body, headers = stack.posts[0]
    digest = hmac.new(b"new-jira-secret", body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature"] == f"sha256={digest}"
    assert headers["x-atlassian-webhook-identifier"] == "jira-sample-ticket-created"


def test_only_a_helpdesk_route_takes_the_helpdesk_path() -> None:
    assert send.helpdesk_of(sample("zammad", "closed")) == "zammad"
    assert send.helpdesk_of(json.loads((EVENTS / "ticket-created.json").read_text())) is None
