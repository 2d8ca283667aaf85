"""Notices and timers of every metric through the AWS adapters under moto: the DynamoDB store and
its stream images, EventBridge Scheduler, SNS to an SQS subscriber; the functions' handlers wired
from the environment, with ``SLA_POLICY_FILE`` choosing the policy.

Also: a ticket item written before there were other metrics (its state without ``metrics``) is
read as it was, owes and publishes its first-response notices with the ids, schedule names and
claim keys it had, and is folded again from its events by its next delivery under a policy with
more metrics.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.pumps import StreamReader, live_schedules, schedule_time
from sla import Policy, load_policy
from sla.aws.store import ticket_from_item
from sla.core.events import TicketEvent
from sla.core.notices import NoticeKind, Owed, TimerKind, notification_id, owed, schedule_name
from sla.core.state import reduce_events
from sla.core.terms import MetricName
from sla.ports import TimerInput
from sla.runtime import wiring
from tests.conftest import ALL_METRICS_FILE
from tests.integration.conftest import TABLE, Api, LambdaContext, payload, topic_with_subscriber
from tests.integration.test_notifications_aws import GROUP, Stack

TICKET = "T-1001"  # Professional P2, created 2026-11-25T08:59:00Z (09:59 in Bratislava)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


StartStack = Callable[[Path | None], Stack]


@pytest.fixture
def start_stack(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[StartStack]:
    """The timers, notifier and sweeper handlers beside the webhook's, all wired for one policy
    file (None: the default policy)."""
    sns, sqs, scheduler = boto3.client("sns"), boto3.client("sqs"), boto3.client("scheduler")

    def start(policy_file: Path | None) -> Stack:
        topic, queue_url = topic_with_subscriber(sns, sqs)
        dlq = sqs.create_queue(QueueName="scheduler-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
        scheduler.create_schedule_group(Name=GROUP)
        for name, value in {
            "SLA_TOPIC_ARN": topic,
            "SLA_SCHEDULE_GROUP": GROUP,
            "SLA_NOTIFIER_ARN": "arn:aws:lambda:eu-central-1:123456789012:function:stack-notifier",
            "SLA_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/stack-scheduler",
            "SLA_SCHEDULER_DLQ_ARN": dlq_arn["Attributes"]["QueueArn"],
        }.items():
            monkeypatch.setenv(name, value)
        if policy_file is None:
            monkeypatch.delenv("SLA_POLICY_FILE", raising=False)
        else:
            monkeypatch.setenv("SLA_POLICY_FILE", str(policy_file))
        wiring.reset()
        from functions.notifier import app as notifier
        from functions.sweeper import app as sweeper
        from functions.timers import app as timers

        return Stack(
            api,
            StreamReader(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), TABLE),
            scheduler,
            sqs,
            queue_url,
            timers,
            notifier,
            sweeper,
        )

    yield start
    wiring.reset()


@pytest.fixture
def stack(start_stack: StartStack) -> Stack:
    return start_stack(ALL_METRICS_FILE)


def post(stack: Stack, instant: str, type_: str, msg_id: str, **kwargs: Any) -> dict[str, Any]:
    """At ``instant``: what fell due by then fires, then an event that happened then is
    delivered and its stream records read."""
    jump(stack, instant)
    answer = stack.api.post(payload(type_, instant, **kwargs), msg_id=msg_id)
    assert answer.status == 200, answer.raw
    stack.pump_stream()
    body: dict[str, Any] = answer.body
    return body


def jump(stack: Stack, instant: str) -> None:
    """Move the clock to ``instant`` at once and fire what is due (late, as after an outage:
    each schedule still hands over its exact input)."""
    stack.api.now = max(stack.api.now, utc(instant))
    stack.fire()


def schedules(stack: Stack) -> dict[str, tuple[str, dict[str, Any]]]:
    """The live schedules of the group: name -> (``at()``, input)."""
    return {s.name: (s.expression, s.input) for s in live_schedules(stack.scheduler, GROUP)}


def name(kind: TimerKind, metric: MetricName = "first_response", cycle: int = 1) -> str:
    return schedule_name(TICKET, kind, metric, cycle)


def messages(stack: Stack) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every message the subscriber received: (its attributes as name -> value, its body)."""
    return [
        (
            {k: v["Value"] for k, v in m["MessageAttributes"].items()},
            json.loads(m["Message"]),
        )
        for m in stack.messages()
    ]


def claims(stack: Stack) -> set[str]:
    rows = boto3.client("dynamodb").scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return {r["sk"]["S"] for r in rows if r["sk"]["S"].startswith("NOTICE#")}


def assert_invariants(stack: Stack, policy: Policy, *, folded: bool = True) -> None:
    """RELIABILITY.md's invariants 2 and 3 per metric and cycle, read from what moto holds: each
    owed notice is not due yet and the schedule of its metric, cycle and kind stands for the
    earliest owed one; no other schedule lives; no notice went out twice; the stored state is
    the fold of the recorded deliveries (``folded``; a state of the first layout is not, until
    its next delivery)."""
    stack.pump_stream()
    stack.fire()
    rows = boto3.client("dynamodb").scan(TableName=TABLE, ConsistentRead=True)["Items"]
    live = schedules(stack)
    events: dict[str, list[TicketEvent]] = {}
    for row in rows:
        if row["sk"]["S"].startswith("DELIVERY#"):
            event = TicketEvent.model_validate_json(row["event"]["S"])
            events.setdefault(event.ticket.id, []).append(event)
    for row in rows:
        if row["sk"]["S"] != "TICKET":
            continue
        ticket = ticket_from_item(row, policy)
        if folded:
            fold = reduce_events(events[ticket.ticket_id], policy)
            assert ticket.state == fold.model_copy(update={"history": None})
        earliest: dict[tuple[MetricName, int, TimerKind], Owed] = {}
        for item in owed(ticket.state, ticket.published):
            assert item.due_at > stack.now, f"owes {item} since {item.due_at}"
            kind = item.kind
            if kind != "retraction":
                key = (item.metric, item.cycle, kind)
                if key not in earliest or item.due_at < earliest[key].due_at:
                    earliest[key] = item
        for (metric, cycle, kind), item in earliest.items():
            at, given = live.pop(schedule_name(ticket.ticket_id, kind, metric, cycle))
            timer = TimerInput.model_validate(given)
            assert schedule_time(at) >= item.due_at
            assert (timer.metric, timer.cycle, timer.kind, timer.for_) == (
                metric,
                cycle,
                kind,
                item.for_,
            )
    assert live == {}, f"schedules that stand for nothing owed: {live}"
    sent = [body for _, body in messages(stack)]
    keys = Counter((b["ticket_id"], b["metric"], b["cycle"], b["type"], b["for"]) for b in sent)
    assert set(keys.values()) <= {1}, f"a notice went out twice: {keys}"
    assert len({b["notification_id"] for b in sent}) == len(sent)


# -- schedules per metric and cycle --------------------------------------------------------------


def test_each_metric_and_cycle_has_its_own_schedules(stack: Stack, all_metrics: Policy) -> None:
    """Given a ticket answered in time and a customer message, then Scheduler holds a warning
    and a breach schedule for next-reply cycle 1 and for the resolution, each with its metric
    and cycle in its input; an agent reply deletes the cycle's schedules; the next customer
    message creates cycle 2's under their own names; a pause deletes the resolution's and the
    resumption creates them again, later by the paused time."""
    post(stack, "2026-11-25T09:00:00Z", "ticket.created", "c", created_at="2026-11-25T08:59:00Z")
    live = schedules(stack)
    assert set(live) == {name("warning"), name("breach"), *resolution_names()}
    # first response's input as before there were other metrics (a notifier of that version
    # refuses unknown fields)
    assert live[name("warning")][1] == {
        "ticket_id": TICKET,
        "kind": "warning",
        "for": "2026-11-25T13:29:00Z",
        "version": 1,
    }
    post(stack, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    post(stack, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")  # Wed 11:00 local
    live = schedules(stack)
    assert set(live) == {
        name("warning", "next_reply"),
        name("breach", "next_reply"),
        *resolution_names(),
    }
    assert live[name("warning", "next_reply")] == (
        "at(2026-11-25T14:00:00)",  # 0.5 of 8 business hours: Wed 15:00 local
        {
            "ticket_id": TICKET,
            "kind": "warning",
            "for": "2026-11-25T14:00:00Z",
            "metric": "next_reply",
            "cycle": 1,
            "version": 1,
        },
    )
    assert live[name("breach", "next_reply")][0] == "at(2026-11-26T10:01:00)"
    assert live[name("breach", "resolution")] == (
        "at(2026-12-02T09:00:00)",  # 40 business hours: Wed 2 Dec 09:59 local
        {
            "ticket_id": TICKET,
            "kind": "breach",
            "for": "2026-12-02T08:59:00Z",
            "metric": "resolution",
            "cycle": 1,
            "version": 1,
        },
    )
    post(stack, "2026-11-25T11:00:00Z", "ticket.responded", "r2", actor="agent")
    assert set(schedules(stack)) == set(resolution_names())
    for kind in ("warning", "breach"):
        with pytest.raises(ClientError, match="ResourceNotFound"):
            stack.scheduler.get_schedule(Name=name(kind, "next_reply"), GroupName=GROUP)
    post(stack, "2026-11-25T11:30:00Z", "ticket.customer_replied", "m2")  # Wed 12:30 local
    live = schedules(stack)
    assert {n: live[n][1]["for"] for n in live if "next_reply" in json.dumps(live[n][1])} == {
        name("warning", "next_reply", 2): "2026-11-25T15:30:00Z",
        name("breach", "next_reply", 2): "2026-11-26T11:30:00Z",
    }
    post(stack, "2026-11-25T12:00:00Z", "ticket.updated", "p", actor="agent", status="pending")
    assert set(schedules(stack)) == {
        name("warning", "next_reply", 2),
        name("breach", "next_reply", 2),
    }
    post(stack, "2026-11-25T13:00:00Z", "ticket.updated", "o", actor="agent", status="open")
    live = schedules(stack)
    assert live[name("breach", "resolution")][1]["for"] == "2026-12-02T09:59:00Z"  # an hour on
    assert live[name("warning", "resolution")][1]["for"] == "2026-11-30T15:59:00Z"
    assert_invariants(stack, all_metrics)


def resolution_names() -> tuple[str, str]:
    return name("warning", "resolution"), name("breach", "resolution")


def test_a_schedule_hands_the_notifier_its_metric_and_cycle(
    stack: Stack, all_metrics: Policy
) -> None:
    """Given next-reply cycle 1 unanswered, when its schedules fire, then each hands the
    notifier its exact input, which reads back as the same timer; each threshold is published
    once with its metric, cycle and threshold, and the warning schedule moves to the next one."""
    post(stack, "2026-11-25T09:00:00Z", "ticket.created", "c", created_at="2026-11-25T08:59:00Z")
    post(stack, "2026-11-25T09:30:00Z", "ticket.responded", "r1", actor="agent")
    post(stack, "2026-11-25T10:00:00Z", "ticket.customer_replied", "m1")
    armed = schedules(stack)[name("warning", "next_reply")][1]
    assert TimerInput.model_validate(armed) == TimerInput(
        ticket_id=TICKET, kind="warning", for_=utc("2026-11-25T14:00:00Z"), metric="next_reply"
    )
    stack.api.now = utc("2026-11-25T14:00:00Z")
    assert stack.fire() == [{"outcome": "published"}]
    assert schedules(stack)[name("warning", "next_reply")][1]["for"] == "2026-11-25T16:00:00Z"
    jump(stack, "2026-11-25T16:00:00Z")
    jump(stack, "2026-11-26T09:12:00Z")
    jump(stack, "2026-11-26T10:01:00Z")
    sent = messages(stack)
    assert [(b["type"], b["metric"], b["cycle"], b["threshold"], b["for"]) for _, b in sent] == [
        ("sla.warning", "next_reply", 1, 0.5, "2026-11-25T14:00:00Z"),
        ("sla.warning", "next_reply", 1, 0.75, "2026-11-25T16:00:00Z"),
        ("sla.warning", "next_reply", 1, 0.9, "2026-11-26T09:12:00Z"),
        ("sla.breached", "next_reply", 1, None, "2026-11-26T10:00:00Z"),
    ]
    for attributes, body in sent:
        assert attributes["metric"] == "next_reply"
        assert attributes["priority"] == "2"
        kind: NoticeKind = "warning" if body["type"] == "sla.warning" else "breach"
        assert body["notification_id"] == notification_id(
            TICKET, kind, utc(body["for"]), "next_reply", 1
        )
        assert attributes["notification_id"] == body["notification_id"]
    # a repeated invocation with the same input publishes nothing more
    repeat: dict[str, Any] = {"ticket_id": TICKET, "kind": "breach", "for": "2026-11-26T10:00:00Z"}
    repeat |= {"metric": "next_reply", "cycle": 1}
    assert stack.notifier.lambda_handler(repeat, LambdaContext()) == {"outcome": "duplicate"}
    assert set(schedules(stack)) == set(resolution_names())
    assert_invariants(stack, all_metrics)


def test_an_input_without_metric_is_first_responses() -> None:
    """Inputs of schedules written before there were other metrics, and first response's as
    written now, read as first response's cycle 1."""
    old = {"ticket_id": TICKET, "kind": "breach", "for": "2026-11-25T14:59:00Z", "version": 1}
    timer = TimerInput.model_validate(old)
    assert (timer.metric, timer.cycle) == ("first_response", 1)


# -- claims --------------------------------------------------------------------------------------


@pytest.fixture
def same_targets(tmp_path: Path) -> Path:
    """The all-metrics policy with Advanced P1's resolution target equal to its first response
    (1 elapsed hour): both metrics owe a warning at the same instant and a breach at the same
    instant."""
    text = ALL_METRICS_FILE.read_text()
    resolution = '[metrics.resolution.targets.advanced]\n1 = { hours = 24, clock = "elapsed" }'
    assert resolution in text
    path = tmp_path / "same-targets.toml"
    path.write_text(text.replace(resolution, resolution.replace("24", "1")))
    return path


def test_claims_of_other_metrics_never_collide_with_first_responses(
    start_stack: StartStack, same_targets: Path
) -> None:
    """Given two metrics owing a notice of the same kind for the same instant, when both fall
    due, then each is claimed under its own key and published once: first response's under the
    key it always had, the other with its metric and cycle."""
    stack = start_stack(same_targets)
    ticket = {"plan": "advanced", "priority": 1, "created_at": "2026-11-25T08:59:00Z"}
    post(stack, "2026-11-25T09:00:00Z", "ticket.created", "c", **ticket)
    jump(stack, "2026-11-25T09:44:00Z")
    jump(stack, "2026-11-25T10:00:00Z")
    sent = sorted((b["metric"], b["type"], b["for"]) for _, b in messages(stack))
    assert sent == [
        ("first_response", "sla.breached", "2026-11-25T09:59:00Z"),
        ("first_response", "sla.warning", "2026-11-25T09:44:00Z"),
        ("resolution", "sla.breached", "2026-11-25T09:59:00Z"),
        ("resolution", "sla.warning", "2026-11-25T09:44:00Z"),
    ]
    assert claims(stack) == {
        "NOTICE#warning#2026-11-25T09:44:00Z",
        "NOTICE#breach#2026-11-25T09:59:00Z",
        "NOTICE#resolution#1#warning#2026-11-25T09:44:00Z",
        "NOTICE#resolution#1#breach#2026-11-25T09:59:00Z",
    }
    assert_invariants(stack, load_policy(same_targets))


# -- the message attribute -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy_file", "metric"), [(None, None), (ALL_METRICS_FILE, "first_response")]
)
def test_the_metric_attribute_is_there_only_when_the_policy_has_more_metrics(
    start_stack: StartStack, policy_file: Path | None, metric: str | None
) -> None:
    """Subscribers of the default policy see the attributes they always saw; with more metrics,
    ``metric`` lets them filter."""
    stack = start_stack(policy_file)
    post(stack, "2026-11-25T09:00:00Z", "ticket.created", "c", created_at="2026-11-25T08:59:00Z")
    jump(stack, "2026-11-25T13:29:00Z")
    jump(stack, "2026-11-25T15:00:00Z")
    sent = messages(stack)
    assert [a["type"] for a, _ in sent] == ["sla.warning", "sla.breached"]
    for attributes, _ in sent:
        assert attributes.get("metric") == metric
        assert set(attributes) - {"metric"} == {"type", "plan", "priority", "notification_id"}
    assert_invariants(stack, load_policy(policy_file))


# -- tickets stored before there were other metrics ---------------------------------------------

# The ticket item and delivery item as the first layout wrote them for the sample ticket created
# at 08:59Z and written at 09:00Z (Professional P2: warning 13:29Z, deadline 14:59Z), with its two
# schedules; and the ids and names that layout gave its notices and timers.
FIRST_LAYOUT_STATE = {
    "terms": {
        "plan": "professional",
        "requested_priority": 2,
        "priority": 2,
        "priority_reason": "requested",
        "target": {"hours": 6, "clock": "business"},
        "clock_started_at": "2026-11-25T08:59:00Z",
        "warning_at": "2026-11-25T13:29:00Z",
        "deadline": "2026-11-25T14:59:00Z",
    },
    "kind": "targeted",
    "environment": "production",
    "product_stage": "ga",
    "current": {
        "plan": "professional",
        "requested_priority": 2,
        "priority": 2,
        "priority_reason": "requested",
        "kind": "targeted",
    },
    "requested": 2,
    "snapshot": {
        "created_at": "2026-11-25T08:59:00Z",
        "plan": "professional",
        "priority": 2,
        "environment": "production",
        "product_stage": "ga",
        "origin": {},
    },
    "last_at": "2026-11-25T08:59:00Z",
    "last_event_id": "created",
    "events": 1,
}
FIRST_LAYOUT_EVENT = {
    "event_id": "created",
    "type": "ticket.created",
    "occurred_at": "2026-11-25T08:59:00Z",
    "ticket": {
        "id": TICKET,
        "created_at": "2026-11-25T08:59:00Z",
        "plan": "professional",
        "priority": 2,
    },
    "actor": {"type": "customer", "id": "customer-42"},
}
FIRST_LAYOUT_SCHEDULES = {
    "sla-w-zmqw7vrhlafyc6j76d3mxraids6kfa2myml674aquqz54zbv2olq": (
        "at(2026-11-25T13:29:00)",
        {"ticket_id": TICKET, "kind": "warning", "for": "2026-11-25T13:29:00Z", "version": 1},
    ),
    "sla-b-zmqw7vrhlafyc6j76d3mxraids6kfa2myml674aquqz54zbv2olq": (
        "at(2026-11-25T15:00:00)",
        {"ticket_id": TICKET, "kind": "breach", "for": "2026-11-25T14:59:00Z", "version": 1},
    ),
}
FIRST_LAYOUT_IDS = {
    "sla.warning": "640aee96-9999-5306-a504-a13a21495cb9",
    "sla.breached": "93532e23-e85f-5b3e-b80e-32dff8ee145d",
}


def store_first_layout(stack: Stack) -> None:
    """Put the first layout's items and schedules where that version left them."""
    dynamodb = boto3.client("dynamodb")
    pk = {"S": f"T#{TICKET}"}
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": pk,
            "sk": {"S": "TICKET"},
            "ticket_id": {"S": TICKET},
            "version": {"N": "1"},
            "state": {"S": json.dumps(FIRST_LAYOUT_STATE, separators=(",", ":"))},
            "notices": {"S": "[]"},
            "updated_at": {"S": "2026-11-25T09:00:00.000000Z"},
            "due_shard": {"S": "due#22"},
            "due_at": {"S": "2026-11-25T13:29:00.000000Z"},
        },
    )
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": pk,
            "sk": {"S": "DELIVERY#created"},
            "received_at": {"S": "2026-11-25T09:00:00Z"},
            "event": {"S": json.dumps(FIRST_LAYOUT_EVENT, separators=(",", ":"))},
        },
    )
    stack.stream.poll()  # that version's timers function read these records: its schedules
    for schedule, (at, given) in FIRST_LAYOUT_SCHEDULES.items():
        stack.scheduler.create_schedule(
            Name=schedule,
            GroupName=GROUP,
            ScheduleExpression=at,
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            State="ENABLED",
            Target={
                "Arn": "arn:aws:lambda:eu-central-1:123456789012:function:stack-notifier",
                "RoleArn": "arn:aws:iam::123456789012:role/stack-scheduler",
                "Input": json.dumps(given),
            },
        )


@pytest.mark.parametrize("policy_file", [None, ALL_METRICS_FILE], ids=["default", "all-metrics"])
def test_a_first_layout_ticket_keeps_its_notice_ids_schedule_names_and_claim_keys(
    start_stack: StartStack, policy_file: Path | None
) -> None:
    """Given a ticket item of the first layout with its two live schedules, when it is read
    and its schedules fire, then it owes its first-response warning and breach as it did, the
    schedules it had are its names now, and each notice goes out once with the id and the claim
    key that layout gave it."""
    stack = start_stack(policy_file)
    store_first_layout(stack)
    policy = load_policy(policy_file)
    stored = wiring.notifier_store().load(TICKET)
    assert stored is not None and list(stored.state.metrics) == ["first_response"]
    assert [(o.metric, o.cycle, o.kind, o.for_) for o in owed(stored.state, frozenset())] == [
        ("first_response", 1, "warning", utc("2026-11-25T13:29:00Z")),
        ("first_response", 1, "breach", utc("2026-11-25T14:59:00Z")),
    ]
    assert {name("warning"), name("breach")} == set(FIRST_LAYOUT_SCHEDULES)
    assert schedules(stack) == FIRST_LAYOUT_SCHEDULES
    stack.api.now = utc("2026-11-25T13:29:00Z")
    assert stack.fire() == [{"outcome": "published"}]
    assert schedules(stack) == {name("breach"): FIRST_LAYOUT_SCHEDULES[name("breach")]}
    jump(stack, "2026-11-25T15:00:00Z")
    sent = messages(stack)
    assert {b["type"]: b["notification_id"] for _, b in sent} == FIRST_LAYOUT_IDS
    assert claims(stack) == {
        "NOTICE#warning#2026-11-25T13:29:00Z",
        "NOTICE#breach#2026-11-25T14:59:00Z",
    }
    assert schedules(stack) == {}
    read = stack.api.sla(TICKET)
    assert (read.status, read.body["status"]) == (200, "breached")
    assert_invariants(stack, policy, folded=False)


def test_a_new_delivery_folds_a_first_layout_ticket_again_under_all_metrics(
    stack: Stack, all_metrics: Policy
) -> None:
    """Given a ticket item of the first layout whose warning went out, when a reply and a
    customer message arrive under the all-metrics policy, then the state is the fold of all its
    events with every metric, the breach schedule it had is deleted, and the resolution's and the
    next-reply cycle's are created; the warning is not sent again."""
    store_first_layout(stack)
    jump(stack, "2026-11-25T13:29:00Z")
    post(stack, "2026-11-25T13:40:00Z", "ticket.responded", "r1", actor="agent")
    post(stack, "2026-11-25T14:00:00Z", "ticket.customer_replied", "m1")
    stored = wiring.notifier_store().load(TICKET)
    assert stored is not None
    assert list(stored.state.metrics) == ["first_response", "next_reply", "resolution"]
    assert stored.state.events == 3
    assert set(schedules(stack)) == {
        name("warning", "next_reply"),
        name("breach", "next_reply"),
        *resolution_names(),
    }
    assert [b["notification_id"] for _, b in messages(stack)] == [FIRST_LAYOUT_IDS["sla.warning"]]
    jump(stack, "2026-11-25T15:10:00Z")
    assert [b["type"] for _, b in messages(stack)] == ["sla.warning"]  # answered in time
    assert_invariants(stack, all_metrics)
