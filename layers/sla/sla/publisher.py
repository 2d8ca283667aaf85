"""Notifications to the SNS topic: the SLA view as JSON, with attributes to filter on."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from sla import aws
from sla.errors import StoreError, TransientError
from sla.ticket import SlaView

__all__ = ["MemoryPublisher", "Notification", "Publisher", "SnsPublisher"]

NotificationType = Literal["sla.warning", "sla.breached", "sla.breach_retracted"]
TYPES: dict[str, NotificationType] = {
    "warning": "sla.warning",
    "breach": "sla.breached",
    "retraction": "sla.breach_retracted",
}
_TRANSIENT = frozenset(
    {
        "Throttled",
        "ThrottlingException",
        "InternalError",
        "ServiceUnavailable",
        "KMSThrottlingException",
    }
)


class Notification(BaseModel):
    """The message body. ``notification_id`` is stable: subscribers drop repeats by it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    notification_id: str
    type: NotificationType
    ticket_id: str
    for_: datetime = Field(alias="for")
    published_at: datetime
    sla: SlaView

    def attributes(self) -> dict[str, dict[str, str]]:
        return {
            "type": {"DataType": "String", "StringValue": self.type},
            "plan": {"DataType": "String", "StringValue": self.sla.plan},
            "priority": {"DataType": "Number", "StringValue": str(self.sla.priority)},
            "notification_id": {"DataType": "String", "StringValue": self.notification_id},
        }

    def body(self) -> str:
        data = self.model_dump(mode="json", by_alias=True)
        data["sla"].pop("history", None)
        return json.dumps(data, separators=(",", ":"))


class Publisher(Protocol):
    def publish(self, notification: Notification) -> None: ...


class SnsPublisher:
    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("sns")
        return self._client

    def publish(self, notification: Notification) -> None:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

        try:
            self.client.publish(
                TopicArn=self.topic_arn,
                Message=notification.body(),
                MessageAttributes=notification.attributes(),
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _TRANSIENT:
                raise TransientError("The topic is busy; retry.") from exc
            raise StoreError(f"SNS publish failed: {code}") from exc
        except (ConnectionError, HTTPClientError) as exc:
            raise TransientError("The topic could not be reached; retry.") from exc
        except BotoCoreError as exc:
            raise StoreError("SNS publish failed") from exc


class MemoryPublisher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[Notification] = []

    def publish(self, notification: Notification) -> None:
        with self._lock:
            self.sent.append(notification)
