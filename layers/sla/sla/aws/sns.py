"""The SNS adapter: notifications to the topic, one message per protocol, with attributes to
filter on; and, when a chat topic is configured, the same notification to it in AWS Chatbot's
custom-notification format.

On the notifications topic every protocol but e-mail gets the JSON body (``default``), exactly as
before; e-mail gets a subject and plain text. SNS chooses the message by protocol only, and AWS
Chatbot subscribes with ``https`` like any webhook, so chat has its own topic rather than a key
here. The two publishes go in that order, and either failing raises: the notifier then gives its
claim up and the retry publishes both again. So a failure between the two repeats the JSON
message (same ``notification_id``: subscribers drop repeats by it) and never loses or repeats
the chat message.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from sla.aws.clients import LazyClient
from sla.aws.errors import call
from sla.core.alerts import Rendered, render
from sla.ports import Notification

__all__ = ["SnsPublisher"]

UTC_ZONE = ZoneInfo("UTC")


class SnsPublisher:
    client = LazyClient("sns")

    def __init__(
        self,
        topic_arn: str,
        client: Any = None,
        *,
        zone: ZoneInfo = UTC_ZONE,
        chat_topic_arn: str | None = None,
    ) -> None:
        self.topic_arn = topic_arn
        self.chat_topic_arn = chat_topic_arn
        self.zone = zone  # the policy's: readable times are shown in it and in UTC
        if client is not None:
            self.client = client

    def publish(self, notification: Notification) -> None:
        readable = render(notification, self.zone)
        attributes = notification.attributes()
        self._publish(self.topic_arn, notification.body(), readable, attributes)
        if self.chat_topic_arn:
            chat = json.dumps(readable.chat, separators=(",", ":"))
            self._publish(self.chat_topic_arn, chat, readable, attributes)

    def _publish(
        self, topic_arn: str, default: str, readable: Rendered, attributes: dict[str, Any]
    ) -> None:
        call(
            self.client,
            "The topic",
            "publish",
            TopicArn=topic_arn,
            MessageStructure="json",
            Message=json.dumps({"default": default, "email": readable.text}),
            Subject=readable.subject,
            MessageAttributes=attributes,
        )
