"""What users read about a ticket at an instant: its status and the SLA view (contract
section 3), and the quote a ticket submitted at an instant would get."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sla.core.policy import Classification
from sla.core.state import Current, HistoryEntry, TicketState
from sla.core.terms import Status, Terms

__all__ = ["Quote", "SlaView", "quote", "sla_view", "status_at"]


class SlaView(Terms):
    """The terms the SLA is judged by, its status at an instant, and the classification now."""

    ticket_id: str
    status: Status
    first_response_at: datetime | None
    clock_stopped_at: datetime | None
    current: Current
    history: tuple[HistoryEntry, ...] | None = None


class Quote(Terms):
    """What a ticket submitted at ``clock_started_at`` would get."""

    status: Literal["running", "exempt", "no_target"]


def status_at(state: TicketState, now: datetime) -> Status:
    """The SLA status at ``now``: a deadline is breached only once it has passed."""
    if state.kind != "targeted":
        return state.kind
    deadline = state.terms.deadline
    assert deadline is not None
    if state.clock_stopped_at is not None:
        return "met" if state.clock_stopped_at <= deadline else "breached"
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return "running" if now <= deadline else "breached"


def sla_view(state: TicketState, now: datetime, *, with_history: bool = False) -> SlaView:
    """The SLA view of a state at ``now`` (contract section 3)."""
    return SlaView(
        **dict(state.terms),
        ticket_id=state.ticket_id,
        status=status_at(state, now),
        first_response_at=state.first_response_at,
        clock_stopped_at=state.clock_stopped_at,
        current=state.current,
        history=state.history if with_history else None,
    )


def quote(terms: Terms, classification: Classification) -> Quote:
    """The quote of a ticket classified so, with these terms."""
    status = "running" if classification.kind == "targeted" else classification.kind
    return Quote(**dict(terms), status=status)
