"""The safety net: every few minutes, judge what is overdue and re-arm timers that went missing.
In a healthy system every run finds nothing to repair."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sla.app.notifier import Judgement, NotifierService
from sla.app.timersync import TimerSync, timer_input
from sla.core.notices import fire_at, schedule_name
from sla.ports import TicketStore, TimerScheduler

__all__ = ["SweepResult", "Sweeper"]


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
            for (metric, cycle, kind), item in self.sync.plan(stored).timers.items():
                when = fire_at(item.due_at, now)
                name = schedule_name(ticket_id, kind, metric, cycle)
                if when is not None and not self.timers.exists(name):
                    self.timers.set(name, when, timer_input(ticket_id, item), now)
                    result.rearmed += 1
        return result
