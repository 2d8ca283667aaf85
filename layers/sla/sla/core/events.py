"""Canonical ticket events: what every source (the Standard Webhooks body, a helpdesk) is turned
into, and what the reducer folds. Each event carries the ticket as of ``occurred_at``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from sla.core.models import replaced
from sla.core.terms import DEFAULT_ENVIRONMENT, DEFAULT_PRODUCT_STAGE

__all__ = [
    "EVENT_TYPES",
    "SNAPSHOT_FIELDS",
    "STOPPING",
    "Actor",
    "EventType",
    "SnapshotField",
    "StopReason",
    "TicketEvent",
    "TicketSnapshot",
    "TicketStatus",
    "UtcDatetime",
]

EventType = Literal[
    "ticket.created",
    "ticket.updated",
    "ticket.responded",
    "ticket.solved",
    "ticket.closed",
    "ticket.customer_replied",
    "ticket.reopened",
]
# the helpdesk's own status of a ticket (contract section 2); it drives the pauses of metrics
TicketStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
# the snapshot's fields a partial snapshot may carry or leave out
SnapshotField = Literal["created_at", "plan", "priority", "environment", "product_stage", "status"]
SNAPSHOT_FIELDS: tuple[SnapshotField, ...] = SnapshotField.__args__  # type: ignore[attr-defined]
EVENT_TYPES: frozenset[str] = frozenset(EventType.__args__)  # type: ignore[attr-defined]
StopReason = Literal["responded", "solved", "closed"]
STOPPING: dict[str, StopReason] = {
    "ticket.responded": "responded",
    "ticket.solved": "solved",
    "ticket.closed": "closed",
}


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


class TicketSnapshot(BaseModel):
    """The ticket as of an event: only the fields the SLA depends on.

    A snapshot is complete (``fields`` is None: every field is as given, a missing one is its
    default, but for ``status``, which keeps its earlier value when not given) or partial
    (``fields`` names the fields it carries; the others keep the values earlier snapshots gave
    them). Helpdesks send partial payloads (a Jira comment carries no creation time and no
    plan). Until the merged snapshots give a creation time and a plan, the ticket is pending."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=256)
    created_at: UtcDatetime | None = None
    plan: Annotated[str, AfterValidator(str.lower)] | None = Field(
        default=None, min_length=1, max_length=64
    )
    priority: int | None = None
    environment: Annotated[str, AfterValidator(str.lower)] = Field(
        default=DEFAULT_ENVIRONMENT, max_length=64
    )
    product_stage: Annotated[str, AfterValidator(str.lower)] = Field(
        default=DEFAULT_PRODUCT_STAGE, max_length=64
    )
    status: TicketStatus | None = None
    fields: frozenset[SnapshotField] | None = None
    # where a helpdesk's plan and priority came from ({"plan": "tag plan_advanced", "priority":
    # "zendesk priority HIGH"}); empty for the canonical webhook, which states them itself
    origin: dict[Literal["plan", "priority"], str] = Field(default_factory=dict)

    def merged_onto(self, earlier: TicketSnapshot | None) -> TicketSnapshot:
        """This snapshot over the merge of the earlier ones: a complete snapshot replaces them
        (but for a status it does not give: a status is never forgotten), a partial one changes
        only the fields it carries."""
        if earlier is None:
            return self
        if self.fields is None:
            if self.status is None and earlier.status is not None:
                return replaced(self, status=earlier.status)
            return self
        origin = {**earlier.origin, **self.origin}
        changed: dict[str, Any] = {name: getattr(self, name) for name in self.fields}
        known = None if earlier.fields is None else earlier.fields | self.fields
        return replaced(earlier, **changed, id=self.id, fields=known, origin=origin)

    @property
    def complete(self) -> bool:
        """Whether it says enough to classify the ticket: a creation time and a plan."""
        return self.created_at is not None and self.plan is not None


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    type: str = Field(default="unknown", max_length=64)
    id: str | None = Field(default=None, max_length=256)


class TicketEvent(BaseModel):
    """One accepted delivery. ``event_id`` is the sender's delivery id (``webhook-id``).

    Its size is bounded by the schema: an id of 256 characters, the snapshot's strings (256 + 3
    x 64), an actor of 64 + 256 and a reason of 1,024 characters: at most about 9 KiB of UTF-8
    however exotic the text, and a few hundred bytes for a typical event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str = Field(min_length=1, max_length=256)
    type: EventType
    occurred_at: UtcDatetime
    ticket: TicketSnapshot
    actor: Actor = Actor()
    reason: str | None = Field(default=None, max_length=1024)

    @property
    def order_key(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_id)
