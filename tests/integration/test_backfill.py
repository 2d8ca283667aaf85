"""``sla backfill``: a ticket created before its helpdesk was wired stays pending (its comments
arrive, its creation never will) until a backfilled creation gives it a creation time and a plan;
then its earlier reply counts, in order. Running the same file again changes nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

from local.signing import TEST_SECRET, http_api_event
from sla.tools.backfill import backfill
from tests.integration.conftest import Api
from tests.integration.test_helpdesk_sources import FIXTURES, post, recorded_now

# the Jira issue SB-1's public agent comment, at 2024-07-31T07:38:13.985Z
COMMENT = FIXTURES / "jira" / "comment_created.json"
CREATION = {
    "type": "ticket.created",
    "occurred_at": "2024-07-31T06:00:00Z",
    "ticket": {
        "id": "jira:SB-1",
        "created_at": "2024-07-31T06:00:00Z",
        "plan": "advanced",
        "priority": 1,
    },
    "actor": {"type": "customer"},
}


def handler_post(api: Api) -> object:
    def send(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        assert url == "https://api.example/webhooks/tickets"
        event = http_api_event("POST", "/webhooks/tickets", headers=headers, body=body)
        answer = api.invoke(event)
        return answer.status, answer.raw

    return send


def view(api: Api, ticket_id: str) -> dict[str, object]:
    answer = api.invoke(
        http_api_event("GET", "/tickets/sla", query={"id": ticket_id}, route_key="ANY /tickets/sla")
    )
    body: dict[str, object] = answer.body
    return body


def test_a_backfilled_creation_ends_a_pending_ticket_and_its_earlier_reply_counts(
    helpdesks: Api,
) -> None:
    body = COMMENT.read_bytes()
    recorded_now(helpdesks, body)
    assert post(helpdesks, "jira", body, delivery="comment-1").status == 200
    pending = view(helpdesks, "jira:SB-1")
    assert (pending["status"], pending["missing"]) == ("pending", ["created_at", "plan"])

    lines = [json.dumps(CREATION), "not json", json.dumps({**CREATION, "ticket": "x"})]
    out = io.StringIO()
    code = backfill(
        lines,
        "https://api.example/",
        TEST_SECRET,
        out,
        post=handler_post(helpdesks),  # type: ignore[arg-type]
        clock=lambda: helpdesks.now.timestamp(),
    )
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1  # a bad line does not stop the others
    assert results[0] == {"line": 1, "status": 200, "ticket_id": "jira:SB-1", "sla_status": "met"}
    assert results[1]["line"] == 2 and "not a JSON object" in results[1]["error"]
    assert (results[2]["line"], results[2]["status"]) == (3, 422)

    after = view(helpdesks, "jira:SB-1")
    # in order: created Advanced P1 at 06:00Z, then the comment's snapshot (Jira's priority
    # Medium: 3) with the reply at 07:38Z; Advanced P3 is 6 business hours from the opening at
    # 07:00Z (09:00 CEST): met
    assert (after["status"], after["priority"], after["deadline"]) == (
        "met",
        3,
        "2024-07-31T13:00:00Z",
    )
    assert after["first_response_at"] == "2024-07-31T07:38:13.985000Z"

    again = io.StringIO()
    assert (
        backfill(
            lines[:1],
            "https://api.example",
            TEST_SECRET,
            again,
            post=handler_post(helpdesks),  # type: ignore[arg-type]
            clock=lambda: helpdesks.now.timestamp(),
        )
        == 0
    )
    assert view(helpdesks, "jira:SB-1") == after


def test_the_command_reads_a_file_and_says_what_it_cannot_read(tmp_path: Path) -> None:
    from sla.tools.cli import main

    missing = str(tmp_path / "missing.jsonl")
    for secret in (TEST_SECRET, "not-a-secret!"):  # an unreadable file; a malformed secret
        args = ["backfill", "--url", "http://127.0.0.1:9", "--secret", secret, "--file", missing]
        assert main(args) == 2
