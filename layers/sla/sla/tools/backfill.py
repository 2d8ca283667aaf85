"""``sla backfill``: post canonical ticket events from a JSON-lines file to a running API, signed
with Standard Webhooks. For tickets created before a helpdesk was wired (their comments arrive,
their creation never will: they stay pending until a snapshot gives a creation time and a plan),
or to load history from a helpdesk's export.

Each line is a canonical event body (contract section 2), optionally with an ``event_id`` (the
``webhook-id``; by default a hash of the line, so running the same file twice changes nothing).
A ticket of a helpdesk source is ``<source>:<the helpdesk's id>``, as its webhooks name it.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import IO, Any

from sla.core.signature import parse_secrets, sign

__all__ = ["Post", "backfill", "http_post"]

Post = Callable[[str, dict[str, str], bytes], tuple[int, str]]


def http_post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """POST with urllib; the status and the body of the answer, whatever the status."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the user's URL
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def backfill(
    lines: Iterable[str],
    url: str,
    secret: str,
    out: IO[str],
    post: Post = http_post,
    clock: Callable[[], float] = time.time,
) -> int:
    """Post every line; write one JSON line per input line (its status, or its error). Returns
    the exit status: 0 when every line was accepted, 1 otherwise (the rest still run)."""
    key = parse_secrets(secret)[0]
    target = url.rstrip("/") + "/webhooks/tickets"
    status = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        result: dict[str, Any] = {"line": number}
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            result["error"] = f"not a JSON object: {exc}"
            status = 1
            out.write(json.dumps(result) + "\n")
            continue
        event_id = record.pop("event_id", None)
        if not isinstance(event_id, str) or not event_id:
            event_id = "backfill-" + hashlib.sha256(line.strip().encode()).hexdigest()[:32]
        body = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(key, event_id, timestamp, body),
        }
        code, text = post(target, headers, body)
        result["status"] = code
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            if code < 300:
                result["ticket_id"] = answer.get("ticket_id")
                result["sla_status"] = answer.get("status")
            else:
                result["error"] = answer.get("detail") or answer.get("title")
        if code >= 300:
            status = 1
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return status
