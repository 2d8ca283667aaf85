"""The EventBridge Scheduler adapter: one-time schedules, the timers that wake the notifier.

Schedules live in the stack's own group, are named deterministically per ticket and kind
(:func:`sla.core.notices.schedule_name`), fire ``at()`` a whole UTC minute at or after the instant
they serve, and delete themselves after completion. Create-or-update on conflict; delete treats
not-found as success. Every ``at()`` sent is validated (moto accepts anything).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sla.aws.clients import LazyClient
from sla.aws.errors import call
from sla.core.notices import at_expression, check_schedule_name
from sla.ports import TimerInput

__all__ = ["SchedulerTarget", "SchedulerTimers"]

SERVICE = "The scheduler"


class _Conflict(Exception):
    pass


class _NotFound(Exception):
    pass


@dataclass(frozen=True)
class SchedulerTarget:
    group: str
    target_arn: str
    role_arn: str
    dead_letter_arn: str


class SchedulerTimers:
    """The EventBridge Scheduler adapter; the client is made on first use."""

    client = LazyClient("scheduler")

    def __init__(self, target: SchedulerTarget, client: Any = None) -> None:
        self.target = target
        if client is not None:
            self.client = client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        handled = {"ConflictException": _Conflict, "ResourceNotFoundException": _NotFound}
        return call(self.client, SERVICE, operation, handled, **kwargs)

    def _arguments(
        self, name: str, when: datetime, payload: TimerInput, now: datetime
    ) -> dict[str, Any]:
        return {
            "Name": check_schedule_name(name),
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
