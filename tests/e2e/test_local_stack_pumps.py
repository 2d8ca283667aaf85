"""The local stack's pumps over many tickets, with the stack in this process (its notifications,
its sweeper and ``stop()`` at hand) and the clock moved through ``POST /_local/clock``.

- Scheduler: more than one page of live schedules (moto lists 50 a page, newest first) all
  fire on time, through the timers, and the sweeper finds nothing to repair.
- A clock jump over a backlog: the clock request is answered while the notices are still being
  published, every owed notice goes out exactly once, and ``stop()`` ends the stack between two
  steps of a backlog.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from local.payloads import ticket_body
from local.signing import signed_webhook_event
from local.stack import LocalStack

# one hour, elapsed; the warning at 45 minutes
ADVANCED_P1: dict[str, Any] = {"plan": "advanced", "priority": 1}


class Hold:
    """The stack's output, held at the ``at``-th notification until released: the pump thread
    is then inside a backlog, for as long as the test needs."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.seen = 0
        self.reached = threading.Event()
        self.released = threading.Event()

    def __call__(self, line: str) -> None:
        if line.startswith("[sla."):
            self.seen += 1
            if self.seen == self.at:
                self.reached.set()
                self.released.wait(timeout=120)


@pytest.fixture
def start_stack() -> Iterator[Callable[[Callable[[str], None]], LocalStack]]:
    """A local stack in this process; afterwards the process is as it was (environment,
    handlers' clocks, moto as released, wiring rebuilt)."""
    from moto.core.base_backend import BackendDict

    import local.moto_patches
    from sla.runtime import clock, wiring

    environment = dict(os.environ)
    started: list[LocalStack] = []

    def start(echo: Callable[[str], None]) -> LocalStack:
        stack = LocalStack(port=0, echo=echo, clock_wait=0.5).start()
        started.append(stack)
        return stack

    yield start
    for stack in started:
        if not stack.stopped:
            stack.stop()
    local.moto_patches.uninstall()
    BackendDict.reset()
    os.environ.clear()
    os.environ.update(environment)
    clock.use(None)
    wiring.reset()


def create_tickets(stack: LocalStack, count: int, created: datetime) -> None:
    """``count`` Advanced P1 tickets created at ``created``, through the webhook handler, and
    their warning and breach armed by the timers function."""
    for i in range(count):
        body = ticket_body(
            "ticket.created", created, id=f"P-{i:04d}", created_at=created, **ADVANCED_P1
        )
        timestamp = int(stack.clock.now().timestamp())
        event = signed_webhook_event(body, timestamp, secret=stack.secret, msg_id=f"p-{i}")
        assert stack.invoke("webhook", event)["statusCode"] == 200
    settle(stack)


def settle(stack: LocalStack) -> None:
    """Until a pump round has run to its end."""
    while not stack.pump():
        pass


def request(stack: LocalStack, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(stack.url + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_more_than_a_page_of_schedules_fire_on_time_through_the_timers(
    start_stack: Callable[[Callable[[str], None]], LocalStack],
) -> None:
    # Given 60 tickets created in the same minute: 120 live schedules, more than moto's page of
    # 50, whose 50 newest are breaches that are not due when the warnings are
    stack = start_stack(lambda line: None)
    created = stack.clock.now().replace(second=0, microsecond=0)
    create_tickets(stack, 60, created)
    assert len(request(stack, "GET", "/_local/schedules")) == 120

    # When the clock passes the warnings' minute, then moves on minute by minute
    warning_at = created + timedelta(minutes=45)
    request(
        stack, "POST", "/_local/clock", {"until": (warning_at + timedelta(seconds=5)).isoformat()}
    )
    settle(stack)
    for _ in range(5):
        request(stack, "POST", "/_local/clock", {"advance": "1m"})
        settle(stack)

    # Then every warning went out at its minute, through its timer, and the sweeper finds
    # nothing to repair
    warnings = [n for n in stack.notifications if n["type"] == "sla.warning"]
    assert sorted(n["ticket_id"] for n in warnings) == [f"P-{i:04d}" for i in range(60)]
    late = [
        n["ticket_id"]
        for n in warnings
        if not timedelta(0)
        <= instant(n["published_at"]) - instant(n["for"])
        <= timedelta(minutes=1)
    ]
    assert late == []
    assert stack.invoke("sweeper", {}) == {"overdue": 0, "published": 0, "rearmed": 0}


def test_a_clock_jump_over_a_backlog_answers_and_publishes_each_notice_once(
    start_stack: Callable[[Callable[[str], None]], LocalStack],
) -> None:
    # Given 300 running tickets, and the stack's output held at the 10th notification
    hold = Hold(at=10)
    stack = start_stack(hold)
    create_tickets(stack, 300, stack.clock.now())

    # When the clock jumps past every warning and breach
    now = request(stack, "POST", "/_local/clock", {"advance": "5h"})["now"]

    # Then the clock request is answered while the backlog is being worked, and so are others
    assert hold.reached.wait(timeout=120)
    assert instant(request(stack, "GET", "/_local/clock")["now"]) >= instant(now)
    assert len(request(stack, "GET", "/_local/notifications")) == 10

    # And once the output flows again, every owed notice is published, each exactly once
    hold.released.set()
    deadline = time.monotonic() + 600
    while len(stack.notifications) < 600 and time.monotonic() < deadline:
        time.sleep(0.2)
    settle(stack)
    sent = Counter((n["ticket_id"], n["type"]) for n in stack.notifications)
    expected = {
        (f"P-{i:04d}", kind) for i in range(300) for kind in ("sla.warning", "sla.breached")
    }
    assert set(sent) == expected
    assert set(sent.values()) == {1}
    assert stack.invoke("sweeper", {}) == {"overdue": 0, "published": 0, "rearmed": 0}


def test_stop_during_a_backlog_ends_every_thread_of_the_stack(
    start_stack: Callable[[Callable[[str], None]], LocalStack],
) -> None:
    # Given a clock jump whose backlog is being worked (the output held at the 10th notice)
    hold = Hold(at=10)
    stack = start_stack(hold)
    create_tickets(stack, 30, stack.clock.now())
    request(stack, "POST", "/_local/clock", {"advance": "5h"})
    assert hold.reached.wait(timeout=120)

    # When the stack is stopped, and the output flows again
    stopping = threading.Thread(target=stack.stop)
    stopping.start()
    hold.released.set()
    stopping.join(timeout=60)

    # Then stop() returned, and the pump ended between two steps: none of its threads is left
    assert not stopping.is_alive()
    assert stack.stopped
