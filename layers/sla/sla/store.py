"""Ticket storage: one item per ticket (its events, version and SLA projection) and one item per
accepted delivery (the dedupe record and the history), written together in one transaction.

The DynamoDB item layout is private to :class:`DynamoTicketStore`; callers see
:class:`StoredTicket`. :class:`MemoryTicketStore` is the fake with the same semantics.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sla.errors import StoreError, TransientError
from sla.ticket import TicketEvent, TicketState

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DuplicateDeliveryError",
    "DynamoTicketStore",
    "MemoryTicketStore",
    "StoredTicket",
    "TicketStore",
    "VersionConflictError",
]

TICKET_SK = "TICKET"
DELIVERY_PREFIX = "DELIVERY#"
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
    """A ticket as stored: the set of its events and its version."""

    ticket_id: str
    version: int
    events: tuple[TicketEvent, ...]

    def has_event(self, event_id: str) -> bool:
        return any(e.event_id == event_id for e in self.events)


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


def _pk(ticket_id: str) -> str:
    return f"T#{ticket_id}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _events_json(events: tuple[TicketEvent, ...]) -> str:
    return json.dumps([e.model_dump(mode="json") for e in events], separators=(",", ":"))


class DynamoTicketStore:
    """The DynamoDB adapter. The client is created on first use (fast cold starts, and tests can
    hand in a moto client)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "dynamodb",
                config=Config(
                    retries={"mode": "standard", "max_attempts": 3},
                    connect_timeout=2,
                    read_timeout=5,
                ),
            )
        return self._client

    def load(self, ticket_id: str) -> StoredTicket | None:
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"pk": {"S": _pk(ticket_id)}, "sk": {"S": TICKET_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return None
        events = tuple(TicketEvent.model_validate(e) for e in json.loads(item["events"]["S"]))
        return StoredTicket(
            ticket_id=ticket_id,
            version=int(item["version"]["N"]),
            events=events,
        )

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
            "plan": {"S": state.plan},
            "priority": {"N": str(state.priority)},
            "kind": {"S": state.kind},
            "updated_at": {"S": _iso(received_at)},
        }
        for name in ("clock_started_at", "warning_at", "deadline", "clock_stopped_at"):
            value = _iso(getattr(state, name))
            if value is not None:
                item[name] = {"S": value}
        return item

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
