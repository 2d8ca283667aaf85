"""The SNS adapter: notifications to the topic, as JSON with attributes to filter on."""

from __future__ import annotations

from typing import Any

from sla.aws.clients import LazyClient
from sla.aws.errors import call
from sla.ports import Notification

__all__ = ["SnsPublisher"]


class SnsPublisher:
    client = LazyClient("sns")

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        if client is not None:
            self.client = client

    def publish(self, notification: Notification) -> None:
        call(
            self.client,
            "The topic",
            "publish",
            TopicArn=self.topic_arn,
            Message=notification.body(),
            MessageAttributes=notification.attributes(),
        )
