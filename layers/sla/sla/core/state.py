"""A ticket's SLA state, as a fold over its events in ``(occurred_at, event_id)`` order.

Deliveries are at-least-once and unordered; the state is defined as what in-order delivery
gives:

* ticket fields (plan, priority, environment, product stage, creation time) come from the latest
  snapshot;
* a ``ticket.updated`` by an ``agent`` that changes the priority field (or gives a ``reason``) is a
  reclassification: the agent's choice wins over the automatic rules until another agent changes
  it; any other change of the priority field is the requester's;
* the first ``ticket.responded`` is the first response; it, or an earlier ``ticket.solved`` /
  ``ticket.closed``, stops the clock. The SLA outcome is judged against the terms in force at that
  moment; later reclassifications change the ticket's ``current`` classification, not the terms.

The state is also the reducer's memory: :func:`apply_event` adds the next event in order to a
stored state without the ticket's history, so a delivery costs the same on a ticket's thousandth
event as on its first. :func:`reduce_events` folds a whole set (any order, duplicates dropped) and
records the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sla.core.events import STOPPING, Actor, EventType, StopReason, TicketEvent, TicketSnapshot
from sla.core.policy import Policy
from sla.core.terms import Classified, StateKind, Target, TargetKind, Terms

__all__ = ["Current", "HistoryEntry", "TicketState", "apply_event", "reduce_events"]


class Current(Classified):
    """A ticket's classification now, and whether it has a target."""

    kind: TargetKind


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
    """The reduced SLA state of a ticket (free of any notion of "now").

    ``terms`` are the terms the SLA is judged by: those in force when the clock stopped, or the
    current ones while it runs. ``current`` is the classification now (after a stop, an agent may
    still reclassify: recorded, but the outcome stays judged by ``terms``). ``snapshot`` and the
    last event's key are the fold's memory. ``history`` is there only when the state was reduced
    from all of the ticket's events."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    terms: Terms | None = None
    kind: StateKind
    environment: str
    product_stage: str
    first_response_at: datetime | None = None
    clock_stopped_at: datetime | None = None
    stop_reason: StopReason | None = None
    current: Current | None = None
    requested: int | None = None
    agent_priority: int | None = None
    snapshot: TicketSnapshot
    last_at: datetime
    last_event_id: str
    events: int
    history: tuple[HistoryEntry, ...] | None = None

    # the terms, for readers that only want one of them (a pending ticket has none)
    @property
    def pending(self) -> bool:
        return self.terms is None

    @property
    def plan(self) -> str:
        return self.terms.plan if self.terms is not None else (self.snapshot.plan or "")

    @property
    def priority(self) -> int:
        return self.terms.priority if self.terms is not None else 0

    @property
    def target(self) -> Target | None:
        return self.terms.target if self.terms is not None else None

    @property
    def warning_at(self) -> datetime | None:
        return self.terms.warning_at if self.terms is not None else None

    @property
    def deadline(self) -> datetime | None:
        return self.terms.deadline if self.terms is not None else None

    @property
    def last_key(self) -> tuple[datetime, str]:
        return (self.last_at, self.last_event_id)


_CLASSIFIED = ("plan", "requested_priority", "priority", "priority_reason", "kind")
_SNAPSHOT = ("environment", "product_stage", "created_at", "status")


def _step(
    state: TicketState | None, event: TicketEvent, policy: Policy
) -> tuple[TicketState, HistoryEntry]:
    """Apply one event, the next in order, and say what it changed."""
    before = state.snapshot if state is not None else None
    new = event.ticket.merged_onto(before)
    default = policy.config.default_priority
    agent_update = event.type == "ticket.updated" and event.actor.type == "agent"
    if state is None:
        requested = new.priority
        agent = (new.priority or default) if agent_update and event.reason is not None else None
    else:
        requested, agent = state.requested, state.agent_priority
        if new.priority != state.snapshot.priority or (agent_update and event.reason is not None):
            if agent_update:
                agent = new.priority if new.priority is not None else default
            else:
                requested = new.priority
    c = None
    current = None
    if new.plan is not None:  # pending until a snapshot says the plan
        c = policy.classify(
            new.plan,
            requested,
            environment=new.environment,
            product_stage=new.product_stage,
            agent_priority=agent,
        )
        current = Current(**c.classified(), kind=c.kind)
    changes: dict[str, tuple[Any, Any]] = {}
    for key in _CLASSIFIED:
        old = getattr(state.current, key) if state is not None and state.current else None
        value = getattr(current, key) if current is not None else None
        if old != value:
            changes[key] = (old, value)
    for key in _SNAPSHOT:
        old = getattr(before, key) if before is not None else None
        if old != getattr(new, key):
            changes[key] = (old, getattr(new, key))

    first_response = state.first_response_at if state is not None else None
    stopped_at = state.clock_stopped_at if state is not None else None
    stop_reason = state.stop_reason if state is not None else None
    if event.type == "ticket.responded" and first_response is None:
        first_response = event.occurred_at
        changes["first_response_at"] = (None, event.occurred_at)
    if state is not None and state.clock_stopped_at is not None and state.terms is not None:
        # stopped: the outcome stays judged by the terms in force at the stop
        terms, kind = state.terms, state.kind
        environment, stage = state.environment, state.product_stage
    else:
        # running, or stopped while pending: the terms as far as they are known now
        terms = None
        if c is not None and new.created_at is not None:
            unchanged = (
                state is not None
                and state.terms is not None
                and state.current == current
                and state.terms.clock_started_at == new.created_at
            )
            terms = (
                state.terms if state is not None and unchanged else policy.terms(new.created_at, c)
            )
        kind = c.kind if terms is not None and c is not None else "pending"
        environment, stage = new.environment, new.product_stage
        if event.type in STOPPING and stopped_at is None:
            stopped_at, stop_reason = event.occurred_at, STOPPING[event.type]
            changes["clock_stopped_at"] = (None, event.occurred_at)
    after = TicketState(
        ticket_id=new.id,
        terms=terms,
        kind=kind,
        environment=environment,
        product_stage=stage,
        first_response_at=first_response,
        clock_stopped_at=stopped_at,
        stop_reason=stop_reason,
        current=current,
        requested=requested,
        agent_priority=agent,
        snapshot=new,
        last_at=event.occurred_at,
        last_event_id=event.event_id,
        events=(state.events if state is not None else 0) + 1,
    )
    entry = HistoryEntry(
        at=event.occurred_at,
        event=event.type,
        event_id=event.event_id,
        actor=event.actor,
        reason=event.reason,
        changes=changes,
    )
    return after, entry


def apply_event(state: TicketState | None, event: TicketEvent, policy: Policy) -> TicketState:
    """``state`` with ``event`` added, when the event comes after everything the state has seen
    (the usual case: no history needed). Raises ValueError for an event of another ticket or one
    that does not come last (then reduce all of the ticket's events with :func:`reduce_events`).
    """
    if state is not None:
        if event.ticket.id != state.ticket_id:
            raise ValueError("an event of another ticket")
        if event.order_key <= state.last_key:
            raise ValueError("the event does not come after the state's last event")
    return _step(state, event, policy)[0]


def reduce_events(events: Iterable[TicketEvent], policy: Policy) -> TicketState:
    """The SLA state that in-order delivery of these events gives, with its history. Raises
    ValueError if empty, if the events belong to different tickets, or if a snapshot does not
    fit the policy."""
    ordered: list[TicketEvent] = []
    seen: set[str] = set()
    for event in sorted(events, key=lambda e: e.order_key):
        if event.event_id not in seen:
            seen.add(event.event_id)
            ordered.append(event)
    if not ordered:
        raise ValueError("a ticket needs at least one event")
    if len({e.ticket.id for e in ordered}) != 1:
        raise ValueError("events of different tickets")
    state: TicketState | None = None
    history: list[HistoryEntry] = []
    for event in ordered:
        state, entry = _step(state, event, policy)
        history.append(entry)
    assert state is not None
    return state.model_copy(update={"history": tuple(history)})
