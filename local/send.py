"""``make send EVENT=events/ticket-created.json``: re-sign a sample event's body with the running
local stack's secret and its clock, post it, and print the answer.

The URL and secret come from ``.local-stack.json`` (written by ``make run``), or from ``SLA_URL``
and ``SLA_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from local.signing import signature_headers


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
    if method == "POST" and body is not None:
        if not secret:
            print("no secret: start `make run` first or set SLA_WEBHOOK_SECRET", file=sys.stderr)
            return 2
        with urllib.request.urlopen(f"{url}/_local/clock") as response:  # noqa: S310 - loopback
            now = datetime.fromisoformat(json.loads(response.read())["now"])
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
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
