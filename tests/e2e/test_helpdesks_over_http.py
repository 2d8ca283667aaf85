"""The four helpdesk routes of the local stack over real HTTP: `python -m local.run` enables them
out of the box (a secret per helpdesk, generated unless set; the local mapping), and each
helpdesk's samples, sent as `make send` sends them (placed at the stack's clock, signed as the
helpdesk signs, the clock moved to each delivery first, as send says), make a ticket whose SLA
view ends as the SLA says. A retried delivery changes nothing; a forged one is a 401."""

from __future__ import annotations

import contextlib
import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local import send
from local.signing import helpdesk_headers
from tests.e2e.conftest import Running, running_stack

ROOT = Path(__file__).resolve().parents[2]
HELPDESKS = ("zendesk", "jira", "freshdesk", "zammad")
JIRA_SECRET = "jira-secret-the-operator-set"
START = "2026-12-02T08:00:00Z"  # a Wednesday, 09:00 in Bratislava

# each helpdesk's samples in the order the helpdesk sends them: the ticket created, an internal
# note, a customer comment, a public agent reply, solved (Zammad: closed, it has no solved state)
STORIES = {
    "zendesk": ("ticket-created", "internal-note", "agent-reply", "customer-reply", "solved"),
    "jira": ("ticket-created", "internal-note", "customer-reply", "agent-reply", "solved"),
    "freshdesk": ("ticket-created", "agent-reply", "internal-note", "customer-reply", "solved"),
    "zammad": ("ticket-created", "internal-note", "agent-reply", "customer-reply", "closed"),
}
# the ticket, its creation and its first public agent reply, as the samples record them
RECORDED = {
    "zendesk": ("zendesk:5158", "2025-01-08T10:12:07Z", "2025-01-08T14:25:30.123456Z"),
    "jira": ("jira:KAN-3", "2026-04-25T18:35:13.605+05:30", "2026-04-25T20:54:31.907+07:00"),
    "freshdesk": ("freshdesk:11", "2026-03-11T12:44:19+05:30", "2026-03-11T13:02:05+05:30"),
    "zammad": ("zammad:81", "2020-11-13T14:34:35.282Z", "2020-11-13T15:02:10.517Z"),
}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass
class Stack:
    running: Running

    @property
    def url(self) -> str:
        return self.running.url

    def request(self, *args: Any) -> tuple[int, Any]:
        """The status and the JSON answer of ``Running.request(method, path, body, headers)``."""
        status, _, answer = self.running.request(*args)
        return status, answer

    def now(self) -> datetime:
        return instant(self.request("GET", "/_local/clock")[1]["now"])

    def view(self, ticket_id: str) -> Any:
        status, view = self.request("GET", f"/tickets/sla?id={urllib.parse.quote(ticket_id)}")
        assert status == 200, view
        return view

    def make_send(self, sample: str) -> tuple[int, Any]:
        """`make send EVENT=<sample>` in the stack's folder (its .local-stack.json); when send
        says the delivery happened after the stack's clock, the clock command it printed, and
        send again."""
        for _ in range(2):
            lines = self._send(sample)
            if not lines[0].startswith("not sent"):
                return int(lines[0]), json.loads(lines[1])
            until = re.search(r"-d '(\{.*\})'", lines[1])
            assert until is not None, lines
            assert self.request("POST", "/_local/clock", until.group(1).encode())[0] == 200
        raise AssertionError(f"{sample} was not sent after the clock moved: {lines}")

    def _send(self, sample: str) -> list[str]:
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as env:
            for name in ("SLA_URL", "SLA_WEBHOOK_SECRET", "SLA_MAPPING_FILE"):
                env.delenv(name, raising=False)
            for name in HELPDESKS:
                env.delenv(f"SLA_{name.upper()}_SECRET", raising=False)
            env.setenv("SLA_LOCAL_STATE", str(self.running.state))
            env.chdir(ROOT)
            with contextlib.redirect_stdout(out):
                send.main([sample])
        return out.getvalue().splitlines()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # `make run` with nothing set for the helpdesks but Jira's secret, as an operator might
    unset = {f"SLA_{name.upper()}_SECRET": "" for name in HELPDESKS}
    env = {**unset, "SLA_JIRA_SECRET": JIRA_SECRET, "SLA_MAPPING_FILE": "", "SLA_LOCAL_NOW": START}
    with running_stack(tmp_path_factory.mktemp("helpdesks"), **env) as running:
        yield Stack(running)


@dataclass
class Story:
    helpdesk: str
    ticket_id: str
    clock_at_creation: datetime  # the stack's clock just before the created sample was sent
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)


@pytest.fixture(scope="module", params=HELPDESKS)
def story(request: pytest.FixtureRequest, stack: Stack) -> Story:
    """The helpdesk's samples sent in order, as `make send` sends them."""
    helpdesk = request.param
    told = Story(helpdesk, RECORDED[helpdesk][0], stack.now())
    for kind in STORIES[helpdesk]:
        told.answers[kind] = stack.make_send(f"events/{helpdesk}/{kind}.json")
    return told


def test_make_run_enables_the_four_helpdesks_with_their_secrets_and_the_local_mapping(
    stack: Stack,
) -> None:
    # Given `make run` started with SLA_JIRA_SECRET set and no other helpdesk secret
    state = json.loads(stack.running.state.read_text())
    banner = stack.running.output.read_text()
    # Then .local-stack.json has a secret per helpdesk: Jira's as set, the others generated
    secrets = state["helpdesk_secrets"]
    assert sorted(secrets) == sorted(HELPDESKS)
    assert secrets["jira"] == JIRA_SECRET
    generated = [secrets[name] for name in ("zendesk", "freshdesk", "zammad")]
    assert len(set(generated)) == 3 and all(len(s) >= 16 for s in generated)
    # and the stack uses the shipped mapping
    assert Path(state["mapping_file"]) == ROOT / "local" / "mapping.toml"
    # and the banner lists the four routes with their secrets, and where to read how to set one up
    for name in HELPDESKS:
        assert re.search(rf"POST {stack.url}/webhooks/{name} +secret {secrets[name]}\n", banner)
    assert "docs/helpdesks/" in banner


def test_the_ticket_ends_as_the_sla_says_with_the_reply_as_its_first_response(
    stack: Stack, story: Story
) -> None:
    # Given the helpdesk's samples were sent in order (each accepted)
    assert {kind: status for kind, (status, _) in story.answers.items()} == dict.fromkeys(
        STORIES[story.helpdesk], 200
    )
    # When the ticket's SLA view is read over HTTP
    view = stack.view(story.ticket_id)
    # Then the ticket was created at the start of the stack's minute when it was sent, its first
    # response is the agent's reply, as long after the creation as the helpdesk recorded, and the
    # SLA was met
    _, recorded_creation, recorded_reply = RECORDED[story.helpdesk]
    created = instant(view["clock_started_at"])
    assert created == story.clock_at_creation.replace(second=0, microsecond=0)
    reply = created + (instant(recorded_reply) - instant(recorded_creation))
    assert instant(view["first_response_at"]) == reply
    assert (view["status"], instant(view["clock_stopped_at"])) == ("met", reply)
    responses = [entry for entry in view["history"] if entry["event"] == "ticket.responded"]
    assert [instant(entry["at"]) for entry in responses] == [reply]  # the note answered nothing


def test_a_retried_delivery_changes_nothing(stack: Stack, story: Story) -> None:
    # Given the ticket after its story
    before = stack.view(story.ticket_id)
    # When the helpdesk retries the agent's reply (the same delivery: its id, or for Freshdesk,
    # which sends none, its body)
    status, _ = stack.make_send(f"events/{story.helpdesk}/agent-reply.json")
    # Then it is acknowledged, and the ticket is as it was
    assert status == 200
    assert stack.view(story.ticket_id) == before


def test_a_forged_delivery_is_a_401_and_changes_nothing(stack: Stack, story: Story) -> None:
    # Given the ticket after its story
    before = stack.view(story.ticket_id)
    last = STORIES[story.helpdesk][-1]  # solved (Zammad: closed)
    body = json.loads((ROOT / "events" / story.helpdesk / f"{last}.json").read_text())["body"]
    # When a delivery is signed as the helpdesk signs but with another secret
    headers = helpdesk_headers(
        story.helpdesk, "not-the-stacks-secret", body.encode(), stack.now(), "forged"
    )
    status, problem = stack.request("POST", f"/webhooks/{story.helpdesk}", body.encode(), headers)
    # Then it is refused with one uniform 401, and the ticket is as it was
    assert (status, problem["title"]) == (401, "Unauthorized")
    assert stack.view(story.ticket_id) == before


def test_make_run_refuses_a_bad_mapping_file_with_one_clear_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[freshdesk]\ntimezone = "Mars/Olympus"\n')
    env = {**os.environ, "PORT": "0", "SLA_MAPPING_FILE": str(mapping)}
    env["SLA_LOCAL_STATE"] = str(tmp_path / "state.json")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "sla"), str(ROOT)])
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "local.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"make run: invalid mapping {mapping}: freshdesk.timezone: Value error, unknown IANA "
        "time zone"
    ]
