"""Readable alerts: the e-mail subject and text and the AWS Chatbot message of each notification,
with times in the policy's zone and in UTC, worded per metric."""

from __future__ import annotations

import dataclasses
import json
import string
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.payloads import ticket_event
from sla import Policy, apply_event, load_policy, reduce_events, sla_view
from sla.core.alerts import (
    SUBJECT_LIMIT,
    Alert,
    alert_of,
    chat_message,
    email_subject,
    email_text,
    render,
    sns_subject,
)
from sla.core.notices import notification_id
from sla.core.terms import MetricName
from sla.ports import TYPES, Notification
from tests.unit.helpers import utc

ZONE = ZoneInfo("Europe/Bratislava")
WINTER = utc("2026-11-25T08:59:00Z")  # Wednesday 09:59 CET
SUMMER = utc("2026-07-15T07:00:00Z")  # Wednesday 09:00 CEST


def notification(
    policy: Policy,
    kind: str,
    *,
    created: datetime = WINTER,
    ticket_id: str = "T-1001",
    plan: str = "professional",
    priority: int = 2,
    reply_at: datetime | None = None,
    **fields: Any,
) -> Notification:
    """The notification of ``kind`` (warning, breach, retraction) of a new ticket, judged a few
    seconds after its instant; a retraction's ticket was answered at ``reply_at``."""
    state = apply_event(
        None,
        ticket_event(
            "e0",
            "ticket.created",
            created,
            id=ticket_id,
            created_at=created,
            plan=plan,
            priority=priority,
        ),
        policy,
    )
    if reply_at is not None:
        reply = ticket_event(
            "e1", "ticket.responded", reply_at, actor="agent", id=ticket_id, created_at=created
        )
        state = apply_event(state, reply, policy)
    assert state.warning_at is not None and state.deadline is not None
    for_ = state.warning_at if kind == "warning" else state.deadline
    published = for_ + timedelta(seconds=64)
    return Notification(
        notification_id=notification_id(ticket_id, kind, for_),  # type: ignore[arg-type]
        type=TYPES[kind],
        ticket_id=ticket_id,
        for_=for_,
        published_at=published,
        sla=sla_view(state, published),
        **fields,
    )


# -- e-mail: the first line says what happened ---------------------------------------------------


def test_a_breach_in_winter_reads_as_the_contract_says(policy: Policy) -> None:
    """Given a Professional P2 ticket created at 09:59 CET, when its breach is rendered, then the
    subject names ticket, plan, priority and metric, and the text gives the deadline in CET and
    UTC and the target it used up."""
    rendered = render(notification(policy, "breach"), ZONE)
    assert rendered.subject == "T-1001 (Professional, P2) breached its first-response target"
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2) breached its first-response target at 15:59 CET "
        "(14:59 UTC), 6 business hours after creation."
    )


def test_a_breach_in_summer_shows_cest(policy: Policy) -> None:
    """Given a ticket created at 09:00 CEST, its deadline is 15:00 CEST, 13:00 UTC."""
    rendered = render(notification(policy, "breach", created=SUMMER), ZONE)
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2) breached its first-response target at 15:00 CEST "
        "(13:00 UTC), 6 business hours after creation."
    )
    assert "Deadline:      Wed 15 Jul 2026 15:00 CEST (13:00 UTC)" in rendered.text


def test_a_warning_gives_its_threshold_target_and_deadline(policy: Policy) -> None:
    rendered = render(notification(policy, "warning", threshold=0.75), ZONE)
    assert rendered.subject == (
        "T-1001 (Professional, P2) at risk: 75% of its first-response target used"
    )
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2): 75% of its 6 business-hour first-response target used at "
        "14:29 CET (13:29 UTC); deadline 15:59 CET (14:59 UTC)."
    )


def test_a_warning_in_summer_shows_cest(policy: Policy) -> None:
    rendered = render(notification(policy, "warning", created=SUMMER, threshold=0.5), ZONE)
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2): 50% of its 6 business-hour first-response target used at "
        "13:30 CEST (11:30 UTC); deadline 15:00 CEST (13:00 UTC)."
    )


def test_a_warning_without_its_threshold_still_says_the_target_and_deadline(
    policy: Policy,
) -> None:
    rendered = render(notification(policy, "warning"), ZONE)
    assert (
        rendered.subject
        == "T-1001 (Professional, P2) at risk of breaching its first-response target"
    )
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2) is at risk of breaching its 6 business-hour first-response "
        "target; deadline 15:59 CET (14:59 UTC)."
    )


def test_a_retraction_says_the_reply_came_in_time(policy: Policy) -> None:
    """Given a breach notice that went out, and then a reply that happened at 15:40 CET, before
    the deadline, when the retraction is rendered, then it says the reply came in time."""
    rendered = render(
        notification(policy, "retraction", reply_at=utc("2026-11-25T14:40:00Z")), ZONE
    )
    assert rendered.subject == (
        "T-1001 (Professional, P2) met its first-response target after all: breach retracted"
    )
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2) met its first-response target after all: the first reply at "
        "15:40 CET (14:40 UTC) came before the deadline, 15:59 CET (14:59 UTC), but was recorded "
        "after the breach notice went out. That breach notice is retracted."
    )
    assert "Status:        met" in rendered.text
    assert "First reply:   Wed 25 Nov 2026 15:40 CET (14:40 UTC), in time" in rendered.text


def test_an_elapsed_target_is_worded_in_hours_not_business_hours(policy: Policy) -> None:
    rendered = render(notification(policy, "breach", plan="advanced", priority=1), ZONE)
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Advanced, P1) breached its first-response target at 10:59 CET (09:59 UTC), "
        "1 hour after creation."
    )
    assert "Target:        1 hour, 24/7 (elapsed time)" in rendered.text


# -- e-mail: the facts below it ------------------------------------------------------------------


def test_the_text_lists_ticket_plan_priority_status_target_and_times(policy: Policy) -> None:
    n = notification(policy, "breach")
    text = email_text(alert_of(n), ZONE)
    assert text.splitlines()[2:] == [
        "Ticket:        T-1001",
        "Plan:          Professional",
        "Priority:      P2 (as requested)",
        "Status:        breached",
        "Metric:        first response",
        "Target:        6 business hours",
        "Created:       Wed 25 Nov 2026 09:59 CET (08:59 UTC)",
        "Deadline:      Wed 25 Nov 2026 15:59 CET (14:59 UTC)",
        "",
        "Times are shown in Europe/Bratislava and in UTC.",
        f"Notification sla.breached, id {n.notification_id}, sent "
        "Wed 25 Nov 2026 16:00:04 CET (15:00:04 UTC).",
    ]


def test_the_text_is_plain_text_not_json(policy: Policy) -> None:
    text = render(notification(policy, "warning", threshold=0.75), ZONE).text
    for marker in ("{", "}", '"sla"', "notification_id"):
        assert marker not in text


def test_a_date_that_differs_in_utc_is_shown_with_both_dates(policy: Policy) -> None:
    """Given an Advanced P1 ticket (1 hour, 24/7) created at 23:30 CET, its deadline falls at
    00:30 CET the next day, still the day before in UTC: both dates are shown."""
    created = utc("2026-11-24T22:30:00Z")
    text = render(
        notification(policy, "breach", plan="advanced", priority=1, created=created), ZONE
    ).text
    assert "Deadline:      Wed 25 Nov 2026 00:30 CET (Tue 24 Nov 2026 23:30 UTC)" in text


def test_a_zone_without_abbreviation_shows_its_offset(policy: Policy) -> None:
    text = render(notification(policy, "breach"), ZoneInfo("Asia/Dubai")).text
    assert "at 18:59 UTC+04 (14:59 UTC)" in text.splitlines()[0]


def test_in_utc_the_time_is_shown_once(policy: Policy) -> None:
    text = render(notification(policy, "breach"), ZoneInfo("UTC")).text
    assert "breached its first-response target at 14:59 UTC, 6 business" in text


def test_a_priority_lowered_outside_production_says_why(policy: Policy) -> None:
    n = notification(policy, "breach")
    lowered = dataclasses.replace(
        alert_of(n), priority=3, requested_priority=1, priority_reason="non_production"
    )
    assert "Priority:      P3 (lowered from P1: not a production environment)" in email_text(
        lowered, ZONE
    )


# -- per metric ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "cycle", "named"),
    [
        ("first_response", 1, "first-response target"),
        ("next_reply", 2, "next-reply target (reply 2)"),
        ("next_reply", 5, "next-reply target (reply 5)"),
        ("resolution", 1, "resolution target"),
    ],
)
def test_each_metric_is_named_in_subject_and_text(
    policy: Policy, metric: str, cycle: int, named: str
) -> None:
    rendered = render(notification(policy, "breach", metric=metric, cycle=cycle), ZONE)
    assert rendered.subject == f"T-1001 (Professional, P2) breached its {named}"
    assert rendered.text.startswith(f"T-1001 (Professional, P2) breached its {named} at 15:59 CET")


def test_another_metrics_breach_takes_its_deadline_from_the_notice_not_the_first_response(
    policy: Policy,
) -> None:
    """The view's top-level terms are the first response's: where the view does not hold the
    metric's cycle (here a policy without the metric), a next-reply breach shows only what its
    notice says (the deadline it is for), never the first response's target."""
    n = notification(policy, "breach", metric="next_reply", cycle=2)
    n = n.model_copy(update={"for_": utc("2026-11-26T10:00:00Z")})
    text = render(n, ZONE).text
    assert "Deadline:      Thu 26 Nov 2026 11:00 CET (10:00 UTC)" in text
    assert "Metric:        next reply, reply 2" in text
    assert "6 business hours" not in text
    assert "Created:" not in text


# -- per metric, from the metric's own cycle (the all-metrics policy) ----------------------------

ALL_METRICS = load_policy(Path(__file__).parents[3] / "layers/sla/sla/policies/all-metrics.toml")
MON = utc("2026-11-23T08:00:00Z")  # Monday 09:00 CET


Happening = tuple[str, str, dict[str, Any]]  # an event's type, instant and ticket fields


def metric_notification(
    kind: str,
    metric: MetricName,
    events: list[Happening],
    *,
    cycle: int = 1,
    threshold: float | None = None,
    created: datetime = MON,
    priority: int = 2,
    plan: str = "professional",
) -> Notification:
    """The notification of ``kind`` about a cycle of ``metric`` of a ticket created at
    ``created`` to which ``events`` (type, instant, fields) happened, under the all-metrics
    policy: for the cycle's warning at ``threshold`` or its deadline, published 64 s later with
    the view then, as the notifier makes it."""
    made = [
        ticket_event(
            "e0", "ticket.created", created, created_at=created, plan=plan, priority=priority
        )
    ]
    for i, (type_, at, fields) in enumerate(events, start=1):
        actor = "agent" if type_ == "ticket.responded" else "customer"
        made.append(
            ticket_event(
                f"e{i}",
                type_,
                utc(at),
                actor=actor,
                created_at=created,
                plan=plan,
                **{"priority": priority, **fields},
            )
        )
    state = reduce_events(made, ALL_METRICS)
    (judged,) = [c for c in state.metrics[metric].cycles if c.number == cycle]
    if kind == "warning":
        (warning,) = [w for w in judged.warnings if w.threshold == threshold]
        for_ = warning.at
    else:
        for_ = judged.deadline
    assert for_ is not None
    published = for_ + timedelta(seconds=64)
    return Notification(
        notification_id=notification_id("T-1001", kind, for_, metric, cycle),  # type: ignore[arg-type]
        type=TYPES[kind],
        ticket_id="T-1001",
        metric=metric,
        cycle=cycle,
        threshold=threshold,
        for_=for_,
        published_at=published,
        sla=sla_view(state, published, calendar=ALL_METRICS.calendar),
    )


# two exchanges: the customer writes again on Monday (reply 1, answered in time) and on Tuesday
# at 15:59 CET (reply 2: 8 business hours, 1:01 on Tuesday and 6:59 on Wednesday)
EXCHANGES: list[Happening] = [
    ("ticket.responded", "2026-11-23T08:30:00Z", {}),
    ("ticket.customer_replied", "2026-11-23T10:00:00Z", {}),
    ("ticket.responded", "2026-11-23T11:00:00Z", {}),
    ("ticket.customer_replied", "2026-11-24T14:59:00Z", {}),
]


def test_a_next_reply_breach_says_its_target_and_when_the_customer_wrote() -> None:
    """Given a customer message on Tuesday 15:59 CET left unanswered, when reply 2's breach is
    rendered, then it gives the breach in CET and UTC, the 8 business hours, and when the
    customer wrote (dated: another day than the breach)."""
    rendered = render(metric_notification("breach", "next_reply", EXCHANGES, cycle=2), ZONE)
    assert rendered.subject == "T-1001 (Professional, P2) breached its next-reply target (reply 2)"
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2) breached its next-reply target (reply 2) at 15:59 CET "
        "(14:59 UTC), 8 business hours after the customer wrote on Tue 24 Nov 2026 15:59 CET "
        "(14:59 UTC)."
    )
    assert rendered.text.splitlines()[2:11] == [
        "Ticket:        T-1001",
        "Plan:          Professional",
        "Priority:      P2 (as requested)",
        "Status:        breached",
        "Metric:        next reply, reply 2",
        "Target:        8 business hours",
        "Customer wrote: Tue 24 Nov 2026 15:59 CET (14:59 UTC)",
        "Deadline:      Wed 25 Nov 2026 15:59 CET (14:59 UTC)",
        "",
    ]


def test_a_next_reply_breach_on_the_day_the_customer_wrote_gives_the_time_alone() -> None:
    """Advanced P1: a next reply within 2 hours, 24/7; the customer wrote at 13:00 CET."""
    events: list[Happening] = [
        ("ticket.responded", "2026-11-23T08:10:00Z", {}),
        ("ticket.customer_replied", "2026-11-23T12:00:00Z", {}),
    ]
    n = metric_notification("breach", "next_reply", events, plan="advanced", priority=1)
    assert render(n, ZONE).text.splitlines()[0] == (
        "T-1001 (Advanced, P1) breached its next-reply target (reply 1) at 15:00 CET (14:00 UTC), "
        "2 hours after the customer wrote at 13:00 CET (12:00 UTC)."
    )


def test_a_next_reply_warning_gives_its_target_and_deadline() -> None:
    """90% of 8 business hours is 7:12: 1:01 on Tuesday, 6:11 on Wednesday."""
    n = metric_notification("warning", "next_reply", EXCHANGES, cycle=2, threshold=0.9)
    rendered = render(n, ZONE)
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2): 90% of its 8 business-hour next-reply target (reply 2) used "
        "at 15:11 CET (14:11 UTC); deadline 15:59 CET (14:59 UTC)."
    )
    assert rendered.chat["content"]["nextSteps"] == [
        "Reply to T-1001 by 15:59 CET (14:59 UTC) to meet the target."
    ]
    assert "Status:        running" in rendered.text


def test_a_next_reply_retraction_says_when_the_reply_came() -> None:
    """Given reply 2's breach notice, and then an agent's reply that happened at 15:40 CET,
    before the deadline, the retraction says so and the cycle is met."""
    late: Happening = ("ticket.responded", "2026-11-25T14:40:00Z", {})
    rendered = render(
        metric_notification("retraction", "next_reply", [*EXCHANGES, late], cycle=2), ZONE
    )
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2) met its next-reply target (reply 2) after all: the reply at "
        "15:40 CET (14:40 UTC) came before the deadline, 15:59 CET (14:59 UTC), but was "
        "recorded after the breach notice went out. That breach notice is retracted."
    )
    assert "Status:        met" in rendered.text
    assert "Reply:         Wed 25 Nov 2026 15:40 CET (14:40 UTC), in time" in rendered.text


def test_a_resolution_breach_says_paused_time_was_not_counted() -> None:
    """Professional P1, 24 business hours to resolve; created Monday 09:00 CET, pending from
    13:00 CET to Tuesday 09:00 CET: 4 h on Monday, 8 on Tuesday and Wednesday, 4 on Thursday."""
    events = [
        ("ticket.responded", "2026-11-23T08:30:00Z", {}),
        ("ticket.updated", "2026-11-23T12:00:00Z", {"status": "pending"}),
        ("ticket.updated", "2026-11-24T08:00:00Z", {"status": "open"}),
    ]
    rendered = render(metric_notification("breach", "resolution", events, priority=1), ZONE)
    assert rendered.subject == "T-1001 (Professional, P1) breached its resolution target"
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P1) breached its resolution target at 13:00 CET (12:00 UTC), "
        "24 business hours after creation on Mon 23 Nov 2026 09:00 CET (08:00 UTC), not "
        "counting paused time."
    )
    assert "Paused:        once, not counted" in rendered.text
    assert "Created:       Mon 23 Nov 2026 09:00 CET (08:00 UTC)" in rendered.text


def test_a_resolution_breach_without_pauses_does_not_mention_them() -> None:
    """24 business hours from Monday 09:00 CET: Wednesday 17:00 CET."""
    rendered = render(metric_notification("breach", "resolution", [], priority=1), ZONE)
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P1) breached its resolution target at 17:00 CET (16:00 UTC), "
        "24 business hours after creation on Mon 23 Nov 2026 09:00 CET (08:00 UTC)."
    )
    assert "Paused" not in rendered.text


def test_a_first_response_notice_reads_the_same_under_the_all_metrics_policy() -> None:
    """The view carries every metric, but first response keeps its words."""
    rendered = render(metric_notification("breach", "first_response", []), ZONE)
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2) breached its first-response target at 15:00 CET (14:00 UTC), "
        "6 business hours after creation."
    )


def test_a_next_reply_alert_shows_the_priority_its_cycle_is_judged_by() -> None:
    """Given a first response at P2, and then the requester raising the ticket to P1 before
    writing again, reply 1 is judged at P1 (4 business hours): its breach names P1, as its
    message attribute does, although the view's top-level terms stay the first response's."""
    events = [
        ("ticket.responded", "2026-11-23T08:30:00Z", {}),
        ("ticket.updated", "2026-11-23T09:00:00Z", {"priority": 1}),
        ("ticket.customer_replied", "2026-11-23T10:00:00Z", {"priority": 1}),
    ]
    n = metric_notification("breach", "next_reply", events)
    assert n.sla.priority == 2
    assert n.attributes()["priority"]["StringValue"] == "1"
    assert render(n, ZONE).text.splitlines()[0] == (
        "T-1001 (Professional, P1) breached its next-reply target (reply 1) at 15:00 CET "
        "(14:00 UTC), 4 business hours after the customer wrote at 11:00 CET (10:00 UTC)."
    )


def test_a_next_reply_warning_names_its_cycle(policy: Policy) -> None:
    rendered = render(
        notification(policy, "warning", metric="next_reply", cycle=3, threshold=0.9), ZONE
    )
    assert rendered.subject == (
        "T-1001 (Professional, P2) at risk: 90% of its next-reply target (reply 3) used"
    )
    assert rendered.text.splitlines()[0] == (
        "T-1001 (Professional, P2): 90% of its next-reply target (reply 3) used at 14:29 CET "
        "(13:29 UTC)."
    )


@pytest.mark.parametrize(
    ("threshold", "shown"), [(0.5, "50%"), (0.9, "90%"), (0.29, "29%"), (0.875, "87.5%")]
)
def test_thresholds_are_shown_as_percentages(policy: Policy, threshold: float, shown: str) -> None:
    subject = render(notification(policy, "warning", threshold=threshold), ZONE).subject
    assert f" at risk: {shown} of its " in subject


# -- the subject SNS accepts ---------------------------------------------------------------------

SNS_SUBJECT_CHARACTERS = set(string.printable) - set("\t\n\r\x0b\x0c")


def assert_sns_subject(subject: str) -> None:
    """SNS: under 100 characters, no line breaks or control characters; ASCII, beginning with a
    letter, number or punctuation."""
    assert 0 < len(subject) <= SUBJECT_LIMIT < 100
    assert set(subject) <= SNS_SUBJECT_CHARACTERS, subject
    assert subject[0] != " "


def test_a_long_ticket_id_is_shortened_and_the_words_after_it_kept(policy: Policy) -> None:
    n = notification(policy, "breach", ticket_id="zendesk:" + "9" * 150)
    subject = render(n, ZONE).subject
    assert_sns_subject(subject)
    assert subject.startswith("zendesk:999")
    assert subject.endswith("... (Professional, P2) breached its first-response target")
    assert len(subject) == SUBJECT_LIMIT


def test_a_unicode_ticket_id_is_folded_to_ascii_in_the_subject_only(policy: Policy) -> None:
    n = notification(policy, "breach", ticket_id='Tï/ 🎫 "quoted" #1\n')
    rendered = render(n, ZONE)
    assert (
        rendered.subject
        == 'Ti/ ? "quoted" #1 (Professional, P2) breached its first-response target'
    )
    assert 'Ticket:        Tï/ 🎫 "quoted" #1 ' in rendered.text.splitlines()


@given(st.text(max_size=300))
def test_every_subject_is_one_sns_accepts(text: str) -> None:
    assert_sns_subject(sns_subject(text))


@given(ticket_id=st.text(min_size=1, max_size=300), plan=st.text(min_size=1, max_size=80))
def test_every_alert_subject_is_one_sns_accepts(ticket_id: str, plan: str) -> None:
    alert = Alert(
        kind="breach",
        type="sla.breached",
        notification_id="n-1",
        ticket_id=ticket_id,
        plan=plan,
        priority=2,
        priority_reason="requested",
        requested_priority=2,
        status="breached",
        metric="next_reply",
        cycle=12,
        threshold=None,
        at=WINTER,
        deadline=WINTER,
        target=None,
        started_at=None,
        stopped_at=None,
        published_at=WINTER,
    )
    subject = email_subject(alert)
    assert_sns_subject(subject)
    assert subject.endswith("breached its next-reply target (reply 12)") or len(plan) > 40


# -- AWS Chatbot ---------------------------------------------------------------------------------


def test_the_chat_message_is_a_chatbot_custom_notification(policy: Policy) -> None:
    """The shape AWS Chatbot documents: version 1.0, source custom, client-markdown content with
    title, description, next steps and keywords, and metadata threading by ticket."""
    n = notification(policy, "breach")
    chat = render(n, ZONE).chat
    assert chat["version"] == "1.0"
    assert chat["source"] == "custom"
    assert chat["id"] == n.notification_id
    content, metadata = chat["content"], chat["metadata"]
    assert set(content) == {"textType", "title", "description", "nextSteps", "keywords"}
    assert content["textType"] == "client-markdown"
    assert content["title"] == (
        ":rotating_light: T-1001 (Professional, P2) breached its first-response target"
    )
    assert content["description"].startswith(
        "T-1001 (Professional, P2) breached its first-response target at 15:59 CET (14:59 UTC)"
    )
    assert "*Deadline:* Wed 25 Nov 2026 15:59 CET (14:59 UTC)" in content["description"]
    assert all(isinstance(step, str) and step for step in content["nextSteps"])
    assert content["keywords"] == ["sla.breached", "professional", "P2", "first_response"]
    assert set(metadata) == {
        "threadId",
        "summary",
        "eventType",
        "relatedResources",
        "additionalContext",
    }
    assert metadata["threadId"] == "sla-keeper/T-1001"
    assert metadata["eventType"] == "sla-breached"
    assert metadata["relatedResources"] == ["T-1001"]
    assert metadata["additionalContext"]["deadline"] == "2026-11-25T14:59:00Z"
    assert all(isinstance(v, str) for v in metadata["additionalContext"].values())
    assert json.loads(json.dumps(chat)) == chat


@pytest.mark.parametrize(
    ("kind", "emoji", "event_type"),
    [
        ("warning", ":warning:", "sla-warning"),
        ("breach", ":rotating_light:", "sla-breached"),
        ("retraction", ":white_check_mark:", "sla-breach-retracted"),
    ],
)
def test_each_kind_has_its_own_title_mark_and_event_type(
    policy: Policy, kind: str, emoji: str, event_type: str
) -> None:
    """eventType is what a Chatbot custom action attaches to: letters, digits and hyphens."""
    reply = utc("2026-11-25T14:40:00Z") if kind == "retraction" else None
    chat = render(notification(policy, kind, threshold=0.75, reply_at=reply), ZONE).chat
    assert chat["content"]["title"].startswith(emoji + " T-1001 ")
    assert chat["metadata"]["eventType"] == event_type
    assert set(event_type) <= set(string.ascii_letters + string.digits + "-")


def test_a_warning_in_chat_says_by_when_to_reply(policy: Policy) -> None:
    chat = render(notification(policy, "warning", threshold=0.75), ZONE).chat
    assert chat["content"]["nextSteps"] == [
        "Reply to T-1001 by 15:59 CET (14:59 UTC) to meet the target."
    ]
    assert chat["metadata"]["additionalContext"]["threshold"] == "0.75"


def test_a_ticket_id_cannot_mention_a_channel_in_chat(policy: Policy) -> None:
    """Slack reads <!channel> and <url|text> as mentions and links: a ticket id is escaped."""
    chat = render(notification(policy, "breach", ticket_id="<!channel> & co"), ZONE).chat
    shown = json.dumps(chat["content"]) + chat["metadata"]["summary"]
    assert "<!channel>" not in shown
    assert "&lt;!channel&gt; &amp; co" in chat["content"]["title"]


def test_the_chat_message_carries_the_metric_and_cycle(policy: Policy) -> None:
    chat = chat_message(
        alert_of(notification(policy, "breach", metric="next_reply", cycle=2)), ZONE
    )
    assert "next-reply target (reply 2)" in chat["content"]["title"]
    assert chat["metadata"]["additionalContext"]["metric"] == "next_reply"
    assert chat["metadata"]["additionalContext"]["cycle"] == "2"


def test_a_notification_of_another_type_is_refused(policy: Policy) -> None:
    n = notification(policy, "breach").model_copy(update={"type": "sla.other"})
    with pytest.raises(ValueError, match="not an SLA notification type"):
        alert_of(n)


def test_the_readmes_example_e_mail_is_what_is_sent(policy: Policy) -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    section = readme.split("### Alerts in e-mail and chat", 1)[1]
    example = section.split("```text\n", 1)[1].split("```", 1)[0]
    rendered = render(notification(policy, "breach"), ZONE)
    assert example == f"Subject: {rendered.subject}\n\n{rendered.text}"
