"""The named sample events in events/: signed API Gateway HTTP API events, one per event type.

    .venv/bin/python -m local.events          # rewrite events/*.json and events/<helpdesk>/*.json
    .venv/bin/python -m local.events --check  # fail if a file differs from what this writes

The canonical ones (events/*.json) are signed with local.signing.TEST_SECRET at a fixed instant
(2026-11-25T09:00:00Z), so a handler accepts them only with its clock at that instant (the tests
do that); ``make send`` posts one to the local stack, moved to the stack's clock and signed again.

The helpdesk ones (events/<helpdesk>/<kind>.json, for ``POST /webhooks/<helpdesk>``) are what each
helpdesk sends about one ticket, one file per kind of delivery: the ticket created, its priority
changed by an agent, an internal note, a public agent reply, a customer reply, solved, closed
(where the helpdesk has that kind). Their bodies are the recorded payloads of
tests/fixtures/helpdesks/<helpdesk>/ (SOURCES.md there says where each comes from), as recorded,
with their own times; each is signed as its helpdesk signs, with the helpdesk's documented test
secret (local.signing.HELPDESK_TEST_SECRETS) at the same instant as the canonical ones, with the
delivery id ``<helpdesk>-sample-<kind>`` (Freshdesk sends none). Jira's recorded deliveries are
about different issues, so its samples are one of them, ``issue_created.json`` (KAN-3), and the
deliveries that follow it built from the recorded shapes (see :func:`jira_payloads`).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local.payloads import TICKET, ticket_body
from local.signing import (
    HELPDESK_TEST_SECRETS,
    helpdesk_headers,
    http_api_event,
    signed_webhook_event,
)

__all__ = [
    "HELPDESK_SAMPLES",
    "SIGNED_AT",
    "TICKET",
    "WEBHOOKS",
    "build",
    "helpdesk_event",
    "helpdesk_payloads",
    "main",
]

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
FIXTURES = ROOT / "tests" / "fixtures" / "helpdesks"
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


# helpdesk -> kind -> the recorded payload (tests/fixtures/helpdesks/<helpdesk>/<file>.json);
# Jira's are built by jira_payloads. Kinds a helpdesk does not have are left out (Zammad has no
# "solved" state: its agents close tickets).
HELPDESK_SAMPLES: dict[str, dict[str, str]] = {
    "zendesk": {
        "ticket-created": "event-ticket-created",
        "priority-by-agent": "event-priority-changed-by-agent",
        "internal-note": "event-comment-internal-note",
        "agent-reply": "event-comment-agent-public",
        "customer-reply": "event-comment-customer",
        "solved": "event-status-solved",
        "closed": "event-status-closed",
    },
    "jira": {
        "ticket-created": "issue_created",
        "priority-by-agent": "issue_created",
        "internal-note": "comment_created",
        "customer-reply": "comment_created",
        "agent-reply": "comment_created",
        "solved": "issue_created",
        "closed": "issue_created",
    },
    "freshdesk": {
        "ticket-created": "ticket_created",
        "agent-reply": "agent_reply",
        "internal-note": "private_note",
        "priority-by-agent": "priority_by_agent",
        "customer-reply": "customer_reply",
        "solved": "status_resolved",
        "closed": "status_closed",
    },
    "zammad": {
        "ticket-created": "docs-sample",
        "internal-note": "internal-note",
        "priority-by-agent": "priority-changed",
        "agent-reply": "agent-reply",
        "customer-reply": "customer-reply",
        "closed": "closed",
    },
}


def _fixture(helpdesk: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / helpdesk / f"{name}.json").read_text())
    return document


def _epoch_ms(instant: str) -> int:
    """Jira's ``timestamp``: epoch milliseconds (integer arithmetic, no float rounding)."""
    return (datetime.fromisoformat(instant) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        milliseconds=1
    )


def jira_payloads() -> dict[str, dict[str, Any]]:
    """Jira's samples: KAN-3 as ``issue_created.json`` recorded it (2026-04-25 18:35 in its
    reporter's +05:30), then what Jira sends as its life goes on, each built from a recorded
    delivery with only these values changed:

    * priority by agent (18:41): ``issue_created.json`` as ``jira:issue_updated``
      (``issue_updated``), the priority Medium (3) to High (2), ``updated``, ``timestamp``, a
      changelog with that one item (the shape of ``issue_updated_priority.json``'s);
    * internal note (18:52), customer reply (19:10), agent reply (19:24): the ``comment`` of
      ``comment_created.json`` (its author, an ``atlassian`` account writing in +07:00) with its
      id, ``self``, ``created``/``updated`` and ``timestamp``; the internal note with
      ``jsdPublic`` false, the customer's with its author's ``accountType`` ``customer``. The
      ``issue`` it carries is KAN-3 with the six fields a comment delivery carries (summary,
      issue type, project, assignee, priority, status), as KAN-3 is then;
    * solved (20:02) and closed (27 April, 10:15): ``issue_created.json`` as a transition
      (``issue_generic``): the status ``Done`` then ``Closed`` (category ``done``), the resolution
      ``Done``, ``updated``, ``resolutiondate``, ``statuscategorychangedate``, ``timestamp``, and
      a changelog with the status item (the shape of ``issue_updated_status.json``'s, with
      ``fieldId``) and the resolution item.
    """
    created = _fixture("jira", "issue_created")
    comment_base = _fixture("jira", "comment_created")
    site = created["issue"]["self"].split("/rest/")[0]
    high = {
        "self": f"{site}/rest/api/2/priority/2",
        "iconUrl": f"{site}/images/icons/priorities/high_new.svg",
        "name": "High",
        "id": "2",
    }
    done_category = {
        "self": f"{site}/rest/api/2/statuscategory/3",
        "id": 3,
        "key": "done",
        "colorName": "green",
        "name": "Done",
    }

    def status(name: str, status_id: str) -> dict[str, Any]:
        return {
            "self": f"{site}/rest/api/2/status/{status_id}",
            "description": "",
            "iconUrl": f"{site}/images/icons/statuses/generic.png",
            "name": name,
            "id": status_id,
            "statusCategory": done_category,
        }

    def update(
        at: str, kind: str, changelog_id: str, items: list[dict[str, Any]], **fields: Any
    ) -> dict[str, Any]:
        payload = copy.deepcopy(created)
        payload.update(
            timestamp=_epoch_ms(at),
            webhookEvent="jira:issue_updated",
            issue_event_type_name=kind,
            changelog={"id": changelog_id, "items": items},
        )
        payload["issue"]["fields"].update(updated=at, **fields)
        return payload

    def item(field: str, old: tuple[Any, Any], new: tuple[Any, Any]) -> dict[str, Any]:
        return {
            "field": field,
            "fieldtype": "jira",
            "fieldId": field.lower(),
            "from": old[0],
            "fromString": old[1],
            "to": new[0],
            "toString": new[1],
        }

    def comment(at: str, comment_id: str, **changes: Any) -> dict[str, Any]:
        payload = copy.deepcopy(comment_base)
        fields = created["issue"]["fields"]
        payload["timestamp"] = _epoch_ms(at)
        payload["issue"] = {
            "id": created["issue"]["id"],
            "self": created["issue"]["self"],
            "key": created["issue"]["key"],
            "fields": {
                name: copy.deepcopy(fields[name])
                for name in ("summary", "issuetype", "project", "assignee", "status")
            }
            | {"priority": high},
        }
        payload["comment"].update(
            id=comment_id,
            self=f"{created['issue']['self']}/comment/{comment_id}",
            created=at,
            updated=at,
            **changes,
        )
        return payload

    customer = {**comment_base["comment"]["author"], "accountType": "customer"}
    resolution = {
        "self": f"{site}/rest/api/2/resolution/10000",
        "id": "10000",
        "description": "Work has been completed on this issue.",
        "name": "Done",
    }
    solved_at = "2026-04-25T20:02:17.244+0530"
    closed_at = "2026-04-27T10:15:03.019+0530"
    return {
        "ticket-created": created,
        "priority-by-agent": update(
            "2026-04-25T18:41:22.530+0530",
            "issue_updated",
            "10040",
            [item("priority", ("3", "Medium"), ("2", "High"))],
            priority=high,
        ),
        "internal-note": comment("2026-04-25T20:22:40.112+0700", "10041", jsdPublic=False),
        "customer-reply": comment(
            "2026-04-25T20:40:05.381+0700", "10042", author=customer, updateAuthor=customer
        ),
        "agent-reply": comment("2026-04-25T20:54:31.907+0700", "10043"),
        "solved": update(
            solved_at,
            "issue_generic",
            "10044",
            [
                item("resolution", (None, None), ("10000", "Done")),
                {**item("status", ("10000", "To Do"), ("10002", "Done")), "field": "Status"},
            ],
            priority=high,
            status=status("Done", "10002"),
            statusCategory=done_category,
            statuscategorychangedate=solved_at,
            resolution=resolution,
            resolutiondate=solved_at,
        ),
        "closed": update(
            closed_at,
            "issue_generic",
            "10045",
            [{**item("status", ("10002", "Done"), ("10003", "Closed")), "field": "Status"}],
            priority=high,
            status=status("Closed", "10003"),
            statusCategory=done_category,
            statuscategorychangedate=closed_at,
            resolution=resolution,
            resolutiondate=solved_at,
        ),
    }


def helpdesk_payloads(helpdesk: str) -> dict[str, dict[str, Any]]:
    """The helpdesk's sample bodies by kind, in the order of their times."""
    if helpdesk == "jira":
        return jira_payloads()
    return {kind: _fixture(helpdesk, name) for kind, name in HELPDESK_SAMPLES[helpdesk].items()}


def helpdesk_event(helpdesk: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The sample as API Gateway hands it to the function: signed as the helpdesk signs."""
    body = json.dumps(payload).encode()
    headers = helpdesk_headers(
        helpdesk,
        HELPDESK_TEST_SECRETS[helpdesk],
        body,
        datetime.fromtimestamp(SIGNED_AT, UTC),
        f"{helpdesk}-sample-{kind}",
    )
    return http_api_event(
        "POST",
        f"/webhooks/{helpdesk}",
        headers=headers,
        body=body,
        path_parameters={"source": helpdesk},
        route_key="ANY /webhooks/{source}",
        time_epoch_ms=SIGNED_AT * 1000,
    )


def build() -> dict[str, dict[str, Any]]:
    """Every sample by its path under events/, without ``.json``."""
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
    for helpdesk in HELPDESK_SAMPLES:
        for kind, payload in helpdesk_payloads(helpdesk).items():
            events[f"{helpdesk}/{kind}"] = helpdesk_event(helpdesk, kind, payload)
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
    events = build()
    for name, event in events.items():
        path = EVENTS / f"{name}.json"
        if args.check:
            if not path.exists() or path.read_text() != render(event):
                stale.append(f"{name}.json")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(event))
    # a sample this no longer writes (a renamed kind) is stale too
    for helpdesk in HELPDESK_SAMPLES:
        for path in sorted((EVENTS / helpdesk).glob("*.json")):
            if f"{helpdesk}/{path.stem}" not in events:
                if args.check:
                    stale.append(f"{helpdesk}/{path.name}")
                else:
                    path.unlink()
    if stale:
        print(
            f"stale sample events: {', '.join(stale)} (run python -m local.events)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
