"""The webhook function's use cases behind one object: ingest a delivery from a source, read a
ticket, quote a deadline. The handler calls these and maps results and errors to responses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sla.app.ingest import Ingest, IngestResult
from sla.app.quote import quote_terms
from sla.app.read import read_ticket
from sla.core.errors import NotFoundError
from sla.core.policy import Policy
from sla.core.view import Quote, View
from sla.ports import TicketStore
from sla.sources import Source

__all__ = ["WebhookService"]


class WebhookService:
    def __init__(
        self, policy: Policy, store: TicketStore, sources: Mapping[str, Source], body_limit: int
    ) -> None:
        self.policy = policy
        self.store = store
        self.sources = dict(sources)
        self.ingest_delivery = Ingest(policy, store, body_limit)

    # POST /webhooks/{source}
    def ingest(
        self,
        headers: Mapping[str, str],
        body: str | None,
        is_base64: bool,
        now: datetime,
        source: str = "tickets",
    ) -> IngestResult:
        found = self.sources.get(source)
        if found is None:
            raise NotFoundError("No such webhook source.")
        return self.ingest_delivery(found, headers, body, is_base64, now)

    # GET /tickets/{id}/sla
    def read(self, ticket_id: str, now: datetime) -> View:
        return read_ticket(self.policy, self.store, ticket_id, now)

    # GET /sla/quote
    def quote(self, params: Mapping[str, str], now: datetime) -> Quote:
        return quote_terms(self.policy, params, now)
