"""What users read about a ticket at an instant: its status and the SLA view (contract
section 3), and the quote a ticket submitted at an instant would get."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sla.core.calendar import BusinessCalendar
from sla.core.cycles import Cycle, MetricState, WarningAt, counted, judge
from sla.core.policy import Classification, Policy
from sla.core.state import Current, HistoryEntry, TicketState
from sla.core.terms import MetricName, Status, Target, Terms

__all__ = [
    "CycleView",
    "MetricStatus",
    "MetricView",
    "PendingView",
    "Quote",
    "QuotedMetric",
    "SlaView",
    "View",
    "metric_view",
    "quote",
    "sla_view",
    "status_at",
    "ticket_view",
]

# a metric's status: its ongoing cycle's (running, paused, breached), else its latest completed
# cycle's (met, breached); idle before its first cycle (next reply before the first exchange)
MetricStatus = Literal["running", "paused", "met", "breached", "exempt", "no_target", "idle"]


class CycleView(BaseModel):
    """One cycle of a metric, as Jira Service Management's SLA API shows one: when it started,
    whether it is paused, how much of its clock it used and has left, its warnings and deadline,
    and for a completed cycle when it stopped and whether it breached."""

    model_config = ConfigDict(frozen=True)

    cycle: int
    started_at: datetime
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    priority: int | None
    target: Target | None
    paused: bool = False
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    earlier_pauses: int = 0  # the oldest pauses of a cycle paused many times, merged
    paused_since: datetime | None = None
    elapsed_seconds: float | None = None  # in the target's clock, up to now or the stop
    remaining_seconds: float | None = None  # negative once breached
    warnings: tuple[WarningAt, ...] = ()
    deadline: datetime | None = None
    breached: bool = False


class MetricView(BaseModel):
    """A metric of a ticket: its target, status, ongoing cycle and completed cycles (with the
    counts of older completed cycles where the state keeps only the latest ones)."""

    model_config = ConfigDict(frozen=True)

    target: Target | None
    status: MetricStatus
    ongoing_cycle: CycleView | None = None
    completed_cycles: tuple[CycleView, ...] = ()
    earlier_met: int = 0
    earlier_breached: int = 0


class SlaView(Terms):
    """The terms the SLA is judged by, its status at an instant, and the classification now."""

    ticket_id: str
    status: Status
    first_response_at: datetime | None
    clock_stopped_at: datetime | None
    current: Current
    origin: dict[Literal["plan", "priority"], str] = Field(default_factory=dict)
    # each metric, where the policy has more than first response (left out otherwise, so that
    # the view stays the contract's)
    metrics: dict[MetricName, MetricView] | None = Field(
        default=None, exclude_if=lambda value: value is None
    )
    history: tuple[HistoryEntry, ...] | None = None

    def cycle_priority(self, metric: MetricName, cycle: int) -> int:
        """The priority a cycle of a metric is judged by (the view's own for first response)."""
        mv = self.metrics.get(metric) if self.metrics is not None else None
        if mv is not None and metric != "first_response":
            cycles: list[CycleView] = [*mv.completed_cycles]
            if mv.ongoing_cycle is not None:
                cycles.append(mv.ongoing_cycle)
            for c in cycles:
                if c.cycle == cycle and c.priority is not None:
                    return c.priority
        return int(self.priority)


class PendingView(BaseModel):
    """A ticket whose events came before anything said its creation time or plan (a comment on
    a ticket created before the helpdesk was wired): its events are kept, and it gets its terms,
    from its own creation time, when a snapshot gives them."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    status: Literal["pending"] = "pending"
    missing: tuple[Literal["created_at", "plan"], ...]
    first_response_at: datetime | None
    clock_stopped_at: datetime | None
    current: Current | None
    origin: dict[Literal["plan", "priority"], str] = Field(default_factory=dict)
    history: tuple[HistoryEntry, ...] | None = None


View = SlaView | PendingView


QuoteStatus = Literal["running", "exempt", "no_target"]


class QuotedMetric(BaseModel):
    """A metric of the quote: its target, and the warnings and deadline of a cycle that starts at
    the quote's instant and is never paused (for next reply: a customer writing then)."""

    model_config = ConfigDict(frozen=True)

    target: Target | None
    status: QuoteStatus
    warnings: tuple[WarningAt, ...] = ()
    deadline: datetime | None = None


class Quote(Terms):
    """What a ticket submitted at ``clock_started_at`` would get: the first response's terms,
    and each metric where the policy has more than first response (left out otherwise, so that
    the quote stays the contract's)."""

    status: QuoteStatus
    metrics: dict[MetricName, QuotedMetric] | None = Field(
        default=None, exclude_if=lambda value: value is None
    )


def status_at(state: TicketState, now: datetime) -> Status:
    """The SLA status at ``now`` of a ticket that is not pending: a deadline is breached only once
    it has passed."""
    if state.kind == "pending" or state.terms is None:
        raise ValueError("a pending ticket has no status yet")
    if state.kind != "targeted":
        return state.kind
    deadline = state.terms.deadline
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if deadline is None:  # paused before its deadline was reached (a policy that pauses it)
        return "running"
    if state.clock_stopped_at is not None:
        return "met" if state.clock_stopped_at <= deadline else "breached"
    return "running" if now <= deadline else "breached"


def ticket_view(
    state: TicketState,
    now: datetime,
    *,
    with_history: bool = False,
    calendar: BusinessCalendar | None = None,
) -> View:
    """What the API answers about a ticket at ``now``: its SLA view, or that it is pending."""
    history = state.history if with_history else None
    if state.terms is None:
        missing = tuple(
            name for name in ("created_at", "plan") if getattr(state.snapshot, name) is None
        )
        return PendingView(
            ticket_id=state.ticket_id,
            missing=missing,
            first_response_at=state.first_response_at,
            clock_stopped_at=state.clock_stopped_at,
            current=state.current,
            origin=state.snapshot.origin,
            history=history,
        )
    return sla_view(state, now, with_history=with_history, calendar=calendar)


def sla_view(
    state: TicketState,
    now: datetime,
    *,
    with_history: bool = False,
    calendar: BusinessCalendar | None = None,
) -> SlaView:
    """The SLA view of a ticket at ``now`` (contract section 3) with each metric; ValueError while
    it is pending. Elapsed and remaining times need the ``calendar``; without it they are
    left out."""
    if state.terms is None or state.current is None:
        raise ValueError("a pending ticket has no SLA view yet")
    history = state.history if with_history else None
    return SlaView(
        **dict(state.terms),
        ticket_id=state.ticket_id,
        status=status_at(state, now),
        first_response_at=state.first_response_at,
        clock_stopped_at=state.clock_stopped_at,
        current=state.current,
        origin=state.snapshot.origin,
        metrics=(
            {m: metric_view(ms, now, calendar) for m, ms in state.metrics.items()}
            if len(state.metrics) > 1
            else None
        ),
        history=history,
    )


def _cycle_view(cycle: Cycle, now: datetime, calendar: BusinessCalendar | None) -> CycleView:
    assert cycle.started_at is not None
    open_pause = cycle.open_pause()
    stop = cycle.stopped_at
    until = stop if stop is not None else max(now, cycle.started_at)
    elapsed = remaining = None
    if calendar is not None and cycle.target is not None:
        pauses = cycle.active_pauses()
        if open_pause is not None and open_pause < until:
            pauses = (*pauses, (open_pause, until))
        used = counted(calendar, cycle.target.clock, cycle.started_at, pauses, until, cycle.merged)
        elapsed = used.total_seconds()
        remaining = cycle.target.duration.total_seconds() - elapsed
    deadline = cycle.deadline
    breached = deadline is not None and (stop if stop is not None else now) > deadline
    return CycleView(
        cycle=cycle.number,
        started_at=cycle.started_at,
        stopped_at=stop,
        stop_reason=cycle.stop_reason,
        priority=cycle.priority,
        target=cycle.target,
        paused=open_pause is not None,
        pauses=cycle.active_pauses(),
        earlier_pauses=cycle.merged.pauses if cycle.merged is not None else 0,
        paused_since=open_pause,
        elapsed_seconds=elapsed,
        remaining_seconds=remaining,
        warnings=cycle.warnings,
        deadline=deadline,
        breached=breached,
    )


def metric_view(ms: MetricState, now: datetime, calendar: BusinessCalendar | None) -> MetricView:
    """A metric at ``now``: its status, its ongoing cycle and its completed cycles."""
    judged = [c for c in ms.cycles if c.judged and c.started_at is not None]
    views = [_cycle_view(c, now, calendar) for c in judged]
    ongoing = views[-1] if views and judged[-1].ongoing else None
    completed = tuple(v for v in views if v is not ongoing)
    last = judged[-1] if judged else None
    status: MetricStatus
    if last is None:
        status = "idle"
    elif last.kind in ("exempt", "no_target"):
        status = last.kind
    elif ongoing is not None:
        status = "breached" if ongoing.breached else "paused" if ongoing.paused else "running"
    else:
        status = "breached" if completed[-1].breached else "met"
    return MetricView(
        target=last.target if last is not None else None,
        status=status,
        ongoing_cycle=ongoing,
        completed_cycles=completed,
        earlier_met=ms.earlier_met,
        earlier_breached=ms.earlier_breached,
    )


def quote(policy: Policy, at: datetime, classification: Classification) -> Quote:
    """The quote of a ticket classified so and submitted ``at``: the first response's terms and,
    where the policy has more metrics, each metric's deadline for a cycle starting ``at`` without
    pauses. ValueError when a deadline would fall past the year 9999."""
    status: QuoteStatus = "running" if classification.kind == "targeted" else classification.kind
    metrics: dict[MetricName, QuotedMetric] | None = None
    if len(policy.metrics) > 1:
        metrics = {}
        for metric in policy.metrics:
            target = policy.target(metric, classification)
            if target is None:
                kind: QuoteStatus = "exempt" if classification.kind == "exempt" else "no_target"
                metrics[metric] = QuotedMetric(target=None, status=kind)
                continue
            j = judge(policy.calendar, at, target, policy.warnings[metric], (), None)
            metrics[metric] = QuotedMetric(
                target=target, status="running", warnings=j.warnings, deadline=j.deadline
            )
    return Quote(**dict(policy.terms(at, classification)), status=status, metrics=metrics)
