"""One-time EventBridge Scheduler schedules: the timers that wake the notifier.

Schedules live in the stack's own group, are named deterministically per ticket and kind
(:func:`sla.notices.schedule_name`), fire ``at()`` a whole UTC minute at or after the instant
they serve, and delete themselves after completion. Create-or-update on conflict; delete treats
not-found as success. Every ``at()`` sent is validated here (moto accepts anything).
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from sla import aws
from sla.errors import StoreError, TransientError

__all__ = [
    "MemoryTimers",
    "SchedulerTimers",
    "TimerInput",
    "TimerScheduler",
    "at_expression",
    "fire_at",
]

MIN_LEAD = timedelta(seconds=60)
_AT = re.compile(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\)")
_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
_TRANSIENT = frozenset(
    {"ThrottlingException", "InternalServerException", "ServiceQuotaExceededException"}
)


class TimerInput(BaseModel):
    """What a schedule hands the notifier: which ticket, which notice, for which instant."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    ticket_id: str = Field(min_length=1, max_length=256)
    kind: Literal["warning", "breach"]
    for_: datetime = Field(alias="for")
    version: Literal[1] = 1


def fire_at(due: datetime, now: datetime) -> datetime | None:
    """When to fire for an instant due then: a whole minute at or after it, and never less than a
    minute ahead of now; None when it is due already (judge it at once instead)."""
    if due <= now:
        return None
    due = max(due, now + MIN_LEAD).astimezone(UTC)
    whole = due.replace(second=0, microsecond=0)
    return whole if whole == due else whole + timedelta(minutes=1)


def at_expression(when: datetime, now: datetime) -> str:
    """The ``at()`` expression for ``when`` (UTC, whole minute, in the future), checked."""
    if when.tzinfo is None or when.utcoffset() != timedelta(0):
        raise ValueError("a schedule time must be UTC")
    if when <= now:
        raise ValueError("a schedule time must be in the future")
    expression = f"at({when:%Y-%m-%dT%H:%M:%S})"
    if not _AT.fullmatch(expression):
        raise ValueError(f"malformed schedule expression {expression}")
    return expression


class TimerScheduler(Protocol):
    def set(self, name: str, when: datetime, payload: TimerInput, now: datetime) -> None:
        """Create the schedule, or move it when it exists."""

    def delete(self, name: str) -> None:
        """Remove the schedule; a missing one is fine."""

    def exists(self, name: str) -> bool:
        """Whether the schedule is there (the sweeper's check)."""


@dataclass(frozen=True)
class SchedulerTarget:
    group: str
    target_arn: str
    role_arn: str
    dead_letter_arn: str


class SchedulerTimers:
    """The EventBridge Scheduler adapter; the client is created on first use."""

    def __init__(self, target: SchedulerTarget, client: Any = None) -> None:
        self.target = target
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("scheduler")
        return self._client

    def _arguments(
        self, name: str, when: datetime, payload: TimerInput, now: datetime
    ) -> dict[str, Any]:
        if not _NAME.fullmatch(name):
            raise ValueError("malformed schedule name")
        return {
            "Name": name,
            "GroupName": self.target.group,
            "ScheduleExpression": at_expression(when, now),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
            "Target": {
                "Arn": self.target.target_arn,
                "RoleArn": self.target.role_arn,
                "Input": payload.model_dump_json(by_alias=True),
                "RetryPolicy": {"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185},
                "DeadLetterConfig": {"Arn": self.target.dead_letter_arn},
            },
        }

    def set(self, name: str, when: datetime, payload: TimerInput, now: datetime) -> None:
        arguments = self._arguments(name, when, payload, now)
        try:
            self._call("create_schedule", **arguments)
        except _Conflict:
            try:
                self._call("update_schedule", **arguments)
            except _NotFound:  # deleted between the two calls (it fired): create again
                self._call("create_schedule", **arguments)

    def delete(self, name: str) -> None:
        with contextlib.suppress(_NotFound):
            self._call("delete_schedule", Name=name, GroupName=self.target.group)

    def exists(self, name: str) -> bool:
        try:
            self._call("get_schedule", Name=name, GroupName=self.target.group)
        except _NotFound:
            return False
        return True

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConflictException":
                raise _Conflict() from exc
            if code == "ResourceNotFoundException":
                raise _NotFound() from exc
            if code in _TRANSIENT:
                raise TransientError("The scheduler is busy; retry.") from exc
            raise StoreError(f"Scheduler {operation} failed: {code}") from exc
        except (ConnectionError, HTTPClientError) as exc:
            raise TransientError("The scheduler could not be reached; retry.") from exc
        except BotoCoreError as exc:
            raise StoreError(f"Scheduler {operation} failed") from exc


class _Conflict(Exception):
    pass


class _NotFound(Exception):
    pass


class MemoryTimers:
    """The fake: schedules in a dict, with the same validation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.schedules: dict[str, tuple[datetime, TimerInput]] = {}

    def set(self, name: str, when: datetime, payload: TimerInput, now: datetime) -> None:
        at_expression(when, now)
        if not _NAME.fullmatch(name):
            raise ValueError("malformed schedule name")
        with self._lock:
            self.schedules[name] = (when, payload)

    def delete(self, name: str) -> None:
        with self._lock:
            self.schedules.pop(name, None)

    def exists(self, name: str) -> bool:
        return name in self.schedules
