"""Timers, notifier and sweeper handlers under moto: the stream read by hand, schedules fired by
hand with their exact input (moto never fires them), SNS captured through an SQS subscription."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.pumps import StreamReader, due_schedules, schedule_time
from sla.aws.sns import SnsPublisher
from sla.core.notices import schedule_name
from sla.runtime import wiring
from tests.integration.conftest import (
    TABLE,
    Api,
    FlakyClient,
    LambdaContext,
    payload,
    topic_with_subscriber,
)

GROUP = "sla-test"
BREACH = schedule_name("T-1001", "breach")
WARNING = schedule_name("T-1001", "warning")


@dataclass
class Stack:
    api: Api
    stream: StreamReader
    scheduler: Any
    sqs: Any
    queue_url: str
    timers: Any
    notifier: Any
    sweeper: Any
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.api.now

    def pump_stream(self) -> dict[str, Any]:
        records = self.stream.poll()
        if not records:
            return {"batchItemFailures": []}
        result: dict[str, Any] = self.timers.lambda_handler({"Records": records}, LambdaContext())
        return result

    def fire(self) -> list[dict[str, str]]:
        outcomes = []
        for _, timer in due_schedules(self.scheduler, GROUP, self.now):
            outcomes.append(self.notifier.lambda_handler(timer, LambdaContext()))
            self.pump_stream()
        return outcomes

    def advance(self, until: str) -> None:
        end = datetime.fromisoformat(until)
        while self.api.now < end:
            self.api.now = min(self.api.now + timedelta(minutes=1), end)
            self.fire()

    def messages(self) -> list[dict[str, Any]]:
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return self.received
            for message in batch:
                self.received.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def types(self) -> list[str]:
        return [m["MessageAttributes"]["type"]["Value"] for m in self.messages()]


def assert_invariants(stack: Stack) -> None:
    """RELIABILITY.md's invariants, read from what moto holds after a scenario.

    1. every delivery answered 2xx is recorded once, and is among its ticket's events;
    2. every notice a ticket owes is either not yet due and has its live schedule, or is out;
    3. no notice was published twice (per ticket, type and instant; ids stable);
    4. nothing is left in a failure queue (scenarios replay what they put there).
    """
    from sla.aws.store import ticket_from_item
    from sla.core.events import TicketEvent
    from sla.core.notices import owed
    from sla.core.state import reduce_events

    stack.pump_stream()
    stack.fire()  # what Scheduler has fired by now
    dynamodb = boto3.client("dynamodb")
    rows = dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    policy = wiring.notifier_store().policy
    tickets = {
        r["ticket_id"]["S"]: ticket_from_item(r, policy) for r in rows if r["sk"]["S"] == "TICKET"
    }
    recorded: dict[str, list[TicketEvent]] = {ticket_id: [] for ticket_id in tickets}
    for row in rows:
        if row["sk"]["S"].startswith("DELIVERY#"):
            event = TicketEvent.model_validate_json(row["event"]["S"])
            recorded[event.ticket.id].append(event)  # a delivery without its ticket: KeyError
    for ticket in tickets.values():
        events = recorded[ticket.ticket_id]
        assert len({e.event_id for e in events}) == len(events) == ticket.state.events
        # every recorded delivery is applied, once: the stored state is the fold of them all
        assert ticket.state == reduce_events(events, policy).model_copy(update={"history": None})
        state = ticket.state
        for item in owed(state, ticket.published):
            assert item.due_at > stack.now, (
                f"{ticket.ticket_id} owes {item.kind} since {item.due_at}"
            )
            if item.kind != "retraction":
                schedule = stack.scheduler.get_schedule(
                    Name=schedule_name(ticket.ticket_id, item.kind), GroupName=GROUP
                )
                assert json.loads(schedule["Target"]["Input"])[
                    "for"
                ] == item.for_.isoformat().replace("+00:00", "Z")
    sent = [json.loads(m["Message"]) for m in stack.messages()]
    keys = [(m["ticket_id"], m["type"], m["for"]) for m in sent]
    assert len(keys) == len(set(keys)), "a notice went out twice"
    assert len({m["notification_id"] for m in sent}) == len(sent)
    for url in stack.sqs.list_queues().get("QueueUrls", []):
        if "dlq" in url or "dead" in url or "failure" in url:
            assert stack.sqs.receive_message(QueueUrl=url).get("Messages", []) == [], url


@pytest.fixture
def stack(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    sns, sqs, scheduler = boto3.client("sns"), boto3.client("sqs"), boto3.client("scheduler")
    topic, queue_url = topic_with_subscriber(sns, sqs)
    dlq = sqs.create_queue(QueueName="scheduler-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    scheduler.create_schedule_group(Name=GROUP)
    for name, value in {
        "SLA_TOPIC_ARN": topic,
        "SLA_SCHEDULE_GROUP": GROUP,
        "SLA_NOTIFIER_ARN": "arn:aws:lambda:eu-central-1:123456789012:function:stack-notifier",
        "SLA_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/stack-scheduler",
        "SLA_SCHEDULER_DLQ_ARN": dlq_arn,
    }.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    from functions.notifier import app as notifier
    from functions.sweeper import app as sweeper
    from functions.timers import app as timers
    from sla.runtime import clock

    monkeypatch.setattr(clock, "_source", lambda: api.now)
    yield Stack(
        api,
        StreamReader(boto3.client("dynamodb"), boto3.client("dynamodbstreams"), TABLE),
        scheduler,
        sqs,
        queue_url,
        timers,
        notifier,
        sweeper,
    )
    wiring.reset()


def test_a_ticket_gets_two_schedules_as_the_contract_wants(stack: Stack) -> None:
    stack.api.post(payload(), msg_id="c")
    assert stack.pump_stream() == {"batchItemFailures": []}
    breach = stack.scheduler.get_schedule(Name=BREACH, GroupName=GROUP)
    assert breach["ScheduleExpression"] == "at(2026-11-25T15:00:00)"
    assert breach["ScheduleExpressionTimezone"] == "UTC"
    assert breach["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert breach["ActionAfterCompletion"] == "DELETE"
    assert breach["State"] == "ENABLED"
    assert breach["Target"]["Arn"].endswith(":function:stack-notifier")
    assert breach["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 185
    assert breach["Target"]["DeadLetterConfig"]["Arn"].endswith(":scheduler-dlq")
    assert json.loads(breach["Target"]["Input"]) == {
        "ticket_id": "T-1001",
        "kind": "breach",
        "for": "2026-11-25T14:59:00Z",
        "version": 1,
    }
    warning = stack.scheduler.get_schedule(Name=WARNING, GroupName=GROUP)
    assert schedule_time(warning["ScheduleExpression"]) == datetime(
        2026, 11, 25, 13, 29, tzinfo=UTC
    )


def test_the_whole_life_of_an_unanswered_ticket(stack: Stack) -> None:
    stack.api.post(payload(), msg_id="c")
    stack.pump_stream()
    stack.advance("2026-11-25T15:01:00Z")
    messages = stack.messages()
    assert [m["MessageAttributes"]["type"]["Value"] for m in messages] == [
        "sla.warning",
        "sla.breached",
    ]
    breach = messages[1]
    assert breach["MessageAttributes"]["plan"]["Value"] == "professional"
    assert breach["MessageAttributes"]["priority"]["Value"] == "2"
    body = json.loads(breach["Message"])
    assert body["type"] == "sla.breached" and body["sla"]["status"] == "breached"
    assert body["for"] == "2026-11-25T14:59:00Z" and body["notification_id"]
    assert stack.scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []
    assert stack.sweeper.lambda_handler({}, LambdaContext()) == {
        "overdue": 0,
        "published": 0,
        "rearmed": 0,
    }
    assert_invariants(stack)


def test_duplicate_notifier_invocations_publish_once(stack: Stack) -> None:
    stack.api.post(payload(), msg_id="c")
    stack.pump_stream()
    stack.api.now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    timer = {"ticket_id": "T-1001", "kind": "breach", "for": "2026-11-25T14:59:00Z", "version": 1}
    outcomes = [stack.notifier.lambda_handler(timer, LambdaContext())["outcome"] for _ in range(4)]
    stack.pump_stream()
    assert outcomes == ["published", "duplicate", "duplicate", "duplicate"]
    assert stack.types().count("sla.breached") == 1
    assert_invariants(stack)


def test_stale_early_and_malformed_timers_publish_nothing(stack: Stack) -> None:
    stack.api.post(payload(), msg_id="c")
    stack.pump_stream()
    stack.api.now = datetime(2026, 11, 25, 14, 58, tzinfo=UTC)
    early = {"ticket_id": "T-1001", "kind": "breach", "for": "2026-11-25T14:59:00Z"}
    stale = {"ticket_id": "T-1001", "kind": "breach", "for": "2026-11-25T12:00:00Z"}
    assert stack.notifier.lambda_handler(early, LambdaContext()) == {"outcome": "early"}
    assert stack.notifier.lambda_handler(stale, LambdaContext()) == {"outcome": "stale"}
    assert stack.notifier.lambda_handler({"nonsense": 1}, LambdaContext()) == {
        "outcome": "malformed"
    }
    assert stack.types() == []
    assert stack.scheduler.get_schedule(Name=BREACH, GroupName=GROUP)["ScheduleExpression"] == (
        "at(2026-11-25T15:00:00)"
    )
    assert_invariants(stack)


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerException"])
def test_scheduler_faults_fail_the_record_and_the_retry_arms_the_timer(
    stack: Stack, code: str
) -> None:
    timers = wiring._timers()
    timers.client = FlakyClient(timers.client, "create_schedule", code)
    stack.api.post(payload(), msg_id="c")
    records = stack.stream.poll()
    first = stack.timers.lambda_handler({"Records": records}, LambdaContext())
    assert [f["itemIdentifier"] for f in first["batchItemFailures"]] == [
        records[-1]["dynamodb"]["SequenceNumber"]
    ]
    again = stack.timers.lambda_handler({"Records": records}, LambdaContext())  # Lambda's retry
    assert again == {"batchItemFailures": []}
    assert stack.scheduler.get_schedule(Name=BREACH, GroupName=GROUP)
    assert_invariants(stack)


def test_conflict_on_create_means_update(stack: Stack) -> None:
    stack.scheduler.create_schedule(
        Name=BREACH,
        GroupName=GROUP,
        ScheduleExpression="at(2027-01-01T00:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="ENABLED",
        Target={
            "Arn": "arn:aws:lambda:eu-central-1:123456789012:function:x",
            "RoleArn": "arn:aws:iam::123456789012:role/x",
            "Input": "{}",
        },
    )
    stack.api.post(payload(), msg_id="c")
    stack.pump_stream()
    assert stack.scheduler.get_schedule(Name=BREACH, GroupName=GROUP)["ScheduleExpression"] == (
        "at(2026-11-25T15:00:00)"
    )
    assert_invariants(stack)


def test_a_poison_record_is_reported_alone(stack: Stack) -> None:
    stack.api.post(payload(), msg_id="c1")
    stack.api.post(payload(id="T-2"), msg_id="c2")
    records = stack.stream.poll()
    tickets = [r for r in records if r["dynamodb"]["Keys"]["sk"]["S"] == "TICKET"]
    poison = json.loads(json.dumps(tickets[0]))
    poison["dynamodb"]["NewImage"]["state"]["S"] = "not json"
    poison["dynamodb"]["SequenceNumber"] = "999"
    result = stack.timers.lambda_handler({"Records": [poison, tickets[1]]}, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "999"}]}
    assert stack.scheduler.get_schedule(Name=schedule_name("T-2", "breach"), GroupName=GROUP)
    # the poison record exhausts its retries and lands in the failure destination; replaying it
    # runs a full sweep, which arms what the lost record would have armed
    from sla.tools.replay import Replayer

    failures = stack.sqs.create_queue(QueueName="stream-failure")["QueueUrl"]
    stack.sqs.send_message(
        QueueUrl=failures,
        MessageBody=json.dumps(
            {"DDBStreamBatchInfo": {"startSequenceNumber": "999", "endSequenceNumber": "999"}}
        ),
    )

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = stack.sweeper.lambda_handler(event, LambdaContext())
        return result

    assert Replayer(stack.sqs, invoke, "notifier", "sweeper").replay(failures).sweeps == 1
    assert_invariants(stack)


def test_sns_failure_after_the_claim_is_retried_with_the_same_id(stack: Stack) -> None:
    stack.api.post(payload(), msg_id="c")
    stack.pump_stream()
    stack.api.now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    publisher = wiring.notifier_service().publisher
    assert isinstance(publisher, SnsPublisher)
    publisher.client = FlakyClient(publisher.client, "publish", "InternalError")
    timer = {"ticket_id": "T-1001", "kind": "breach", "for": "2026-11-25T14:59:00Z"}
    with pytest.raises(Exception, match="busy"):
        stack.notifier.lambda_handler(timer, LambdaContext())
    assert stack.notifier.lambda_handler(timer, LambdaContext()) == {
        "outcome": "published"
    }  # retry
    assert stack.notifier.lambda_handler(timer, LambdaContext()) == {"outcome": "duplicate"}
    breaches = [
        m for m in stack.messages() if m["MessageAttributes"]["type"]["Value"] == "sla.breached"
    ]
    assert len(breaches) == 1
    assert_invariants(stack)


def test_late_reply_flips_to_met_and_retracts_once(stack: Stack) -> None:
    stack.api.post(payload(), msg_id="c")
    stack.pump_stream()
    stack.advance("2026-11-25T15:03:00Z")
    for _ in range(3):
        stack.api.post(
            payload("ticket.responded", "2026-11-25T14:30:00Z", actor="agent"), msg_id="r"
        )
        stack.pump_stream()
    stack.pump_stream()
    assert stack.types() == ["sla.warning", "sla.breached", "sla.breach_retracted"]
    assert stack.api.sla("T-1001").body["status"] == "met"
    assert_invariants(stack)


def test_sweeper_rearms_a_lost_timer_and_reports_a_repair(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.api.post(payload(), msg_id="c")
    stack.pump_stream()
    stack.scheduler.delete_schedule(Name=WARNING, GroupName=GROUP)
    stack.api.now = datetime(2026, 11, 25, 12, 45, tzinfo=UTC)
    assert stack.sweeper.lambda_handler({}, LambdaContext())["rearmed"] == 1
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    assert [m["Repairs"] for m in emitted if "Repairs" in m] == [[1.0]]
    assert stack.scheduler.get_schedule(Name=WARNING, GroupName=GROUP)
    stack.scheduler.delete_schedule(Name=BREACH, GroupName=GROUP)
    stack.scheduler.delete_schedule(Name=WARNING, GroupName=GROUP)
    stack.api.now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert stack.sweeper.lambda_handler({}, LambdaContext())["published"] == 2
    assert stack.types() == ["sla.warning", "sla.breached"]
    assert_invariants(stack)


def test_an_overdue_arrival_is_judged_by_the_stream_not_repaired_by_the_sweeper(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.api.now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # deadline 14:59Z long past
    stack.api.post(payload(), msg_id="late")  # written; the stream not read yet
    swept = stack.sweeper.lambda_handler({}, LambdaContext())
    assert (swept["overdue"], swept["published"]) == (0, 0)
    stack.pump_stream()  # the timers function judges it at once
    assert stack.types() == ["sla.warning", "sla.breached"]
    stack.api.now += timedelta(minutes=5)
    assert stack.sweeper.lambda_handler({}, LambdaContext())["published"] == 0
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    assert [m["Repairs"] for m in emitted if "Repairs" in m] == [[0.0], [0.0]]
    assert_invariants(stack)


def test_dead_letters_of_every_kind_are_replayed_and_then_invariants_hold(stack: Stack) -> None:
    from sla.tools.replay import Replayer

    stack.api.post(payload(), msg_id="c")
    stack.api.post(payload(id="T-2"), msg_id="c2")
    stack.pump_stream()
    # everything went wrong: both tickets' timers are gone, and the failures sit in a queue
    for name in [n["Name"] for n in stack.scheduler.list_schedules(GroupName=GROUP)["Schedules"]]:
        stack.scheduler.delete_schedule(Name=name, GroupName=GROUP)
    dead = stack.sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    timer = {"ticket_id": "T-1001", "kind": "breach", "for": "2026-11-25T14:59:00Z", "version": 1}
    stack.sqs.send_message(QueueUrl=dead, MessageBody=json.dumps(timer))  # Scheduler's DLQ
    stack.sqs.send_message(
        QueueUrl=dead, MessageBody=json.dumps({"requestPayload": timer})
    )  # on-failure
    stack.sqs.send_message(
        QueueUrl=dead,
        MessageBody=json.dumps(
            {
                "DDBStreamBatchInfo": {
                    "shardId": "s",
                    "startSequenceNumber": "1",
                    "endSequenceNumber": "2",
                }
            }
        ),
    )
    stack.api.now = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        handler = {"notifier": stack.notifier, "sweeper": stack.sweeper}[function].lambda_handler
        result: dict[str, Any] = handler(event, LambdaContext())
        stack.pump_stream()
        return result

    report = Replayer(stack.sqs, invoke, "notifier", "sweeper").replay(dead)
    assert (report.replayed, report.sweeps, report.failed) == (3, 1, [])
    assert stack.sqs.receive_message(QueueUrl=dead).get("Messages", []) == []
    types = stack.types()
    assert sorted(types) == ["sla.breached", "sla.breached", "sla.warning", "sla.warning"]
    assert stack.sweeper.lambda_handler({}, LambdaContext()) == {
        "overdue": 0,
        "published": 0,
        "rearmed": 0,
    }
    assert_invariants(stack)
