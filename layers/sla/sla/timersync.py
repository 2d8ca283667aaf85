"""The stream consumer's logic: turn each change of a ticket into timer changes.

The table's stream is the outbox: the webhook path writes state only. For every new image this
arms one schedule per owed warning or breach (moving it when the instant changed), deletes the
schedules nothing is owed for any more (the clock stopped, the ticket became exempt), and judges at
once whatever is already due, so no ``at()`` in the past ever reaches Scheduler. Each record is
compared with its old image, so a change that moves no instant costs no Scheduler call; a retried
record is compared with the same old image and does the same again (every call is idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sla.notices import Owed, TimerKind, owed, schedule_name
from sla.notifier import Judgement, NotifierService
from sla.store import StoredTicket, TicketStore
from sla.timers import TimerInput, TimerScheduler, fire_at

__all__ = ["Plan", "Sweeper", "TimerSync"]

TIMER_KINDS: tuple[TimerKind, ...] = ("warning", "breach")


@dataclass(frozen=True)
class Plan:
    """What a ticket state wants: an owed warning and breach (or None), and retractions."""

    timers: dict[TimerKind, Owed | None]
    retractions: tuple[Owed, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(self.timers.values()) and not self.retractions


@dataclass
class SyncResult:
    armed: int = 0
    deleted: int = 0
    judged: list[Judgement] = field(default_factory=list)
    deadline_set: bool = False  # a new or moved deadline
    met: bool = False  # the clock stopped in time with this change
    plan: str = ""
    priority: int = 0


class TimerSync:
    def __init__(self, notifier: NotifierService, timers: TimerScheduler) -> None:
        self.notifier = notifier
        self.timers = timers

    def plan(self, stored: StoredTicket | None) -> Plan:
        if stored is None:
            return Plan({kind: None for kind in TIMER_KINDS})
        items = owed(self.notifier.reduce(stored), stored.published)
        timers: dict[TimerKind, Owed | None] = {
            kind: next((o for o in items if o.kind == kind), None) for kind in TIMER_KINDS
        }
        return Plan(timers, tuple(o for o in items if o.kind == "retraction"))

    def apply(
        self, new: StoredTicket | None, old: StoredTicket | None, now: datetime
    ) -> SyncResult:
        ticket = new or old
        if ticket is None:
            return SyncResult()
        wanted, before = self.plan(new), self.plan(old)
        result = SyncResult()
        if new is not None:
            state = self.notifier.reduce(new)
            result.plan, result.priority = state.plan, state.priority
            old_state = self.notifier.reduce(old) if old is not None else None
            result.deadline_set = state.deadline is not None and (
                old_state is None or old_state.deadline != state.deadline
            )
            stopped_now = old_state is None or old_state.clock_stopped_at is None
            result.met = (
                stopped_now
                and state.clock_stopped_at is not None
                and state.deadline is not None
                and state.clock_stopped_at <= state.deadline
            )
        judge_now = bool(wanted.retractions)
        for kind in TIMER_KINDS:
            item, previous = wanted.timers[kind], before.timers[kind]
            name = schedule_name(ticket.ticket_id, kind)
            if item is None:
                if previous is not None or new is None:
                    self.timers.delete(name)
                    result.deleted += 1
                continue
            when = fire_at(item.due_at, now)
            if when is None:
                judge_now = True
                if previous is not None and previous != item:
                    self.timers.delete(name)  # an earlier timer for an instant no longer owed
                continue
            if previous == item and old is not None:
                continue  # armed when the old image was processed
            payload = TimerInput(ticket_id=ticket.ticket_id, kind=kind, for_=item.for_)
            self.timers.set(name, when, payload, now)
            result.armed += 1
        if judge_now and new is not None:
            result.judged = self.notifier.judge_due(ticket.ticket_id, now)
        return result


@dataclass
class SweepResult:
    overdue: int = 0
    published: int = 0
    rearmed: int = 0
    judged: list[Judgement] = field(default_factory=list)

    @property
    def repairs(self) -> int:
        """Notices the timers should have sent and timers that should have existed."""
        return self.published + self.rearmed


class Sweeper:
    """The safety net: finds tickets owing a notice that is overdue, judges them as the notifier
    would, and re-creates timers that went missing for what falls due within ``horizon``. In a
    healthy system every run finds nothing to repair."""

    def __init__(
        self,
        store: TicketStore,
        notifier: NotifierService,
        timers: TimerScheduler,
        grace: timedelta = timedelta(minutes=3),
        horizon: timedelta = timedelta(hours=1),
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.timers = timers
        self.sync = TimerSync(notifier, timers)
        self.grace = grace
        self.horizon = horizon

    def run(self, now: datetime, full: bool = False) -> SweepResult:
        """``full`` checks the timers of every ticket that owes a notice, however far ahead (the
        replay after lost stream batches); otherwise only those due within the horizon."""
        result = SweepResult()
        horizon = timedelta(days=36_500) if full else self.horizon
        # a ticket written within the grace may still have its stream record in flight: the
        # timers function judges or arms it, and doing it here would count a repair that was
        # none (a full sweep follows lost stream batches: nothing is in flight then)
        settled = None if full else now - self.grace
        for ticket_id in self.store.owing(until=now - self.grace, changed_before=settled):
            result.overdue += 1
            judged = self.notifier.judge_due(ticket_id, now)
            result.judged.extend(judged)
            result.published += sum(1 for j in judged if j.outcome == "published")
        for ticket_id in self.store.owing(
            until=now + horizon, since=now - self.grace, changed_before=settled
        ):
            stored = self.store.load(ticket_id)
            if stored is None:
                continue
            for kind, item in self.sync.plan(stored).timers.items():
                if item is None:
                    continue
                when = fire_at(item.due_at, now)
                name = schedule_name(ticket_id, kind)
                if when is not None and not self.timers.exists(name):
                    payload = TimerInput(ticket_id=ticket_id, kind=kind, for_=item.for_)
                    self.timers.set(name, when, payload, now)
                    result.rearmed += 1
        return result
