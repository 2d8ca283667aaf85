"""Canonical ticket events: what every source (the Standard Webhooks body, a helpdesk) is turned
into, and what the reducer folds. Each event carries the ticket as of ``occurred_at``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from sla.core.terms import DEFAULT_ENVIRONMENT, DEFAULT_PRODUCT_STAGE

__all__ = [
    "EVENT_TYPES",
    "STOPPING",
    "Actor",
    "EventType",
    "StopReason",
    "TicketEvent",
    "TicketSnapshot",
    "UtcDatetime",
]

EventType = Literal[
    "ticket.created", "ticket.updated", "ticket.responded", "ticket.solved", "ticket.closed"
]
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
    """The ticket as of an event: only the fields the SLA depends on."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=256)
    created_at: UtcDatetime
    plan: Annotated[str, AfterValidator(str.lower)] = Field(min_length=1, max_length=64)
    priority: int | None = None
    environment: Annotated[str, AfterValidator(str.lower)] = Field(
        default=DEFAULT_ENVIRONMENT, max_length=64
    )
    product_stage: Annotated[str, AfterValidator(str.lower)] = Field(
        default=DEFAULT_PRODUCT_STAGE, max_length=64
    )


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
