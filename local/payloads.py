"""One builder of ticket webhook bodies (contract section 2) for the tests, the sample events in
events/ and the local stack's tools: the sample ticket, with any field overridden."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sla.core.events import TicketEvent

__all__ = ["TICKET", "ticket_body", "ticket_bytes", "ticket_event"]

TICKET: dict[str, Any] = {
    "id": "T-1001",
    "created_at": "2026-11-25T08:59:00Z",
    "plan": "professional",
    "priority": 2,
    "environment": "production",
    "product_stage": "ga",
}


def _text(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def ticket_body(
    type_: str = "ticket.created",
    occurred_at: str | datetime = "2026-11-25T08:59:00Z",
    *,
    actor: str = "customer",
    actor_id: str | None = None,
    reason: str | None = None,
    **ticket: Any,
) -> dict[str, Any]:
    """A webhook body about the sample ticket, with ``ticket`` fields overridden (instants may
    be given as aware datetimes)."""
    return {
        "type": type_,
        "occurred_at": _text(occurred_at),
        "ticket": {**TICKET, **{k: _text(v) for k, v in ticket.items()}},
        "actor": {"type": actor, "id": actor_id or f"{actor}-42"},
        "reason": reason,
    }


def ticket_bytes(*args: Any, **kwargs: Any) -> bytes:
    """:func:`ticket_body` as the bytes a sender signs."""
    return json.dumps(ticket_body(*args, **kwargs)).encode()


def ticket_event(event_id: str, *args: Any, **kwargs: Any) -> TicketEvent:
    """:func:`ticket_body` as the canonical event the reducer folds (no policy checks)."""
    return TicketEvent.model_validate({"event_id": event_id, **ticket_body(*args, **kwargs)})


def latest_instant(body: bytes) -> datetime | None:
    """The latest ISO 8601 instant with an offset anywhere in a JSON body (a recorded helpdesk
    payload carries its own instants: a clock just past them accepts it), or None."""
    latest: datetime | None = None
    stack: list[Any] = [json.loads(body)]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if instant.tzinfo is not None and (latest is None or instant > latest):
                latest = instant
    return latest
