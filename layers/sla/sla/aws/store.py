"""The DynamoDB adapter of the ticket store.

One partition per ticket (``pk = T#<id>``), holding:

* the ticket item (``sk = TICKET``): the reduced state, the published notices, a version, and the
  sparse index attributes of tickets that owe a notice. Its size does not depend on how many
  events the ticket has;
* one item per accepted delivery (``sk = DELIVERY#<event id>``): the event itself, which is also
  its dedupe record;
* one claim per notice (``sk = NOTICE#<kind>#<instant>`` for first response,
  ``NOTICE#<metric>#<cycle>#<kind>#<instant>`` for the other metrics), written by the notifier.

A delivery is one transaction of two puts: the delivery (condition: not seen) and the ticket
(condition: the version read). The sweeper's index (``DueIndex``) is sharded by a hash of the ticket
id over ``DUE_SHARDS`` partition keys, so that herds of tickets sharing a deadline spread their
index writes. Tickets written by the first layout (every event inside the ticket item, one index
key ``due``) are read as they are and rewritten in this layout by their next write.

The SLA lists (``sla.core.lists``) are three more sparse indexes on the ticket item, one per metric
(``FirstResponseIndex`` on ``fr_list``/``fr_rank``, ``NextReplyIndex`` on ``nr_*``,
``ResolutionIndex`` on ``rs_*``): the list attribute is the status, one partition key per list,
the rank the deadline and a hash of the id. Each write of the ticket item sets them from its state
and notices. A page of a list is one Query; the position to go on after is a rank. Items written
while the lists were sharded (list attribute ``<status>#NN``) are on no list until their next write.

The item layout is private to this module; callers see :class:`sla.ports.StoredTicket`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sla.aws.clients import LazyClient
from sla.aws.errors import Cancelled, call
from sla.core.events import TicketEvent
from sla.core.lists import ListedTicket, ListStatus, list_entries, rank, rank_deadline
from sla.core.notices import Notice
from sla.core.policy import Policy
from sla.core.state import TicketState, reduce_events
from sla.core.terms import MetricName
from sla.ports import (
    ClaimResult,
    DuplicateDeliveryError,
    StoredTicket,
    TicketPage,
    VersionConflictError,
)

__all__ = [
    "DUE_SHARDS",
    "LIST_INDEXES",
    "DynamoTicketStore",
    "delivery_item",
    "due_shard",
    "item_size",
    "ticket_change",
    "ticket_item",
]

TICKET_SK = "TICKET"
DELIVERY_PREFIX = "DELIVERY#"
NOTICE_PREFIX = "NOTICE#"
DUE_INDEX = "DueIndex"
DUE_SHARDS = 32
LEGACY_DUE_SHARD = "due"  # the first layout's one index key, still read
# the lists: one sparse index per metric, on attributes of the ticket item with this prefix
LIST_PREFIX: dict[MetricName, str] = {
    "first_response": "fr",
    "next_reply": "nr",
    "resolution": "rs",
}
LIST_INDEXES: dict[MetricName, str] = {
    "first_response": "FirstResponseIndex",
    "next_reply": "NextReplyIndex",
    "resolution": "ResolutionIndex",
}
SERVICE = "The ticket store"


class _ConditionFailed(Exception):
    pass


def _pk(ticket_id: str) -> str:
    return f"T#{ticket_id}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _key(value: datetime) -> str:
    """An instant as a fixed-width UTC string, so that strings sort as the instants do (an ISO
    string without microseconds would sort after one with them in the same second)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _us(value: datetime) -> str:
    return str(round(value.timestamp() * 1_000_000))


def due_shard(ticket_id: str) -> str:
    """The index partition of a ticket: stable, and spread evenly over ``DUE_SHARDS`` keys."""
    digest = hashlib.sha256(ticket_id.encode("utf-8")).digest()
    return f"due#{int.from_bytes(digest[:4], 'big') % DUE_SHARDS:02d}"


def item_size(item: dict[str, Any]) -> int:
    """An item's size in bytes by DynamoDB's rules: each attribute's name in UTF-8 plus its value
    (a string's UTF-8 bytes; a number's significant digits, two per byte, plus one). Write units
    are per started KiB (twice that in a transaction), read units per started 4 KiB."""
    size = 0
    for name, value in item.items():
        size += len(name.encode("utf-8"))
        ((kind, raw),) = value.items()
        if kind == "N":
            digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
            size += (len(digits) + 1) // 2 + 1
        else:
            size += len(str(raw).encode("utf-8"))
    return size


def _notice_json(notice: Notice) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": notice.kind, "for": _iso(notice.for_), "id": notice.id}
    if (notice.metric, notice.cycle) != ("first_response", 1):  # else as the first layout
        data["metric"], data["cycle"] = notice.metric, notice.cycle
    return data


def _notices_json(notices: tuple[Notice, ...]) -> str:
    return json.dumps([_notice_json(n) for n in notices], separators=(",", ":"))


def _notice(data: dict[str, Any]) -> Notice:
    return Notice(
        data["kind"],
        datetime.fromisoformat(data["for"]),
        data["id"],
        data.get("metric", "first_response"),
        int(data.get("cycle", 1)),
    )


def _state_json(state: TicketState) -> str:
    """The state without what the item holds already (the ticket id, twice), without values
    the model restores when it reads them (defaults, and the classification now while it is the
    one the terms hold): a typical ticket item stays within one write unit."""
    exclude: dict[str, Any] = {"history": True, "ticket_id": True, "snapshot": {"id"}}
    if state.current is not None and state.current == state.derived_current():
        exclude["current"] = True
    return state.model_dump_json(exclude=exclude, exclude_none=True, exclude_defaults=True)


def _state(text: str, ticket_id: str) -> TicketState:
    data = json.loads(text)
    data["ticket_id"] = ticket_id
    data["snapshot"]["id"] = ticket_id
    return TicketState.model_validate(data)


def _notice_sk(notice: Notice) -> str:
    """A claim's key: first response's as in the first layout, the others' with metric and
    cycle."""
    tail = f"{notice.kind}#{_iso(notice.for_)}"
    if (notice.metric, notice.cycle) == ("first_response", 1):
        return tail
    return f"{notice.metric}#{notice.cycle}#{tail}"


def ticket_item(ticket: StoredTicket, updated_at: datetime) -> dict[str, Any]:
    """The ticket item as written (public for the size checks of tests and benchmarks)."""
    state = ticket.state
    item: dict[str, Any] = {
        "pk": {"S": _pk(ticket.ticket_id)},
        "sk": {"S": TICKET_SK},
        "ticket_id": {"S": ticket.ticket_id},
        "version": {"N": str(ticket.version)},
        "state": {"S": _state_json(state)},
        "notices": {"S": _notices_json(ticket.notices)},
        "updated_at": {"S": _key(updated_at)},
    }
    if ticket.due_at is not None:  # sparse: only tickets that owe a notice are in the index
        item["due_shard"] = {"S": due_shard(ticket.ticket_id)}
        item["due_at"] = {"S": _key(ticket.due_at)}
    item.update(_list_attributes(ticket))
    return item


def _list_attributes(ticket: StoredTicket) -> dict[str, Any]:
    """The ticket's list entries as the sparse attributes of the list indexes. The cycles on a
    list are ongoing, all judged by the ticket's current classification: one plan and priority
    serve every entry's filters."""
    entries = list_entries(ticket.state, ticket.notices)
    if not entries:
        return {}
    first = next(iter(entries.values()))
    attributes: dict[str, Any] = {
        "plan": {"S": first.plan},
        "priority": {"N": str(first.priority)},
    }
    for metric, entry in entries.items():
        prefix = LIST_PREFIX[metric]
        attributes[f"{prefix}_list"] = {"S": entry.status}
        attributes[f"{prefix}_rank"] = {"S": rank(entry.deadline, ticket.ticket_id)}
        if entry.cycle != 1:  # first response and resolution have one cycle
            attributes[f"{prefix}_cycle"] = {"N": str(entry.cycle)}
    return attributes


def delivery_item(event: TicketEvent, received_at: datetime) -> dict[str, Any]:
    """The delivery item as written: the event, and its dedupe record."""
    return {
        "pk": {"S": _pk(event.ticket.id)},
        "sk": {"S": DELIVERY_PREFIX + event.event_id},
        "received_at": {"S": _iso(received_at) or ""},
        "event": {"S": event.model_dump_json(exclude_defaults=True)},
    }


def ticket_from_item(item: dict[str, Any], policy: Policy) -> StoredTicket:
    """A ticket from its item, or from a stream image (the same shape). An item of the first
    layout holds its events instead of its state: it is reduced here, once."""
    if "state" in item:
        state = _state(item["state"]["S"], item["ticket_id"]["S"])
    else:
        events = [TicketEvent.model_validate(e) for e in json.loads(item["events"]["S"])]
        state = reduce_events(events, policy).model_copy(update={"history": None})
    raw_notices = json.loads(item["notices"]["S"]) if "notices" in item else []
    notices = tuple(_notice(n) for n in raw_notices)
    due = item.get("due_at", {}).get("S")
    return StoredTicket(
        ticket_id=item["ticket_id"]["S"],
        version=int(item["version"]["N"]),
        state=state,
        notices=notices,
        due_at=datetime.fromisoformat(due) if due else None,
    )


def ticket_change(
    record: dict[str, Any], policy: Policy
) -> tuple[StoredTicket | None, StoredTicket | None] | None:
    """The ``(old, new)`` tickets of a stream record (``dynamodb`` part), or None when the
    record is not about a ticket item (a delivery or a notice claim)."""
    if record.get("Keys", {}).get("sk", {}).get("S") != TICKET_SK:
        return None
    old, new = record.get("OldImage"), record.get("NewImage")
    return (
        ticket_from_item(old, policy) if old else None,
        ticket_from_item(new, policy) if new else None,
    )


class DynamoTicketStore:
    """The DynamoDB adapter; the client is made on first use."""

    client = LazyClient("dynamodb", connect_timeout=2, read_timeout=5)

    def __init__(self, table_name: str, policy: Policy, client: Any = None) -> None:
        self.table_name = table_name
        self.policy = policy  # to read tickets of the first layout
        if client is not None:
            self.client = client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        handled = {"ConditionalCheckFailedException": _ConditionFailed}
        return call(self.client, SERVICE, operation, handled, **kwargs)

    def change(
        self, record: dict[str, Any]
    ) -> tuple[StoredTicket | None, StoredTicket | None] | None:
        """The ``(old, new)`` tickets of a stream record; None for other items' records."""
        return ticket_change(record, self.policy)

    def load(self, ticket_id: str) -> StoredTicket | None:
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"pk": {"S": _pk(ticket_id)}, "sk": {"S": TICKET_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return None if item is None else ticket_from_item(item, self.policy)

    def events(self, ticket_id: str) -> list[TicketEvent]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": _pk(ticket_id)},
                ":prefix": {"S": DELIVERY_PREFIX},
            },
            "ProjectionExpression": "#event",
            "ExpressionAttributeNames": {"#event": "event"},
            "ConsistentRead": True,
        }
        events: list[TicketEvent] = []
        while True:
            page = self._call("query", **kwargs)
            events.extend(
                TicketEvent.model_validate_json(i["event"]["S"]) for i in page.get("Items", [])
            )
            if "LastEvaluatedKey" not in page:
                return events
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _ticket_put(self, ticket: StoredTicket, updated_at: datetime) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": ticket_item(ticket, updated_at),
        }
        if ticket.version == 1:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(ticket.version - 1)}}
        return put

    def save(self, ticket: StoredTicket, event: TicketEvent, received_at: datetime) -> None:
        delivery = {
            "TableName": self.table_name,
            "Item": delivery_item(event, received_at),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            self._call(
                "transact_write_items",
                TransactItems=[{"Put": delivery}, {"Put": self._ticket_put(ticket, received_at)}],
            )
        except Cancelled as cancelled:
            if cancelled.at(0) == "ConditionalCheckFailed":
                raise DuplicateDeliveryError(event.event_id) from None
            if cancelled.at(1) == "ConditionalCheckFailed":
                raise VersionConflictError(ticket.ticket_id) from None
            cancelled.raise_transient_or_fatal(SERVICE)

    def save_notices(self, ticket: StoredTicket, now: datetime) -> None:
        put = self._ticket_put(ticket, now)
        try:
            self._call("put_item", **put)
        except _ConditionFailed:
            raise VersionConflictError(ticket.ticket_id) from None

    def _notice_key(self, ticket_id: str, notice: Notice) -> dict[str, Any]:
        return {
            "pk": {"S": _pk(ticket_id)},
            "sk": {"S": NOTICE_PREFIX + _notice_sk(notice)},
        }

    def claim(
        self, ticket: StoredTicket, notice: Notice, now: datetime, lease_until: datetime
    ) -> ClaimResult:
        key = self._notice_key(ticket.ticket_id, notice)
        try:
            self._call(
                "transact_write_items",
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self.table_name,
                            "Key": {"pk": {"S": _pk(ticket.ticket_id)}, "sk": {"S": TICKET_SK}},
                            "ConditionExpression": "version = :v",
                            "ExpressionAttributeValues": {":v": {"N": str(ticket.version)}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                **key,
                                "notification_id": {"S": notice.id},
                                "kind": {"S": notice.kind},
                                "state": {"S": "claimed"},
                                "lease_until_us": {"N": _us(lease_until)},
                                "claimed_at": {"S": _iso(now) or ""},
                            },
                            # a claim of an earlier version kept its lease in whole seconds
                            "ConditionExpression": "attribute_not_exists(pk) OR "
                            "(#state = :claimed AND (lease_until_us < :now_us OR "
                            "(attribute_not_exists(lease_until_us) AND lease_until < :now)))",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {
                                ":claimed": {"S": "claimed"},
                                ":now_us": {"N": _us(now)},
                                ":now": {"N": str(int(now.timestamp()))},
                            },
                        }
                    },
                ],
            )
        except Cancelled as cancelled:
            if cancelled.at(0) == "ConditionalCheckFailed":
                return "conflict"
            if cancelled.at(1) == "ConditionalCheckFailed":
                existing = self._call(
                    "get_item", TableName=self.table_name, Key=key, ConsistentRead=True
                ).get("Item", {})
                published = existing.get("state", {}).get("S") == "published"
                return "published" if published else "in_flight"
            cancelled.raise_transient_or_fatal(SERVICE)
        return "claimed"

    def release(self, ticket_id: str, notice: Notice) -> None:
        with contextlib.suppress(_ConditionFailed):  # published meanwhile, or gone
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=self._notice_key(ticket_id, notice),
                UpdateExpression="SET lease_until_us = :zero, lease_until = :zero",
                ConditionExpression="#state = :claimed",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":zero": {"N": "0"}, ":claimed": {"S": "claimed"}},
            )

    def mark_published(self, ticket_id: str, notice: Notice, now: datetime) -> None:
        self._call(
            "update_item",
            TableName=self.table_name,
            Key=self._notice_key(ticket_id, notice),
            UpdateExpression="SET #state = :published, published_at = :now",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":published": {"S": "published"},
                ":now": {"S": _iso(now) or ""},
            },
        )

    def owing(
        self, until: datetime, since: datetime | None = None, changed_before: datetime | None = None
    ) -> list[str]:
        """Every shard of the index (and the first layout's one key), one paginated Query each."""
        shards = [f"due#{n:02d}" for n in range(DUE_SHARDS)] + [LEGACY_DUE_SHARD]
        cutoff = None if changed_before is None else _key(changed_before)
        found: list[tuple[str, str]] = []
        for shard in shards:
            found.extend(self._owing_in(shard, until, since, cutoff))
        found.sort()
        return [ticket_id for _, ticket_id in found]

    def listed(
        self,
        metric: MetricName,
        status: ListStatus,
        limit: int,
        after: str | None = None,
        plan: str | None = None,
        priority: int | None = None,
    ) -> TicketPage:
        """One Query of the metric's index for ``limit + 1`` entries ranked after ``after``. All
        of them matching the filters: the page is the first ``limit``, and goes on after the last
        of those. Fewer: they are the page, which goes on after the last entry DynamoDB read when
        it stopped at its Limit (``LastEvaluatedKey``), and ends the list when it did not. (A
        filter applies after the Limit; 201 entries of at most about 1.4 KB stay far below the
        1 MB a Query reads.)"""
        prefix = LIST_PREFIX[metric]
        names = {"#list": f"{prefix}_list", "#rank": f"{prefix}_rank"}
        values: dict[str, Any] = {":list": {"S": status}}
        condition = "#list = :list"
        if after is not None:
            condition += " AND #rank > :after"
            values[":after"] = {"S": after}
        filters = []
        if plan is not None:
            names["#plan"] = "plan"
            values[":plan"] = {"S": plan}
            filters.append("#plan = :plan")
        if priority is not None:
            names["#priority"] = "priority"
            values[":priority"] = {"N": str(priority)}
            filters.append("#priority = :priority")
        names["#p"], names["#q"], names["#cycle"] = "plan", "priority", f"{prefix}_cycle"
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": LIST_INDEXES[metric],
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "pk, #rank, #p, #q, #cycle",
            "Limit": limit + 1,
        }
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        answer = self._call("query", **kwargs)
        found = []
        for item in answer.get("Items", []):
            position = item[f"{prefix}_rank"]["S"]
            ticket = ListedTicket(
                ticket_id=item["pk"]["S"].removeprefix("T#"),
                metric=metric,
                status=status,
                cycle=int(item.get(f"{prefix}_cycle", {"N": "1"})["N"]),
                deadline=rank_deadline(position),
                plan=item["plan"]["S"],
                priority=int(item["priority"]["N"]),
            )
            found.append((position, ticket))
        page = found[:limit]
        following: str | None
        if len(found) > limit:
            following = page[-1][0]
        else:
            last = answer.get("LastEvaluatedKey")
            following = last[f"{prefix}_rank"]["S"] if last else None
        return TicketPage(tuple(t for _, t in page), following)

    def _owing_in(
        self, shard: str, until: datetime, since: datetime | None, cutoff: str | None
    ) -> list[tuple[str, str]]:
        condition = "due_shard = :shard AND due_at <= :until"
        values = {":shard": {"S": shard}, ":until": {"S": _key(until)}}
        if since is not None:
            condition = "due_shard = :shard AND due_at BETWEEN :since AND :until"
            values[":since"] = {"S": _key(since)}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "ticket_id, due_at, updated_at",
        }
        found: list[tuple[str, str]] = []
        while True:
            page = self._call("query", **kwargs)
            found.extend(
                (i["due_at"]["S"], i["ticket_id"]["S"])
                for i in page.get("Items", [])
                if cutoff is None or i.get("updated_at", {}).get("S", "") < cutoff
            )
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
