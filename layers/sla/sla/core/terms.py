"""The SLA terms of a ticket, declared once: its classification, its target, and when the warning
and the deadline fall. The ticket's state, the view users read and the quote all carry them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "DEFAULT_PRODUCT_STAGE",
    "METRICS",
    "Classified",
    "Clock",
    "MetricName",
    "PriorityReason",
    "StateKind",
    "Status",
    "Target",
    "TargetKind",
    "Terms",
]

DEFAULT_ENVIRONMENT = "production"
DEFAULT_PRODUCT_STAGE = "ga"
Clock = Literal["business", "elapsed"]
# the SLA metrics (contract sections 1 and 1b); first response is every policy's
MetricName = Literal["first_response", "next_reply", "resolution"]
METRICS: tuple[MetricName, ...] = ("first_response", "next_reply", "resolution")
PriorityReason = Literal["requested", "default", "non_production", "agent"]
TargetKind = Literal["targeted", "exempt", "no_target"]
# a ticket's kind: its target's, or pending until its snapshots give a creation time and a plan
StateKind = Literal["targeted", "exempt", "no_target", "pending"]
Status = Literal["running", "met", "breached", "exempt", "no_target"]


class Target(BaseModel):
    """A target: so many hours on a clock."""

    model_config = ConfigDict(frozen=True)

    hours: int | float
    clock: Clock

    @property
    def duration(self) -> timedelta:
        return timedelta(hours=self.hours)


class Classified(BaseModel):
    """How the policy classifies a ticket: its plan, the priority asked for, the priority it
    gets, and why."""

    model_config = ConfigDict(frozen=True)

    plan: str
    requested_priority: int | None = None
    priority: int
    priority_reason: PriorityReason


class Terms(Classified):
    """How the policy sees a ticket, and what it promises: the fields every answer shares."""

    target: Target | None = None
    clock_started_at: datetime
    warning_at: datetime | None = None
    deadline: datetime | None = None
