"""A ticket's SLA state, as a fold over its events in ``(occurred_at, event_id)`` order.

Deliveries are at-least-once and unordered; the state is defined as what in-order delivery
gives:

* ticket fields (plan, priority, environment, product stage, creation time) come from the latest
  snapshot;
* a ``ticket.updated`` by an ``agent`` that changes the priority field (or gives a ``reason``) is a
  reclassification: the agent's choice wins over the automatic rules until another agent changes
  it; any other change of the priority field is the requester's;
* the first ``ticket.responded`` is the first response; it, or an earlier ``ticket.solved`` /
  ``ticket.closed``, stops the clock. The SLA outcome is judged against the terms in force at that
  moment; later reclassifications change the ticket's ``current`` classification, not the terms.
* every metric of the policy keeps its cycles (:mod:`sla.core.cycles`): first response and
  resolution one each from the creation, next reply one per exchange (a customer's public
  message after an agent's public reply starts one; the next agent reply, a solve or a close
  stops it); resolution stops at a solve or close and resumes on a reopen; a status in a
  metric's ``pause_on`` pauses its running cycle. The top-level terms are first response's.

The state is also the reducer's memory: :func:`apply_event` adds the next event in order to a
stored state without the ticket's history, so a delivery costs the same on a ticket's thousandth
event as on its first. :func:`reduce_events` folds a whole set (any order, duplicates dropped) and
records the history. Both are a :class:`TicketFold`: the same memory as plain attributes, changed
in place by each event, whose models are made once, when the state is asked for; reading an
export keeps one per ticket and adds each line's event to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sla.core.cycles import Cycle, Interval, MetricState, WarningAt, compacted, judge
from sla.core.events import STOPPING, Actor, EventType, StopReason, TicketEvent, TicketSnapshot
from sla.core.models import built, replaced
from sla.core.policy import Classification, Policy
from sla.core.terms import Classified, MetricName, StateKind, Target, TargetKind, Terms

__all__ = [
    "KEEP_CYCLES",
    "Current",
    "HistoryEntry",
    "TicketFold",
    "TicketState",
    "apply_event",
    "fold_events",
    "reduce_events",
]

# completed cycles a metric keeps in detail in the stored state (older ones are counted): the
# state stays bounded however many exchanges a ticket has, and a stop delivered late still finds
# its cycle. Reading a ticket folds its events again and shows every cycle.
KEEP_CYCLES = 5


class Current(Classified):
    """A ticket's classification now, and whether it has a target."""

    kind: TargetKind


class HistoryEntry(BaseModel):
    """One change of the SLA state: what, when, why, by whom."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    event: EventType
    event_id: str
    actor: Actor
    reason: str | None = None
    changes: dict[str, tuple[Any, Any]] = Field(default_factory=dict)


class TicketState(BaseModel):
    """The reduced SLA state of a ticket (free of any notion of "now").

    ``terms`` are the terms the SLA is judged by: those in force when the clock stopped, or the
    current ones while it runs. ``current`` is the classification now (after a stop, an agent may
    still reclassify: recorded, but the outcome stays judged by ``terms``). ``snapshot`` and the
    last event's key are the fold's memory. ``history`` is there only when the state was reduced
    from all of the ticket's events."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    terms: Terms | None = None
    kind: StateKind
    environment: str
    product_stage: str
    first_response_at: datetime | None = None
    clock_stopped_at: datetime | None = None
    stop_reason: StopReason | None = None
    current: Current | None = None
    requested: int | None = None
    agent_priority: int | None = None
    snapshot: TicketSnapshot
    last_at: datetime
    last_event_id: str
    events: int
    metrics: dict[MetricName, MetricState] = Field(default_factory=dict)
    history: tuple[HistoryEntry, ...] | None = None

    def derived_current(self) -> Current | None:
        """The classification now as the terms hold it (what it is while the clock runs)."""
        if self.terms is None or self.kind == "pending":
            return None
        return Current(
            **self.terms.model_dump(include=set(Classified.model_fields)), kind=self.kind
        )

    @model_validator(mode="after")
    def _current(self) -> TicketState:
        """A stored state leaves out the classification now when the terms hold it."""
        if self.current is None and self.terms is not None:
            object.__setattr__(self, "current", self.derived_current())
        return self

    @model_validator(mode="after")
    def _first_layout(self) -> TicketState:
        """A state stored before metrics existed has first response alone: its one cycle is
        rebuilt from the top-level fields (it had no pauses and one warning, whose fraction the
        state did not record)."""
        if self.metrics or self.terms is None:
            return self
        t = self.terms
        cycle = Cycle(
            number=1,
            started_at=t.clock_started_at,
            stopped_at=self.clock_stopped_at,
            stop_reason=self.stop_reason,
            kind=self.kind if self.kind != "pending" else None,
            priority=t.priority,
            target=t.target,
            warnings=(WarningAt(threshold=None, at=t.warning_at),) if t.warning_at else (),
            deadline=t.deadline,
        )
        object.__setattr__(self, "metrics", {"first_response": MetricState(cycles=(cycle,))})
        return self

    # the terms, for readers that only want one of them (a pending ticket has none)
    @property
    def pending(self) -> bool:
        return self.terms is None

    @property
    def plan(self) -> str:
        return self.terms.plan if self.terms is not None else (self.snapshot.plan or "")

    @property
    def priority(self) -> int:
        return self.terms.priority if self.terms is not None else 0

    @property
    def target(self) -> Target | None:
        return self.terms.target if self.terms is not None else None

    @property
    def warning_at(self) -> datetime | None:
        return self.terms.warning_at if self.terms is not None else None

    @property
    def deadline(self) -> datetime | None:
        return self.terms.deadline if self.terms is not None else None

    @property
    def last_key(self) -> tuple[datetime, str]:
        return (self.last_at, self.last_event_id)


_CLASSIFIED = ("plan", "requested_priority", "priority", "priority_reason", "kind")
_SNAPSHOT = ("environment", "product_stage", "created_at", "status")


# the classification now, one model per classification object (the policy keeps one object per
# distinct classification): by its id, with the object itself held so that the id stays its own
_CURRENT: dict[int, tuple[Classification, Current]] = {}
_CURRENT_MAX = 4096


def _current(c: Classification) -> Current:
    found = _CURRENT.get(id(c))
    if found is not None and found[0] is c:
        return found[1]
    current = Current(**c.classified(), kind=c.kind)
    if len(_CURRENT) < _CURRENT_MAX:
        _CURRENT[id(c)] = (c, current)
    return current


_CREATION_METRICS = ("first_response", "resolution")
_NO_CYCLES = MetricState()
_NEW_CYCLE = Cycle(number=1)


class _MetricFold:
    """A metric of a fold in progress: its cycles (a list changed in place), the counts of the
    completed cycles dropped from the detail, and the :class:`MetricState` they make while the
    metric has not changed since (so that an unchanged metric is the same object)."""

    __slots__ = ("breached", "cycles", "frozen", "met")

    def __init__(self, ms: MetricState) -> None:
        self.cycles = list(ms.cycles)
        self.met = ms.earlier_met
        self.breached = ms.earlier_breached
        self.frozen: MetricState | None = ms

    def count(self) -> int:
        return self.cycles[-1].number if self.cycles else 0

    def trim(self, keep: int | None) -> None:
        """At most ``keep`` completed judged cycles in detail (None: all); older ones counted."""
        if keep is None:
            return
        completed = [
            i for i, c in enumerate(self.cycles) if c.stopped_at is not None and c.kind is not None
        ]
        drop = completed[: max(0, len(completed) - keep)]
        if not drop:
            return
        for i in drop:
            self.met += self.cycles[i].met
            self.breached += self.cycles[i].breached_by_stop
        dropped = set(drop)
        self.cycles = [c for i, c in enumerate(self.cycles) if i not in dropped]

    def state(self) -> MetricState:
        if self.frozen is None:
            self.frozen = built(
                MetricState,
                {
                    "cycles": tuple(self.cycles),
                    "earlier_met": self.met,
                    "earlier_breached": self.breached,
                },
            )
        return self.frozen


# the fold's attributes that are a state's fields as they are (the fold's name, the state's):
# resuming reads them from a state, and the state is made of them (with the metrics)
_CARRIED = (
    ("ticket_id", "ticket_id"),
    ("terms", "terms"),
    ("kind", "kind"),
    ("environment", "environment"),
    ("stage", "product_stage"),
    ("first_response", "first_response_at"),
    ("stopped_at", "clock_stopped_at"),
    ("stop_reason", "stop_reason"),
    ("current", "current"),
    ("requested", "requested"),
    ("agent", "agent_priority"),
    ("snapshot", "snapshot"),
    ("last_at", "last_at"),
    ("last_id", "last_event_id"),
    ("events", "events"),
)


class TicketFold:
    """A ticket's fold in progress: the memory of :func:`apply_event` as plain attributes that
    each event changes in place, without building the ticket's models for every event. Reading
    an export folds each ticket's events this way and makes the :class:`TicketState` once, at
    the end; a delivery resumes the fold from the stored state (:meth:`resume`).

    Every event must come after the last one (``add`` raises ValueError otherwise, and for an
    event of another ticket). After any ValueError the fold is left unusable: start again from
    the last state."""

    __slots__ = (
        "_state",
        "agent",
        "classification",
        "current",
        "environment",
        "events",
        "first_response",
        "keep",
        "kind",
        "last_at",
        "last_id",
        "metrics",
        "policy",
        "requested",
        "snapshot",
        "stage",
        "stop_reason",
        "stopped_at",
        "terms",
        "ticket_id",
    )

    def __init__(self, policy: Policy, *, keep: int | None = KEEP_CYCLES) -> None:
        """An empty fold: its first event creates the ticket."""
        self.policy = policy
        self.keep = keep
        self.ticket_id = ""
        self.snapshot: TicketSnapshot | None = None
        self.requested: int | None = None
        self.agent: int | None = None
        self.current: Current | None = None
        # the classification the last event was judged by (None until an event of this fold)
        self.classification: Classification | None = None
        self.first_response: datetime | None = None
        self.metrics: dict[MetricName, _MetricFold] = {}
        self.terms: Terms | None = None
        self.kind: StateKind = "pending"
        self.environment = ""
        self.stage = ""
        self.stopped_at: datetime | None = None
        self.stop_reason: StopReason | None = None
        self.last_at: datetime | None = None
        self.last_id = ""
        self.events = 0
        self._state: TicketState | None = None

    @classmethod
    def resume(
        cls, state: TicketState, policy: Policy, *, keep: int | None = KEEP_CYCLES
    ) -> TicketFold:
        """The fold that gave ``state`` (without its history), to add the next events to."""
        fold = cls(policy, keep=keep)
        for attribute, name in _CARRIED:
            setattr(fold, attribute, getattr(state, name))
        fold.metrics = {m: _MetricFold(ms) for m, ms in state.metrics.items()}
        fold._state = state if state.history is None else None
        return fold

    def state(self) -> TicketState:
        """The state the events added so far give (without history)."""
        if self._state is None:
            if self.snapshot is None or self.last_at is None:
                raise ValueError("a ticket needs at least one event")
            values: dict[str, Any] = {name: getattr(self, attr) for attr, name in _CARRIED}
            values["metrics"] = {m: mf.state() for m, mf in self.metrics.items()}
            values["history"] = None
            self._state = built(TicketState, values)
        return self._state

    def add(self, event: TicketEvent, record: bool = False) -> HistoryEntry | None:
        """Add the next event; with ``record``, what it changed (a history entry)."""
        if self.snapshot is not None:
            if event.ticket.id != self.ticket_id:
                raise ValueError("an event of another ticket")
            assert self.last_at is not None
            at = event.occurred_at
            if at < self.last_at or (at == self.last_at and event.event_id <= self.last_id):
                raise ValueError("the event does not come after the state's last event")
        self._state = None
        policy = self.policy
        before = self.snapshot
        new = event.ticket.merged_onto(before)
        agent_update = event.type == "ticket.updated" and event.actor.type == "agent"
        if (
            new is before
            and event.type == "ticket.updated"
            and self.classification is not None
            and not (agent_update and event.reason is not None)
        ):
            # the very snapshot of the last event, updated again (a reader shares the snapshot
            # of lines that repeat it): no field, classification, status or cycle changes
            return self._counted(event, record)
        default = policy.config.default_priority
        if before is None:
            requested = new.priority
            agent = (new.priority or default) if agent_update and event.reason is not None else None
        else:
            requested, agent = self.requested, self.agent
            if new.priority != before.priority or (agent_update and event.reason is not None):
                if agent_update:
                    agent = new.priority if new.priority is not None else default
                else:
                    requested = new.priority
        c = None
        current = None
        if (
            before is not None
            and self.classification is not None
            and new.plan == before.plan
            and new.environment == before.environment
            and new.product_stage == before.product_stage
            and requested == self.requested
            and agent == self.agent
            and type(requested) is type(self.requested)
            and type(agent) is type(self.agent)
        ):
            c, current = self.classification, self.current  # what it was classified from
        elif new.plan is not None:  # pending until a snapshot says the plan
            c = policy.classify(
                new.plan,
                requested,
                environment=new.environment,
                product_stage=new.product_stage,
                agent_priority=agent,
            )
            current = self.current if c is self.classification else _current(c)
        changes: dict[str, tuple[Any, Any]] = {}
        if record:
            for key in _CLASSIFIED:
                old = getattr(self.current, key) if self.current is not None else None
                value = getattr(current, key) if current is not None else None
                if old != value:
                    changes[key] = (old, value)
            for key in _SNAPSHOT:
                old = getattr(before, key) if before is not None else None
                if old != getattr(new, key):
                    changes[key] = (old, getattr(new, key))

        first_response = self.first_response
        if event.type == "ticket.responded" and first_response is None:
            first_response = event.occurred_at
            changes["first_response_at"] = (None, event.occurred_at)
        fr_changed = self._step_metrics(event, before, new, c, first_response, changes)
        fr = self.metrics["first_response"].cycles[0]
        stopped_at, stop_reason = fr.stopped_at, fr.stop_reason
        if stopped_at is not None and self.stopped_at is None:
            changes["clock_stopped_at"] = (None, stopped_at)
        if not (self.stopped_at is not None and self.terms is not None):
            # running, or stopped while pending: the terms as far as they are known now
            # (stopped: the outcome stays judged by the terms in force at the stop)
            terms = None
            if self.terms is not None and current is self.current and not fr_changed:
                terms = self.terms  # nothing they are made of changed
            elif c is not None and fr.kind is not None and fr.started_at is not None:
                warning_at = fr.warnings[0].at if fr.warnings else None
                terms = self.terms
                if not (  # the same terms, as when the stop leaves the judgement as it was
                    terms is not None
                    and current is self.current
                    and terms.target == fr.target
                    and terms.clock_started_at == fr.started_at
                    and terms.warning_at == warning_at
                    and terms.deadline == fr.deadline
                ):
                    terms = built(
                        Terms,
                        {
                            **c.classified(),
                            "target": fr.target,
                            "clock_started_at": fr.started_at,
                            "warning_at": warning_at,
                            "deadline": fr.deadline,
                        },
                    )
            self.terms = terms
            self.kind = c.kind if terms is not None and c is not None else "pending"
            self.environment, self.stage = new.environment, new.product_stage
        self.ticket_id = new.id
        self.snapshot = new
        self.requested, self.agent, self.current = requested, agent, current
        self.classification = c
        self.first_response = first_response
        self.stopped_at, self.stop_reason = stopped_at, stop_reason
        return self._counted(event, record, changes)

    def _counted(
        self,
        event: TicketEvent,
        record: bool,
        changes: dict[str, tuple[Any, Any]] | None = None,
    ) -> HistoryEntry | None:
        """The event counted as the last one; with ``record``, its history entry."""
        self.last_at, self.last_id = event.occurred_at, event.event_id
        self.events += 1
        if not record:
            return None
        return HistoryEntry(
            at=event.occurred_at,
            event=event.type,
            event_id=event.event_id,
            actor=event.actor,
            reason=event.reason,
            changes=changes or {},
        )

    def _step_metrics(
        self,
        event: TicketEvent,
        before: TicketSnapshot | None,
        new: TicketSnapshot,
        c: Classification | None,
        first_response: datetime | None,
        changes: dict[str, tuple[Any, Any]],
    ) -> bool:
        """Every metric of the policy after this event: cycles started, stopped, paused,
        resumed, and judged again where anything they depend on changed. Whether first
        response's changed."""
        policy, keep = self.policy, self.keep
        at, kind = event.occurred_at, event.type
        was_status = before.status if before is not None else None
        status = new.status
        stopping = STOPPING.get(kind)
        metrics: dict[MetricName, _MetricFold] = {}
        fr_changed = False
        # judged by the same classification from the same creation as at the last event: an
        # ongoing cycle this event leaves alone keeps its judgement (what _judged would find)
        same_terms = (
            c is not None
            and c is self.classification
            and before is not None
            and new.created_at == before.created_at
        )
        for metric in policy.metrics:
            pause_on = policy.pause_on[metric]
            was, now_paused = was_status in pause_on, status in pause_on
            mf = self.metrics.get(metric)
            if mf is None:
                mf = _MetricFold(_NO_CYCLES)
            cycles = mf.cycles
            count = len(cycles)
            last = prior_last = cycles[-1] if cycles else None
            ongoing = last is not None and last.stopped_at is None
            if last is None and metric in _CREATION_METRICS:
                last = replaced(_NEW_CYCLE, paused_since=at if now_paused else None)
                cycles.append(last)
                ongoing = True
            elif ongoing and was != now_paused:
                assert last is not None
                if now_paused:
                    cycles[-1] = last = replaced(last, paused_since=at)
                    changes[f"{metric}.paused"] = (None, at)
                elif last.paused_since is not None:
                    pauses = (*last.pauses, (last.paused_since, at))
                    changes[f"{metric}.resumed"] = (last.paused_since, at)
                    cycles[-1] = last = replaced(last, pauses=pauses, paused_since=None)
            if metric == "resolution":
                stops = kind == "ticket.solved" or kind == "ticket.closed"
            else:
                stops = stopping is not None
            if stops and ongoing:
                assert last is not None and stopping is not None
                cycles[-1] = _stopped(last, at, stopping)
                if metric != "first_response":
                    changes[f"{metric}.stopped"] = (last.number, at)
            elif metric == "next_reply" and kind == "ticket.customer_replied":
                if first_response is not None and not ongoing:
                    number = mf.count() + 1
                    paused_since = at if now_paused else None
                    cycles.append(
                        replaced(
                            _NEW_CYCLE, number=number, started_at=at, paused_since=paused_since
                        )
                    )
                    changes[f"{metric}.started"] = (number, at)
            elif metric == "resolution" and kind == "ticket.reopened":
                assert last is not None
                if last.stopped_at is not None:
                    cycles[-1] = replaced(
                        last,
                        pauses=(*last.pauses, (last.stopped_at, at)),
                        paused_since=at if now_paused else None,
                        stopped_at=None,
                        stop_reason=None,
                    )
                    changes[f"{metric}.resumed"] = (last.stopped_at, at)
            changed = len(cycles) != count or (count > 0 and cycles[count - 1] is not prior_last)
            for i, cycle in enumerate(cycles):
                # the same cycle before this event: the earlier ones are untouched
                prior = cycle if i < count - 1 else prior_last if i == count - 1 else None
                # judged again while it runs or is unjudged, and when this very event stopped
                # it (by the terms the event brings); a stopped cycle keeps its judgement
                if (
                    cycle.stopped_at is None
                    or cycle.kind is None
                    or (prior is not None and prior.stopped_at is None)
                ) and not (same_terms and cycle is prior):
                    judged = _judged(cycle, prior, metric, new, c, policy)
                    if (
                        metric != "first_response"
                        and judged.deadline != cycle.deadline
                        and judged.kind is not None
                    ):
                        changes[f"{metric}.deadline"] = (cycle.deadline, judged.deadline)
                    if judged is not cycle:
                        cycles[i] = judged
                        changed = True
            if changed:
                mf.trim(keep)
                mf.frozen = None
                fr_changed = fr_changed or metric == "first_response"
            metrics[metric] = mf
        self.metrics = metrics
        return fr_changed


def _stopped(cycle: Cycle, at: datetime, reason: StopReason) -> Cycle:
    """The cycle stopped at ``at`` (a pause open then ends with it)."""
    pauses = cycle.pauses
    if cycle.paused_since is not None:
        pauses = (*pauses, (cycle.paused_since, at))
    return replaced(cycle, stopped_at=at, stop_reason=reason, pauses=pauses, paused_since=None)


def _judged(
    cycle: Cycle,
    previous: Cycle | None,
    metric: MetricName,
    new: TicketSnapshot,
    c: Classification | None,
    policy: Policy,
) -> Cycle:
    """The cycle judged by the classification now (unchanged when nothing it depends on
    changed); unjudged while the ticket is pending."""
    start = new.created_at if metric in _CREATION_METRICS else cycle.started_at
    if c is None or start is None:
        return replaced(cycle, started_at=start) if start != cycle.started_at else cycle
    target = policy.target(metric, c)
    kind: TargetKind = "exempt" if c.kind == "exempt" else "targeted" if target else "no_target"
    if (
        previous is not None
        and previous.judged
        and previous.kind == kind
        and previous.target == target
        and previous.priority == c.priority
        and previous.started_at == start
        and previous.pauses == cycle.pauses
        and previous.paused_since == cycle.paused_since
    ):
        return cycle  # judged by the same terms over the same pauses: as it was
    update: dict[str, Any] = {
        "started_at": start,
        "kind": kind,
        "priority": c.priority,
        "target": target,
        "warnings": (),
        "deadline": None,
    }
    if target is not None:
        pauses: tuple[Interval, ...] = ()
        open_pause = merged = None
        if cycle.pauses or cycle.paused_since is not None or cycle.merged is not None:
            placed = cycle if cycle.started_at == start else replaced(cycle, started_at=start)
            pauses, open_pause, merged = placed.active_pauses(), placed.open_pause(), placed.merged
        j = judge(
            policy.calendar,
            start,
            target,
            policy.warnings[metric],
            pauses,
            open_pause,
            merged=merged,
            reached=_reached(previous, target),
        )
        update["warnings"], update["deadline"] = j.warnings, j.deadline
    return compacted(replaced(cycle, **update), policy.calendar)


def _reached(previous: Cycle | None, target: Target | None) -> tuple[datetime | None, ...]:
    """The instants an earlier judgement by the same target reached (warnings, then deadline)."""
    if previous is None or not previous.judged or previous.target != target:
        return ()
    return (*(w.at for w in previous.warnings), previous.deadline)


def apply_event(
    state: TicketState | None,
    event: TicketEvent,
    policy: Policy,
    *,
    keep: int | None = KEEP_CYCLES,
) -> TicketState:
    """``state`` with ``event`` added, when the event comes after everything the state has seen
    (the usual case: no history needed). ``keep`` as for :func:`reduce_events`. Raises
    ValueError for an event of another ticket or one that does not come last (then reduce all of
    the ticket's events with :func:`reduce_events`).
    """
    fold = (
        TicketFold(policy, keep=keep)
        if state is None
        else TicketFold.resume(state, policy, keep=keep)
    )
    fold.add(event)
    return fold.state()


def _in_order(events: Iterable[TicketEvent]) -> list[TicketEvent]:
    """The events in ``(occurred_at, event_id)`` order, each delivery id once; ValueError if
    there are none or they belong to different tickets."""
    ordered: list[TicketEvent] = []
    seen: set[str] = set()
    for event in sorted(events, key=lambda e: e.order_key):
        if event.event_id not in seen:
            seen.add(event.event_id)
            ordered.append(event)
    if not ordered:
        raise ValueError("a ticket needs at least one event")
    if len({e.ticket.id for e in ordered}) != 1:
        raise ValueError("events of different tickets")
    return ordered


def fold_events(
    events: Iterable[TicketEvent], policy: Policy, *, keep: int | None = KEEP_CYCLES
) -> TicketFold:
    """:func:`reduce_events` without the history, as a fold that more events can follow."""
    fold = TicketFold(policy, keep=keep)
    for event in _in_order(events):
        fold.add(event)
    return fold


def reduce_events(
    events: Iterable[TicketEvent], policy: Policy, *, keep: int | None = KEEP_CYCLES
) -> TicketState:
    """The SLA state that in-order delivery of these events gives, with its history. ``keep``:
    the completed cycles each metric keeps in detail (None: every one, for reading). Raises
    ValueError if empty, if the events belong to different tickets, or if a snapshot does not
    fit the policy."""
    fold = TicketFold(policy, keep=keep)
    history: list[HistoryEntry] = []
    for event in _in_order(events):
        entry = fold.add(event, record=True)
        assert entry is not None
        history.append(entry)
    return replaced(fold.state(), history=tuple(history))
