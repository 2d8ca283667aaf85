"""The named sample events in events/: signed API Gateway HTTP API events, one per event type.

    .venv/bin/python -m local.events          # rewrite events/*.json
    .venv/bin/python -m local.events --check  # fail if a file differs from what this writes

They are signed with local.signing.TEST_SECRET at a fixed instant (2026-11-25T09:00:00Z), so a
handler accepts them only with its clock at that instant (the tests do that); ``make send`` posts
one to the local stack, moved to the stack's clock and signed again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local.payloads import TICKET, ticket_body
from local.signing import http_api_event, signed_webhook_event

__all__ = ["SIGNED_AT", "TICKET", "WEBHOOKS", "build", "main"]

EVENTS = Path(__file__).resolve().parents[1] / "events"
SIGNED_AT = 1795597200  # 2026-11-25T09:00:00Z


def _payload(
    type_: str, occurred_at: str, actor: str, reason: str | None = None, **ticket: Any
) -> dict[str, Any]:
    return ticket_body(type_, occurred_at, actor=actor, reason=reason, **ticket)


WEBHOOKS: dict[str, tuple[str, dict[str, Any]]] = {
    "ticket-created": (
        "msg_sample_created",
        _payload("ticket.created", "2026-11-25T08:59:00Z", "customer"),
    ),
    "ticket-updated": (
        "msg_sample_updated",
        _payload("ticket.updated", "2026-11-25T08:59:20Z", "customer", environment="staging"),
    ),
    "ticket-reclassified": (
        "msg_sample_reclassified",
        _payload(
            "ticket.updated", "2026-11-25T08:59:30Z", "agent", "full outage confirmed", priority=1
        ),
    ),
    "ticket-responded": (
        "msg_sample_responded",
        _payload("ticket.responded", "2026-11-25T08:59:40Z", "agent", priority=1),
    ),
    "ticket-solved": (
        "msg_sample_solved",
        _payload("ticket.solved", "2026-11-25T08:59:50Z", "agent", priority=1),
    ),
    "ticket-closed": (
        "msg_sample_closed",
        _payload("ticket.closed", "2026-11-25T08:59:55Z", "agent", priority=1),
    ),
}


def build() -> dict[str, dict[str, Any]]:
    events = {
        name: signed_webhook_event(body, SIGNED_AT, msg_id=msg_id)
        for name, (msg_id, body) in WEBHOOKS.items()
    }
    events["get-ticket-sla"] = http_api_event(
        "GET",
        "/tickets/T-1001/sla",
        path_parameters={"ticket_id": "T-1001"},
        route_key="ANY /tickets/{ticket_id}/sla",
        time_epoch_ms=SIGNED_AT * 1000,
    )
    events["get-quote"] = http_api_event(
        "GET",
        "/sla/quote",
        query={"plan": "professional", "priority": "1", "at": "2026-11-27T15:30:00Z"},
        route_key="ANY /sla/quote",
        time_epoch_ms=SIGNED_AT * 1000,
    )
    for event in events.values():
        event["requestContext"]["requestId"] = "sample"
    return events


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write or check the sample events in events/.")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for name, event in build().items():
        path = EVENTS / f"{name}.json"
        if args.check:
            if not path.exists() or path.read_text() != render(event):
                stale.append(path.name)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(render(event))
    if stale:
        print(
            f"stale sample events: {', '.join(stale)} (run python -m local.events)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
