"""Ticket storage: one item per ticket (its events, version and SLA projection) and one item per
accepted delivery (the dedupe record and the history), written together in one transaction.

The DynamoDB item layout is private to :class:`DynamoTicketStore`; callers see
:class:`StoredTicket`. :class:`MemoryTicketStore` is the fake with the same semantics.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sla import aws
from sla.errors import StoreError, TransientError
from sla.notices import Notice, next_due, owed
from sla.ticket import TicketEvent, TicketState

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ClaimResult",
    "DuplicateDeliveryError",
    "DynamoTicketStore",
    "MemoryTicketStore",
    "StoredTicket",
    "TicketStore",
    "VersionConflictError",
    "ticket_from_item",
]

TICKET_SK = "TICKET"
DELIVERY_PREFIX = "DELIVERY#"
NOTICE_PREFIX = "NOTICE#"
DUE_SHARD = "due"  # the sparse index's one partition: tickets that owe a notice
DUE_INDEX = "DueIndex"
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
    }
)
_TRANSIENT_REASONS = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
    }
)


class VersionConflictError(Exception):
    """Another writer changed the ticket since it was read: re-read and re-reduce."""


class DuplicateDeliveryError(Exception):
    """This delivery was recorded already (by a concurrent request)."""


@dataclass(frozen=True, slots=True)
class StoredTicket:
    """A ticket as stored: the set of its events, the notices published for it, its version."""

    ticket_id: str
    version: int
    events: tuple[TicketEvent, ...]
    notices: tuple[Notice, ...] = ()

    def has_event(self, event_id: str) -> bool:
        return any(e.event_id == event_id for e in self.events)

    @property
    def published(self) -> frozenset[tuple[str, datetime]]:
        return frozenset((n.kind, n.for_) for n in self.notices)


ClaimResult = Literal["claimed", "published", "in_flight", "conflict"]


class TicketStore(Protocol):
    def load(self, ticket_id: str) -> StoredTicket | None:
        """The stored ticket, read consistently, or None."""

    def save(
        self, ticket: StoredTicket, state: TicketState, event: TicketEvent, received_at: datetime
    ) -> None:
        """Record ``event`` as a delivery and write ``ticket`` with its reduced ``state`` (the
        version is one more than the version that was read; 1 for a new ticket), atomically.

        Raises VersionConflictError, DuplicateDeliveryError, TransientError or StoreError.
        """

    def save_notices(self, ticket: StoredTicket, state: TicketState) -> None:
        """Write ``ticket`` (new notices, version one more than read). VersionConflictError."""

    def claim(
        self, ticket: StoredTicket, notice: Notice, now: datetime, lease_until: datetime
    ) -> ClaimResult:
        """Claim the right to publish ``notice``, if the ticket is still at the version read."""

    def release(self, ticket_id: str, notice: Notice) -> None:
        """Give a claim up (its publish failed) so that a retry can claim it at once."""

    def mark_published(self, ticket_id: str, notice: Notice, now: datetime) -> None:
        """Record that ``notice`` went out."""

    def owing(
        self, until: datetime, since: datetime | None = None, changed_before: datetime | None = None
    ) -> list[str]:
        """Ids of tickets owing a notice due in ``[since, until]`` (the sparse index), leaving out
        tickets written at or after ``changed_before`` (their stream records may be in flight)."""


def _pk(ticket_id: str) -> str:
    return f"T#{ticket_id}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _events_json(events: tuple[TicketEvent, ...]) -> str:
    return json.dumps([e.model_dump(mode="json") for e in events], separators=(",", ":"))


def _notices_json(notices: tuple[Notice, ...]) -> str:
    return json.dumps(
        [{"kind": n.kind, "for": _iso(n.for_), "id": n.id} for n in notices], separators=(",", ":")
    )


def _now_of(ticket: StoredTicket) -> datetime:
    """updated_at for writes that carry no delivery: the latest event's time is as good."""
    return max(e.occurred_at for e in ticket.events)


def ticket_from_item(item: dict[str, Any]) -> StoredTicket:
    """A ticket from its DynamoDB item, or from a stream image (the same shape)."""
    events = tuple(TicketEvent.model_validate(e) for e in json.loads(item["events"]["S"]))
    raw_notices = json.loads(item["notices"]["S"]) if "notices" in item else []
    notices = tuple(
        Notice(n["kind"], datetime.fromisoformat(n["for"]), n["id"]) for n in raw_notices
    )
    return StoredTicket(
        ticket_id=item["ticket_id"]["S"],
        version=int(item["version"]["N"]),
        events=events,
        notices=notices,
    )


class DynamoTicketStore:
    """The DynamoDB adapter. The client is created on first use (fast cold starts, and tests can
    hand in a moto client)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb", connect_timeout=2, read_timeout=5)
        return self._client

    def load(self, ticket_id: str) -> StoredTicket | None:
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"pk": {"S": _pk(ticket_id)}, "sk": {"S": TICKET_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return None if item is None else ticket_from_item(item)

    def save(
        self, ticket: StoredTicket, state: TicketState, event: TicketEvent, received_at: datetime
    ) -> None:
        pk = {"S": _pk(ticket.ticket_id)}
        delivery = {
            "pk": pk,
            "sk": {"S": DELIVERY_PREFIX + event.event_id},
            "event_id": {"S": event.event_id},
            "event_type": {"S": event.type},
            "occurred_at": {"S": _iso(event.occurred_at) or ""},
            "received_at": {"S": _iso(received_at) or ""},
            "event": {"S": event.model_dump_json()},
        }
        ticket_put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": self._ticket_item(ticket, state, received_at),
        }
        if ticket.version == 1:
            ticket_put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            ticket_put["ConditionExpression"] = "version = :expected"
            ticket_put["ExpressionAttributeValues"] = {":expected": {"N": str(ticket.version - 1)}}
        try:
            self._call(
                "transact_write_items",
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": delivery,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": ticket_put},
                ],
            )
        except _Cancelled as cancelled:
            codes = cancelled.reasons
            if codes and codes[0] == "ConditionalCheckFailed":
                raise DuplicateDeliveryError(event.event_id) from None
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise VersionConflictError(ticket.ticket_id) from None
            if any(code in _TRANSIENT_REASONS for code in codes):
                raise TransientError("The ticket store is busy; retry.") from None
            raise StoreError("The ticket store refused the write.") from None

    def _ticket_item(
        self, ticket: StoredTicket, state: TicketState, received_at: datetime
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": _pk(ticket.ticket_id)},
            "sk": {"S": TICKET_SK},
            "ticket_id": {"S": ticket.ticket_id},
            "version": {"N": str(ticket.version)},
            "events": {"S": _events_json(ticket.events)},
            "notices": {"S": _notices_json(ticket.notices)},
            "plan": {"S": state.plan},
            "priority": {"N": str(state.priority)},
            "kind": {"S": state.kind},
            "updated_at": {"S": _iso(received_at)},
        }
        for name in ("clock_started_at", "warning_at", "deadline", "clock_stopped_at"):
            value = _iso(getattr(state, name))
            if value is not None:
                item[name] = {"S": value}
        due = next_due(owed(state, ticket.published))
        if due is not None:  # sparse: only tickets that owe a notice are in the index
            item["due_shard"] = {"S": DUE_SHARD}
            item["due_at"] = {"S": _iso(due)}
        return item

    def save_notices(self, ticket: StoredTicket, state: TicketState) -> None:
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=self._ticket_item(ticket, state, _now_of(ticket)),
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(ticket.version - 1)}},
            )
        except _ConditionFailed:
            raise VersionConflictError(ticket.ticket_id) from None

    def _notice_key(self, ticket_id: str, notice: Notice) -> dict[str, Any]:
        return {
            "pk": {"S": _pk(ticket_id)},
            "sk": {"S": f"{NOTICE_PREFIX}{notice.kind}#{_iso(notice.for_)}"},
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
                                "lease_until": {"N": str(int(lease_until.timestamp()))},
                                "claimed_at": {"S": _iso(now) or ""},
                            },
                            "ConditionExpression": "attribute_not_exists(pk) OR "
                            "(#state = :claimed AND lease_until < :now)",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {
                                ":claimed": {"S": "claimed"},
                                ":now": {"N": str(int(now.timestamp()))},
                            },
                        }
                    },
                ],
            )
        except _Cancelled as cancelled:
            codes = cancelled.reasons
            if codes and codes[0] == "ConditionalCheckFailed":
                return "conflict"
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                existing = self._call(
                    "get_item", TableName=self.table_name, Key=key, ConsistentRead=True
                ).get("Item", {})
                published = existing.get("state", {}).get("S") == "published"
                return "published" if published else "in_flight"
            if any(code in _TRANSIENT_REASONS for code in codes):
                raise TransientError("The ticket store is busy; retry.") from None
            raise StoreError("The ticket store refused the claim.") from None
        return "claimed"

    def release(self, ticket_id: str, notice: Notice) -> None:
        with contextlib.suppress(_ConditionFailed):  # published meanwhile, or gone
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=self._notice_key(ticket_id, notice),
                UpdateExpression="SET lease_until = :zero",
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
        condition = "due_shard = :shard AND due_at <= :until"
        values = {":shard": {"S": DUE_SHARD}, ":until": {"S": _iso(until)}}
        if since is not None:
            condition = "due_shard = :shard AND due_at BETWEEN :since AND :until"
            values[":since"] = {"S": _iso(since)}
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "ticket_id, due_at, updated_at",
        }
        cutoff = _iso(changed_before)
        while True:
            page = self._call("query", **kwargs)
            ids.extend(
                i["ticket_id"]["S"]
                for i in page.get("Items", [])
                if cutoff is None or i.get("updated_at", {}).get("S", "") < cutoff
            )
            if "LastEvaluatedKey" not in page:
                return ids
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            HTTPClientError,
        )

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed() from exc
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                raise _Cancelled([r.get("Code", "None") for r in reasons]) from exc
            if code in _TRANSIENT_CODES:
                raise TransientError("The ticket store is busy; retry.") from exc
            raise StoreError(f"DynamoDB {operation} failed: {code}") from exc
        except (ConnectionError, HTTPClientError) as exc:
            raise TransientError("The ticket store could not be reached; retry.") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB {operation} failed") from exc


class _ConditionFailed(Exception):
    pass


class _Cancelled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


class MemoryTicketStore:
    """The fake: the same semantics in a dict, for unit tests of the service."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tickets: dict[str, StoredTicket] = {}
        self.states: dict[str, TicketState] = {}
        self.updated: dict[str, datetime] = {}
        self.claims: dict[tuple[str, str, datetime], tuple[str, datetime]] = {}
        self.deliveries: dict[tuple[str, str], TicketEvent] = {}
        self.fail_next: Callable[[], None] | None = None

    def load(self, ticket_id: str) -> StoredTicket | None:
        return self.tickets.get(ticket_id)

    def save(
        self, ticket: StoredTicket, state: TicketState, event: TicketEvent, received_at: datetime
    ) -> None:
        with self._lock:
            if self.fail_next is not None:
                fail, self.fail_next = self.fail_next, None
                fail()
            if (ticket.ticket_id, event.event_id) in self.deliveries:
                raise DuplicateDeliveryError(event.event_id)
            current = self.tickets.get(ticket.ticket_id)
            if (current.version if current else 0) != ticket.version - 1:
                raise VersionConflictError(ticket.ticket_id)
            self.deliveries[(ticket.ticket_id, event.event_id)] = event
            self.tickets[ticket.ticket_id] = ticket
            self.states[ticket.ticket_id] = state
            self.updated[ticket.ticket_id] = received_at

    def save_notices(self, ticket: StoredTicket, state: TicketState) -> None:
        with self._lock:
            current = self.tickets.get(ticket.ticket_id)
            if current is None or current.version != ticket.version - 1:
                raise VersionConflictError(ticket.ticket_id)
            self.tickets[ticket.ticket_id] = ticket
            self.states[ticket.ticket_id] = state

    def claim(
        self, ticket: StoredTicket, notice: Notice, now: datetime, lease_until: datetime
    ) -> ClaimResult:
        with self._lock:
            current = self.tickets.get(ticket.ticket_id)
            if current is None or current.version != ticket.version:
                return "conflict"
            key = (ticket.ticket_id, notice.kind, notice.for_)
            existing = self.claims.get(key)
            if existing is not None:
                if existing[0] == "published":
                    return "published"
                if existing[1] >= now:
                    return "in_flight"
            self.claims[key] = ("claimed", lease_until)
            return "claimed"

    def release(self, ticket_id: str, notice: Notice) -> None:
        with self._lock:
            key = (ticket_id, notice.kind, notice.for_)
            if self.claims.get(key, ("",))[0] == "claimed":
                self.claims[key] = ("claimed", datetime.min.replace(tzinfo=notice.for_.tzinfo))

    def mark_published(self, ticket_id: str, notice: Notice, now: datetime) -> None:
        with self._lock:
            self.claims[(ticket_id, notice.kind, notice.for_)] = ("published", now)

    def owing(
        self, until: datetime, since: datetime | None = None, changed_before: datetime | None = None
    ) -> list[str]:
        ids = []
        for ticket_id, stored in self.tickets.items():
            due = next_due(owed(self.states[ticket_id], stored.published))
            if due is None or due > until or (since is not None and due < since):
                continue
            if changed_before is not None and self.updated[ticket_id] >= changed_before:
                continue
            ids.append(ticket_id)
        return ids
