"""The whole notification pipeline in memory: webhook service, a stream that replays every ticket
write to the timer sync in order, a scheduler that fires due schedules into the notifier with their
exact input (deleting them after completion), a publisher that records, and a sweeper.

``check_invariants`` is RELIABILITY.md's invariants 2 and 3, checked at the end of every scenario.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local.payloads import ticket_bytes
from local.signing import TEST_SECRET, signature_headers
from sla import Policy
from sla.app.api import WebhookService
from sla.app.ingest import IngestResult
from sla.app.notifier import NotifierService
from sla.app.sweeper import Sweeper
from sla.app.timersync import TimerSync
from sla.core.notices import Owed, TimerKind, owed, schedule_name
from sla.core.terms import MetricName
from sla.fakes import MemoryPublisher, MemoryTicketStore, MemoryTimers, StaticSecrets
from sla.ports import StoredTicket
from sla.sources.canonical import StandardWebhooksSource


class StreamingStore(MemoryTicketStore):
    """Records (old, new) for every ticket write, as a DynamoDB stream would."""

    def __init__(self) -> None:
        super().__init__()
        self.stream: list[tuple[StoredTicket | None, StoredTicket]] = []

    def save(self, ticket: StoredTicket, event: Any, received_at: datetime) -> None:
        old = self.tickets.get(ticket.ticket_id)
        super().save(ticket, event, received_at)
        self.stream.append((old, ticket))

    def save_notices(self, ticket: StoredTicket, now: datetime) -> None:
        old = self.tickets.get(ticket.ticket_id)
        super().save_notices(ticket, now)
        self.stream.append((old, ticket))


@dataclass
class World:
    policy: Policy
    now: datetime = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    store: StreamingStore = field(default_factory=StreamingStore)
    timers: MemoryTimers = field(default_factory=MemoryTimers)
    topic: MemoryPublisher = field(default_factory=MemoryPublisher)
    fired: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        source = StandardWebhooksSource(self.policy, StaticSecrets(TEST_SECRET))
        self.webhooks = WebhookService(self.policy, self.store, {"tickets": source}, 256 * 1024)
        self.notifier = NotifierService(self.store, self.topic, self.timers)
        self.sync = TimerSync(self.notifier, self.timers)
        self.sweeper = Sweeper(self.store, self.notifier, self.timers)

    def send(
        self,
        type_: str,
        occurred_at: str,
        msg_id: str,
        *,
        actor: str = "customer",
        reason: str | None = None,
        pump: bool = True,
        **ticket: Any,
    ) -> IngestResult:
        ticket.setdefault("id", "T-1")
        body = ticket_bytes(type_, occurred_at, actor=actor, reason=reason, **ticket)
        headers = signature_headers(body, int(self.now.timestamp()), msg_id=msg_id)
        result = self.webhooks.ingest(headers, body.decode(), False, self.now)
        if pump:  # pump=False: written, its stream record not read yet
            self.pump()
        return result

    def pump(self) -> None:
        """Deliver pending stream records to the timer sync, in order."""
        while self.store.stream:
            old, new = self.store.stream.pop(0)
            self.sync.apply(new, old, self.now)

    def advance(self, until: datetime | str, step: timedelta = timedelta(minutes=1)) -> None:
        """Move the clock minute by minute, firing schedules that fall due."""
        end = datetime.fromisoformat(until) if isinstance(until, str) else until
        while self.now < end:
            self.now = min(self.now + step, end)
            self.fire_due()

    def fire_due(self) -> None:
        for name, (when, payload) in sorted(self.timers.schedules.items(), key=lambda kv: kv[1][0]):
            if when <= self.now:
                self.timers.delete(name)  # ActionAfterCompletion: DELETE
                self.fired.append(payload)
                self.notifier.judge(
                    payload.ticket_id,
                    payload.kind,
                    payload.for_,
                    self.now,
                    payload.metric,
                    payload.cycle,
                )
                self.pump()

    def types(self) -> list[str]:
        return [n.type for n in self.topic.sent]


def check_invariants(world: World) -> None:
    """Invariant 2: every running ticket has a live timer for what it owes, or it is published:
    per metric, cycle and timer kind, one schedule standing for the earliest owed notice of that
    kind, and no schedule standing for anything else. Invariant 3: at most one notice per
    (ticket, metric, cycle, kind, instant), and everything due is out."""
    world.pump()
    counts = Counter((n.ticket_id, n.metric, n.cycle, n.type, n.for_) for n in world.topic.sent)
    assert all(c == 1 for c in counts.values()), f"a notice went out twice: {counts}"
    live = {name: payload for name, (_, payload) in world.timers.schedules.items()}
    for ticket_id, stored in world.store.tickets.items():
        earliest: dict[tuple[MetricName, int, TimerKind], Owed] = {}
        for item in owed(stored.state, stored.published):
            if item.due_at <= world.now:
                raise AssertionError(
                    f"{ticket_id} owes {item.metric} {item.cycle} {item.kind} for {item.for_} "
                    f"since {item.due_at}"
                )
            kind = item.kind
            if kind == "retraction":
                continue
            key = (item.metric, item.cycle, kind)
            if key not in earliest or item.due_at < earliest[key].due_at:
                earliest[key] = item
        for (metric, cycle, kind), item in earliest.items():
            name = schedule_name(ticket_id, kind, metric, cycle)
            assert name in world.timers.schedules, f"{ticket_id}: no timer for {metric} {kind}"
            when, payload = world.timers.schedules[name]
            assert (payload.metric, payload.cycle, payload.kind) == (metric, cycle, kind)
            assert payload.for_ == item.for_ and when >= item.due_at
            live.pop(name)
    assert live == {}, f"timers that stand for nothing owed: {live}"
    assert world.sweeper.run(world.now).repairs == 0, "the sweeper found something to repair"
