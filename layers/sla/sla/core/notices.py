"""What is owed to subscribers: warnings, breach notices and retractions, as pure functions.

A notice is identified by its metric, its cycle, its kind and the instant it is *for*: a warning
time, the deadline, or (for a retraction) the deadline whose breach it retracts. Exactly one of
each is published per ticket; a new deadline (after a reclassification or a pause) owes new ones.

For each targeted cycle of each metric, with warning times W (one per warning fraction; unknown
while paused before reaching them), deadline D (unknown while paused before it) and stop S (None
while running):

* a warning is owed at each W unless the clock stopped at or before W;
* a breach is owed just after D unless the clock stopped at or before D; a reply after the
  deadline still owes it (the ticket did breach), so a late reply never hides a breach;
* a retraction is owed for every published breach when the clock stopped at or before D: a reply
  that happened in time but was delivered after the breach went out.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sla.core.state import TicketState
from sla.core.terms import MetricName

__all__ = [
    "Notice",
    "NoticeKey",
    "NoticeKind",
    "Owed",
    "TimerKind",
    "at_expression",
    "check_schedule_name",
    "due_at",
    "fire_at",
    "kept_notices",
    "notification_id",
    "owed",
    "schedule_name",
]

NoticeKind = Literal["warning", "breach", "retraction"]
TimerKind = Literal["warning", "breach"]
_NAMESPACE = uuid.UUID("5b1d6a3e-8f0c-4c55-9a55-2f4e1f6c9b10")
# A breach is announced strictly after the deadline: a reply at the deadline itself is in time.
BREACH_AFTER = timedelta(seconds=1)
# Scheduler fires with minute precision, and a timer must be at least this far ahead
MIN_LEAD = timedelta(seconds=60)
_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
_AT = re.compile(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\)")


# (metric, cycle, kind, instant): what identifies a notice of a ticket
NoticeKey = tuple[MetricName, int, NoticeKind, datetime]
FIRST: MetricName = "first_response"


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice that was published."""

    kind: NoticeKind
    for_: datetime
    id: str
    metric: MetricName = FIRST
    cycle: int = 1

    @property
    def key(self) -> NoticeKey:
        return (self.metric, self.cycle, self.kind, self.for_)


@dataclass(frozen=True, slots=True)
class Owed:
    """A notice that is owed: its metric and cycle, its kind, the instant it is for, when it
    falls due, and (for a warning) the fraction of the target it marks."""

    kind: NoticeKind
    for_: datetime
    due_at: datetime
    metric: MetricName = FIRST
    cycle: int = 1
    threshold: float | None = None

    @property
    def key(self) -> NoticeKey:
        return (self.metric, self.cycle, self.kind, self.for_)


def notification_id(
    ticket_id: str, kind: NoticeKind, for_: datetime, metric: MetricName = FIRST, cycle: int = 1
) -> str:
    """Stable across retries and instances, so subscribers can drop repeats. First response's
    keep the ids they had before there were other metrics."""
    name = f"{ticket_id}\x00{kind}\x00{for_.isoformat()}"
    if (metric, cycle) != (FIRST, 1):
        name += f"\x00{metric}\x00{cycle}"
    return str(uuid.uuid5(_NAMESPACE, name))


def schedule_name(
    ticket_id: str, kind: TimerKind, metric: MetricName = FIRST, cycle: int = 1
) -> str:
    """A Scheduler name of at most 64 characters of [0-9a-z-], whatever the ticket id: one per
    ticket, metric, cycle and timer kind. First response's keep the names they had before there
    were other metrics (so that live schedules of a running stack stay theirs)."""
    digest = base64.b32encode(hashlib.sha256(ticket_id.encode("utf-8")).digest())
    text = digest.decode("ascii").rstrip("=").lower()
    if (metric, cycle) == (FIRST, 1):
        return f"sla-{kind[0]}-" + text
    return f"sla-{metric[0]}{kind[0]}{cycle}-" + text[:48]


def check_schedule_name(name: str) -> str:
    """A schedule name as Scheduler allows it, or ValueError."""
    if not _NAME.fullmatch(name):
        raise ValueError("malformed schedule name")
    return name


def owed(state: TicketState, published: frozenset[NoticeKey]) -> list[Owed]:
    """Every notice this state owes that is not in ``published`` (keys of notices)."""
    result: list[Owed] = []
    for metric, ms in state.metrics.items():
        for cycle in ms.cycles:
            if cycle.kind != "targeted":
                continue
            n, stop, deadline = cycle.number, cycle.stopped_at, cycle.deadline

            def new(kind: NoticeKind, for_: datetime) -> bool:
                return (metric, n, kind, for_) not in published  # noqa: B023 - called at once

            for w in cycle.warnings:
                if w.at is not None and (stop is None or stop > w.at) and new("warning", w.at):
                    result.append(Owed("warning", w.at, w.at, metric, n, w.threshold))
            if deadline is None:
                continue
            if (stop is None or stop > deadline) and new("breach", deadline):
                result.append(Owed("breach", deadline, deadline + BREACH_AFTER, metric, n))
            if stop is not None and stop <= deadline:
                for m, c, kind, for_ in sorted(published):
                    if (m, c, kind) == (metric, n, "breach") and new("retraction", for_):
                        result.append(Owed("retraction", for_, stop, metric, n))
    return result


def kept_notices(state: TicketState, notices: tuple[Notice, ...]) -> tuple[Notice, ...]:
    """The published notices worth keeping beside the state: those of the cycles it still holds
    in detail (the claims, kept apart, still make a notice of a dropped cycle go out once)."""
    held = {(m, c.number) for m, ms in state.metrics.items() for c in ms.cycles}
    if all((n.metric, n.cycle) in held for n in notices):
        return notices
    return tuple(n for n in notices if (n.metric, n.cycle) in held)


def next_due(items: list[Owed]) -> datetime | None:
    """When the earliest owed notice falls due (the sweeper's index), or None."""
    return min((o.due_at for o in items), default=None)


def due_at(state: TicketState, published: frozenset[NoticeKey]) -> datetime | None:
    """When the earliest notice this state owes falls due (the sweeper's index), or None."""
    return next_due(owed(state, published))


def fire_at(due: datetime, now: datetime) -> datetime | None:
    """When to fire for an instant due then: a whole minute at or after it, and never less than a
    minute ahead of now; None when it is due already (judge it at once instead)."""
    if due <= now:
        return None
    due = max(due, now + MIN_LEAD).astimezone(UTC)
    whole = due.replace(second=0, microsecond=0)
    return whole if whole == due else whole + timedelta(minutes=1)


def at_expression(when: datetime, now: datetime) -> str:
    """The one-time schedule expression ``at(...)`` for ``when`` (UTC, a whole minute, in the
    future), checked: Scheduler (and moto) would take a malformed one."""
    if when.tzinfo is None or when.utcoffset() != timedelta(0):
        raise ValueError("a schedule time must be UTC")
    if when <= now:
        raise ValueError("a schedule time must be in the future")
    if when.second or when.microsecond:
        raise ValueError("malformed schedule time: not a whole minute")
    expression = f"at({when:%Y-%m-%dT%H:%M:%S})"
    if not _AT.fullmatch(expression):
        raise ValueError(f"malformed schedule expression {expression}")
    return expression
