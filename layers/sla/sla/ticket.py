"""Ticket SLA state as a pure function of the set of a ticket's events.

Deliveries are at-least-once and unordered. The reducer sorts the events it is given by
``(occurred_at, event_id)``, drops duplicate ids, and folds them in that order, so every delivery
order and every duplication gives the state that in-order delivery gives:

* ticket fields (plan, priority, environment, product stage, creation time) come from the latest
  snapshot;
* a ``ticket.updated`` by an ``agent`` that changes the priority field (or gives a ``reason``) is a
  reclassification: the agent's choice wins over the automatic rules until another agent changes it;
  any other change of the priority field is the requester's;
* the first ``ticket.responded`` is the first response; it, or an earlier ``ticket.solved`` /
  ``ticket.closed``, stops the clock. The SLA outcome is judged against the deadline in force at
  that moment and later reclassifications do not change it.

``sla_view(state, now)`` gives what users read (contract section 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from sla.policy import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_PRODUCT_STAGE,
    Classification,
    Policy,
    PriorityReason,
    TargetKind,
)

__all__ = [
    "Actor",
    "HistoryEntry",
    "SlaView",
    "TicketEvent",
    "TicketSnapshot",
    "TicketState",
    "reduce_events",
    "sla_view",
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
Status = Literal["running", "met", "breached", "exempt", "no_target"]


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
    """One accepted delivery: ``event_id`` is the sender's ``webhook-id``."""

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


class HistoryEntry(BaseModel):
    """One change of the SLA state: what, when, why, by whom."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    event: EventType
    event_id: str
    actor: Actor
    reason: str | None = None
    changes: dict[str, tuple[Any, Any]] = Field(default_factory=dict)


class TicketState(BaseModel):
    """The reduced SLA state of a ticket (free of any notion of "now")."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    plan: str
    requested_priority: int | None
    priority: int
    priority_reason: PriorityReason
    kind: TargetKind
    target_hours: int | float | None
    target_clock: Literal["business", "elapsed"] | None
    environment: str
    product_stage: str
    clock_started_at: datetime
    warning_at: datetime | None
    deadline: datetime | None
    first_response_at: datetime | None
    clock_stopped_at: datetime | None
    stop_reason: StopReason | None
    last_occurred_at: datetime
    history: tuple[HistoryEntry, ...]


class Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    hours: int | float
    clock: Literal["business", "elapsed"]


class SlaView(BaseModel):
    """What the API answers and notifications carry (contract section 3)."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    plan: str
    requested_priority: int | None
    priority: int
    priority_reason: PriorityReason
    target: Target | None
    status: Status
    clock_started_at: datetime
    warning_at: datetime | None
    deadline: datetime | None
    first_response_at: datetime | None
    clock_stopped_at: datetime | None
    history: tuple[HistoryEntry, ...] | None = None


def _classification_fields(c: Classification) -> dict[str, Any]:
    return {
        "plan": c.plan,
        "requested_priority": c.requested_priority,
        "priority": c.priority,
        "priority_reason": c.priority_reason,
        "kind": c.kind,
    }


def reduce_events(events: Iterable[TicketEvent], policy: Policy) -> TicketState:
    """The SLA state that in-order delivery of these events gives. Raises ValueError if empty,
    if the events belong to different tickets, or if a snapshot does not fit the policy."""
    ordered: list[TicketEvent] = []
    seen: set[str] = set()
    for event in sorted(events, key=lambda e: e.order_key):
        if event.event_id not in seen:
            seen.add(event.event_id)
            ordered.append(event)
    if not ordered:
        raise ValueError("a ticket needs at least one event")
    ticket_ids = {e.ticket.id for e in ordered}
    if len(ticket_ids) != 1:
        raise ValueError("events of different tickets")

    snap: TicketSnapshot | None = None
    requested: int | None = None
    agent_priority: int | None = None
    current: Classification | None = None
    first_response: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: StopReason | None = None
    frozen: tuple[Classification, TicketSnapshot] | None = None
    history: list[HistoryEntry] = []

    for event in ordered:
        new = event.ticket
        is_agent_update = event.type == "ticket.updated" and event.actor.type == "agent"
        if snap is None:
            if is_agent_update and event.reason is not None:
                agent_priority = new.priority or policy.config.default_priority
            requested = new.priority
        elif new.priority != snap.priority or (is_agent_update and event.reason is not None):
            if is_agent_update:
                agent_priority = (
                    new.priority if new.priority is not None else policy.config.default_priority
                )
            else:
                requested = new.priority
        classification = policy.classify(
            new.plan,
            requested,
            environment=new.environment,
            product_stage=new.product_stage,
            agent_priority=agent_priority,
        )
        changes: dict[str, tuple[Any, Any]] = {}
        before = _classification_fields(current) if current is not None else {}
        for key, value in _classification_fields(classification).items():
            if before.get(key) != value:
                changes[key] = (before.get(key), value)
        for key in ("environment", "product_stage", "created_at"):
            old = getattr(snap, key) if snap is not None else None
            if old != getattr(new, key):
                changes[key] = (old, getattr(new, key))
        if event.type == "ticket.responded" and first_response is None:
            first_response = event.occurred_at
            changes["first_response_at"] = (None, event.occurred_at)
        if event.type in STOPPING and stopped_at is None:
            stopped_at = event.occurred_at
            stop_reason = STOPPING[event.type]
            frozen = (classification, new)
            changes["clock_stopped_at"] = (None, event.occurred_at)
        snap, current = new, classification
        history.append(
            HistoryEntry(
                at=event.occurred_at,
                event=event.type,
                event_id=event.event_id,
                actor=event.actor,
                reason=event.reason,
                changes=changes,
            )
        )

    if snap is None or current is None:  # pragma: no cover - ordered is not empty
        raise AssertionError("unreachable")
    judged, judged_snap = frozen if frozen is not None else (current, snap)
    due = policy.due(judged_snap.created_at, judged)
    target = judged.target
    return TicketState(
        ticket_id=snap.id,
        plan=judged.plan,
        requested_priority=judged.requested_priority,
        priority=judged.priority,
        priority_reason=judged.priority_reason,
        kind=judged.kind,
        target_hours=target.hours if target else None,
        target_clock=target.clock if target else None,
        environment=judged_snap.environment,
        product_stage=judged_snap.product_stage,
        clock_started_at=judged_snap.created_at,
        warning_at=due.warning_at if due else None,
        deadline=due.deadline if due else None,
        first_response_at=first_response,
        clock_stopped_at=stopped_at,
        stop_reason=stop_reason,
        last_occurred_at=ordered[-1].occurred_at,
        history=tuple(history),
    )


def status_at(state: TicketState, now: datetime) -> Status:
    """The SLA status at ``now``: a deadline is breached only once it has passed."""
    if state.kind != "targeted":
        return state.kind
    assert state.deadline is not None
    if state.clock_stopped_at is not None:
        return "met" if state.clock_stopped_at <= state.deadline else "breached"
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return "running" if now <= state.deadline else "breached"


def sla_view(state: TicketState, now: datetime, *, with_history: bool = False) -> SlaView:
    """The SLA view of a state at ``now`` (contract section 3)."""
    target = (
        Target(hours=state.target_hours, clock=state.target_clock)
        if state.target_hours is not None and state.target_clock is not None
        else None
    )
    return SlaView(
        ticket_id=state.ticket_id,
        plan=state.plan,
        requested_priority=state.requested_priority,
        priority=state.priority,
        priority_reason=state.priority_reason,
        target=target,
        status=status_at(state, now),
        clock_started_at=state.clock_started_at,
        warning_at=state.warning_at,
        deadline=state.deadline,
        first_response_at=state.first_response_at,
        clock_stopped_at=state.clock_stopped_at,
        history=state.history if with_history else None,
    )
