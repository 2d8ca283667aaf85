"""The webhook function's use cases behind one object: ingest a delivery from a source, read a
ticket, list tickets by SLA status, quote a deadline. The handler calls these and maps results
and errors to responses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sla.app.ingest import Ingest, IngestResult
from sla.app.quote import quote_terms
from sla.app.read import read_ticket
from sla.core.errors import NotFoundError
from sla.core.lists import TicketList
from sla.core.policy import Policy
from sla.core.view import Quote, View
from sla.ports import TicketStore
from sla.sources import Source

__all__ = ["WebhookService"]


class WebhookService:
    def __init__(
        self,
        policy: Policy,
        store: TicketStore,
        sources: Mapping[str, Source | Callable[[], Source]],
        body_limit: int,
    ) -> None:
        """``sources`` by name: built, or a factory that builds one when its first delivery
        arrives (a helpdesk's module is not loaded before)."""
        self.policy = policy
        self.store = store
        self.sources = dict(sources)
        self.ingest_delivery = Ingest(policy, store, body_limit)

    def source(self, name: str) -> Source:
        """The enabled source ``name``; NotFoundError for any other."""
        found = self.sources.get(name)
        if found is None:
            raise NotFoundError("No such webhook source.")
        if not hasattr(found, "verify"):
            found = self.sources[name] = found()
        return found  # type: ignore[return-value]

    # POST /webhooks/{source}
    def ingest(
        self,
        headers: Mapping[str, str],
        body: str | None,
        is_base64: bool,
        now: datetime,
        source: str = "tickets",
    ) -> IngestResult:
        return self.ingest_delivery(self.source(source), headers, body, is_base64, now)

    # GET /tickets/{id}/sla
    def read(self, ticket_id: str, now: datetime) -> View:
        return read_ticket(self.policy, self.store, ticket_id, now)

    # GET /tickets?status=...
    def list_tickets(self, params: Mapping[str, str]) -> TicketList:
        from sla.app.lists import list_tickets  # not on a webhook's cold start

        return list_tickets(self.policy, self.store, params)

    # GET /sla/quote
    def quote(self, params: Mapping[str, str], now: datetime) -> Quote:
        return quote_terms(self.policy, params, now)
