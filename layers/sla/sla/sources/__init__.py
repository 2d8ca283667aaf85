"""Turning a request into canonical ticket events: the Standard Webhooks body (canonical.py) and
one module per helpdesk (zendesk, jira, freshdesk, zammad), each behind the same small interface
(:class:`Source`) and named in one registry (registry.py), the way vacanza/holidays registers a
country."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sla.core.events import TicketEvent

__all__ = ["Source"]


class Source(Protocol):
    """One sender of ticket webhooks."""

    name: str

    def verify(self, headers: Mapping[str, str], raw: bytes, now: datetime) -> str:
        """Authenticate the raw request; return its delivery id. Raises UnauthorizedError."""

    def events(self, raw: bytes, delivery_id: str, now: datetime) -> list[TicketEvent]:
        """The canonical events the body stands for (none: acknowledged and ignored). Raises
        BadRequestError or UnprocessableError."""
