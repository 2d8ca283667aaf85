"""The ingest loop under real thread races, against the in-memory fake store (atomic writes)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from local.payloads import ticket_bytes
from local.signing import TEST_SECRET, signature_headers
from sla import Policy
from sla.app.api import WebhookService
from sla.fakes import MemoryTicketStore, StaticSecrets
from sla.sources.canonical import StandardWebhooksSource

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def body(type_: str, at: str, **ticket: Any) -> bytes:
    return ticket_bytes(type_, at, id="T-1", **ticket)


DELIVERIES = [
    ("a", body("ticket.created", "2026-11-25T08:59:00Z")),
    ("b", body("ticket.updated", "2026-11-25T08:59:10Z", priority=1)),
    ("c", body("ticket.updated", "2026-11-25T08:59:20Z", priority=3)),
    ("d", body("ticket.responded", "2026-11-25T08:59:30Z", priority=3)),
    ("e", body("ticket.solved", "2026-11-25T08:59:40Z", priority=3)),
    ("f", body("ticket.closed", "2026-11-25T08:59:50Z", priority=3)),
]


def test_racing_deliveries_are_all_applied_exactly_once(policy: Policy) -> None:
    for _ in range(30):
        store = MemoryTicketStore()
        source = StandardWebhooksSource(policy, StaticSecrets(TEST_SECRET))
        service = WebhookService(policy, store, {"tickets": source}, 256 * 1024)
        barrier = threading.Barrier(len(DELIVERIES) * 2)

        def send(
            delivery: tuple[str, bytes],
            barrier: threading.Barrier = barrier,
            service: WebhookService = service,
        ) -> str:
            msg_id, raw = delivery
            headers = signature_headers(raw, int(NOW.timestamp()), msg_id=msg_id)
            barrier.wait()
            return service.ingest(headers, raw.decode(), False, NOW).outcome

        with ThreadPoolExecutor(len(DELIVERIES) * 2) as pool:
            outcomes = list(pool.map(send, DELIVERIES * 2))  # each delivery twice, concurrently
        assert sorted(outcomes) == ["applied"] * len(DELIVERIES) + ["duplicate"] * len(DELIVERIES)
        stored = store.tickets["T-1"]
        assert stored.version == len(DELIVERIES)
        assert sorted(e.event_id for e in store.events("T-1")) == [d[0] for d in DELIVERIES]
        assert stored.state.events == len(DELIVERIES)
