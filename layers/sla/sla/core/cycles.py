"""The clocks of the SLA metrics: cycles, pauses, and when each warning and deadline falls.

A metric's clock runs in *cycles*. First response and resolution have one, from the ticket's
creation; next reply has one per exchange (contract section 1b). A cycle counts time in its
target's clock (business hours of the calendar, or elapsed time) from its start, except while it
is paused, and stops at its stop. A resolution cycle stopped by a solve resumes on a reopen: the
time between is not counted, like a pause.

The judgement of a cycle (its warnings and its deadline) is the instant at which the counted time
reaches each fraction of the target, and the target itself: a walk over the cycle's active
segments, the periods between its pauses (zendesk/biz's "periods minus breaks"). Paused time
moves the deadline by exactly the paused time in the metric's own clock: business time paused
during business hours, elapsed time otherwise. While a cycle is paused, the instants it has not
reached yet are unknown (None): they depend on when it resumes.

A stopped cycle's deadline is where the clock would have reached its target had it gone on
running after the stop (so a late stop is judged against a definite instant).

A cycle keeps at most ``MAX_PAUSES`` pauses one by one; past that, the oldest are merged into what
each clock counted before the end of the last of them (``Merged``), so that a ticket waiting on
its customer at every exchange keeps a bounded state. Counting then resumes from there; an
instant reached before it keeps the value an earlier judgement gave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from sla.core.calendar import BusinessCalendar, from_epoch_us, to_epoch_us
from sla.core.events import StopReason
from sla.core.models import built, replaced
from sla.core.terms import Target, TargetKind

__all__ = [
    "MAX_PAUSES",
    "Cycle",
    "Judgement",
    "Merged",
    "MetricState",
    "WarningAt",
    "compacted",
    "counted",
    "judge",
]

Interval = tuple[datetime, datetime]
# pauses a cycle keeps one by one; past this, the oldest are merged into what each clock counted
# before them (so that a ticket waiting on its customer at every exchange stays bounded)
MAX_PAUSES = 16
_KEEP_AFTER_MERGE = 8
_PAST_THE_END = "the deadline would fall after the year 9999"


class WarningAt(BaseModel):
    """A warning of a cycle: the fraction of the target and when it is reached (None: not known
    while the cycle is paused)."""

    model_config = ConfigDict(frozen=True)

    threshold: float | None = None  # None: a state stored before metrics did not record it
    at: datetime | None = None


class Merged(BaseModel):
    """Pauses merged away: up to ``until`` (the end of the last of them) the cycle's clock
    counted ``business_us`` of business time and ``elapsed_us`` of elapsed time."""

    model_config = ConfigDict(frozen=True)

    until: datetime
    business_us: int
    elapsed_us: int
    pauses: int

    def counted_us(self, clock: str) -> int:
        return self.elapsed_us if clock == "elapsed" else self.business_us


class Cycle(BaseModel):
    """One cycle of a metric: its facts (start, pauses, stop) and its judgement (the target it is
    judged by and the instants that follow from it). ``kind`` is None until the ticket's
    classification is known (a pending ticket); a stopped cycle keeps the judgement it had at its
    stop."""

    model_config = ConfigDict(frozen=True)

    number: int
    started_at: datetime | None = None  # None: the ticket's creation, not known yet
    pauses: tuple[Interval, ...] = ()
    merged: Merged | None = None
    paused_since: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: StopReason | None = None
    kind: TargetKind | None = None
    priority: int | None = None
    target: Target | None = None
    warnings: tuple[WarningAt, ...] = ()
    deadline: datetime | None = None

    @property
    def ongoing(self) -> bool:
        return self.stopped_at is None

    @property
    def judged(self) -> bool:
        return self.kind is not None

    @property
    def breached_by_stop(self) -> bool:
        """Stopped after its deadline."""
        return (
            self.stopped_at is not None
            and self.deadline is not None
            and self.stopped_at > self.deadline
        )

    @property
    def met(self) -> bool:
        """Stopped at or before its deadline."""
        return (
            self.stopped_at is not None
            and self.deadline is not None
            and self.stopped_at <= self.deadline
        )

    def active_pauses(self) -> tuple[Interval, ...]:
        """The pauses within the cycle's span (a pause before the start does not count) and
        after the merged ones."""
        start = self.started_at
        if start is None:
            return ()
        if self.merged is not None:
            start = max(start, self.merged.until)
        end = self.stopped_at
        result: list[Interval] = []
        for a, b in self.pauses:
            a = max(a, start)
            if end is not None:
                b = min(b, end)
            if a < b:
                result.append((a, b))
        return tuple(result)

    def open_pause(self) -> datetime | None:
        """Since when a running cycle is paused (not before its start), or None."""
        if self.paused_since is None or self.stopped_at is not None or self.started_at is None:
            return None
        return max(self.paused_since, self.started_at)


class MetricState(BaseModel):
    """A metric of a ticket: its cycles kept in detail (the ongoing one and the latest completed
    ones) and the counts of the older completed cycles dropped from the detail, so that a ticket's
    state stays bounded however many exchanges it has."""

    model_config = ConfigDict(frozen=True)

    cycles: tuple[Cycle, ...] = ()
    earlier_met: int = 0
    earlier_breached: int = 0

    @property
    def ongoing(self) -> Cycle | None:
        last = self.cycles[-1] if self.cycles else None
        return last if last is not None and last.ongoing else None

    @property
    def count(self) -> int:
        return self.cycles[-1].number if self.cycles else 0


class Judgement(BaseModel):
    model_config = ConfigDict(frozen=True)

    warnings: tuple[WarningAt, ...]
    deadline: datetime | None


def _segments(
    start: int, pauses: Sequence[tuple[int, int]], end: int | None
) -> list[tuple[int, int | None]]:
    """The active segments from ``start``: between the pauses, the last one open (None) unless
    the clock is paused since ``end``."""
    result: list[tuple[int, int | None]] = []
    at = start
    for a, b in pauses:
        if a > at:
            result.append((at, a))
        at = max(at, b)
    result.append((at, end))
    return result


def _span(calendar: BusinessCalendar, clock: str, a: int, b: int) -> int:
    if clock == "elapsed":
        return b - a
    return calendar.between_us(a, b)


def _reach(calendar: BusinessCalendar, clock: str, a: int, amount: int) -> datetime:
    if clock == "elapsed":
        return from_epoch_us(a + amount)
    return calendar.add_us(a, amount)


def judge(
    calendar: BusinessCalendar,
    start: datetime,
    target: Target,
    fractions: Sequence[float],
    pauses: Sequence[Interval],
    paused_since: datetime | None,
    merged: Merged | None = None,
    reached: Sequence[datetime | None] = (),
) -> Judgement:
    """When the cycle's counted time reaches each warning fraction and its target. ``pauses`` are
    closed intervals within the cycle (sorted), ``paused_since`` an open one (the instants past it
    are then unknown). With ``merged`` pauses, counting resumes at their end from what the clock
    had counted; an instant reached before that is taken from ``reached`` (the same target's
    earlier judgement, in the order of ``fractions`` then the target), else it is the end of the
    merged pauses (a reclassification whose new deadline passed long ago: breached at once).
    ValueError when the deadline would fall past the year 9999."""
    total = round(target.hours * 3_600_000_000)
    amounts = [round(total * f) for f in fractions] + [total]
    s = to_epoch_us(start)
    if merged is None and not pauses and paused_since is None:
        # one open segment from the start, the usual cycle: each instant is the start plus its
        # amount in the target's clock (what the walk below gives for it)
        try:
            if target.clock == "elapsed":
                found: list[datetime | None] = [from_epoch_us(s + a) for a in amounts]
            else:
                add = calendar.add_us
                found = [add(s, a) for a in amounts]
        except OverflowError:
            raise ValueError(_PAST_THE_END) from None
        return _judgement(fractions, found)
    counted_before = 0
    if merged is not None:
        s, counted_before = to_epoch_us(merged.until), merged.counted_us(target.clock)
    us_pauses = [(to_epoch_us(a), to_epoch_us(b)) for a, b in pauses]
    end = to_epoch_us(paused_since) if paused_since is not None else None
    found = []
    segments = _segments(s, us_pauses, end)
    i = 0
    try:
        for k, amount in enumerate(amounts):
            instant: datetime | None = None
            if merged is not None and amount <= merged.counted_us(target.clock):
                earlier = reached[k] if k < len(reached) else None
                found.append(earlier if earlier is not None else merged.until)
                continue
            while i < len(segments):
                a, b = segments[i]
                if b is None:
                    instant = _reach(calendar, target.clock, a, amount - counted_before)
                    break
                size = _span(calendar, target.clock, a, b) if b > a else 0
                if counted_before + size >= amount:
                    instant = _reach(calendar, target.clock, a, amount - counted_before)
                    break
                counted_before += size
                i += 1
            found.append(instant)
    except OverflowError:
        raise ValueError(_PAST_THE_END) from None
    return _judgement(fractions, found)


def _judgement(fractions: Sequence[float], found: list[datetime | None]) -> Judgement:
    """The instants found for each fraction, then the target, as a judgement."""
    warnings = tuple(
        built(WarningAt, {"threshold": f, "at": at})
        for f, at in zip(fractions, found, strict=False)
    )
    return built(Judgement, {"warnings": warnings, "deadline": found[-1]})


def compacted(cycle: Cycle, calendar: BusinessCalendar) -> Cycle:
    """The cycle with its oldest pauses merged when it keeps more than ``MAX_PAUSES`` (it must
    have a start)."""
    if len(cycle.pauses) <= MAX_PAUSES or cycle.started_at is None:
        return cycle
    cut = len(cycle.pauses) - _KEEP_AFTER_MERGE
    old, kept = cycle.pauses[:cut], cycle.pauses[cut:]
    merged = cycle.merged
    start = cycle.started_at if merged is None else max(cycle.started_at, merged.until)
    until = max(start, old[-1][1])
    segments = _segments(
        to_epoch_us(start),
        [(to_epoch_us(max(a, start)), to_epoch_us(b)) for a, b in old if b > start],
        to_epoch_us(until),
    )
    business = sum(calendar.between_us(a, b) for a, b in segments if b is not None and b > a)
    elapsed = sum(b - a for a, b in segments if b is not None and b > a)
    if merged is not None:
        business += merged.business_us
        elapsed += merged.elapsed_us
    return replaced(
        cycle,
        pauses=kept,
        merged=Merged(
            until=until,
            business_us=business,
            elapsed_us=elapsed,
            pauses=len(old) + (merged.pauses if merged is not None else 0),
        ),
    )


def counted(
    calendar: BusinessCalendar,
    clock: str,
    start: datetime,
    pauses: Sequence[Interval],
    until: datetime,
    merged: Merged | None = None,
) -> timedelta:
    """The time a cycle's clock counted from ``start`` up to ``until``, leaving out the pauses
    (closed intervals within the cycle; an open pause is given as one ending at ``until``) and
    counting what the ``merged`` pauses left up to their end."""
    total = 0
    if merged is not None and until >= merged.until:
        start, total = merged.until, merged.counted_us(clock)
    s, u = to_epoch_us(start), to_epoch_us(until)
    if u <= s:
        return timedelta(microseconds=total)
    for a, b in _segments(s, [(to_epoch_us(x), to_epoch_us(y)) for x, y in pauses], u):
        assert b is not None
        b = min(b, u)
        if b > a:
            total += _span(calendar, clock, a, b)
    return timedelta(microseconds=total)
