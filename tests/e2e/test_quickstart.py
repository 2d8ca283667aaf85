"""The README's quick start, as written, on any day: `python -m local.run` in its own process with
its clock started at awkward instants (a Saturday night, Friday 16:50 in Bratislava, Christmas
Eve, the night the clocks go forward), the README's commands run as a newcomer runs them
(`python -m local.send` for `make send`, the curl steps over HTTP, the clock command that
`make send` printed), and the outcome the README promises: two timers, a warning and a breach,
then a retraction after the late reply, and the ticket `met`. And the README's curl recipe for
signing a request by hand, run with bash against the same stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import running_stack

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()

# the stack's clock at start, in UTC (local time in Bratislava in the comments)
STARTS = {
    "saturday-night": "2026-11-28T21:30:20Z",  # Saturday 22:30:20 CET
    "friday-16-50": "2026-11-27T15:50:00Z",  # Friday 16:50 CET: the README's example
    "christmas-eve": "2026-12-24T09:00:00Z",  # Thursday 10:00 CET, 24-26 December are holidays
    # Easter Sunday 01:30 CET, the night 02:00 CET becomes 03:00 CEST; Easter Monday is a holiday
    "spring-forward": "2027-03-28T00:30:00Z",
}
README_EXAMPLE = "friday-16-50"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n## ", start + len(title))
    return README[start : end if end != -1 else None]


def wait_for(probe: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """The probe's answer once ``done`` holds (the stack's pumps run in the background), or its
    last answer after 15 s, for the assertion to show."""
    give_up = time.monotonic() + 15
    while True:
        answer = probe()
        if done(answer) or time.monotonic() > give_up:
            return answer
        time.sleep(0.2)


@dataclass
class Stack:
    url: str
    secret: str
    start: datetime  # SLA_LOCAL_NOW
    folder: Path  # where `make run` was started: its .local-stack.json is here
    output: Path
    env: dict[str, str]

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def now(self) -> datetime:
        return datetime.fromisoformat(self.request("GET", "/_local/clock")[1]["now"])

    def send(self, sample: str) -> list[str]:
        """`make send EVENT=<sample>`: its output lines."""
        sent = subprocess.run(
            [sys.executable, "-m", "local.send", sample],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
        return sent.stdout.splitlines()

    def notifications(self, ticket_id: str) -> list[dict[str, Any]]:
        return [
            n
            for n in self.request("GET", "/_local/notifications")[1]
            if n["ticket_id"] == ticket_id
        ]

    def printed(self, ticket_id: str) -> list[str]:
        """Notification lines the stack printed about the ticket."""
        return [
            line
            for line in self.output.read_text().splitlines()
            if line.startswith("[sla.") and f"] {ticket_id} " in line
        ]


@pytest.fixture(scope="module", params=list(STARTS))
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp(request.param)
    with running_stack(folder, SLA_LOCAL_NOW=STARTS[request.param]) as running:
        # make send finds the stack as it would in the stack's folder: through
        # .local-stack.json's URL and secret (it runs from the repository, so they are handed
        # over as SLA_URL and SLA_WEBHOOK_SECRET, which it reads first)
        send_env = {
            **running.env,
            "SLA_URL": running.url,
            "SLA_WEBHOOK_SECRET": running.secret,
        }
        yield Stack(
            running.url,
            running.secret,
            instant(STARTS[request.param]),
            folder,
            running.output,
            send_env,
        )


def test_make_run_prints_the_secret_the_clock_and_the_first_step(stack: Stack) -> None:
    # Given `make run` started with SLA_LOCAL_NOW
    banner = stack.output.read_text()
    # Then its banner gives the secret, where it is kept, the clock it started at, and the first
    # step of the quick start
    assert f"signing secret: {stack.secret}  (URL and secret also in " in banner
    clock = re.search(r"^clock: (\S+) \(from SLA_LOCAL_NOW\), running", banner, re.MULTILINE)
    assert clock is not None, banner
    assert stack.start <= instant(clock[1]) < stack.start + timedelta(minutes=10)
    assert "  make send EVENT=events/ticket-created.json " in banner
    assert f"  curl -s {stack.url}/_local/schedules " in banner


@dataclass
class Walk:
    """What a newcomer sees, step by step, walking through the README's quick start."""

    url: str
    clock_before_send: datetime
    created: list[str]
    clock_after_send: datetime
    schedules: list[dict[str, Any]]
    clock_command: str | None = None
    clock_answer: tuple[int, Any] | None = None
    published_after_clock: list[str] = field(default_factory=list)
    printed_after_clock: list[str] = field(default_factory=list)
    responded: list[str] = field(default_factory=list)
    published_at_end: list[str] = field(default_factory=list)
    printed_at_end: list[str] = field(default_factory=list)
    final: tuple[int, Any] = (0, None)

    @property
    def view(self) -> dict[str, Any]:
        view: dict[str, Any] = json.loads(self.created[1])
        return view

    @property
    def clock(self) -> re.Match[str]:
        """The clock command make send printed."""
        match = CLOCK_COMMAND.fullmatch(self.clock_command or "")
        assert match is not None, self.created
        return match

    @property
    def until(self) -> str:
        until: str = json.loads(self.clock["body"])["until"]
        return until


CLOCK_COMMAND = re.compile(r"curl -s -X POST (?P<url>\S+)/_local/clock -d '(?P<body>[^']*)'")


@pytest.fixture(scope="module")
def walk(stack: Stack) -> Walk:
    def t1001() -> list[dict[str, Any]]:
        return [
            s
            for s in stack.request("GET", "/_local/schedules")[1]
            if s["input"]["ticket_id"] == "T-1001"
        ]

    def published() -> list[str]:
        return [n["type"] for n in stack.notifications("T-1001")]

    # make send EVENT=events/ticket-created.json
    before = stack.now()
    created = stack.send("events/ticket-created.json")
    # curl -s http://127.0.0.1:3000/_local/schedules
    result = Walk(
        url=stack.url,
        clock_before_send=before,
        created=created,
        clock_after_send=stack.now(),
        schedules=wait_for(t1001, lambda found: len(found) >= 2),
    )
    # paste the curl command that make send printed
    commands = [m for line in created if (m := CLOCK_COMMAND.fullmatch(line.strip()))]
    if commands:
        result.clock_command = commands[-1].group(0)
        result.clock_answer = stack.request("POST", "/_local/clock", commands[-1]["body"].encode())
        result.published_after_clock = wait_for(published, lambda found: len(found) >= 2)
        result.printed_after_clock = wait_for(
            lambda: stack.printed("T-1001"), lambda found: len(found) >= 2
        )
    # make send EVENT=events/ticket-responded.json
    result.responded = stack.send("events/ticket-responded.json")
    result.published_at_end = wait_for(published, lambda found: len(found) >= 3)
    result.printed_at_end = wait_for(lambda: stack.printed("T-1001"), lambda found: len(found) >= 3)
    # curl -s http://127.0.0.1:3000/tickets/T-1001/sla
    result.final = stack.request("GET", "/tickets/T-1001/sla")
    return result


def test_make_send_creates_the_ticket_at_the_stacks_clock(walk: Walk) -> None:
    # Given a stack whose clock started at an awkward instant
    # When make send posts the created sample
    # Then it is accepted and running, created at the start of the stack's minute
    assert walk.created[0] == "200"
    assert walk.view["status"] == "running"
    created_at = instant(walk.view["clock_started_at"])
    assert (created_at.second, created_at.microsecond) == (0, 0)
    assert walk.clock_before_send.replace(second=0, microsecond=0) <= created_at
    assert created_at <= walk.clock_after_send
    assert instant(walk.view["deadline"]) > walk.clock_after_send


def test_make_send_prints_the_clock_command_for_the_breach_timer(walk: Walk) -> None:
    # Given the ticket created by make send
    view = walk.view
    # Then it printed the warning, the deadline and a command that moves the clock to the first
    # whole minute after the deadline, which the clock route accepts
    assert f"warning at {view['warning_at']}, deadline {view['deadline']}" in walk.created[2]
    assert walk.clock["url"] == walk.url
    deadline = instant(view["deadline"])
    assert instant(walk.until) == deadline.replace(second=0) + timedelta(minutes=1)
    assert walk.clock_answer is not None
    assert walk.clock_answer[0] == 200
    assert instant(walk.clock_answer[1]["now"]) >= instant(walk.until)


def test_the_ticket_has_two_timers_the_warning_and_the_breach(walk: Walk) -> None:
    # Given the ticket created by make send
    # Then /_local/schedules lists its warning and its breach, the latter at the printed instant
    view = walk.view
    timers = sorted((s["input"]["kind"], s["at"]) for s in walk.schedules)
    assert timers == [
        ("breach", f"at({walk.until.removesuffix('Z')})"),
        ("warning", f"at({view['warning_at'].removesuffix('Z')})"),
    ]


def test_the_clock_command_brings_the_warning_and_the_breach(walk: Walk) -> None:
    # Given the ticket created by make send
    # When the clock command it printed is pasted
    # Then the warning and the breach are published and printed, in that order
    view = walk.view
    assert walk.published_after_clock == ["sla.warning", "sla.breached"]
    assert [line.split(" (id ")[0] for line in walk.printed_after_clock] == [
        f"[sla.warning] T-1001 professional P2 for {view['warning_at']}: "
        f"status breached, deadline {view['deadline']}",
        f"[sla.breached] T-1001 professional P2 for {view['deadline']}: "
        f"status breached, deadline {view['deadline']}",
    ]


def test_the_late_reply_retracts_the_breach_and_the_ticket_is_met(walk: Walk) -> None:
    # Given the warning and the breach went out
    # When the reply sample (40 s after the creation) is sent after them
    assert walk.responded[0] == "200"
    answer = json.loads(walk.responded[1])
    created_at = instant(walk.view["clock_started_at"])
    # Then it happened 40 s after the creation, the ticket is met, and the breach is retracted
    assert instant(answer["first_response_at"]) == created_at + timedelta(seconds=40)
    assert answer["status"] == "met"
    assert walk.published_at_end == ["sla.warning", "sla.breached", "sla.breach_retracted"]
    assert walk.printed_at_end[2].startswith(
        f"[sla.breach_retracted] T-1001 professional P1 for {walk.view['deadline']}: status met"
    )
    status, final = walk.final
    assert (status, final["status"]) == (200, "met")
    assert [h["event"] for h in final["history"]] == ["ticket.created", "ticket.responded"]


@pytest.mark.parametrize("stack", [README_EXAMPLE], indirect=True)
def test_the_readme_shows_what_the_walk_through_prints(walk: Walk) -> None:
    # Given the stack started as the README's example says, and make send within that minute
    quick_start = section("## Quick start")
    assert f"SLA_LOCAL_NOW={STARTS[README_EXAMPLE]} make run" in quick_start
    assert walk.view["clock_started_at"] == STARTS[README_EXAMPLE], "sent in the first minute"
    # Then every line make send and the stack printed is in the README, as it is on port 3000
    for line in walk.created + walk.printed_at_end:
        assert line.replace(walk.url, "http://127.0.0.1:3000") in quick_start
    for schedule in walk.schedules:
        assert f"`{schedule['at']}`" in quick_start


RECIPE_TOOLS = ("bash", "openssl", "base64", "od", "tr", "sed", "date", "curl")


def recipe() -> str:
    """The shell block after "Signing a request by hand" in the README."""
    api = section("## The API")
    after = api[api.index("Signing a request by hand") :]
    match = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_signing_recipe_posts_a_ticket(stack: Stack, walk: Walk) -> None:
    missing = [tool for tool in RECIPE_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the recipe needs {', '.join(missing)}")
    # Given a running stack with a fresh secret, whose clock the walk-through moved days away
    # from the machine's
    now = stack.now()
    assert abs(now - datetime.now(UTC)) > timedelta(minutes=5)
    # When the README's recipe runs with bash in the folder `make run` was started in
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", recipe()],
        cwd=stack.folder,
        env={"PATH": os.environ["PATH"], "LC_ALL": "C"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    # Then the webhook answered 200 with the ticket's view, created at the stack's clock
    assert ran.returncode == 0, ran.stdout + ran.stderr
    view = json.loads(ran.stdout)
    assert (view["ticket_id"], view["status"]) == ("T-1002", "running"), ran.stdout
    assert now - timedelta(seconds=1) <= instant(view["clock_started_at"]) <= stack.now()
    assert stack.request("GET", "/tickets/T-1002/sla")[0] == 200
