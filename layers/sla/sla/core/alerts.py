"""Readable alerts: a notification as an e-mail (a subject and plain text) and as an AWS Chatbot
custom notification for Slack and Microsoft Teams (contract section 4).

Pure: the caller hands in the notification and the policy's zone; every instant is shown in that
zone and in UTC ("15:59 CET (14:59 UTC)"). The machine-readable JSON body is not made here: it
stays ``Notification.body()``, unchanged for the subscribers that parse it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from sla.core.terms import Target
from sla.core.view import CycleView, SlaView

__all__ = [
    "SUBJECT_LIMIT",
    "Alert",
    "Notified",
    "Rendered",
    "alert_of",
    "chat_message",
    "email_subject",
    "email_text",
    "render",
    "sns_subject",
]

AlertKind = Literal["warning", "breach", "retraction"]
_KINDS: dict[str, AlertKind] = {
    "sla.warning": "warning",
    "sla.breached": "breach",
    "sla.breach_retracted": "retraction",
}
# SNS Publish: "Subjects must be ... no line breaks or control characters, and less than 100
# characters long"; older pages said ASCII beginning with a letter, number or punctuation. We keep
# to both: printable ASCII, at most 99 characters.
SUBJECT_LIMIT = 99
_METRIC_NAMES = {
    "first_response": "first-response",
    "next_reply": "next-reply",
    "resolution": "resolution",
}
# what stops each metric's clock, and what starts it, in words
_STOPPED_BY = {"first_response": "first reply", "next_reply": "reply", "resolution": "resolution"}
_STARTED_BY = {
    "first_response": "creation",
    "next_reply": "the customer wrote",
    "resolution": "creation",
}
_REASONS = {
    "requested": "as requested",
    "default": "no priority given",
    "agent": "set by an agent",
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]+")
_SPACES = re.compile(r"\s+")


class Notified(Protocol):
    """What an alert is made from: ``sla.ports.Notification`` is one."""

    @property
    def notification_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def ticket_id(self) -> str: ...
    @property
    def for_(self) -> datetime: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def sla(self) -> SlaView: ...
    @property
    def metric(self) -> str: ...
    @property
    def cycle(self) -> int: ...
    @property
    def threshold(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Alert:
    """The facts an alert tells, for one metric: ``at`` is the instant the notice is for (the
    warning time, or the deadline breached or whose breach is retracted); the rest is None where
    the notification does not say it."""

    kind: AlertKind
    type: str
    notification_id: str
    ticket_id: str
    plan: str
    priority: int
    priority_reason: str
    requested_priority: int | None
    status: str
    metric: str
    cycle: int
    threshold: float | None
    at: datetime
    deadline: datetime | None
    target: Target | None
    started_at: datetime | None
    stopped_at: datetime | None
    published_at: datetime
    pauses: int = 0  # how often the cycle's clock was paused (that time is not counted)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One notification in each readable form."""

    subject: str
    text: str
    chat: dict[str, Any]


def alert_of(notification: Notified) -> Alert:
    """The facts of a notification. First response's are the view's top-level terms; another
    metric's come from its cycle in the view's ``metrics`` (target, start, stop, deadline, the
    priority it is judged by, its status). Where the view does not hold that cycle (a policy
    without the metric now, or an old cycle the state keeps only as a count), only what the
    notice itself says is used: its instant, and for a breach or retraction that instant is the
    deadline."""
    view = notification.sla
    kind = _KINDS.get(notification.type)
    if kind is None:
        raise ValueError(f"not an SLA notification type: {notification.type!r}")
    alert = Alert(
        kind=kind,
        type=notification.type,
        notification_id=notification.notification_id,
        ticket_id=notification.ticket_id,
        plan=view.plan,
        priority=view.priority,
        priority_reason=view.priority_reason,
        requested_priority=view.requested_priority,
        status=view.status,
        metric=notification.metric,
        cycle=notification.cycle,
        threshold=notification.threshold,
        at=notification.for_,
        deadline=notification.for_ if kind != "warning" else None,
        target=None,
        started_at=None,
        stopped_at=None,
        published_at=notification.published_at,
    )
    if notification.metric == "first_response":
        return replace(
            alert,
            deadline=alert.deadline or view.deadline,
            target=view.target,
            started_at=view.clock_started_at,
            stopped_at=view.clock_stopped_at,
        )
    cycle = _cycle_of(view, notification.metric, notification.cycle)
    if cycle is None:
        return alert
    return replace(
        alert,
        priority=cycle.priority if cycle.priority is not None else view.priority,
        status=_cycle_status(cycle, notification.published_at),
        deadline=alert.deadline or cycle.deadline,
        target=cycle.target,
        started_at=cycle.started_at,
        stopped_at=cycle.stopped_at,
        pauses=len(cycle.pauses) + cycle.paused,
    )


def _cycle_of(view: SlaView, metric: str, number: int) -> CycleView | None:
    """The cycle ``number`` of ``metric`` in the view, or None where the view does not hold it."""
    if view.metrics is None:
        return None
    for name, mv in view.metrics.items():
        if name == metric:
            cycles = list(mv.completed_cycles)
            if mv.ongoing_cycle is not None:
                cycles.append(mv.ongoing_cycle)
            for cycle in cycles:
                if cycle.cycle == number:
                    return cycle
    return None


def _cycle_status(cycle: CycleView, now: datetime) -> str:
    """The status of one cycle: met or breached once stopped, else running, paused or breached."""
    if cycle.deadline is None:
        return "paused" if cycle.paused else "running"
    if cycle.stopped_at is not None:
        return "met" if cycle.stopped_at <= cycle.deadline else "breached"
    if now > cycle.deadline:
        return "breached"
    return "paused" if cycle.paused else "running"


def render(notification: Notified, zone: ZoneInfo) -> Rendered:
    """The e-mail subject and text and the chat message of a notification."""
    alert = alert_of(notification)
    return Rendered(email_subject(alert), email_text(alert, zone), chat_message(alert, zone))


# -- e-mail --------------------------------------------------------------------------------------


def email_subject(alert: Alert) -> str:
    """One line for SNS's ``Subject`` (e-mail only): printable ASCII, at most ``SUBJECT_LIMIT``
    characters; a long ticket id is shortened, never the words after it."""
    ticket = sns_subject(alert.ticket_id)
    rest = sns_subject("x" + _after_ticket(alert) + _headline_rest(alert))[1:]
    room = SUBJECT_LIMIT - len(rest)
    if len(ticket) > room >= 8:
        ticket = ticket[: room - 3].rstrip() + "..."
    return sns_subject(ticket + rest)


def email_text(alert: Alert, zone: ZoneInfo) -> str:
    """The plain text of the e-mail: what happened in one sentence, then the ticket's facts."""
    lines = [_line(_lead(alert, zone)), ""]
    # labels in a column of 15 characters; a longer one ("Customer wrote:") still gets its space
    lines += [f"{label + ':':<14} {_line(value)}" for label, value in _facts(alert, zone)]
    lines += [
        "",
        f"Times are shown in {zone.key or 'the policy zone'} and in UTC.",
        f"Notification {alert.type}, id {alert.notification_id}, sent "
        f"{_when(alert.published_at, zone, dated=True)}.",
    ]
    return "\n".join(lines) + "\n"


def _line(text: str) -> str:
    """One line of the e-mail: a ticket id's control characters or line breaks become spaces."""
    return _CONTROL.sub(" ", text)


def sns_subject(text: str) -> str:
    """``text`` as SNS accepts a subject: accents folded, other non-ASCII characters as ``?``,
    control characters and line breaks as one space, cut to ``SUBJECT_LIMIT`` characters."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    ascii_text = folded.encode("ascii", "replace").decode("ascii")
    one_line = _SPACES.sub(" ", _CONTROL.sub(" ", ascii_text)).strip()
    if len(one_line) > SUBJECT_LIMIT:
        one_line = one_line[: SUBJECT_LIMIT - 3].rstrip() + "..."
    return one_line or "SLA notification"


# -- AWS Chatbot ---------------------------------------------------------------------------------

# AWS Chatbot (Amazon Q Developer in chat applications) custom notifications, as documented at
# https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html: "version" must be
# "1.0", "source" must be "custom", "id" is optional; content.textType "client-markdown" (the only
# one supported) with title, description, nextSteps and keywords; metadata.threadId groups
# notifications in one thread, summary, eventType (what a custom action attaches to: letters,
# digits and hyphens, per the CustomActionAttachment API), relatedResources and
# additionalContext (string values).
_EMOJI = {"warning": ":warning:", "breach": ":rotating_light:", "retraction": ":white_check_mark:"}


def chat_message(alert: Alert, zone: ZoneInfo) -> dict[str, Any]:
    """The AWS Chatbot custom notification of an alert (Slack and Microsoft Teams)."""
    facts = "\n".join(f"*{label}:* {_chat(value)}" for label, value in _facts(alert, zone))
    context = {
        "type": alert.type,
        "ticket_id": alert.ticket_id,
        "plan": alert.plan,
        "priority": str(alert.priority),
        "metric": alert.metric,
        "cycle": str(alert.cycle),
        "status": alert.status,
        "for": _iso(alert.at),
        "notification_id": alert.notification_id,
    }
    if alert.deadline is not None:
        context["deadline"] = _iso(alert.deadline)
    if alert.threshold is not None:
        context["threshold"] = _number(alert.threshold)
    return {
        "version": "1.0",
        "source": "custom",
        "id": alert.notification_id,
        "content": {
            "textType": "client-markdown",
            "title": f"{_EMOJI[alert.kind]} {_chat(_who(alert) + _headline_rest(alert))}",
            "description": f"{_chat(_lead(alert, zone))}\n\n{facts}",
            "nextSteps": [_chat(step) for step in _next_steps(alert, zone)],
            "keywords": [alert.type, alert.plan, f"P{alert.priority}", alert.metric],
        },
        "metadata": {
            "threadId": f"sla-keeper/{alert.ticket_id}",
            "summary": _chat(_who(alert) + _headline_rest(alert)),
            "eventType": alert.type.replace(".", "-").replace("_", "-"),
            "relatedResources": [alert.ticket_id],
            "additionalContext": context,
        },
    }


def _chat(text: str) -> str:
    """Text safe in chat markdown: no control characters but line breaks, and ``&``, ``<``,
    ``>`` escaped, so that a ticket id cannot mention a channel or open a link (Slack's rules)."""
    text = _CONTROL_BUT_NEWLINE.sub(" ", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _next_steps(alert: Alert, zone: ZoneInfo) -> list[str]:
    doing = "solve" if alert.metric == "resolution" else "reply to"
    if alert.kind == "warning":
        by = f" by {_when(alert.deadline, zone)}" if alert.deadline else ""
        return [f"{doing.capitalize()} {alert.ticket_id}{by} to meet the target."]
    if alert.kind == "breach":
        return [
            f"{doing.capitalize()} {alert.ticket_id} now: the target is missed.",
            "Tell the customer when to expect an answer.",
        ]
    return ["Nothing to do: the earlier breach notice no longer applies."]


# -- the words -----------------------------------------------------------------------------------


def _who(alert: Alert) -> str:
    return alert.ticket_id + _after_ticket(alert)


def _after_ticket(alert: Alert) -> str:
    return f" ({_title(alert.plan)}, P{alert.priority})"


def _metric(alert: Alert) -> str:
    """'first-response target', 'next-reply target (reply 2)', 'resolution target'."""
    name = _METRIC_NAMES.get(alert.metric, alert.metric.replace("_", "-"))
    cycle = f" (reply {alert.cycle})" if alert.metric == "next_reply" else ""
    return f"{name} target{cycle}"


def _headline_rest(alert: Alert) -> str:
    """What follows the ticket in a subject or title."""
    if alert.kind == "breach":
        return f" breached its {_metric(alert)}"
    if alert.kind == "retraction":
        return f" met its {_metric(alert)} after all: breach retracted"
    if alert.threshold is not None:
        return f" at risk: {_percent(alert.threshold)} of its {_metric(alert)} used"
    return f" at risk of breaching its {_metric(alert)}"


def _lead(alert: Alert, zone: ZoneInfo) -> str:
    """The one sentence that says what happened."""
    who, metric = _who(alert), _metric(alert)
    if alert.kind == "breach":
        return f"{who} breached its {metric} at {_when(alert.at, zone)}{_counted(alert, zone)}."
    if alert.kind == "warning":
        sized = f"{_sized(alert.target)} {metric}" if alert.target else metric
        deadline = f"; deadline {_when(alert.deadline, zone)}" if alert.deadline else ""
        if alert.threshold is None:
            return f"{who} is at risk of breaching its {sized}{deadline}."
        used = f"{_percent(alert.threshold)} of its {sized} used at {_when(alert.at, zone)}"
        return f"{who}: {used}{deadline}."
    stop = _STOPPED_BY.get(alert.metric, "stop")
    at = f" at {_when(alert.stopped_at, zone)}" if alert.stopped_at else ""
    before = f"before the deadline, {_when(alert.deadline, zone)}," if alert.deadline else "in time"
    return (
        f"{who} met its {metric} after all: the {stop}{at} came {before} but was recorded after "
        "the breach notice went out. That breach notice is retracted."
    )


def _counted(alert: Alert, zone: ZoneInfo) -> str:
    """What the breached clock counted, and from when: ', 6 business hours after creation'; for
    the other metrics with the instant their clock started ('8 business hours after the customer
    wrote at 09:59 CET (08:59 UTC)'), dated when it is another day than the breach, and whether
    paused time was left out."""
    if alert.target is None:
        return ""
    started = _STARTED_BY.get(alert.metric, "the clock started")
    counted = f", {_hours(alert.target)} after {started}"
    if alert.metric == "first_response" or alert.started_at is None:
        return counted
    same_day = alert.started_at.astimezone(zone).date() == alert.at.astimezone(zone).date()
    if same_day:
        counted += f" at {_when(alert.started_at, zone)}"
    else:
        counted += f" on {_when(alert.started_at, zone, dated=True)}"
    return counted + (", not counting paused time" if alert.pauses else "")


def _facts(alert: Alert, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The ticket's facts, one labelled line each; a fact the notification lacks is left out."""
    name = _METRIC_NAMES.get(alert.metric, alert.metric).replace("-", " ")
    facts = [
        ("Ticket", alert.ticket_id),
        ("Plan", _title(alert.plan)),
        ("Priority", f"P{alert.priority} ({_reason(alert)})"),
        ("Status", alert.status.replace("_", " ")),
        ("Metric", f"{name}, reply {alert.cycle}" if alert.metric == "next_reply" else name),
    ]
    if alert.target is not None:
        facts.append(("Target", f"{_hours(alert.target)}{_clock(alert.target)}"))
    if alert.started_at is not None:
        label = "Customer wrote" if alert.metric == "next_reply" else "Created"
        facts.append((label, _when(alert.started_at, zone, dated=True)))
    if alert.pauses:
        times = "once" if alert.pauses == 1 else f"{alert.pauses} times"
        facts.append(("Paused", f"{times}, not counted"))
    if alert.kind == "warning":
        facts.append(("Warning at", _when(alert.at, zone, dated=True)))
    if alert.deadline is not None:
        facts.append(("Deadline", _when(alert.deadline, zone, dated=True)))
    if alert.stopped_at is not None:
        facts.append((_STOPPED_BY.get(alert.metric, "stop").capitalize(), _stopped(alert, zone)))
    return facts


def _stopped(alert: Alert, zone: ZoneInfo) -> str:
    assert alert.stopped_at is not None
    when = _when(alert.stopped_at, zone, dated=True)
    if alert.deadline is None:
        return when
    return f"{when}, {'in time' if alert.stopped_at <= alert.deadline else 'late'}"


def _reason(alert: Alert) -> str:
    if alert.priority_reason == "non_production":
        asked = f" from P{alert.requested_priority}" if alert.requested_priority else ""
        return f"lowered{asked}: not a production environment"
    return _REASONS.get(alert.priority_reason, alert.priority_reason.replace("_", " "))


def _title(name: str) -> str:
    return name[:1].upper() + name[1:]


def _percent(fraction: float) -> str:
    return f"{_number(fraction * 100, 1)}%"


def _number(value: float, places: int = 4) -> str:
    """6 -> '6', 1.5 -> '1.5', 0.75 -> '0.75' (no trailing zeros)."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _hours(target: Target) -> str:
    """'6 business hours', '1 hour', '1.5 hours'."""
    count = _number(float(target.hours))
    unit = "hour" if count == "1" else "hours"
    return f"{count} business {unit}" if target.clock == "business" else f"{count} {unit}"


def _sized(target: Target) -> str:
    """'6 business-hour', '1-hour' (before a noun)."""
    count = _number(float(target.hours))
    return f"{count} business-hour" if target.clock == "business" else f"{count}-hour"


def _clock(target: Target) -> str:
    return "" if target.clock == "business" else ", 24/7 (elapsed time)"


def _when(instant: datetime | None, zone: ZoneInfo, *, dated: bool = False) -> str:
    """'15:59 CET (14:59 UTC)'; dated: 'Wed 25 Nov 2026 15:59 CET (14:59 UTC)', with the UTC date
    too when it is another day."""
    assert instant is not None
    local, utc = instant.astimezone(zone), instant.astimezone(UTC)
    label = _zone_label(local)
    if dated:
        here = f"{_date(local)} {_clock_time(local)} {label}"
        there = (
            f"{_clock_time(utc)} UTC"
            if utc.date() == local.date()
            else f"{_date(utc)} {_clock_time(utc)} UTC"
        )
    else:
        here, there = f"{_clock_time(local)} {label}", f"{_clock_time(utc)} UTC"
    if label == "UTC" and local.utcoffset() == timedelta(0):
        return here
    return f"{here} ({there})"


def _zone_label(local: datetime) -> str:
    """The zone's abbreviation (CET, CEST), or its offset where it has none (UTC+04)."""
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        offset = local.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
        name = f"UTC{sign}{minutes // 60:02d}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return name


def _clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M" if not moment.second else "%H:%M:%S")


def _date(moment: datetime) -> str:
    """'Wed 25 Nov 2026', the same in every locale."""
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
