"""What users read about a ticket at an instant: its status and the SLA view (contract
section 3), and the quote a ticket submitted at an instant would get."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sla.core.policy import Classification
from sla.core.state import Current, HistoryEntry, TicketState
from sla.core.terms import Status, Terms

__all__ = [
    "PendingView",
    "Quote",
    "SlaView",
    "View",
    "quote",
    "sla_view",
    "status_at",
    "ticket_view",
]


class SlaView(Terms):
    """The terms the SLA is judged by, its status at an instant, and the classification now."""

    ticket_id: str
    status: Status
    first_response_at: datetime | None
    clock_stopped_at: datetime | None
    current: Current
    origin: dict[Literal["plan", "priority"], str] = Field(default_factory=dict)
    history: tuple[HistoryEntry, ...] | None = None


class PendingView(BaseModel):
    """A ticket whose events came before anything said its creation time or plan (a comment on
    a ticket created before the helpdesk was wired): its events are kept, and it gets its terms,
    from its own creation time, when a snapshot gives them."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    status: Literal["pending"] = "pending"
    missing: tuple[Literal["created_at", "plan"], ...]
    first_response_at: datetime | None
    clock_stopped_at: datetime | None
    current: Current | None
    origin: dict[Literal["plan", "priority"], str] = Field(default_factory=dict)
    history: tuple[HistoryEntry, ...] | None = None


View = SlaView | PendingView


class Quote(Terms):
    """What a ticket submitted at ``clock_started_at`` would get."""

    status: Literal["running", "exempt", "no_target"]


def status_at(state: TicketState, now: datetime) -> Status:
    """The SLA status at ``now`` of a ticket that is not pending: a deadline is breached only once
    it has passed."""
    if state.kind == "pending" or state.terms is None:
        raise ValueError("a pending ticket has no status yet")
    if state.kind != "targeted":
        return state.kind
    deadline = state.terms.deadline
    assert deadline is not None
    if state.clock_stopped_at is not None:
        return "met" if state.clock_stopped_at <= deadline else "breached"
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return "running" if now <= deadline else "breached"


def ticket_view(state: TicketState, now: datetime, *, with_history: bool = False) -> View:
    """What the API answers about a ticket at ``now``: its SLA view, or that it is pending."""
    history = state.history if with_history else None
    if state.terms is None:
        missing = tuple(
            name for name in ("created_at", "plan") if getattr(state.snapshot, name) is None
        )
        return PendingView(
            ticket_id=state.ticket_id,
            missing=missing,
            first_response_at=state.first_response_at,
            clock_stopped_at=state.clock_stopped_at,
            current=state.current,
            origin=state.snapshot.origin,
            history=history,
        )
    return sla_view(state, now, with_history=with_history)


def sla_view(state: TicketState, now: datetime, *, with_history: bool = False) -> SlaView:
    """The SLA view of a ticket at ``now`` (contract section 3); ValueError while it is
    pending."""
    if state.terms is None or state.current is None:
        raise ValueError("a pending ticket has no SLA view yet")
    history = state.history if with_history else None
    return SlaView(
        **dict(state.terms),
        ticket_id=state.ticket_id,
        status=status_at(state, now),
        first_response_at=state.first_response_at,
        clock_stopped_at=state.clock_stopped_at,
        current=state.current,
        origin=state.snapshot.origin,
        history=history,
    )


def quote(terms: Terms, classification: Classification) -> Quote:
    """The quote of a ticket classified so, with these terms."""
    status = "running" if classification.kind == "targeted" else classification.kind
    return Quote(**dict(terms), status=status)
