"""Judging owed notices and publishing each exactly once.

Every path that may publish (a firing timer, the stream consumer judging at once, the sweeper)
calls :meth:`NotifierService.judge`. It re-reads the ticket, acts only on a notice the current
state still owes, claims it with a conditional write tied to the ticket's version (so a reply
recorded first wins the race), publishes, then records it as published on the claim and on the
ticket. A failed publish gives the claim up and raises, so Lambda's retry publishes it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sla.core.calendar import BusinessCalendar
from sla.core.errors import TransientError
from sla.core.notices import (
    Notice,
    NoticeKind,
    Owed,
    due_at,
    fire_at,
    kept_notices,
    notification_id,
    owed,
    schedule_name,
)
from sla.core.state import TicketState
from sla.core.terms import MetricName
from sla.core.view import sla_view
from sla.ports import (
    TYPES,
    Notification,
    Publisher,
    StoredTicket,
    TicketStore,
    TimerInput,
    TimerScheduler,
    VersionConflictError,
)

__all__ = ["Judgement", "NotifierService"]

logger = logging.getLogger(__name__)

Outcome = Literal["published", "duplicate", "in_flight", "stale", "early"]
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Judgement:
    ticket_id: str
    kind: NoticeKind
    for_: datetime
    outcome: Outcome
    plan: str = ""
    priority: int = 0
    metric: MetricName = "first_response"
    cycle: int = 1


class NotifierService:
    def __init__(
        self,
        store: TicketStore,
        publisher: Publisher,
        timers: TimerScheduler | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.timers = timers
        self.calendar = calendar  # for the elapsed and remaining times of the view

    # a timer fired
    def judge(
        self,
        ticket_id: str,
        kind: NoticeKind,
        for_: datetime,
        now: datetime,
        metric: MetricName = "first_response",
        cycle: int = 1,
    ) -> Judgement:
        key = (metric, cycle, kind, for_)
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.load(ticket_id)
            if stored is None:
                return Judgement(ticket_id, kind, for_, "stale", metric=metric, cycle=cycle)
            state = stored.state
            match = next((o for o in owed(state, stored.published) if o.key == key), None)
            if match is None:
                done = key in stored.published
                return self._judgement(state, key, "duplicate" if done else "stale")
            if now < match.due_at:  # fired early: arm again for the right minute
                self._arm(ticket_id, match, now)
                return self._judgement(state, key, "early")
            outcome = self._deliver(stored, state, match, now)
            if outcome is not None:
                return self._judgement(state, key, outcome)
        raise TransientError("The ticket kept changing while a notice was judged; retry.")

    # the stream consumer and the sweeper: everything owed and due now
    def judge_due(self, ticket_id: str, now: datetime) -> list[Judgement]:
        stored = self.store.load(ticket_id)
        if stored is None:
            return []
        due = [o for o in owed(stored.state, stored.published) if o.due_at <= now]
        return [self.judge(ticket_id, o.kind, o.for_, now, o.metric, o.cycle) for o in due]

    def _arm(self, ticket_id: str, item: Owed, now: datetime) -> None:
        if self.timers is None or item.kind == "retraction":
            return
        when = fire_at(item.due_at, now)
        if when is not None:
            payload = TimerInput(
                ticket_id=ticket_id,
                kind=item.kind,
                for_=item.for_,
                metric=item.metric,
                cycle=item.cycle,
            )
            self.timers.set(
                schedule_name(ticket_id, item.kind, item.metric, item.cycle), when, payload, now
            )

    def _deliver(
        self, stored: StoredTicket, state: TicketState, item: Owed, now: datetime
    ) -> Outcome | None:
        notice = Notice(
            item.kind,
            item.for_,
            notification_id(stored.ticket_id, item.kind, item.for_, item.metric, item.cycle),
            item.metric,
            item.cycle,
        )
        claim = self.store.claim(stored, notice, now, now + LEASE)
        if claim == "conflict":
            return None  # the ticket changed since it was read: judge again
        if claim == "in_flight":
            return "in_flight"  # another invocation holds the claim and will finish
        if claim == "claimed":
            message = Notification(
                notification_id=notice.id,
                type=TYPES[item.kind],
                ticket_id=stored.ticket_id,
                metric=item.metric,
                cycle=item.cycle,
                threshold=item.threshold,
                for_=item.for_,
                published_at=now,
                sla=sla_view(state, now, calendar=self.calendar),
            )
            try:
                self.publisher.publish(message)
            except Exception:
                self.store.release(stored.ticket_id, notice)
                raise
            self.store.mark_published(stored.ticket_id, notice, now)
        self._remember(stored.ticket_id, notice, now)
        return "published" if claim == "claimed" else "duplicate"

    def _remember(self, ticket_id: str, notice: Notice, now: datetime) -> None:
        """Add the published notice to the ticket (it drops out of the sweeper's index)."""
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.load(ticket_id)
            if stored is None or notice.key in stored.published:
                return
            notices = kept_notices(stored.state, (*stored.notices, notice))
            published = frozenset(n.key for n in notices)
            updated = StoredTicket(
                stored.ticket_id,
                stored.version + 1,
                stored.state,
                notices,
                due_at(stored.state, published),
            )
            try:
                self.store.save_notices(updated, now)
                return
            except VersionConflictError:
                continue
        raise TransientError("The ticket kept changing while a notice was recorded; retry.")

    @staticmethod
    def _judgement(
        state: TicketState, key: tuple[MetricName, int, NoticeKind, datetime], outcome: Outcome
    ) -> Judgement:
        metric, cycle, kind, for_ = key
        priority = state.priority
        for c in state.metrics[metric].cycles if metric in state.metrics else ():
            if c.number == cycle and c.priority is not None:
                priority = c.priority
        return Judgement(state.ticket_id, kind, for_, outcome, state.plan, priority, metric, cycle)
