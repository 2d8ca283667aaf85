"""The ports under test. Each fixture is parametrised over the in-memory twin (``sla.fakes``) and
the AWS adapter (``sla.aws``) under moto, and hands a test the port plus what it needs to look
behind it: what a schedule holds, what a subscriber received, which AWS calls were made.

Every case runs on both sides with the same expected result: a twin that drifts from its
adapter fails here.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from local.payloads import ticket_event
from local.template import table_kwargs
from sla import Policy, TicketEvent, apply_event
from sla.aws.scheduler import SchedulerTarget, SchedulerTimers
from sla.aws.secrets import SecretsManagerSecrets
from sla.aws.sns import SnsPublisher
from sla.aws.store import DynamoTicketStore
from sla.fakes import MemoryPublisher, MemoryTicketStore, MemoryTimers, StaticSecrets
from sla.ports import Publisher, SecretSource, StoredTicket, TicketStore, TimerInput, TimerScheduler
from tests.integration.conftest import topic_with_subscriber

STORES = ("memory", "dynamodb")
TIMERS = ("memory", "scheduler")
TOPICS = ("memory", "sns")
SECRETS = ("static", "secretsmanager")
_SIDES = {"store": STORES, "timers": TIMERS, "topic": TOPICS, "secrets_from": SECRETS}

TABLE = "sla-tickets-contract"
GROUP = "sla-keeper-contract"
ACCOUNT = "arn:aws:{service}:eu-central-1:123456789012:{resource}"
# the moto client's page size for Query: every listing of more than PAGE items spans pages, as
# one of more than 1 MB does on DynamoDB (moto pages at 1 MB too, but writing that much through
# moto's transactions takes minutes)
PAGE = 5

T0 = datetime(2026, 11, 25, 8, 59, tzinfo=UTC)


class RecordingClient:
    """A boto3 client that records the operations called on it and caps each Query page at
    ``page`` items when given."""

    def __init__(self, real: Any, page: int | None = None) -> None:
        self.real = real
        self.page = page
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.real, name)
        if not callable(target):
            return target

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            if name == "query" and self.page is not None:
                kwargs.setdefault("Limit", self.page)
            return target(**kwargs)

        return call


@functools.cache
def aws_client(service: str) -> Any:
    """A boto3 client, made once for the session (about 0.1 s each) and used under each test's
    own ``mock_aws``: moto is imported before it is made, so moto answers every call it makes
    inside ``mock_aws``, with the state of that test only."""
    return boto3.client(service)


# -- tickets -------------------------------------------------------------------------------------


def event(ticket_id: str, n: int, type_: str | None = None, **fields: Any) -> TicketEvent:
    """The ``n``-th delivery about a ticket (0: its creation, then updates unless ``type_`` says
    otherwise), ``n`` minutes after T0; ``fields`` go to the body builder."""
    kind = type_ or ("ticket.created" if n == 0 else "ticket.updated")
    when = T0 + timedelta(minutes=n)
    return ticket_event(f"{ticket_id}-e{n}", kind, when, id=ticket_id, **fields)


def history(
    policy: Policy, ticket_id: str, count: int, *, due_at: datetime | None = None
) -> list[tuple[StoredTicket, TicketEvent]]:
    """Versions 1..``count`` of a ticket, each with the event that made it."""
    versions: list[tuple[StoredTicket, TicketEvent]] = []
    state = None
    for n in range(count):
        delivery = event(ticket_id, n)
        state = apply_event(state, delivery, policy)
        versions.append((StoredTicket(ticket_id, n + 1, state, (), due_at), delivery))
    return versions


# -- the ticket store ----------------------------------------------------------------------------


@dataclass
class StoreUnderTest:
    side: str
    port: TicketStore
    calls: list[str] = field(default_factory=list)  # AWS operations made (the twin makes none)

    def write(
        self, versions: list[tuple[StoredTicket, TicketEvent]], received_at: datetime = T0
    ) -> StoredTicket:
        """Save every version in turn; the last one written."""
        for ticket, delivery in versions:
            self.port.save(ticket, delivery, received_at)
        return versions[-1][0]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, policy: Policy) -> Iterator[StoreUnderTest]:
    if request.param == "memory":
        yield StoreUnderTest("memory", MemoryTicketStore())
        return
    with mock_aws():
        client = RecordingClient(aws_client("dynamodb"), page=PAGE)
        client.real.create_table(**table_kwargs("TicketsTable", TABLE))
        yield StoreUnderTest("dynamodb", DynamoTicketStore(TABLE, policy, client), client.calls)


# -- timers --------------------------------------------------------------------------------------


@dataclass
class TimersUnderTest:
    side: str
    port: TimerScheduler
    # what the named schedule holds (when it fires, its input), or None when there is none
    schedule: Callable[[str], tuple[datetime, TimerInput] | None]
    calls: list[str] = field(default_factory=list)  # AWS operations made (the twin makes none)


@pytest.fixture(params=TIMERS)
def timers(request: pytest.FixtureRequest) -> Iterator[TimersUnderTest]:
    if request.param == "memory":
        fake = MemoryTimers()
        yield TimersUnderTest("memory", fake, fake.schedules.get)
        return
    with mock_aws():
        scheduler = aws_client("scheduler")
        scheduler.create_schedule_group(Name=GROUP)
        target = SchedulerTarget(
            group=GROUP,
            target_arn=ACCOUNT.format(service="lambda", resource="function:NotifierFunction"),
            role_arn=ACCOUNT.format(service="iam", resource="role/scheduler").replace(
                ":eu-central-1:", "::"
            ),
            dead_letter_arn=ACCOUNT.format(service="sqs", resource="timer-dead-letters"),
        )

        def schedule(name: str) -> tuple[datetime, TimerInput] | None:
            try:
                found = scheduler.get_schedule(Name=name, GroupName=GROUP)
            except scheduler.exceptions.ResourceNotFoundException:
                return None
            expression: str = found["ScheduleExpression"]  # at(yyyy-mm-ddThh:mm:ss)
            zone = ZoneInfo(found["ScheduleExpressionTimezone"])
            when = datetime.fromisoformat(expression.removeprefix("at(").removesuffix(")"))
            payload = TimerInput.model_validate_json(found["Target"]["Input"])
            return when.replace(tzinfo=zone), payload

        client = RecordingClient(scheduler)
        yield TimersUnderTest("scheduler", SchedulerTimers(target, client), schedule, client.calls)


# -- notifications -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """A message as a subscriber gets it: the body, and each attribute's data type and value."""

    body: str
    attributes: dict[str, tuple[str, str]]


@dataclass
class TopicUnderTest:
    side: str
    port: Publisher
    received: Callable[[], list[Received]]  # what reached the subscriber since the last call


@pytest.fixture(params=TOPICS)
def topic(request: pytest.FixtureRequest) -> Iterator[TopicUnderTest]:
    if request.param == "memory":
        fake = MemoryPublisher()
        read = 0

        def sent() -> list[Received]:
            nonlocal read
            new, read = fake.sent[read:], len(fake.sent)
            return [
                Received(
                    n.body(),
                    {k: (v["DataType"], v["StringValue"]) for k, v in n.attributes().items()},
                )
                for n in new
            ]

        yield TopicUnderTest("memory", fake, sent)
        return
    with mock_aws():
        sns, sqs = aws_client("sns"), aws_client("sqs")
        topic_arn, queue = topic_with_subscriber(sns, sqs)

        def delivered() -> list[Received]:
            messages: list[Received] = []
            while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                for message in batch:
                    envelope = json.loads(message["Body"])  # SNS's envelope
                    attributes = envelope.get("MessageAttributes", {})
                    messages.append(
                        Received(
                            envelope["Message"],
                            {k: (v["Type"], v["Value"]) for k, v in attributes.items()},
                        )
                    )
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            return messages

        yield TopicUnderTest("sns", SnsPublisher(topic_arn, sns), delivered)


# -- secrets -------------------------------------------------------------------------------------


@pytest.fixture(params=SECRETS)
def secrets_from(request: pytest.FixtureRequest) -> Iterator[Callable[[str], SecretSource]]:
    """A secret source over a configured value: the text itself, or a secret holding it."""
    if request.param == "static":
        yield StaticSecrets
        return
    with mock_aws():
        manager = aws_client("secretsmanager")
        names = itertools.count()

        def managed(text: str) -> SecretSource:
            created = manager.create_secret(Name=f"sla-webhook-{next(names)}", SecretString=text)
            return SecretsManagerSecrets(created["ARN"])

        yield managed
