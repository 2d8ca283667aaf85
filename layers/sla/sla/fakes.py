"""The in-memory twins of the ports: the same semantics in dicts, for unit tests, the in-memory
pipeline, and (``StaticSecrets``) the local stack's secret from the environment. The contract
suites in ``tests/contract`` hold each twin to its AWS adapter's behaviour."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sla.core.errors import ConfigurationError
from sla.core.events import TicketEvent
from sla.core.lists import ListedTicket, ListStatus, list_entries, rank
from sla.core.notices import Notice, at_expression, check_schedule_name
from sla.core.signature import SigningSecret, parse_secrets
from sla.core.terms import MetricName
from sla.ports import (
    ClaimResult,
    DuplicateDeliveryError,
    Notification,
    StoredTicket,
    TicketPage,
    TimerInput,
    VersionConflictError,
)

__all__ = ["MemoryPublisher", "MemoryTicketStore", "MemoryTimers", "StaticSecrets"]


class MemoryTicketStore:
    """The ticket store in dicts. ``fail_next`` (a callable that raises) fails the next save,
    before anything is written, as a faulty network would."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tickets: dict[str, StoredTicket] = {}
        self.updated: dict[str, datetime] = {}
        self.claims: dict[tuple[str, str, int, str, datetime], tuple[str, datetime]] = {}
        self.deliveries: dict[str, dict[str, TicketEvent]] = {}
        self.fail_next: Callable[[], None] | None = None

    def load(self, ticket_id: str) -> StoredTicket | None:
        return self.tickets.get(ticket_id)

    def events(self, ticket_id: str) -> list[TicketEvent]:
        with self._lock:
            return list(self.deliveries.get(ticket_id, {}).values())

    def save(self, ticket: StoredTicket, event: TicketEvent, received_at: datetime) -> None:
        with self._lock:
            if self.fail_next is not None:
                fail, self.fail_next = self.fail_next, None
                fail()
            recorded = self.deliveries.setdefault(ticket.ticket_id, {})
            if event.event_id in recorded:
                raise DuplicateDeliveryError(event.event_id)
            self._check_version(ticket)
            recorded[event.event_id] = event
            self.tickets[ticket.ticket_id] = ticket
            self.updated[ticket.ticket_id] = received_at

    def _check_version(self, ticket: StoredTicket) -> None:
        current = self.tickets.get(ticket.ticket_id)
        if (current.version if current else 0) != ticket.version - 1:
            raise VersionConflictError(ticket.ticket_id)

    def save_notices(self, ticket: StoredTicket, now: datetime) -> None:
        with self._lock:
            self._check_version(ticket)
            self.tickets[ticket.ticket_id] = ticket
            self.updated[ticket.ticket_id] = now

    def claim(
        self, ticket: StoredTicket, notice: Notice, now: datetime, lease_until: datetime
    ) -> ClaimResult:
        with self._lock:
            current = self.tickets.get(ticket.ticket_id)
            if current is None or current.version != ticket.version:
                return "conflict"
            key = (ticket.ticket_id, *notice.key)
            existing = self.claims.get(key)
            if existing is not None:
                if existing[0] == "published":
                    return "published"
                if existing[1] >= now:
                    return "in_flight"
            self.claims[key] = ("claimed", lease_until)
            return "claimed"

    def release(self, ticket_id: str, notice: Notice) -> None:
        with self._lock:
            key = (ticket_id, *notice.key)
            if self.claims.get(key, ("",))[0] == "claimed":
                self.claims[key] = ("claimed", datetime.min.replace(tzinfo=UTC))

    def mark_published(self, ticket_id: str, notice: Notice, now: datetime) -> None:
        with self._lock:
            self.claims[(ticket_id, *notice.key)] = ("published", now)

    def owing(
        self, until: datetime, since: datetime | None = None, changed_before: datetime | None = None
    ) -> list[str]:
        found = []
        for ticket_id, stored in list(self.tickets.items()):
            due = stored.due_at
            if due is None or due > until or (since is not None and due < since):
                continue
            if changed_before is not None and self.updated[ticket_id] >= changed_before:
                continue
            found.append((due, ticket_id))
        return [ticket_id for _, ticket_id in sorted(found)]

    def listed(
        self,
        metric: MetricName,
        status: ListStatus,
        limit: int,
        after: str | None = None,
        plan: str | None = None,
        priority: int | None = None,
    ) -> TicketPage:
        """The same entries as the adapter's index, computed from each stored ticket (a scan:
        the twin has no index), in the same order, paged as the adapter's one Query pages: the
        filters apply to the ``limit + 1`` entries read after ``after``, so a filtered page may
        hold fewer than ``limit`` while more follow."""
        found: list[tuple[str, ListedTicket]] = []
        for ticket_id, stored in list(self.tickets.items()):
            entry = list_entries(stored.state, stored.notices).get(metric)
            if entry is None or entry.status != status:
                continue
            position = rank(entry.deadline, ticket_id)
            if after is not None and position <= after:
                continue
            found.append(
                (
                    position,
                    ListedTicket(
                        ticket_id=ticket_id,
                        metric=metric,
                        status=status,
                        cycle=entry.cycle,
                        deadline=entry.deadline,
                        plan=entry.plan,
                        priority=entry.priority,
                    ),
                )
            )
        found.sort(key=lambda pair: pair[0])
        read = found[: limit + 1]  # the Query's Limit
        matching = [
            (position, ticket)
            for position, ticket in read
            if (plan is None or ticket.plan == plan)
            and (priority is None or ticket.priority == priority)
        ]
        page = matching[:limit]
        if len(matching) > limit:
            return TicketPage(tuple(t for _, t in page), page[-1][0])
        # stopped at the Limit with more to read: a LastEvaluatedKey (DynamoDB may give one when
        # nothing follows too, and the page after is then empty)
        stopped = len(found) > len(read)
        return TicketPage(tuple(t for _, t in page), read[-1][0] if stopped else None)


class MemoryTimers:
    """Schedules in a dict, with the same validation as the Scheduler adapter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.schedules: dict[str, tuple[datetime, TimerInput]] = {}

    def set(self, name: str, when: datetime, payload: TimerInput, now: datetime) -> None:
        at_expression(when, now)
        check_schedule_name(name)
        with self._lock:
            self.schedules[name] = (when, payload)

    def delete(self, name: str) -> None:
        with self._lock:
            self.schedules.pop(name, None)

    def exists(self, name: str) -> bool:
        return name in self.schedules


class MemoryPublisher:
    """Records what was published."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[Notification] = []

    def publish(self, notification: Notification) -> None:
        with self._lock:
            self.sent.append(notification)


class StaticSecrets:
    """Secrets fixed at start-up (``SLA_WEBHOOK_SECRET`` and ``SLA_<SOURCE>_SECRET`` in the local
    stack and in tests). ``parse`` reads the text: Standard Webhooks' ``whsec_`` secrets by
    default, ``parse_text_secrets`` for a helpdesk's."""

    def __init__(
        self, text: str, parse: Callable[[str], tuple[SigningSecret, ...]] = parse_secrets
    ) -> None:
        try:
            self._secrets = parse(text)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    def current(self) -> tuple[SigningSecret, ...]:
        return self._secrets

    def refreshed(self) -> tuple[SigningSecret, ...] | None:
        return None
