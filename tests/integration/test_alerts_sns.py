"""Readable alerts through SNS under moto: one message per protocol on the notifications topic
(the JSON body for machines, unchanged; a subject and text for e-mail), the AWS Chatbot format on
the chat topic, and a failure between the two publishes that neither loses nor repeats a chat
message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.payloads import ticket_event
from sla import Policy, apply_event, sla_view
from sla.app.notifier import NotifierService
from sla.aws.sns import SnsPublisher
from sla.core.alerts import render
from sla.core.errors import StoreError, TransientError
from sla.core.notices import notification_id
from sla.fakes import MemoryTicketStore
from sla.ports import TYPES, Notification, StoredTicket
from sla.runtime import wiring
from tests.unit.helpers import utc

ZONE = ZoneInfo("Europe/Bratislava")
CREATED = utc("2026-11-25T08:59:00Z")
DEADLINE = utc("2026-11-25T14:59:00Z")


class Recording:
    """A boto3 client that records the arguments of every publish, and fails the publishes to
    ``fail_topic`` the next ``failures`` times (after botocore's own retries, as it would)."""

    def __init__(
        self,
        real: Any,
        fail_topic: str | None = None,
        failures: int = 0,
        code: str = "InternalError",
    ) -> None:
        self.real, self.fail_topic, self.failures, self.code = real, fail_topic, failures, code
        self.published: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> Any:
        if kwargs["TopicArn"] == self.fail_topic and self.failures > 0:
            self.failures -= 1
            raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, "Publish")
        self.published.append(kwargs)
        return self.real.publish(**kwargs)


@dataclass
class Topics:
    sns: Any
    sqs: Any
    topic: str
    chat_topic: str
    machine: str  # an SQS queue on the notifications topic, SNS's envelope around the body
    raw: str  # an SQS queue on the notifications topic with raw message delivery
    chat: str  # an SQS queue on the chat topic (what AWS Chatbot would read)

    def received(self, queue: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in batch:
                messages.append(message)
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def envelopes(self, queue: str) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.received(queue)]


@pytest.fixture
def topics() -> Iterator[Topics]:
    with mock_aws():
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        topic = sns.create_topic(Name="NotificationsTopic")["TopicArn"]
        chat_topic = sns.create_topic(Name="ChatNotificationsTopic")["TopicArn"]

        def queue(name: str, on: str, raw: bool = False) -> str:
            url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            sns.subscribe(
                TopicArn=on,
                Protocol="sqs",
                Endpoint=arn["Attributes"]["QueueArn"],
                Attributes={"RawMessageDelivery": "true" if raw else "false"},
            )
            return url

        yield Topics(
            sns,
            sqs,
            topic,
            chat_topic,
            machine=queue("machine", topic),
            raw=queue("raw", topic, raw=True),
            chat=queue("chat", chat_topic),
        )


def breach(policy: Policy, ticket_id: str = "T-1001") -> Notification:
    """The breach of a Professional P2 ticket created at 09:59 CET (deadline 15:59 CET)."""
    created = ticket_event("e0", "ticket.created", CREATED, id=ticket_id, created_at=CREATED)
    state = apply_event(None, created, policy)
    assert state.deadline == DEADLINE
    return Notification(
        notification_id=notification_id(ticket_id, "breach", DEADLINE),
        type=TYPES["breach"],
        ticket_id=ticket_id,
        for_=DEADLINE,
        published_at=DEADLINE + timedelta(seconds=64),
        sla=sla_view(state, DEADLINE + timedelta(seconds=64)),
    )


def test_a_publish_is_one_json_message_per_protocol_with_the_email_subject(
    topics: Topics, policy: Policy
) -> None:
    """Given a breach, when published, then one Publish per topic carries MessageStructure json:
    ``default`` is the JSON body (every protocol but e-mail), ``email`` the readable text, and
    the subject is the e-mail's."""
    client = Recording(topics.sns)
    notification = breach(policy)
    SnsPublisher(topics.topic, client, zone=ZONE).publish(notification)
    (call,) = client.published
    rendered = render(notification, ZONE)
    assert call["TopicArn"] == topics.topic
    assert call["MessageStructure"] == "json"
    assert json.loads(call["Message"]) == {"default": notification.body(), "email": rendered.text}
    assert call["Subject"] == "T-1001 (Professional, P2) breached its first-response target"
    assert call["MessageAttributes"] == notification.attributes()


@pytest.mark.parametrize("ticket_id", ["T-1001", 'Tï/ 🎫 "quoted" #1'], ids=["plain", "unicode"])
def test_a_queue_subscriber_still_receives_the_json_body_byte_for_byte(
    topics: Topics, policy: Policy, ticket_id: str
) -> None:
    """Given an SQS subscriber with SNS's envelope and one with raw delivery, when a notification
    is published, then each gets the body exactly as before, with the same attributes; the
    envelope also carries the e-mail subject (SNS includes it for every protocol)."""
    notification = breach(policy, ticket_id)
    SnsPublisher(topics.topic, topics.sns, zone=ZONE).publish(notification)
    (envelope,) = topics.envelopes(topics.machine)
    assert envelope["Message"] == notification.body()
    assert {k: v["Value"] for k, v in envelope["MessageAttributes"].items()} == {
        k: v["StringValue"] for k, v in notification.attributes().items()
    }
    assert envelope["Subject"] == render(notification, ZONE).subject
    (raw,) = topics.received(topics.raw)
    assert raw["Body"] == notification.body()


def test_the_chat_topic_receives_the_chatbot_custom_notification(
    topics: Topics, policy: Policy
) -> None:
    """Given a chat topic, when a notification is published, then the chat subscriber gets AWS
    Chatbot's custom-notification JSON (Chatbot subscribes with https: it reads ``default``),
    with the attributes to filter on, and the machine subscriber only the JSON body."""
    notification = breach(policy)
    publisher = SnsPublisher(topics.topic, topics.sns, zone=ZONE, chat_topic_arn=topics.chat_topic)
    publisher.publish(notification)
    (chat,) = topics.envelopes(topics.chat)
    message = json.loads(chat["Message"])
    assert message == render(notification, ZONE).chat
    assert (message["version"], message["source"]) == ("1.0", "custom")
    assert chat["MessageAttributes"]["type"]["Value"] == "sla.breached"
    assert [e["Message"] for e in topics.envelopes(topics.machine)] == [notification.body()]


def test_without_a_chat_topic_nothing_is_sent_to_chat(topics: Topics, policy: Policy) -> None:
    client = Recording(topics.sns)
    SnsPublisher(topics.topic, client, zone=ZONE).publish(breach(policy))
    assert [c["TopicArn"] for c in client.published] == [topics.topic]
    assert topics.received(topics.chat) == []


def test_a_long_unicode_ticket_id_gives_a_subject_sns_accepts(
    topics: Topics, policy: Policy
) -> None:
    notification = breach(policy, "zendesk:" + "🎫" * 120)
    SnsPublisher(topics.topic, topics.sns, zone=ZONE).publish(notification)
    (envelope,) = topics.envelopes(topics.machine)
    assert len(envelope["Subject"]) < 100
    assert envelope["Subject"].isascii()
    assert envelope["Message"] == notification.body()


@pytest.mark.parametrize(
    ("code", "error"), [("InternalError", TransientError), ("AuthorizationError", StoreError)]
)
def test_a_failed_chat_publish_raises_so_the_notice_is_published_again(
    topics: Topics, policy: Policy, code: str, error: type[Exception]
) -> None:
    """Either publish failing raises (transient or not), so the notifier gives its claim up."""
    client = Recording(topics.sns, fail_topic=topics.chat_topic, failures=1, code=code)
    publisher = SnsPublisher(topics.topic, client, zone=ZONE, chat_topic_arn=topics.chat_topic)
    with pytest.raises(error):
        publisher.publish(breach(policy))


def test_a_failure_between_the_two_publishes_loses_nothing_and_repeats_no_chat_message(
    topics: Topics, policy: Policy
) -> None:
    """Given the chat publish failing once after the JSON message went out, when the notifier
    judges the breach, it gives its claim up and raises; when it judges again (Lambda's retry),
    then chat got the breach once, and the queue got it twice with one notification_id, as SNS's
    own at-least-once delivery may anyway."""
    store = MemoryTicketStore()
    created = ticket_event("e0", "ticket.created", CREATED, id="T-1001", created_at=CREATED)
    state = apply_event(None, created, policy)
    store.save(StoredTicket("T-1001", 1, state, (), DEADLINE), created, CREATED)
    client = Recording(topics.sns, fail_topic=topics.chat_topic, failures=1)
    publisher = SnsPublisher(topics.topic, client, zone=ZONE, chat_topic_arn=topics.chat_topic)
    notifier = NotifierService(store, publisher)
    now = DEADLINE + timedelta(minutes=1)
    with pytest.raises(TransientError):
        notifier.judge("T-1001", "breach", DEADLINE, now)
    assert notifier.judge("T-1001", "breach", DEADLINE, now).outcome == "published"
    assert notifier.judge("T-1001", "breach", DEADLINE, now).outcome == "duplicate"
    chat = [json.loads(e["Message"]) for e in topics.envelopes(topics.chat)]
    assert [m["metadata"]["eventType"] for m in chat] == ["sla-breached"]
    machine = [json.loads(e["Message"]) for e in topics.envelopes(topics.machine)]
    assert len(machine) == 2
    assert len({m["notification_id"] for m in machine}) == 1


def test_the_notifier_is_wired_with_the_policys_zone_and_the_chat_topic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The functions' environment names the chat topic (SLA_CHAT_TOPIC_ARN, optional); the zone
    is the policy's."""
    arn = "arn:aws:sns:eu-central-1:123456789012:{}"
    for name, value in {
        "SLA_TABLE_NAME": "sla-tickets-test",
        "SLA_TOPIC_ARN": arn.format("NotificationsTopic"),
        "SLA_CHAT_TOPIC_ARN": arn.format("ChatNotificationsTopic"),
        "SLA_SCHEDULE_GROUP": "sla-test",
        "SLA_NOTIFIER_ARN": "arn:aws:lambda:eu-central-1:123456789012:function:notifier",
        "SLA_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
        "SLA_SCHEDULER_DLQ_ARN": "arn:aws:sqs:eu-central-1:123456789012:scheduler-dlq",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLA_POLICY_FILE", raising=False)
    wiring.reset()
    try:
        publisher = wiring.notifier_service().publisher
        assert isinstance(publisher, SnsPublisher)
        assert publisher.zone == ZONE
        assert publisher.chat_topic_arn == arn.format("ChatNotificationsTopic")
        monkeypatch.delenv("SLA_CHAT_TOPIC_ARN")
        wiring.reset()
        publisher = wiring.notifier_service().publisher
        assert isinstance(publisher, SnsPublisher)
        assert publisher.chat_topic_arn is None
    finally:
        wiring.reset()
