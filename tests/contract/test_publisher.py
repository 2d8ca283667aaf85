"""The publisher's contract (``sla.ports.Publisher``): every case runs on ``MemoryPublisher`` and on
``SnsPublisher`` under moto, with the same expected result. What a subscriber gets is read from
the twin's ``sent`` and from an SQS queue subscribed to the topic."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from sla import Policy, apply_event, sla_view
from sla.core.notices import notification_id
from sla.ports import TYPES, Notification
from tests.contract.conftest import Received, TopicUnderTest, event


def warning(policy: Policy, ticket_id: str = "T-1") -> Notification:
    """The warning notification of a new ticket (professional plan, priority 2)."""
    state = apply_event(None, event(ticket_id, 0), policy)
    assert state.warning_at is not None
    return Notification(
        notification_id=notification_id(ticket_id, "warning", state.warning_at),
        type=TYPES["warning"],
        ticket_id=ticket_id,
        for_=state.warning_at,
        published_at=state.warning_at + timedelta(seconds=3),
        sla=sla_view(state, state.warning_at),
    )


def test_a_published_notification_reaches_the_subscriber_with_body_and_attributes(
    topic: TopicUnderTest, policy: Policy
) -> None:
    """Given a warning, when published, then the subscriber gets one message: the
    notification's body, and the attributes subscribers filter on."""
    notification = warning(policy)
    topic.port.publish(notification)
    assert topic.received() == [
        Received(
            notification.body(),
            {
                "type": ("String", "sla.warning"),
                "plan": ("String", "professional"),
                "priority": ("Number", "2"),
                "notification_id": ("String", notification.notification_id),
            },
        )
    ]


@pytest.mark.parametrize("ticket_id", ["T-1", 'Tï/ 🎫 "quoted" #1'], ids=["plain", "unicode"])
def test_the_body_received_reads_back_as_the_notification(
    topic: TopicUnderTest, policy: Policy, ticket_id: str
) -> None:
    notification = warning(policy, ticket_id)
    topic.port.publish(notification)
    (received,) = topic.received()
    assert Notification.model_validate(json.loads(received.body)) == notification


def test_a_notification_published_twice_reaches_the_subscriber_twice_with_one_id(
    topic: TopicUnderTest, policy: Policy
) -> None:
    """The publisher does not drop repeats (a retry after a lost answer publishes again):
    subscribers drop them by ``notification_id``."""
    notification = warning(policy)
    topic.port.publish(notification)
    topic.port.publish(notification)
    received = topic.received()
    assert len(received) == 2
    assert {r.attributes["notification_id"] for r in received} == {
        ("String", notification.notification_id)
    }
