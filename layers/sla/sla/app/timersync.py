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
from datetime import datetime

from sla.app.notifier import Judgement, NotifierService
from sla.core.notices import Owed, TimerKind, fire_at, owed, schedule_name
from sla.core.terms import MetricName
from sla.ports import StoredTicket, TimerInput, TimerScheduler

__all__ = ["TIMER_KINDS", "Plan", "SyncResult", "TimerKey", "TimerSync", "timer_input"]

TIMER_KINDS: tuple[TimerKind, ...] = ("warning", "breach")
# one schedule per ticket, metric, cycle and timer kind: it stands for the earliest owed notice
# of its kind (the next warning once one went out)
TimerKey = tuple[MetricName, int, TimerKind]
_FIRST_TIMERS: tuple[TimerKey, ...] = (
    ("first_response", 1, "warning"),
    ("first_response", 1, "breach"),
)


def timer_input(ticket_id: str, item: Owed) -> TimerInput:
    assert item.kind != "retraction"
    return TimerInput(
        ticket_id=ticket_id, kind=item.kind, for_=item.for_, metric=item.metric, cycle=item.cycle
    )


@dataclass(frozen=True)
class Plan:
    """What a ticket state wants: per timer, the owed notice it stands for, and retractions."""

    timers: dict[TimerKey, Owed]
    retractions: tuple[Owed, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(self.timers.values()) and not self.retractions


@dataclass
class SyncResult:
    armed: int = 0
    deleted: int = 0
    judged: list[Judgement] = field(default_factory=list)
    # (metric, priority) of each cycle whose deadline was set or moved, and of each that stopped
    # in time, with this change
    deadlines_set: list[tuple[MetricName, int]] = field(default_factory=list)
    met: list[tuple[MetricName, int]] = field(default_factory=list)
    plan: str = ""


def _changes(result: SyncResult, new: StoredTicket, old: StoredTicket | None) -> None:
    """What the change did to each metric's cycles, for the counts of the dashboard."""
    state = new.state
    result.plan = state.plan
    for metric, ms in state.metrics.items():
        before = {}
        if old is not None and metric in old.state.metrics:
            before = {c.number: c for c in old.state.metrics[metric].cycles}
        for cycle in ms.cycles:
            if cycle.kind != "targeted" or cycle.priority is None:
                continue
            was = before.get(cycle.number)
            if cycle.deadline is not None and (was is None or was.deadline != cycle.deadline):
                result.deadlines_set.append((metric, cycle.priority))
            if cycle.met and (was is None or was.stopped_at is None):
                result.met.append((metric, cycle.priority))


class TimerSync:
    def __init__(self, notifier: NotifierService, timers: TimerScheduler) -> None:
        self.notifier = notifier
        self.timers = timers

    def plan(self, stored: StoredTicket | None) -> Plan:
        if stored is None:
            return Plan({})
        items = owed(stored.state, stored.published)
        timers: dict[TimerKey, Owed] = {}
        for o in sorted(items, key=lambda o: o.due_at):
            if o.kind != "retraction":
                timers.setdefault((o.metric, o.cycle, o.kind), o)
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
            _changes(result, new, old)
        judge_now = bool(wanted.retractions)
        keys = set(wanted.timers) | set(before.timers)
        if new is None:
            keys |= set(_FIRST_TIMERS)
        for key in sorted(keys):
            item, previous = wanted.timers.get(key), before.timers.get(key)
            metric, cycle, kind = key
            name = schedule_name(ticket.ticket_id, kind, metric, cycle)
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
            self.timers.set(name, when, timer_input(ticket.ticket_id, item), now)
            result.armed += 1
        if judge_now and new is not None:
            result.judged = self.notifier.judge_due(ticket.ticket_id, now)
        return result
