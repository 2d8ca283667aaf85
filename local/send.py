"""``make send EVENT=events/ticket-created.json``: post a sample event to the running local stack,
placed at the stack's clock and signed with its secret, and print the answer.

The samples in events/ are about a ticket created at a fixed instant (2026-11-25T08:59Z). Sent as
they are on another day, the ticket would be long overdue. So every instant of the body
(``occurred_at``, ``ticket.created_at``) is moved by one amount, which puts the sample's creation
on the creation of that ticket if the stack already has it (a reply 40 s after creation stays
40 s after it, however far the clock has moved since), else on the stack's clock, at the start
of its current minute. The body is then signed at the stack's clock (``GET /_local/clock``).

For a ticket whose clock runs, it then prints the warning and the deadline, and the command that
moves the stack's clock to the first whole minute after the deadline, when the breach timer fires.

The URL and secret come from ``.local-stack.json`` (written by ``make run``), or from ``SLA_URL``
and ``SLA_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local.signing import signature_headers

# an instant as the samples write it: ISO 8601 with a date, a time and a UTC offset
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


def iso(instant: datetime) -> str:
    """UTC, ``Z``-suffixed, as the samples and the API write instants."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def shift_instants(document: Any, delta: timedelta) -> Any:
    """The document with every instant in it moved by ``delta`` (other values untouched)."""
    if isinstance(document, dict):
        return {key: shift_instants(value, delta) for key, value in document.items()}
    if isinstance(document, list):
        return [shift_instants(value, delta) for value in document]
    if isinstance(document, str) and _INSTANT.fullmatch(document):
        return iso(datetime.fromisoformat(document) + delta)
    return document


def place(body: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    """The sample body moved in time so that its ticket is created at ``created_at``."""
    ticket = body.get("ticket")
    if not isinstance(ticket, dict) or not isinstance(ticket.get("created_at"), str):
        return body
    delta = created_at - datetime.fromisoformat(ticket["created_at"])
    placed: dict[str, Any] = shift_instants(body, delta)
    return placed


def start_of_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def next_steps(url: str, view: dict[str, Any]) -> list[str]:
    """What to do after posting a ticket whose clock runs: the command that moves the stack's
    clock to the breach timer (the first whole minute after the deadline)."""
    if view.get("status") != "running" or not view.get("deadline"):
        return []
    deadline = datetime.fromisoformat(view["deadline"])
    breach_at = start_of_minute(deadline) + timedelta(minutes=1)
    warning = f"warning at {view['warning_at']}, " if view.get("warning_at") else ""
    until = json.dumps({"until": iso(breach_at)})
    return [
        f"{warning}deadline {view['deadline']}; to move the stack's clock past both, paste:",
        f"  curl -s -X POST {url}/_local/clock -d '{until}'",
    ]


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the local stack
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def stack_now(url: str) -> datetime:
    status, document = _get(f"{url}/_local/clock")
    if status != 200:
        raise RuntimeError(f"GET /_local/clock answered {status}")
    return datetime.fromisoformat(document["now"])


def known_creation(url: str, ticket_id: str) -> datetime | None:
    """When the stack's copy of the ticket was created (its clock start), if it has one."""
    status, view = _get(f"{url}/tickets/{urllib.parse.quote(ticket_id, safe='')}/sla")
    if status != 200 or not view.get("clock_started_at"):
        return None
    return datetime.fromisoformat(view["clock_started_at"])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m local.send events/<name>.json", file=sys.stderr)
        return 2
    event = json.loads(Path(argv[0]).read_text())
    settings = {}
    if Path(".local-stack.json").exists():
        settings = json.loads(Path(".local-stack.json").read_text())
    url = os.environ.get("SLA_URL") or settings.get("url") or "http://127.0.0.1:3000"
    secret = os.environ.get("SLA_WEBHOOK_SECRET") or settings.get("secret")
    method = event["requestContext"]["http"]["method"]
    target = (
        url
        + event["rawPath"]
        + (f"?{event['rawQueryString']}" if event.get("rawQueryString") else "")
    )
    body = event.get("body", "").encode() if event.get("body") is not None else None
    headers = {}
    webhook = method == "POST" and body is not None
    if webhook:
        if not secret:
            print("no secret: start `make run` first or set SLA_WEBHOOK_SECRET", file=sys.stderr)
            return 2
        now = stack_now(url)
        sample = json.loads(event["body"])
        ticket_id = str((sample.get("ticket") or {}).get("id", ""))
        created_at = (known_creation(url, ticket_id) if ticket_id else None) or start_of_minute(now)
        body = json.dumps(place(sample, created_at)).encode()
        msg_id = event["headers"]["webhook-id"]
        headers = signature_headers(body, int(now.timestamp()), secret=secret, msg_id=msg_id)
    request = urllib.request.Request(target, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    print(status)
    print(text)
    if webhook and status == 200:
        for line in next_steps(url, json.loads(text)):
            print(line)
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
