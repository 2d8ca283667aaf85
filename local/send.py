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

A helpdesk's sample (``make send EVENT=events/zendesk/agent-reply.json``) is placed the same way:
every instant of its body moves by the amount that puts the ticket's creation on the stack's
creation of that ticket, else at the start of the stack's current minute. Each instant keeps the
helpdesk's own format: Zendesk's nanoseconds, Jira's ``+0530`` offsets and its epoch-millisecond
``timestamp``, Freshdesk's local times without an offset (read and written in the mapping's
Freshdesk ``timezone``, so a daylight-saving change in between keeps the true distance), Zammad's
milliseconds. A body that states no creation (Jira's comment deliveries) is placed as the
helpdesk's ``ticket-created`` sample is. The body is then signed as the helpdesk signs, with the
stack's secret for it, at the stack's clock, with the sample's delivery id (sending a sample twice
is a retry). A delivery that happened more than a minute after the stack's clock (a reply hours
after the creation) is not sent: it prints the command that moves the clock to it, to run first.

The URL and secrets come from ``.local-stack.json`` (written by ``make run``; ``SLA_LOCAL_STATE``
names another file), or from ``SLA_URL``, ``SLA_WEBHOOK_SECRET`` and ``SLA_<HELPDESK>_SECRET``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from local.signing import DELIVERY_HEADERS, helpdesk_headers, signature_headers

LOCAL_MAPPING = Path(__file__).resolve().parent / "mapping.toml"

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


# -- helpdesk samples -----------------------------------------------------------------------------

KeyPath = tuple[str, ...]
# where each helpdesk's body says when the ticket was created, when the delivery's change
# happened (the latest of these is the delivery's time), and which ticket it is about
CREATION: dict[str, tuple[KeyPath, ...]] = {
    "zendesk": (("detail", "created_at"), ("ticket", "created_at")),
    "jira": (("issue", "fields", "created"),),
    "freshdesk": (("ticket", "created_on"),),
    "zammad": (("ticket", "created_at"),),
}
OCCURRENCE: dict[str, tuple[KeyPath, ...]] = {
    "zendesk": (("time",), ("ticket", "updated_at")),
    "jira": (("timestamp",), ("comment", "created")),
    "freshdesk": (("ticket", "modified_on"), ("ticket", "status_changed_on")),
    "zammad": (("ticket", "updated_at"), ("article", "created_at")),
}
TICKET_ID: dict[str, tuple[KeyPath, ...]] = {
    "zendesk": (("detail", "id"), ("ticket", "id")),
    "jira": (("issue", "key"),),
    "freshdesk": (("ticket", "id"),),
    "zammad": (("ticket", "id"),),
}
# the most a delivery may lie ahead of the stack's clock and still be sent
AHEAD = timedelta(minutes=1)

# ISO 8601 with an offset (Z, +05:30, +0530), seconds and any number of fraction digits optional;
# or a local time without an offset (Freshdesk's "2026-03-11 12:44:19")
_AWARE = re.compile(
    r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})"
)
_NAIVE = re.compile(r"(\d{4}-\d{2}-\d{2})([ T])(\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?")


def _read_text(text: str, zone: tzinfo) -> tuple[datetime, Callable[[datetime], str]] | None:
    """The instant a helpdesk's text says, and how to write another instant in the same format
    (the same offset or zone, precision and separator). None for text that is no instant."""
    aware, naive = _AWARE.fullmatch(text), _NAIVE.fullmatch(text)
    if aware:
        date, minutes, seconds, digits, suffix = aware.groups()
        separator = "T"
        if suffix == "Z":
            where: tzinfo = UTC
        else:
            sign = -1 if suffix[0] == "-" else 1
            hours, mins = int(suffix[1:3]), int(suffix[-2:])
            where = timezone(sign * timedelta(hours=hours, minutes=mins))
    elif naive:
        date, separator, minutes, seconds, digits = naive.groups()
        suffix, where = "", zone
    else:
        return None
    digits = digits or ""
    try:
        local = datetime.fromisoformat(f"{date}T{minutes}:{seconds or '00'}")
    except ValueError:
        return None
    local = local.replace(microsecond=int(digits[:6].ljust(6, "0")))
    instant = local.replace(tzinfo=where).astimezone(UTC)

    def write(moved: datetime) -> str:
        there = moved.astimezone(where)
        out = there.strftime(f"%Y-%m-%d{separator}%H:%M")
        if seconds is not None:
            out += there.strftime(":%S")
        if digits:  # the digits past microseconds (Zendesk's nanoseconds) are kept as they were
            out += "." + (f"{there.microsecond:06d}" + digits[6:])[: len(digits)]
        return out + suffix

    return instant, write


def _read(value: Any, zone: tzinfo, epoch_ms: bool = False) -> datetime | None:
    if epoch_ms and isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    found = _read_text(value, zone) if isinstance(value, str) else None
    return found[0] if found else None


def _at(document: Any, path: KeyPath) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def shift_helpdesk(document: Any, delta: timedelta, zone: tzinfo, top: bool = True) -> Any:
    """The helpdesk body with every instant in it moved by ``delta``, each written as it was;
    Jira's epoch-millisecond ``timestamp`` (at the top) too. Other values are untouched."""
    if isinstance(document, dict):
        moved = {}
        for key, value in document.items():
            if top and key == "timestamp" and isinstance(value, int):
                moved[key] = value + delta // timedelta(milliseconds=1)
            else:
                moved[key] = shift_helpdesk(value, delta, zone, top=False)
        return moved
    if isinstance(document, list):
        return [shift_helpdesk(value, delta, zone, top=False) for value in document]
    if isinstance(document, str):
        found = _read_text(document, zone)
        if found is not None:
            instant, write = found
            return write(instant + delta)
    return document


def helpdesk_creation(helpdesk: str, body: dict[str, Any], zone: tzinfo) -> datetime | None:
    """When the body says its ticket was created."""
    for path in CREATION[helpdesk]:
        instant = _read(_at(body, path), zone)
        if instant is not None:
            return instant
    return None


def helpdesk_occurrence(helpdesk: str, body: dict[str, Any], zone: tzinfo) -> datetime | None:
    """When the delivery's change happened: the latest of the times the helpdesk stamps it with."""
    found = [_read(_at(body, path), zone, epoch_ms=True) for path in OCCURRENCE[helpdesk]]
    instants = [instant for instant in found if instant is not None]
    return max(instants) if instants else None


def helpdesk_ticket(helpdesk: str, body: dict[str, Any]) -> str | None:
    """The product's id of the body's ticket (``zendesk:5158``)."""
    for path in TICKET_ID[helpdesk]:
        value = _at(body, path)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return f"{helpdesk}:{value}"
    return None


def place_helpdesk(
    helpdesk: str, body: dict[str, Any], created_at: datetime, zone: tzinfo
) -> dict[str, Any]:
    """The helpdesk sample moved in time so that its ticket is created at ``created_at``."""
    origin = helpdesk_creation(helpdesk, body, zone)
    if origin is None:  # a Jira comment: placed as the helpdesk's created sample is
        from local.events import helpdesk_payloads

        origin = helpdesk_creation(helpdesk, helpdesk_payloads(helpdesk)["ticket-created"], zone)
    if origin is None:
        return body
    placed: dict[str, Any] = shift_helpdesk(body, created_at - origin, zone)
    return placed


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or f"{seconds}s"


def move_clock_first(url: str, when: datetime, now: datetime) -> list[str]:
    """What to print for a delivery that happened after the stack's clock: the command that moves
    the clock to it (the next whole second), to run before sending it again."""
    until = when.replace(microsecond=0) + (
        timedelta(seconds=1) if when.microsecond else timedelta()
    )
    return [
        f"not sent: it happened at {iso(when)}, {_span(when - now)} after the stack's clock "
        f"({iso(now.replace(microsecond=0))}); move the clock there first, then send it again:",
        f"  curl -s -X POST {url}/_local/clock -d '{json.dumps({'until': iso(until)})}'",
    ]


def helpdesk_of(event: dict[str, Any]) -> str | None:
    """The helpdesk a sample is posted for (``POST /webhooks/<helpdesk>``), if it is one."""
    match = re.fullmatch(r"/webhooks/([a-z]+)", event.get("rawPath", ""))
    return match.group(1) if match and match.group(1) in CREATION else None


def freshdesk_zone(settings: dict[str, Any]) -> tzinfo:
    """Freshdesk's zone from the stack's mapping file (its times carry no offset)."""
    path = settings.get("mapping_file") or os.environ.get("SLA_MAPPING_FILE") or LOCAL_MAPPING
    try:
        name = tomllib.loads(Path(path).read_text())["freshdesk"]["timezone"]
        return ZoneInfo(name)
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError):
        return UTC


def _post(target: str, body: bytes | None, headers: dict[str, str], method: str) -> tuple[int, str]:
    request = urllib.request.Request(target, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def send_helpdesk(helpdesk: str, event: dict[str, Any], url: str, settings: dict[str, Any]) -> int:
    """Post a helpdesk sample: placed, signed as the helpdesk signs, its answer printed."""
    secret = os.environ.get(f"SLA_{helpdesk.upper()}_SECRET") or (
        settings.get("helpdesk_secrets") or {}
    ).get(helpdesk)
    if not secret:
        print(
            f"no {helpdesk} secret: start `make run` first or set SLA_{helpdesk.upper()}_SECRET",
            file=sys.stderr,
        )
        return 2
    now = stack_now(url)
    zone = freshdesk_zone(settings)
    sample = json.loads(event["body"])
    ticket_id = helpdesk_ticket(helpdesk, sample)
    created_at = (known_creation(url, ticket_id) if ticket_id else None) or start_of_minute(now)
    placed = place_helpdesk(helpdesk, sample, created_at, zone)
    when = helpdesk_occurrence(helpdesk, placed, zone)
    if when is not None and when > now + AHEAD:
        for line in move_clock_first(url, when, now):
            print(line)
        return 1
    body = json.dumps(placed).encode()
    delivery = event.get("headers", {}).get(DELIVERY_HEADERS.get(helpdesk, ""))
    # during a rotation the secret is "<new> <old>": the helpdesk signs with the new one
    headers = helpdesk_headers(helpdesk, secret.split()[0], body, now, delivery)
    status, text = _post(f"{url}/webhooks/{helpdesk}", body, headers, "POST")
    print(status)
    print(text)
    if status == 200:
        for line in next_steps(url, json.loads(text)):
            print(line)
    return 0 if status < 400 else 1


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m local.send events/<name>.json | events/<helpdesk>/<name>.json",
            file=sys.stderr,
        )
        return 2
    event = json.loads(Path(argv[0]).read_text())
    settings = {}
    state = Path(os.environ.get("SLA_LOCAL_STATE") or ".local-stack.json")
    if state.exists():
        settings = json.loads(state.read_text())
    url = os.environ.get("SLA_URL") or settings.get("url") or "http://127.0.0.1:3000"
    helpdesk = helpdesk_of(event)
    if helpdesk is not None and event["requestContext"]["http"]["method"] == "POST":
        return send_helpdesk(helpdesk, event, url, settings)
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
    status, text = _post(target, body, headers, method)
    print(status)
    print(text)
    if webhook and status == 200:
        for line in next_steps(url, json.loads(text)):
            print(line)
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
