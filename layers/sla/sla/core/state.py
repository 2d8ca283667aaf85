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
records the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sla.core.cycles import Cycle, MetricState, WarningAt, compacted, judge
from sla.core.events import STOPPING, Actor, EventType, StopReason, TicketEvent, TicketSnapshot
from sla.core.models import built, replaced
from sla.core.policy import Classification, Policy
from sla.core.terms import Classified, MetricName, StateKind, Target, TargetKind, Terms

__all__ = [
    "KEEP_CYCLES",
    "Current",
    "HistoryEntry",
    "TicketState",
    "apply_event",
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


# the classification now, one model per distinct classification (the fold's hot path)
_CURRENT: dict[Classification, Current] = {}
_CURRENT_MAX = 4096


def _current(c: Classification) -> Current:
    current = _CURRENT.get(c)
    if current is None:
        current = Current(**c.classified(), kind=c.kind)
        if len(_CURRENT) < _CURRENT_MAX:
            _CURRENT[c] = current
    return current


def _step(
    state: TicketState | None,
    event: TicketEvent,
    policy: Policy,
    keep: int | None = KEEP_CYCLES,
    record: bool = True,
) -> tuple[TicketState, HistoryEntry | None]:
    """Apply one event, the next in order, and (``record``) say what it changed. Every model it
    builds is made of values already checked (the event's, the policy's): they are constructed
    without validating them again."""
    before = state.snapshot if state is not None else None
    new = event.ticket.merged_onto(before)
    default = policy.config.default_priority
    agent_update = event.type == "ticket.updated" and event.actor.type == "agent"
    if state is None:
        requested = new.priority
        agent = (new.priority or default) if agent_update and event.reason is not None else None
    else:
        requested, agent = state.requested, state.agent_priority
        if new.priority != state.snapshot.priority or (agent_update and event.reason is not None):
            if agent_update:
                agent = new.priority if new.priority is not None else default
            else:
                requested = new.priority
    c = None
    current = None
    if new.plan is not None:  # pending until a snapshot says the plan
        c = policy.classify(
            new.plan,
            requested,
            environment=new.environment,
            product_stage=new.product_stage,
            agent_priority=agent,
        )
        current = _current(c)
    changes: dict[str, tuple[Any, Any]] = {}
    if record:
        for key in _CLASSIFIED:
            old = getattr(state.current, key) if state is not None and state.current else None
            value = getattr(current, key) if current is not None else None
            if old != value:
                changes[key] = (old, value)
        for key in _SNAPSHOT:
            old = getattr(before, key) if before is not None else None
            if old != getattr(new, key):
                changes[key] = (old, getattr(new, key))

    first_response = state.first_response_at if state is not None else None
    if event.type == "ticket.responded" and first_response is None:
        first_response = event.occurred_at
        changes["first_response_at"] = (None, event.occurred_at)
    metrics = _step_metrics(state, event, new, c, first_response, policy, changes, keep)
    fr = metrics["first_response"].cycles[0]
    stopped_at, stop_reason = fr.stopped_at, fr.stop_reason
    if stopped_at is not None and (state is None or state.clock_stopped_at is None):
        changes["clock_stopped_at"] = (None, stopped_at)
    if state is not None and state.clock_stopped_at is not None and state.terms is not None:
        # stopped: the outcome stays judged by the terms in force at the stop
        terms, kind = state.terms, state.kind
        environment, stage = state.environment, state.product_stage
    else:
        # running, or stopped while pending: the terms as far as they are known now
        terms = None
        if (
            state is not None
            and state.terms is not None
            and current is state.current
            and state.metrics.get("first_response") is metrics["first_response"]
        ):
            terms = state.terms  # nothing they are made of changed
        elif c is not None and fr.judged and fr.started_at is not None:
            terms = built(
                Terms,
                {
                    **c.classified(),
                    "target": fr.target,
                    "clock_started_at": fr.started_at,
                    "warning_at": fr.warnings[0].at if fr.warnings else None,
                    "deadline": fr.deadline,
                },
            )
        kind = c.kind if terms is not None and c is not None else "pending"
        environment, stage = new.environment, new.product_stage
    values: dict[str, Any] = dict(
        ticket_id=new.id,
        terms=terms,
        kind=kind,
        environment=environment,
        product_stage=stage,
        first_response_at=first_response,
        clock_stopped_at=stopped_at,
        stop_reason=stop_reason,
        current=current,
        requested=requested,
        agent_priority=agent,
        snapshot=new,
        last_at=event.occurred_at,
        last_event_id=event.event_id,
        events=(state.events if state is not None else 0) + 1,
        metrics=metrics,
        history=None,
    )
    after = built(TicketState, values)
    if not record:
        return after, None
    entry = HistoryEntry(
        at=event.occurred_at,
        event=event.type,
        event_id=event.event_id,
        actor=event.actor,
        reason=event.reason,
        changes=changes,
    )
    return after, entry


_CREATION_METRICS = ("first_response", "resolution")
_NO_CYCLES = MetricState()
_NEW_CYCLE = Cycle(number=1)


def _step_metrics(
    state: TicketState | None,
    event: TicketEvent,
    new: TicketSnapshot,
    c: Classification | None,
    first_response: datetime | None,
    policy: Policy,
    changes: dict[str, tuple[Any, Any]],
    keep: int | None,
) -> dict[MetricName, MetricState]:
    """Every metric of the policy after this event: cycles started, stopped, paused, resumed,
    and judged again where anything they depend on changed. (The fold's hot path: a metric the
    event leaves alone is the same object as before.)"""
    at, kind = event.occurred_at, event.type
    before = state.snapshot.status if state is not None else None
    status = new.status
    stopping = STOPPING.get(kind)
    result: dict[MetricName, MetricState] = {}
    for metric in policy.metrics:
        pause_on = policy.pause_on[metric]
        was, now_paused = before in pause_on, status in pause_on
        ms = state.metrics.get(metric, _NO_CYCLES) if state is not None else _NO_CYCLES
        old = ms.cycles
        cycles = list(old)
        last = cycles[-1] if cycles else None
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
                number = ms.count + 1
                paused_since = at if now_paused else None
                cycles.append(
                    replaced(_NEW_CYCLE, number=number, started_at=at, paused_since=paused_since)
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
        changed = len(cycles) != len(old)
        for i, cycle in enumerate(cycles):
            prior = old[i] if i < len(old) else None  # the same cycle before this event
            # judged again while it runs or is unjudged, and when this very event stopped it
            # (by the terms the event brings); a stopped cycle keeps its judgement
            if (
                cycle.stopped_at is None
                or cycle.kind is None
                or (prior is not None and prior.stopped_at is None)
            ):
                judged = _judged(cycle, prior, metric, new, c, policy)
                if (
                    metric != "first_response"
                    and judged.deadline != cycle.deadline
                    and judged.kind is not None
                ):
                    changes[f"{metric}.deadline"] = (cycle.deadline, judged.deadline)
                cycle = cycles[i] = judged
            changed = changed or cycle is not prior
        result[metric] = _trimmed(ms, cycles, keep) if changed else ms
    return result


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
        placed = replaced(cycle, started_at=start)
        j = judge(
            policy.calendar,
            start,
            target,
            policy.warnings[metric],
            placed.active_pauses(),
            placed.open_pause(),
            merged=placed.merged,
            reached=_reached(previous, target),
        )
        update["warnings"], update["deadline"] = j.warnings, j.deadline
    return compacted(replaced(cycle, **update), policy.calendar)


def _reached(previous: Cycle | None, target: Target | None) -> tuple[datetime | None, ...]:
    """The instants an earlier judgement by the same target reached (warnings, then deadline)."""
    if previous is None or not previous.judged or previous.target != target:
        return ()
    return (*(w.at for w in previous.warnings), previous.deadline)


def _trimmed(ms: MetricState, cycles: list[Cycle], keep: int | None) -> MetricState:
    """The metric with at most ``keep`` completed judged cycles in detail (None: all)."""
    met, breached = ms.earlier_met, ms.earlier_breached
    if keep is not None:
        completed = [i for i, c in enumerate(cycles) if not c.ongoing and c.judged]
        for i in completed[: max(0, len(completed) - keep)]:
            met += cycles[i].met
            breached += cycles[i].breached_by_stop
        drop = set(completed[: max(0, len(completed) - keep)])
        cycles = [c for i, c in enumerate(cycles) if i not in drop]
    return built(
        MetricState, {"cycles": tuple(cycles), "earlier_met": met, "earlier_breached": breached}
    )


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
    if state is not None:
        if event.ticket.id != state.ticket_id:
            raise ValueError("an event of another ticket")
        if event.order_key <= state.last_key:
            raise ValueError("the event does not come after the state's last event")
    return _step(state, event, policy, keep, record=False)[0]


def reduce_events(
    events: Iterable[TicketEvent], policy: Policy, *, keep: int | None = KEEP_CYCLES
) -> TicketState:
    """The SLA state that in-order delivery of these events gives, with its history. ``keep``:
    the completed cycles each metric keeps in detail (None: every one, for reading). Raises
    ValueError if empty, if the events belong to different tickets, or if a snapshot does not
    fit the policy."""
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
    state: TicketState | None = None
    history: list[HistoryEntry] = []
    for event in ordered:
        state, entry = _step(state, event, policy, keep)
        assert entry is not None
        history.append(entry)
    assert state is not None
    return state.model_copy(update={"history": tuple(history)})
