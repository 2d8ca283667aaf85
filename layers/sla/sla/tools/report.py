"""``sla report``: the SLA report of a period, from a JSON-lines export of canonical events or
from the ticket table, as a short text summary, a self-contained HTML page and CSV; with
``--what-if FILE``, the same tickets recomputed under a proposed policy, side by side.

How it works, in three layers:

* **Reading** turns the input into each ticket's folded state (:class:`TicketState`), one per
  policy. From an export, lines are read in order and each event is added to its ticket's fold
  (:class:`TicketFold`, what :func:`apply_event` does without making the state's models for
  every event); only the folds are kept, never the events, so memory grows with tickets, not
  events. An event that comes before its ticket's last one (or repeats an earlier one) marks
  the ticket for a refold: once the file is read, a second pass over the part of the file
  between the first and the last line of those tickets notes the byte offsets of their lines (8
  bytes a line, for those tickets only), then each is folded again from its own lines with
  :func:`fold_events` (:func:`reduce_events` without the history), one ticket at a time, which
  also drops repeated delivery ids as the webhook does (an id seen again right after its own
  event marks the ticket too; an id reused for a later event after other events of the ticket
  is not noticed: the report does not keep every id). From the table, each ticket item is
  decoded as the store decodes it (:func:`sla.aws.store.ticket_from_item`), page by page, and
  tallied at once; the what-if refolds the recorded events
  (:meth:`DynamoTicketStore.events`) of the period's tickets.
* **Outcomes**: :func:`outcomes` turns a state into narrow records, one per ticket, metric and
  cycle (:class:`Outcome`). It is the one place that knows how a state says what happened;
  everything after it works on outcomes and groups by metric.
* **Aggregation**: :class:`Tally` counts outcomes by metric, plan and priority, by week, and keeps
  the response times (for the median and the 90th percentile) and the breaches.

From an export, ``--jobs N`` shares the tickets out among N worker processes by a stable hash of
their ids (:func:`ticket_share`). Processes are forked (the start method that needs nothing
pickled or imported again; on a system without fork, Windows, the report runs in one process).
Each worker reads the whole file but parses only its own tickets' lines, found by a cheap look
at the bytes (:func:`line_share`; a line the look cannot place, such as one with a backslash,
is parsed by every worker and kept by the one whose ticket it is), folds and tallies them as
above, and sends its tallies to the parent, which merges them (:meth:`Tally.merge`: the same
counts, times and most common targets as one tally of all). A malformed line is reported by the
worker it was placed with, or by the first worker when the look cannot place it; the parent
relays the workers' problems in the order of the file and their progress (the slowest one's
lines). Each worker holds its share of the tickets: memory stays bounded by tickets.

A line of the export is parsed as the webhook parses a body (:mod:`sla.tools.export_lines`): the
usual line takes a fast path, any other the webhook's own, whose answer is the reference.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import math
import multiprocessing
import os
import re
import sys
import time
import traceback
import zlib
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.core.cycles import counted
from sla.core.errors import SlaError
from sla.core.events import TicketEvent
from sla.core.policy import Policy, PolicyError, load_policy
from sla.core.state import TicketFold, TicketState, fold_events
from sla.core.terms import Clock
from sla.core.view import status_at
from sla.tools.export_lines import LineError, fast_event, validated_event

__all__ = [
    "FIRST_RESPONSE",
    "METRICS",
    "EventsReader",
    "Group",
    "LineError",
    "Outcome",
    "OutcomeStatus",
    "Period",
    "Report",
    "Side",
    "TableReader",
    "Tally",
    "add_parser",
    "default_jobs",
    "fast_event",
    "line_maybe_of",
    "line_share",
    "outcomes",
    "parse_bound",
    "percentile",
    "run",
    "ticket_share",
    "validated_event",
    "write_csv",
]

OutcomeStatus = Literal["met", "breached", "running", "exempt", "no_target", "pending"]
STATUSES: tuple[OutcomeStatus, ...] = (
    "met",
    "breached",
    "running",
    "exempt",
    "no_target",
    "pending",
)
FIRST_RESPONSE = "first_response"
# the metrics in the order reports show them; others follow by name
METRICS = (FIRST_RESPONSE, "next_reply", "resolution")
_US = 1_000_000
_HOUR_US = 3_600 * _US


# -- outcomes ---------------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What happened to one cycle of one metric of one ticket, as the report needs it
    (immutable; a named tuple, which a report makes for every cycle of every ticket at a
    tenth of the cost of a frozen dataclass).

    ``status`` is the metric's status at the report's instant (``pending``: the ticket's
    snapshots have not given its creation time or plan yet). ``took`` is the time from the start
    to the stop in the target's clock (business time without a target); None while running.
    ``created_at`` is the ticket's creation, which decides the period it belongs to."""

    ticket_id: str
    metric: str
    cycle: int
    plan: str
    priority: int | None
    status: OutcomeStatus
    created_at: datetime | None
    started_at: datetime | None
    stopped_at: datetime | None
    deadline: datetime | None
    target_hours: float | None
    clock: Clock | None
    took: timedelta | None


def _took(policy: Policy, clock: Clock | None, start: datetime, stop: datetime) -> timedelta:
    if clock == "elapsed":
        return stop - start
    return policy.calendar.business_time_between(start, stop)


def outcomes(state: TicketState, policy: Policy, now: datetime) -> list[Outcome]:
    """The outcomes of a ticket's state at ``now``: its first response, then every cycle of the
    other metrics the state tracks (next reply, resolution). Completed cycles a stored state no
    longer holds in detail count by their outcome under the ticket's priority now, without
    times (cycle 0); a state folded for a report keeps every cycle.

    ``policy`` is the policy the state was folded by (its calendar measures business time)."""
    if state.terms is None or state.current is None:
        created = state.snapshot.created_at
        return [
            Outcome(
                ticket_id=state.ticket_id,
                metric=FIRST_RESPONSE,
                cycle=1,
                plan=state.snapshot.plan or "",
                priority=None,
                status="pending",
                created_at=created,
                started_at=created,
                stopped_at=state.clock_stopped_at,
                deadline=None,
                target_hours=None,
                clock=None,
                took=None,
            )
        ]
    terms = state.terms
    target = terms.target
    clock = target.clock if target is not None else None
    stopped = state.clock_stopped_at
    started = terms.clock_started_at
    first = [
        Outcome(
            ticket_id=state.ticket_id,
            metric=FIRST_RESPONSE,
            cycle=1,
            plan=terms.plan,
            priority=terms.priority,
            status=status_at(state, now),  # the status the ticket's SLA view shows at now
            created_at=started,
            started_at=started,
            stopped_at=stopped,
            deadline=terms.deadline,
            target_hours=target.hours if target is not None else None,
            clock=clock,
            took=None if stopped is None else _took(policy, clock, started, stopped),
        )
    ]
    return first + _cycle_outcomes(state, policy, now, terms.clock_started_at)


def _cycle_outcomes(
    state: TicketState, policy: Policy, now: datetime, created: datetime
) -> list[Outcome]:
    result: list[Outcome] = []
    for metric, ms in state.metrics.items():
        if metric == FIRST_RESPONSE:
            continue
        plan = state.current.plan if state.current is not None else state.plan
        priority = state.current.priority if state.current is not None else None
        earlier: tuple[tuple[OutcomeStatus, int], ...] = (
            ("met", ms.earlier_met),
            ("breached", ms.earlier_breached),
        )
        for outcome, count in earlier:
            result.extend(
                Outcome(state.ticket_id, metric, 0, plan, priority, outcome, created, *[None] * 6)
                for _ in range(count)
            )
        for cycle in ms.cycles:
            if not cycle.judged or cycle.started_at is None:
                continue
            target, stop, deadline = cycle.target, cycle.stopped_at, cycle.deadline
            clock = target.clock if target is not None else None
            status: OutcomeStatus
            if cycle.kind == "exempt" or cycle.kind == "no_target":
                status = cycle.kind
            elif stop is not None:
                status = "met" if cycle.met else "breached"
            else:
                status = "breached" if deadline is not None and now > deadline else "running"
            took = None
            if stop is not None:
                took = counted(
                    policy.calendar,
                    clock or "business",
                    cycle.started_at,
                    cycle.active_pauses(),
                    stop,
                    cycle.merged,
                )
            result.append(
                Outcome(
                    ticket_id=state.ticket_id,
                    metric=metric,
                    cycle=cycle.number,
                    plan=plan,
                    priority=cycle.priority,
                    status=status,
                    created_at=created,
                    started_at=cycle.started_at,
                    stopped_at=stop,
                    deadline=deadline,
                    target_hours=target.hours if target is not None else None,
                    clock=clock,
                    took=took,
                )
            )
    return result


# -- the period -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """Tickets created in ``[start, end)``; an open side is unbounded."""

    start: datetime | None = None
    end: datetime | None = None

    def __contains__(self, instant: datetime) -> bool:
        return (self.start is None or instant >= self.start) and (
            self.end is None or instant < self.end
        )


def parse_bound(text: str, zone: ZoneInfo) -> datetime:
    """A date (its midnight) or an instant; without an offset, wall time in ``zone``. UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date or an ISO 8601 instant: {text!r}") from None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


# -- aggregation ------------------------------------------------------------------------------


def percentile(ordered: Sequence[int], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated linearly between the closest ranks
    (Excel's PERCENTILE.INC, numpy's default): the median of 1, 2, 3, 10 is 2.5."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _target_of(outcome: Outcome) -> tuple[float, str] | None:
    """The target an outcome was judged by (hours, clock), or None."""
    if outcome.target_hours is None or outcome.clock is None:
        return None
    return (outcome.target_hours, outcome.clock)


def _took_us(outcome: Outcome) -> int | None:
    """The outcome's time (µs), or None."""
    took = outcome.took
    if took is None:
        return None
    return (took.days * 86_400 + took.seconds) * _US + took.microseconds


@dataclass(slots=True)
class Group:
    """The counts of one group of outcomes, their response times (µs, by clock) and targets."""

    met: int = 0
    breached: int = 0
    running: int = 0
    exempt: int = 0
    no_target: int = 0
    pending: int = 0
    took: dict[str, list[int]] = field(default_factory=dict)
    targets: Counter[tuple[float, str]] = field(default_factory=Counter)
    # where each target was first seen (the ticket's place in the input): merging keeps the
    # order targets were first seen in, which breaks a tie for the most common
    seen: dict[tuple[float, str], int] = field(default_factory=dict)
    _sorted: dict[str, list[int]] = field(default_factory=dict)

    def add(self, outcome: Outcome, at: int = 0) -> None:
        """Count an outcome; ``at`` is its ticket's place in the input (see :meth:`merge`)."""
        self.count(outcome.status, _target_of(outcome), _took_us(outcome), outcome.clock, at)

    def count(
        self,
        status: OutcomeStatus,
        target: tuple[float, str] | None,
        took_us: int | None,
        clock: Clock | None,
        at: int,
    ) -> None:
        """:meth:`add` of an outcome's parts, worked out once for the groups it counts in."""
        if status == "met":
            self.met += 1
        elif status == "breached":
            self.breached += 1
        elif status == "running":
            self.running += 1
        elif status == "exempt":
            self.exempt += 1
        elif status == "no_target":
            self.no_target += 1
        else:
            self.pending += 1
        if target is not None:
            targets = self.targets
            if target in targets:
                targets[target] += 1
            else:
                targets[target] = 1
                self.seen[target] = at
        if took_us is not None:
            times = self.took.get(clock or "business")
            if times is None:
                times = self.took[clock or "business"] = []
            times.append(took_us)
            if self._sorted:
                self._sorted.clear()

    def merge(self, other: Group) -> None:
        """Add the outcomes another group counted, as if they had been added here: the counts,
        the times (their lists in another order, sorted where used) and the targets in the
        order they were first seen in the input (``at``), whatever the order of merging."""
        self.met += other.met
        self.breached += other.breached
        self.running += other.running
        self.exempt += other.exempt
        self.no_target += other.no_target
        self.pending += other.pending
        for clock, values in other.took.items():
            self.took.setdefault(clock, []).extend(values)
        self._sorted.clear()
        first: dict[tuple[float, str], tuple[int, int]] = {}
        for source in (self, other):
            for rank, key in enumerate(source.targets):
                place = (source.seen.get(key, 0), rank)
                if key not in first or place < first[key]:
                    first[key] = place
        targets: Counter[tuple[float, str]] = Counter()
        for key in sorted(first, key=first.__getitem__):
            targets[key] = self.targets[key] + other.targets[key]
        self.targets = targets
        self.seen = {key: first[key][0] for key in targets}

    @property
    def tickets(self) -> int:
        return self.met + self.breached + self.running + self.exempt + self.no_target + self.pending

    @property
    def achievement(self) -> float | None:
        """Met among those judged (met or breached); None when none is."""
        judged = self.met + self.breached
        return self.met / judged if judged else None

    @property
    def target(self) -> tuple[float, str] | None:
        """The target most of the group's tickets had (hours, clock), or None."""
        return self.targets.most_common(1)[0][0] if self.targets else None

    @property
    def clock(self) -> str:
        """The clock its times are measured in: its target's, else business time."""
        target = self.target
        return target[1] if target is not None else "business"

    def times(self) -> list[int]:
        """The response times (µs) in the group's clock, sorted."""
        clock = self.clock
        done = self._sorted.get(clock)
        if done is None:
            done = self._sorted[clock] = sorted(self.took.get(clock, ()))
        return done

    def quantile_hours(self, q: float) -> float | None:
        values = self.times()
        return percentile(values, q) / _HOUR_US if values else None


GroupKey = tuple[str, str, int | None]  # metric, plan, priority
_K = TypeVar("_K")


@dataclass(slots=True)
class Tally:
    """Outcomes counted by (metric, plan, priority), by metric, by (metric, week of creation in
    the report's zone, its Monday), and the breaches by metric."""

    zone: ZoneInfo
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    totals: dict[str, Group] = field(default_factory=dict)
    weeks: dict[tuple[str, date], Group] = field(default_factory=dict)
    breaches: dict[str, list[Outcome]] = field(default_factory=dict)

    def add(self, outcome: Outcome, at: int = 0) -> None:
        """Count an outcome; ``at`` is its ticket's place in the input (see :meth:`merge`)."""
        parts = (outcome.status, _target_of(outcome), _took_us(outcome), outcome.clock, at)
        key = (outcome.metric, outcome.plan, outcome.priority)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group()
        group.count(*parts)
        total = self.totals.get(outcome.metric)
        if total is None:
            total = self.totals[outcome.metric] = Group()
        total.count(*parts)
        if outcome.created_at is not None:
            local = outcome.created_at.astimezone(self.zone).date()
            week_key = (outcome.metric, local - timedelta(days=local.weekday()))
            week = self.weeks.get(week_key)
            if week is None:
                week = self.weeks[week_key] = Group()
            week.count(*parts)
        if outcome.status == "breached":
            self.breaches.setdefault(outcome.metric, []).append(outcome)

    def merge(self, other: Tally) -> None:
        """Add what another tally of other tickets counted (:meth:`Group.merge`); the summary,
        the CSV and the page then show what one tally of all the tickets shows (the breaches
        come in another order: they are sorted where shown)."""
        _merge_groups(self.groups, other.groups)
        _merge_groups(self.totals, other.totals)
        _merge_groups(self.weeks, other.weeks)
        for metric, breaches in other.breaches.items():
            self.breaches.setdefault(metric, []).extend(breaches)


def _merge_groups(mine: dict[_K, Group], theirs: dict[_K, Group]) -> None:
    for key, group in theirs.items():
        found = mine.get(key)
        if found is None:
            found = mine[key] = Group()
        found.merge(group)


@dataclass(slots=True)
class Side:
    """One policy's view of the tickets: its label (the policy file, or "default policy")."""

    label: str
    policy: Policy
    tally: Tally
    tickets: int = 0


@dataclass(slots=True)
class Report:
    """Everything the summary, the CSV and the page show."""

    period: Period
    zone: ZoneInfo
    now: datetime
    source: str
    sides: list[Side]
    undated: int = 0  # pending tickets without a creation time: in no period
    problems: int = 0  # malformed lines, unreadable items, tickets that did not fold

    @property
    def current(self) -> Side:
        return self.sides[0]

    @property
    def what_if(self) -> Side | None:
        return self.sides[1] if len(self.sides) > 1 else None

    def metrics(self) -> list[str]:
        present = {m for side in self.sides for m in side.tally.totals}
        return sorted(present, key=lambda m: (METRICS.index(m) if m in METRICS else 99, m))

    def group_keys(self, metric: str) -> list[GroupKey]:
        """The groups of a metric on either side: plans in the current policy's order (then
        any others by name), priorities ascending, unknown ones last."""
        keys = {k for side in self.sides for k in side.tally.groups if k[0] == metric}
        order = {name: i for i, name in enumerate(self.current.policy.config.plans)}

        def rank(key: GroupKey) -> tuple[int, str, int, int]:
            _, plan, priority = key
            return (
                order.get(plan, len(order)),
                plan,
                priority is None,
                priority if priority is not None else 0,
            )

        return sorted(keys, key=rank)

    def weeks(self, metric: str) -> list[date]:
        """Every week (its Monday) from the first to the last with tickets of the metric."""
        found = sorted({w for side in self.sides for (m, w) in side.tally.weeks if m == metric})
        if not found:
            return []
        out, week = [], found[0]
        while week <= found[-1]:
            out.append(week)
            week += timedelta(days=7)
        return out


# -- reading an export of events --------------------------------------------------------------


Parse = Callable[[bytes, Policy, datetime], TicketEvent | None]
_ID_VALUE = re.compile(rb'"id"\s*:\s*"([^"\\]*)"')
Progress = Callable[[str], None]
# where a problem is in the input, to report the problems of several readers in order:
# (0, line number) while reading, then (1, the offset of its ticket's first line) when refolding
Place = tuple[int, int]
_TICKET_KEY = re.compile(rb'"ticket"\s*:\s*\{')
_USUAL_START = b'"ticket": {"id": "'


def ticket_share(ticket_id: str, count: int) -> int:
    """Which of ``count`` shares a ticket falls in: a stable hash of its id (CRC-32 of its UTF-8
    bytes; Python's own string hash changes from process to process)."""
    return zlib.crc32(ticket_id.encode("utf-8", "surrogatepass")) % count


def line_share(line: bytes, count: int) -> int | None:
    """The share of the ticket a line is about, from a cheap look at its bytes, or None when
    the look cannot tell (the line must be parsed to know). It never names another share than
    the parsed event's: in valid JSON without a backslash every quote opens or closes a string,
    so ``"ticket"`` found once is the top-level key; the first ``}`` after its ``{``, with an
    even number of quotes and no ``{`` between them, ends its object; each ``"id"`` in it is
    one of its keys, and the ticket's id one of their values (the last, when repeated): if they
    all fall in one share, so does the ticket. Lines that are not valid JSON fail to parse."""
    key = _ticket_key(line)
    if key < 0:
        return None
    if line.startswith(_USUAL_START, key):
        usual = _usual_id(line, key)
        return None if usual is None else zlib.crc32(usual) % count
    found = _TICKET_KEY.match(line, key)
    if found is None:
        return None
    end = line.find(b"}", found.end())
    inside = line[found.end() : end]
    if end < 0 or b"{" in inside or inside.count(b'"') % 2:
        return None  # an object in it, or a brace in a string: not sure where it ends
    share = None
    for value in _ID_VALUE.findall(inside):
        this = zlib.crc32(value) % count
        if share is not None and this != share:
            return None
        share = this
    return share


# single bytes, found by memchr when given as ints (a one-byte bytes needle takes a slower path)
_BACKSLASH, _QUOTE, _OPEN, _CLOSE = b"\\"[0], b'"'[0], b"{"[0], b"}"[0]


def _ticket_key(line: bytes) -> int:
    """Where the line's one ``"ticket"`` is, or -1 when it has a backslash, or none or several
    (the conditions of :func:`line_share`'s look)."""
    if _BACKSLASH in line:
        return -1
    key = line.find(b'"ticket"')
    if key < 0 or line.find(b'"ticket"', key + 8) >= 0:
        return -1
    return key


def _usual_id(line: bytes, key: int) -> bytes | None:
    """The ticket's id in a line written the usual way, ``"ticket": {"id": "...", ...}`` at
    ``key`` (:func:`_ticket_key`; :func:`line_share`'s look in a few finds, without a regex):
    the object has no other ``"id"`` and nothing nested, else None."""
    begin = key + len(_USUAL_START)
    quote = line.find(_QUOTE, begin)
    end = line.find(_CLOSE, quote)
    if (
        quote > 0
        and end > 0
        and line.find(_OPEN, quote, end) < 0
        and line.find(b'"id"', quote, end) < 0
        and line.count(b'"', quote + 1, end) % 2 == 0
    ):
        return line[begin:quote]
    return None


def line_maybe_of(line: bytes, wanted: set[bytes]) -> bool:
    """Whether a line may be about one of the tickets whose ids (UTF-8) are ``wanted``: a line
    without a backslash writes each string in one way only, so unless one of its ``"id"``
    values is wanted, it is not theirs (the usual writing names its ticket's id at once)."""
    if _BACKSLASH in line:
        return True
    key = _ticket_key(line)
    if key >= 0 and line.startswith(_USUAL_START, key):
        usual = _usual_id(line, key)
        if usual is not None:
            return usual in wanted
    return not wanted.isdisjoint(_ID_VALUE.findall(line))


@dataclass(slots=True)
class _Ticket:
    """What the export reader keeps of a ticket: its folds (one per policy; None where the fold
    failed), the key of its last event, and where its lines are in the file."""

    folds: list[TicketFold | None]
    last_at: datetime
    last_id: str
    first: int
    last: int
    dirty: bool = False


class EventsReader:
    """Folds a JSON-lines export of canonical events into each ticket's state under each policy;
    memory grows with tickets, not with events (see the module's docstring).

    With ``share=(index, count)`` it keeps only the tickets whose id falls in share ``index`` of
    ``count`` (:func:`ticket_share`): it reads every line but parses only those a cheap look at
    the bytes gives to its share (:func:`line_share`), or that the look cannot place, and it
    reports a malformed line only if the line is its share's, or cannot be placed and its share
    is the first. ``warn_at`` then gets each problem with its place in the input (:data:`Place`)
    and ``mark`` is called every 16,384 lines with the lines read and the tickets kept, so that
    several readers' reports can be merged in order."""

    def __init__(
        self,
        policies: Sequence[Policy],
        labels: Sequence[str],
        now: datetime,
        *,
        warn: Callable[[str], None],
        progress: Progress | None = None,
        parse: Parse = fast_event,
        share: tuple[int, int] = (0, 1),
        warn_at: Callable[[Place, str], None] | None = None,
        mark: Callable[[int, int], None] | None = None,
    ) -> None:
        self.policies = list(policies)
        self.labels = list(labels)
        self.now = now
        self.warn = warn
        self.warn_at = warn_at or (lambda _, message: warn(message))
        self.progress = progress
        self.mark = mark
        self.parse = parse
        self.share = share
        self.tickets: dict[str, _Ticket] = {}
        self.lines = 0
        self.events = 0
        self.problems = 0
        self.refolded = 0
        self._tick = 0.0

    def read(self, path: str | Path) -> None:
        """Read and fold the whole file (OSError if it cannot be read)."""
        with open(path, "rb") as stream:
            enabled = gc.isenabled()
            gc.disable()  # the fold allocates much and frees little: collections only cost
            try:
                self._first_pass(stream)
                if any(t.dirty for t in self.tickets.values()):
                    self._refold(stream)
            finally:
                if enabled:
                    gc.enable()

    def _fail(self, place: Place, where: str, side: int, exc: ValueError) -> None:
        self.problems += 1
        under = f" (under {self.labels[side]})" if side else ""
        self.warn_at(place, f"{where}: {exc}{under}")

    def _ticked(self, lines: int) -> None:
        if self.mark is not None:
            self.mark(lines, len(self.tickets))
        elif self.progress is not None and time.monotonic() > self._tick:
            self._tick = time.monotonic() + 5.0
            self.progress(f"{lines:,} lines, {len(self.tickets):,} tickets")

    def _first_pass(self, stream: IO[bytes]) -> None:
        tickets, policies, parse, now = self.tickets, self.policies, self.parse, self.now
        index, count = self.share
        sides = range(len(policies))
        offset = 0
        number = 0
        self._tick = time.monotonic() + 2.0
        for line in stream:
            number += 1
            at = offset
            offset += len(line)
            if number & 0x3FFF == 1 and number > 1:
                self._ticked(number - 1)
            if line.isspace():
                continue
            owner: int | None = index
            if count > 1:
                owner = line_share(line, count)
                if owner is not None and owner != index:
                    continue  # another share's line
            try:
                event = parse(line, policies[0], now)
            except LineError as exc:
                if owner == index or (owner is None and index == 0):
                    self.problems += 1
                    self.warn_at((0, number), f"line {number}: {exc}")
                continue
            if event is None:
                continue
            ticket_id = event.ticket.id
            if owner is None and ticket_share(ticket_id, count) != index:
                continue
            self.events += 1
            ticket = tickets.get(ticket_id)
            if ticket is None:
                folds: list[TicketFold | None] = []
                for side in sides:
                    started = TicketFold(policies[side], keep=None)
                    try:
                        started.add(event)
                    except ValueError as exc:
                        self._fail((0, number), f"line {number}", side, exc)
                        folds.append(None)
                    else:
                        folds.append(started)
                tickets[ticket_id] = _Ticket(folds, event.occurred_at, event.event_id, at, at)
            else:
                ticket.last = at
                if ticket.dirty:
                    continue
                key = (event.occurred_at, event.event_id)
                last = (ticket.last_at, ticket.last_id)
                if key <= last or event.event_id == ticket.last_id:
                    # a repeat of the last event changes nothing; anything earlier, or an id
                    # used again: fold the ticket again from all of its lines, deduplicated
                    ticket.dirty = key != last
                    continue
                ticket.last_at, ticket.last_id = key
                for side in sides:
                    fold = ticket.folds[side]
                    if fold is None:
                        continue
                    try:
                        fold.add(event)
                    except ValueError as exc:
                        self._fail((0, number), f"line {number}", side, exc)
                        ticket.folds[side] = None
        self.lines = number

    def _refold(self, stream: IO[bytes]) -> None:
        """Fold again every ticket that saw an event out of order, from its own lines."""
        dirty = {tid: t for tid, t in self.tickets.items() if t.dirty}
        offsets = {tid: array("q") for tid in dirty}
        start = min(t.first for t in dirty.values())
        end = max(t.last for t in dirty.values())
        wanted = {tid.encode("utf-8") for tid in dirty}
        stream.seek(start)
        offset = start
        for line in stream:
            if offset > end:
                break
            at = offset
            offset += len(line)
            if not line_maybe_of(line, wanted):
                continue  # not one of theirs: no parse
            event = self._quiet(line)
            if event is not None and event.ticket.id in offsets:
                offsets[event.ticket.id].append(at)
        for ticket_id, where in offsets.items():
            events = []
            for at in where:
                stream.seek(at)
                event = self._quiet(stream.readline())
                if event is not None:
                    events.append(event)
            ticket = dirty[ticket_id]
            for side, policy in enumerate(self.policies):
                try:
                    ticket.folds[side] = fold_events(events, policy, keep=None)
                except ValueError as exc:
                    self._fail((1, ticket.first), f"ticket {ticket_id}", side, exc)
                    ticket.folds[side] = None
            ticket.dirty = False
            self.refolded += 1

    def _quiet(self, line: bytes) -> TicketEvent | None:
        """A line's event, or None (its error was reported in the first pass)."""
        if not line.strip():
            return None
        try:
            return self.parse(line, self.policies[0], self.now)
        except LineError:
            return None

    def states(self, side: int) -> Iterator[TicketState]:
        for ticket in self.tickets.values():
            fold = ticket.folds[side]
            if fold is not None:
                yield fold.state()

    def placed_states(self, side: int) -> Iterator[tuple[int, TicketState]]:
        """Each state with its ticket's place in the file (the offset of its first line), in
        the order the tickets came in."""
        for ticket in self.tickets.values():
            fold = ticket.folds[side]
            if fold is not None:
                yield ticket.first, fold.state()


# -- reading the table ------------------------------------------------------------------------


class TableReader:
    """The ticket items of the table, page by page (a Scan of the ticket items only, decoded
    as the store decodes them), and each ticket's recorded events for the what-if."""

    def __init__(self, table: str, policy: Policy, client: Any = None) -> None:
        from sla.aws.store import DynamoTicketStore

        self.store = DynamoTicketStore(table, policy, client)
        self.pages = 0
        self.items = 0

    def tickets(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(ticket id, item)`` for every ticket item; StoreError / TransientError."""
        from sla.aws.errors import call
        from sla.aws.store import TICKET_SK

        kwargs: dict[str, Any] = {
            "TableName": self.store.table_name,
            "FilterExpression": "sk = :ticket",
            "ProjectionExpression": "ticket_id, #version, #state, notices, #events",
            "ExpressionAttributeNames": {
                "#version": "version",
                "#state": "state",
                "#events": "events",
            },
            "ExpressionAttributeValues": {":ticket": {"S": TICKET_SK}},
        }
        while True:
            page = call(self.store.client, "The ticket table", "scan", **kwargs)
            self.pages += 1
            for item in page.get("Items", []):
                self.items += 1
                yield item.get("ticket_id", {}).get("S", "?"), item
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def state(self, item: dict[str, Any]) -> TicketState:
        from sla.aws.store import ticket_from_item

        return ticket_from_item(item, self.store.policy).state

    def events(self, ticket_id: str) -> list[TicketEvent]:
        return self.store.events(ticket_id)


class _LazyDynamoDB:
    """The DynamoDB client, made on the first call: inside the store's error translation, so
    that a missing region or credentials is one of its errors."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.made: Any = None

    def __getattr__(self, name: str) -> Any:
        if self.made is None:
            from sla.aws.clients import client

            self.made = client("dynamodb", connect_timeout=2, read_timeout=10, **self.config)
        return getattr(self.made, name)


# -- building the report ----------------------------------------------------------------------


def _tally(
    side: Side, states: Iterable[tuple[int, TicketState]], period: Period, now: datetime
) -> int:
    """Add the outcomes of the states created in the period (each with its ticket's place in
    the input); the number of undated ones."""
    undated = 0
    for at, state in states:
        found = outcomes(state, side.policy, now)
        created = found[0].created_at if found else None
        if created is None:
            undated += 1
            continue
        if created not in period:
            continue
        side.tickets += 1
        for outcome in found:
            side.tally.add(outcome, at)
    return undated


MAX_JOBS = 8
SMALL_EXPORT = 1 << 20  # bytes: about 3,000 events, read in a fraction of a second


def default_jobs() -> int:
    """The number of CPUs this process may use (its affinity), at most :data:`MAX_JOBS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity outside Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_JOBS))


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux, macOS; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass(slots=True)
class _Read:
    """What a reader of the export (all of it, or one share) read and tallied."""

    lines: int
    events: int
    tickets: int
    problems: int
    undated: int
    tallies: list[tuple[Tally, int]]  # each side's tally and its number of tickets


def report_from_events(
    path: str | Path,
    sides: list[Side],
    period: Period,
    now: datetime,
    *,
    warn: Callable[[str], None],
    progress: Progress | None = None,
    parse: Parse = fast_event,
    parse_now: datetime | None = None,
    jobs: int = 1,
) -> Report:
    """Read the export and tally each side (OSError if the file cannot be read). Events are
    checked against ``parse_now`` (default ``now``): none may lie more than 5 minutes after.

    With ``jobs`` above 1 (where processes can be forked, :func:`can_fork`), that many worker
    processes each read the file and keep one share of the tickets (:func:`ticket_share`); their
    tallies are merged, their problems reported once each in the order of the file: the same
    report, problems and exit status as in one process."""
    parse_now = parse_now or now
    enabled = gc.isenabled()
    gc.disable()  # folding and tallying allocate much and free little (no cycles): with many
    try:  # tickets held, each collection walks them all for nothing
        reading = _Reading(path, sides, period, now, parse_now, parse)
        if jobs > 1 and can_fork():
            read = _read_shared(reading, jobs, warn, progress)
        else:
            read = reading.tallied(reading.reader(warn=warn, progress=progress), sides)
    finally:
        if enabled:
            gc.enable()
    source = (
        f"{Path(path).name}: {read.lines:,} lines, {read.events:,} events, {read.tickets:,} tickets"
    )
    return Report(period, sides[0].tally.zone, now, source, sides, read.undated, read.problems)


@dataclass(frozen=True, slots=True)
class _Reading:
    """What reading an export takes, the same in one process and in each worker."""

    path: str | Path
    sides: list[Side]
    period: Period
    now: datetime
    parse_now: datetime
    parse: Parse

    def reader(self, **options: Any) -> EventsReader:
        """A reader of the export under every side's policy (``options``: EventsReader's)."""
        return EventsReader(
            [s.policy for s in self.sides],
            [s.label for s in self.sides],
            self.parse_now,
            parse=self.parse,
            **options,
        )

    def tallied(self, reader: EventsReader, into: list[Side]) -> _Read:
        """The export read by ``reader``, folded, and tallied into ``into`` (one per side)."""
        reader.read(self.path)
        undated = [
            _tally(side, reader.placed_states(i), self.period, self.now)
            for i, side in enumerate(into)
        ]
        tallies = [(side.tally, side.tickets) for side in into]
        return _Read(
            reader.lines, reader.events, len(reader.tickets), reader.problems, undated[0], tallies
        )


# -- several processes ------------------------------------------------------------------------

_DONE: Place = (2, 0)  # after every place in the input


def _read_shared(
    reading: _Reading, jobs: int, warn: Callable[[str], None], progress: Progress | None
) -> _Read:
    """The export read by ``jobs`` worker processes, their tallies merged into the sides."""
    shares = _read_in_workers(reading, jobs, warn, progress)
    for share in shares:
        for side, (tally, tickets) in zip(reading.sides, share.tallies, strict=True):
            side.tally.merge(tally)
            side.tickets += tickets
    return _Read(
        shares[0].lines,
        sum(s.events for s in shares),
        sum(s.tickets for s in shares),
        sum(s.problems for s in shares),
        sum(s.undated for s in shares),
        [],
    )


def _read_in_workers(
    reading: _Reading, jobs: int, warn: Callable[[str], None], progress: Progress | None
) -> list[_Read]:
    """Each share of the tickets read and tallied in its own forked process (forked, so the
    policies and the parser need not be pickled and nothing is imported again)."""
    with open(reading.path, "rb"):
        pass  # cannot be read: OSError here, before any process starts
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # else a worker could write out again what is buffered
    context = multiprocessing.get_context("fork")
    workers: list[tuple[BaseProcess, Connection]] = []
    try:
        for index in range(jobs):
            receive, send = context.Pipe(duplex=False)
            process: BaseProcess = context.Process(
                target=_worker,
                args=(send, reading, (index, jobs)),
                name=f"sla-report-{index}",
                daemon=True,
            )
            process.start()
            send.close()  # the worker's end: its exit then ends the pipe
            workers.append((process, receive))
        return _gather(workers, warn, progress)
    except BaseException:
        for process, _ in workers:
            if process.is_alive():
                process.terminate()
        raise
    finally:
        for process, receive in workers:
            receive.close()
            process.join()


def _worker(send: Connection, reading: _Reading, share: tuple[int, int]) -> None:
    """A worker process: one share of the tickets, folded and tallied; its problems and how far
    it got while reading, then its tallies (or its error), sent to the parent."""
    try:
        reader = reading.reader(
            warn=lambda _: None,
            share=share,
            warn_at=lambda place, message: send.send(("warn", place, message)),
            mark=lambda lines, tickets: send.send(("mark", (0, lines + 1), lines, tickets)),
        )
        mine = [Side(s.label, s.policy, Tally(s.tally.zone)) for s in reading.sides]
        read = reading.tallied(reader, mine)
        send.send(("done", read))
    except BaseException as exc:  # handed to the parent, which raises it
        trace = traceback.format_exc()
        try:
            send.send(("error", exc, trace))
        except Exception:  # an error that cannot be pickled
            send.send(("error", RuntimeError(str(exc)), trace))
    finally:
        send.close()
        # all is sent: end here, without freeing the share's folds object by object (a second
        # or more of work for nothing, which the parent would wait for)
        os._exit(0)


def _gather(
    workers: list[tuple[BaseProcess, Connection]],
    warn: Callable[[str], None],
    progress: Progress | None,
) -> list[_Read]:
    """The workers' results, in share order, relaying their problems in the order of the file
    as soon as no other worker can still report an earlier one, and the progress of the
    slowest. Raises what a worker raised, or RuntimeError if one ended without an answer."""
    count = len(workers)
    held: list[deque[tuple[Place, str]]] = [deque() for _ in range(count)]
    marks: list[Place] = [(0, 0)] * count  # every problem before it has been sent
    seen: list[tuple[int, int]] = [(0, 0)] * count  # lines read, tickets kept
    results: list[_Read | None] = [None] * count
    open_ends = {receive: index for index, (_, receive) in enumerate(workers)}
    tick = time.monotonic() + 2.0
    while open_ends:
        for end in wait(list(open_ends)):
            assert isinstance(end, Connection)
            index = open_ends[end]
            try:
                message = end.recv()
            except EOFError:
                process = workers[index][0]
                process.join()
                raise RuntimeError(
                    f"a report worker ended unexpectedly (exit status {process.exitcode})"
                ) from None
            if message[0] == "warn":
                held[index].append((message[1], message[2]))
            elif message[0] == "mark":
                marks[index], seen[index] = message[1], (message[2], message[3])
            elif message[0] == "done":
                results[index], marks[index] = message[1], _DONE
                del open_ends[end]
            else:
                error: BaseException = message[1]
                error.add_note(f"in a report worker process:\n{message[2]}")
                raise error
        _release(held, marks, warn)
        if progress is not None and time.monotonic() > tick:
            tick = time.monotonic() + 5.0
            lines, tickets = min(s[0] for s in seen), sum(s[1] for s in seen)
            progress(f"{lines:,} lines, {tickets:,} tickets")
    return [r for r in results if r is not None]


def _release(
    held: list[deque[tuple[Place, str]]], marks: list[Place], warn: Callable[[str], None]
) -> None:
    """Warn, in the order of the input, the problems that no worker can still precede."""
    while True:
        heads = [(queue[0][0], index) for index, queue in enumerate(held) if queue]
        if not heads:
            return
        place, index = min(heads)
        if any(place >= mark for other, mark in enumerate(marks) if other != index):
            return
        warn(held[index].popleft()[1])


def report_from_table(
    reader: TableReader,
    sides: list[Side],
    period: Period,
    now: datetime,
    *,
    warn: Callable[[str], None],
    progress: Progress | None = None,
) -> Report:
    """Tally the table's tickets (the current side as stored; the what-if from each ticket's
    recorded events, for the tickets of the period only). StoreError / TransientError."""
    undated = problems = 0
    tick = time.monotonic() + 2.0
    for ticket_id, item in reader.tickets():
        try:
            state = reader.state(item)
        except (ValueError, KeyError, TypeError):
            problems += 1
            warn(f"ticket {ticket_id}: an item the store cannot read")
            continue
        found = outcomes(state, sides[0].policy, now)
        created = found[0].created_at if found else None
        if created is None:
            undated += 1
        elif created in period:
            sides[0].tickets += 1
            for outcome in found:
                sides[0].tally.add(outcome)
            for side in sides[1:]:
                try:
                    refolded = fold_events(reader.events(ticket_id), side.policy, keep=None).state()
                except ValueError as exc:
                    problems += 1
                    warn(f"ticket {ticket_id}: {exc} (under {side.label})")
                    continue
                side.tickets += 1
                for outcome in outcomes(refolded, side.policy, now):
                    side.tally.add(outcome)
        if progress is not None and time.monotonic() > tick:
            tick = time.monotonic() + 5.0
            progress(f"{reader.items:,} tickets read ({reader.pages:,} pages)")
    source = f"table {reader.store.table_name}: {reader.items:,} tickets"
    return Report(period, sides[0].tally.zone, now, source, sides, undated, problems)


# -- text and CSV -----------------------------------------------------------------------------


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}".rstrip("0").rstrip(".")


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


_COLUMNS = (
    "tickets",
    "met",
    "breached",
    "running",
    "achievement",
    "exempt",
    "no_target",
    "pending",
    "target_hours",
    "clock",
    "median_hours",
    "p90_hours",
)


def _columns(group: Group | None) -> list[str]:
    if group is None:
        return [""] * len(_COLUMNS)
    target = group.target
    return [
        str(group.tickets),
        str(group.met),
        str(group.breached),
        str(group.running),
        _ratio(group.achievement),
        str(group.exempt),
        str(group.no_target),
        str(group.pending),
        _hours(target[0]) if target else "",
        group.clock,
        _hours(group.quantile_hours(0.5)),
        _hours(group.quantile_hours(0.9)),
    ]


def write_csv(report: Report, out: IO[str]) -> None:
    """One row per metric, plan and priority: ``plan,priority,metric`` then the current
    policy's counts, achievement (met / (met + breached), 4 decimals), target and response
    times (hours, in the group's clock); with a what-if, the same columns again prefixed
    ``what_if_``."""
    writer = csv.writer(out, lineterminator="\n")
    header = ["plan", "priority", "metric", *_COLUMNS]
    if report.what_if is not None:
        header += [f"what_if_{c}" for c in _COLUMNS]
    writer.writerow(header)
    for metric in report.metrics():
        for key in report.group_keys(metric):
            _, plan, priority = key
            row = [plan, "" if priority is None else str(priority), metric]
            for side in report.sides:
                row += _columns(side.tally.groups.get(key))
            writer.writerow(row)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _h(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}h"


def group_label(plan: str, priority: int | None) -> str:
    name = plan or "(plan unknown)"
    return f"{name} P{priority}" if priority is not None else name


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "-"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def period_text(report: Report) -> str:
    zone = report.zone
    start, end = report.period.start, report.period.end
    if start is None and end is None:
        return "all tickets"
    if end is None:
        return f"tickets created from {_when(start, zone)} ({zone.key})"
    if start is None:
        return f"tickets created before {_when(end, zone)} ({zone.key})"
    return f"tickets created from {_when(start, zone)} to {_when(end, zone)} ({zone.key})"


def write_summary(report: Report, out: IO[str]) -> None:
    """The short text summary: the period, then per metric one line per group and a total."""
    now = report.now.isoformat().replace("+00:00", "Z")
    out.write(f"SLA report: {period_text(report)}, judged at {now}\n")
    out.write(f"source: {report.source}\n")
    labels = ", ".join(f"{s.label}" for s in report.sides)
    out.write(f"policies: {labels}\n" if report.what_if else f"policy: {labels}\n")
    if report.current.tickets == 0:
        out.write("No tickets were created in this period.\n")
        return
    head = f"{'':<26}{'tickets':>8}{'met':>8}{'breached':>9}{'running':>8}{'achieved':>9}"
    head += f"{'median':>8}{'p90':>8}"
    if report.what_if is not None:
        head += f"   what-if:{'met':>7}{'breached':>9}{'achieved':>9}"
    for metric in report.metrics():
        out.write(f"\n{metric}\n{head}\n")
        rows: list[tuple[str, Group | None, Group | None]] = []
        for key in report.group_keys(metric):
            rows.append(
                (
                    group_label(key[1], key[2]),
                    report.current.tally.groups.get(key),
                    report.what_if.tally.groups.get(key) if report.what_if else None,
                )
            )
        rows.append(
            (
                "all",
                report.current.tally.totals.get(metric),
                report.what_if.tally.totals.get(metric) if report.what_if else None,
            )
        )
        for label, group, other in rows:
            line = f"  {label:<24}"
            if group is None:
                line += f"{'-':>8}" * 3 + f"{'-':>9}{'-':>8}{'-':>9}{'-':>8}{'-':>8}"
            else:
                line += (
                    f"{group.tickets:>8,}{group.met:>8,}{group.breached:>9,}{group.running:>8,}"
                    f"{_pct(group.achievement):>9}{_h(group.quantile_hours(0.5)):>8}"
                    f"{_h(group.quantile_hours(0.9)):>8}"
                )
            if report.what_if is not None:
                line += " " * 12
                if other is None:
                    line += f"{'-':>7}{'-':>9}{'-':>9}"
                else:
                    line += f"{other.met:>7,}{other.breached:>9,}{_pct(other.achievement):>9}"
            out.write(line.rstrip() + "\n")
    notes = []
    if report.undated:
        notes.append(f"{report.undated:,} pending tickets without a creation time are in no period")
    if report.problems:
        notes.append(f"problems: {report.problems:,}, reported on standard error")
    for note in notes:
        out.write(f"\n{note}\n")


# -- the command ------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Register ``sla report`` on the ``sla`` command's subparsers."""
    report = sub.add_parser(
        "report",
        help="the SLA report of a period: summary, HTML page with charts, CSV; with a what-if",
        description=(
            "The SLA report of the tickets created in [--from, --to), from an export of "
            "canonical events (--events) or from the ticket table (--table). Prints a short "
            "summary; --html and --csv write the page and the table. --what-if recomputes the "
            "same tickets under a proposed policy, shown beside the current one."
        ),
    )
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", metavar="FILE", help="JSON lines: canonical events")
    source.add_argument("--table", metavar="NAME", help="the DynamoDB ticket table")
    report.add_argument("--policy", metavar="FILE", help="the current policy (default: shipped)")
    report.add_argument("--what-if", metavar="FILE", help="a proposed policy, shown beside")
    report.add_argument("--from", dest="start", metavar="WHEN", help="date or instant (incl.)")
    report.add_argument("--to", dest="end", metavar="WHEN", help="date or instant (excluded)")
    report.add_argument("--zone", metavar="IANA", help="zone of dates (default: the policy's)")
    report.add_argument("--now", metavar="INSTANT", help="judge running tickets then")
    report.add_argument("--html", metavar="FILE", help="write the HTML page")
    report.add_argument("--csv", metavar="FILE", help="write the CSV table")
    report.add_argument("--region", help="AWS region of the table")
    report.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        help=(
            f"processes reading an export (default: the CPUs this process may use, at most "
            f"{MAX_JOBS}; one for a file under {SMALL_EXPORT >> 20} MiB); 1: this process only"
        ),
    )


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1: {text!r}")
    return value


def _stderr(message: str) -> None:
    print(f"sla report: {message}", file=sys.stderr, flush=True)


def _label(path: str | None) -> str:
    return Path(path).name if path else "default policy"


def _arguments(args: argparse.Namespace) -> tuple[list[Side], Period, datetime]:
    """The sides, the period and the instant, or ValueError / PolicyError."""
    policies = [load_policy(args.policy)]
    labels = [_label(args.policy)]
    if args.what_if:
        policies.append(load_policy(args.what_if))
        labels.append(_label(args.what_if))
        if labels[1] == labels[0]:
            labels[1] = f"what-if {labels[1]}"
    zone_name = args.zone or policies[0].config.calendar.timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {zone_name!r}") from None
    start = parse_bound(args.start, zone) if args.start else None
    end = parse_bound(args.end, zone) if args.end else None
    if start is not None and end is not None and end <= start:
        raise ValueError("--to must come after --from")
    now = datetime.now(UTC).replace(microsecond=0)
    if args.now:
        value = datetime.fromisoformat(args.now)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"--now needs a timezone: {args.now!r} (add Z or an offset)")
        now = value.astimezone(UTC)
    sides = [Side(label, p, Tally(zone)) for label, p in zip(labels, policies, strict=True)]
    return sides, Period(start, end), now


def _auto_jobs(path: str) -> int:
    """Without --jobs: one process for a small export (starting workers would cost more than
    they save), else :func:`default_jobs`."""
    try:
        small = os.stat(path).st_size < SMALL_EXPORT
    except OSError:
        return 1  # reading it says why
    return 1 if small else default_jobs()


def _write(path: str, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    """``sla report``: 0 done, 1 done with problems (reported on standard error), 2 nothing
    could be reported (bad arguments or policy, an unreadable file or table)."""
    try:
        sides, period, now = _arguments(args)
    except (PolicyError, ValueError) as exc:
        _stderr(f"error: {exc}")
        return 2
    try:
        if args.events:
            wall_now = datetime.now(UTC)
            report = report_from_events(
                args.events,
                sides,
                period,
                now,
                warn=_stderr,
                progress=_stderr,
                parse_now=max(now, wall_now),
                jobs=args.jobs or _auto_jobs(args.events),
            )
        else:
            region = {"region_name": args.region} if args.region else {}
            report = report_from_table(
                TableReader(args.table, sides[0].policy, _LazyDynamoDB(**region)),
                sides,
                period,
                now,
                warn=_stderr,
                progress=_stderr,
            )
    except OSError as exc:
        _stderr(f"error: cannot read {args.events}: {exc.strerror}")
        return 2
    except SlaError as exc:  # the store's errors, translated once (sla.aws.errors)
        cause = exc.__cause__  # an AWS error code is in the detail; anything else, say it
        why = f": {cause}" if cause is not None and ":" not in exc.detail else ""
        _stderr(f"error: {exc.detail}{why}")
        return 2
    out = io.StringIO()
    write_summary(report, out)
    sys.stdout.write(out.getvalue())
    try:
        if args.csv:
            text = io.StringIO()
            write_csv(report, text)
            _write(args.csv, text.getvalue())
        if args.html:
            from sla.tools.report_html import render

            _write(args.html, render(report))
    except OSError as exc:
        _stderr(f"error: cannot write {exc.filename}: {exc.strerror}")
        return 2
    return 1 if report.problems else 0
