"""The ports: the small interfaces the use cases talk to the outside world through, and the values
they exchange. Each has one AWS adapter (``sla.aws``) and one in-memory twin (``sla.fakes``); the
contract suites in ``tests/contract`` run the same cases against both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from sla.core.events import TicketEvent
from sla.core.lists import ListedTicket, ListStatus
from sla.core.notices import Notice, NoticeKey
from sla.core.signature import SigningSecret
from sla.core.state import TicketState
from sla.core.terms import MetricName
from sla.core.view import SlaView

__all__ = [
    "LIST_LIMIT",
    "TYPES",
    "ClaimResult",
    "DuplicateDeliveryError",
    "Notification",
    "NotificationType",
    "Publisher",
    "SecretSource",
    "StoredTicket",
    "TicketPage",
    "TicketStore",
    "TimerInput",
    "TimerScheduler",
    "VersionConflictError",
]


# -- the ticket store ----------------------------------------------------------------------------


class VersionConflictError(Exception):
    """Another writer changed the ticket since it was read: read again and apply again."""


class DuplicateDeliveryError(Exception):
    """This delivery was recorded already (by a concurrent request)."""


@dataclass(frozen=True, slots=True)
class StoredTicket:
    """A ticket as stored: its reduced state, the notices published for it, its version, and when
    its earliest owed notice falls due (None: it owes nothing; the sweeper's index)."""

    ticket_id: str
    version: int
    state: TicketState
    notices: tuple[Notice, ...] = ()
    due_at: datetime | None = None

    @property
    def published(self) -> frozenset[NoticeKey]:
        return frozenset(n.key for n in self.notices)


ClaimResult = Literal["claimed", "published", "in_flight", "conflict"]
LIST_LIMIT = 200  # the most tickets a page of a list holds


@dataclass(frozen=True, slots=True)
class TicketPage:
    """A page of a list (``sla.core.lists``): its tickets, soonest deadline first, and the
    position to go on after (a rank), or None when nothing follows."""

    tickets: tuple[ListedTicket, ...]
    after: str | None = None


class TicketStore(Protocol):
    def load(self, ticket_id: str) -> StoredTicket | None:
        """The stored ticket, read consistently, or None. Its cost does not grow with the number
        of the ticket's events."""

    def events(self, ticket_id: str) -> list[TicketEvent]:
        """Every event recorded for the ticket (the history, for a reorder or a read)."""

    def save(self, ticket: StoredTicket, event: TicketEvent, received_at: datetime) -> None:
        """Record ``event`` and write ``ticket`` (its version one more than the version read; 1
        for a new ticket), atomically. Raises VersionConflictError, DuplicateDeliveryError,
        TransientError or StoreError."""

    def save_notices(self, ticket: StoredTicket, now: datetime) -> None:
        """Write ``ticket`` (new notices, version one more than read) at ``now``.
        VersionConflictError."""

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

    def listed(
        self,
        metric: MetricName,
        status: ListStatus,
        limit: int,
        after: str | None = None,
        plan: str | None = None,
        priority: int | None = None,
    ) -> TicketPage:
        """Tickets whose ``metric`` is on list ``status`` (``sla.core.lists``) ranked after
        ``after``, soonest deadline first, at most ``limit`` (1 to LIST_LIMIT), from an index,
        never a scan. Unfiltered, a page holds ``limit`` tickets unless it is the last; with
        ``plan`` or ``priority`` it may hold fewer, even none, while more follow."""


# -- timers --------------------------------------------------------------------------------------


class TimerInput(BaseModel):
    """What a schedule hands the notifier: which ticket, which notice (metric, cycle, kind), for
    which instant. Inputs written before there were other metrics are first response's."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    ticket_id: str = Field(min_length=1, max_length=256)
    kind: Literal["warning", "breach"]
    for_: datetime = Field(alias="for")
    metric: MetricName = "first_response"
    cycle: int = Field(default=1, ge=1)
    version: Literal[1] = 1

    @model_serializer(mode="wrap")
    def _as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """First response's input (cycle 1) without ``metric`` and ``cycle``, as written before
        there were other metrics: a notifier of that version, which refuses unknown fields,
        still reads the schedules a newer timers function writes during a deploy."""
        data: dict[str, Any] = handler(self)
        if (self.metric, self.cycle) == ("first_response", 1):
            data.pop("metric", None)
            data.pop("cycle", None)
        return data


class TimerScheduler(Protocol):
    def set(self, name: str, when: datetime, payload: TimerInput, now: datetime) -> None:
        """Create the schedule, or move it when it exists."""

    def delete(self, name: str) -> None:
        """Remove the schedule; a missing one is fine."""

    def exists(self, name: str) -> bool:
        """Whether the schedule is there (the sweeper's check)."""


# -- notifications -------------------------------------------------------------------------------

NotificationType = Literal["sla.warning", "sla.breached", "sla.breach_retracted"]
TYPES: dict[str, NotificationType] = {
    "warning": "sla.warning",
    "breach": "sla.breached",
    "retraction": "sla.breach_retracted",
}


class Notification(BaseModel):
    """The message body. ``notification_id`` is stable: subscribers drop repeats by it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    notification_id: str
    type: NotificationType
    ticket_id: str
    metric: MetricName = "first_response"
    cycle: int = 1
    threshold: float | None = None  # a warning's fraction of the target
    for_: datetime = Field(alias="for")
    published_at: datetime
    sla: SlaView

    def attributes(self) -> dict[str, dict[str, str]]:
        """What subscription filters see: the type, the plan, the priority the notice's cycle is
        judged by, and the metric where the policy has more than first response."""
        priority = self.sla.cycle_priority(self.metric, self.cycle)
        attributes = {
            "type": {"DataType": "String", "StringValue": self.type},
            "plan": {"DataType": "String", "StringValue": self.sla.plan},
            "priority": {"DataType": "Number", "StringValue": str(priority)},
            "notification_id": {"DataType": "String", "StringValue": self.notification_id},
        }
        if self.sla.metrics is not None:  # the policy has more than first response
            attributes["metric"] = {"DataType": "String", "StringValue": self.metric}
        return attributes

    def body(self) -> str:
        data = self.model_dump(mode="json", by_alias=True)
        data["sla"].pop("history", None)
        return json.dumps(data, separators=(",", ":"))


class Publisher(Protocol):
    def publish(self, notification: Notification) -> None: ...


# -- secrets -------------------------------------------------------------------------------------


class SecretSource(Protocol):
    def current(self) -> tuple[SigningSecret, ...]:
        """The secrets to verify with (cached)."""

    def refreshed(self) -> tuple[SigningSecret, ...] | None:
        """Fresh secrets after a verification failure, or None when a refresh is not due
        (refreshes are rate-limited so that forged traffic cannot force a fetch per request)."""
