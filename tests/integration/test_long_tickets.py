"""Long tickets (RELIABILITY.md invariant 5): no delivery is refused because of what the ticket
received before it, and a delivery costs the same on the 1,200th event as on the first.
Also: tickets written by the first layout (every event inside the ticket item) still read and
take new deliveries."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from local.moto_patches import installed
from local.payloads import ticket_event
from sla import load_policy, reduce_events
from sla.aws.store import DUE_SHARDS, DynamoTicketStore, due_shard, item_size
from tests.integration.conftest import NOW, TABLE, Api, payload

# An agent's note in German with an emoji, at the schema's limit of 1,024 characters: about
# 1.1 KB of UTF-8 per event, so the first layout's item passed 400 KB at about delivery 112.
REASON = ("Kunde meldet Totalausfall der Produktion \u2013 Eskalation an Team Süd 🚨 " * 16)[:1024]
TICKET_ITEM_BOUND = 2048  # bytes, whatever the history: the state is bounded by the schema


def ticket_item(dynamodb: Any, ticket_id: str = "T-1001") -> dict[str, Any]:
    item: dict[str, Any] = dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": f"T#{ticket_id}"}, "sk": {"S": "TICKET"}}
    )["Item"]
    return item


@pytest.mark.slow
def test_1200_deliveries_with_long_text_are_all_accepted_and_a_reply_in_time_is_met(
    api: Api, dynamodb: Any
) -> None:
    """Given a ticket that receives 1,200 agent notes of 1,024 characters of non-ASCII text,
    when each is delivered, then each is answered 200, the ticket item's size stays flat and
    under the bound, and an in-time reply after them all gives ``met``."""
    sizes = []
    with installed():  # moto as released copies the whole table per transaction
        assert api.post(payload(), msg_id="created").status == 200
        for i in range(1, 1201):
            body = payload(
                "ticket.updated",
                NOW - timedelta(seconds=55) + timedelta(milliseconds=40 * i),
                actor="agent",
                reason=REASON,
            )
            answer = api.post(body, msg_id=f"note-{i:04d}")
            assert answer.status == 200, (i, answer.raw)
            if i in (1, 100, 1000, 1200):
                sizes.append(item_size(ticket_item(dynamodb)))
        reply = api.post(payload("ticket.responded", NOW, actor="agent"), msg_id="reply")
    assert reply.status == 200
    assert reply.body["status"] == "met"
    assert reply.body["first_response_at"] == "2026-11-25T09:00:00Z"
    assert max(sizes) <= TICKET_ITEM_BOUND, sizes
    assert max(sizes) - min(sizes) <= 8, sizes  # flat: a longer event count, nothing else
    read = api.sla("T-1001")
    assert read.status == 200
    assert len(read.body["history"]) == 1202


def test_an_event_older_than_the_state_is_folded_in_from_the_history(
    api: Api, dynamodb: Any
) -> None:
    """Given a ticket whose later events arrived first, when an older reply arrives, then the
    state is the in-order one (the reply in time is the first response)."""
    api.post(payload(), msg_id="a")
    api.post(payload("ticket.updated", "2026-11-25T08:59:40Z", priority=1), msg_id="c")
    late = api.post(payload("ticket.responded", "2026-11-25T08:59:20Z", actor="agent"), msg_id="b")
    assert late.status == 200
    assert (late.body["first_response_at"], late.body["status"]) == ("2026-11-25T08:59:20Z", "met")
    state = json.loads(ticket_item(dynamodb)["state"]["S"])
    assert (state["events"], state["last_event_id"]) == (3, "c")
    again = api.post(payload("ticket.responded", "2026-11-25T08:59:20Z", actor="agent"), msg_id="b")
    assert again.status == 200
    assert json.loads(ticket_item(dynamodb)["state"]["S"])["events"] == 3


def test_due_index_keys_are_spread_over_shards() -> None:
    """Herds sharing one deadline write to many index keys, not one hot key."""
    shards = {due_shard(f"T-{i}") for i in range(2000)}
    assert len(shards) == DUE_SHARDS
    assert due_shard("T-1") == due_shard("T-1")


def legacy_items(events: list[Any], due_at: str | None) -> list[dict[str, Any]]:
    """A ticket as the first layout wrote it: every event inside the ticket item, one index key
    ``due``, a delivery item per event."""
    ticket_id = events[0].ticket.id
    pk = {"S": f"T#{ticket_id}"}
    item: dict[str, Any] = {
        "pk": pk,
        "sk": {"S": "TICKET"},
        "ticket_id": {"S": ticket_id},
        "version": {"N": str(len(events))},
        "events": {"S": json.dumps([e.model_dump(mode="json") for e in events])},
        "notices": {"S": "[]"},
        "plan": {"S": "professional"},
        "priority": {"N": "2"},
        "kind": {"S": "targeted"},
        "updated_at": {"S": "2026-11-25T08:59:30Z"},
    }
    if due_at:
        item["due_shard"] = {"S": "due"}
        item["due_at"] = {"S": due_at}
    deliveries = [
        {
            "pk": pk,
            "sk": {"S": f"DELIVERY#{e.event_id}"},
            "event_id": {"S": e.event_id},
            "event_type": {"S": e.type},
            "occurred_at": {"S": e.occurred_at.isoformat()},
            "received_at": {"S": e.occurred_at.isoformat()},
            "event": {"S": e.model_dump_json()},
        }
        for e in events
    ]
    return [item, *deliveries]


def test_tickets_of_the_first_layout_are_read_and_take_new_deliveries(
    api: Api, dynamodb: Any
) -> None:
    """Given a ticket written by the first layout, when it is read, swept and sent a reply,
    then it reads as before, the sweeper finds it on the old index key, and the reply is
    folded onto its history, after which it is in the new layout."""
    policy = load_policy()
    old = [
        ticket_event("w1", "ticket.created", "2026-11-25T08:59:00Z"),
        ticket_event("w2", "ticket.updated", "2026-11-25T08:59:30Z", actor="agent", priority=1),
    ]
    for item in legacy_items(old, due_at="2026-11-25T11:14:00Z"):
        dynamodb.put_item(TableName=TABLE, Item=item)
    read = api.sla("T-1001")
    assert read.status == 200
    assert (read.body["priority"], read.body["deadline"]) == (1, "2026-11-25T11:59:00Z")
    assert [h["event_id"] for h in read.body["history"]] == ["w1", "w2"]
    store = DynamoTicketStore(TABLE, policy)
    assert store.owing(until=NOW + timedelta(hours=3)) == ["T-1001"]

    reply = api.post(payload("ticket.responded", NOW, actor="agent", priority=1), msg_id="w3")
    assert (reply.status, reply.body["status"]) == (200, "met")
    item = ticket_item(dynamodb)
    assert "events" not in item and "state" in item  # rewritten in the new layout
    stored = store.load("T-1001")
    assert stored is not None and stored.version == 3
    expected = reduce_events([*old, *store.events("T-1001")], policy)
    assert stored.state == expected.model_copy(update={"history": None})
