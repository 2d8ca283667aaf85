"""The canonical source, ``POST /webhooks/tickets``: the contract's ticket event (section 2),
signed with Standard Webhooks.

Verification runs on the raw bytes before anything is parsed; a rotated secret newer than the
cache is fetched at most once per refresh interval (forged traffic cannot force a fetch per
request). The body is validated against the schema, then against the policy, with field
locations and never the submitted values in the errors.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from sla.core.errors import UnauthorizedError, UnprocessableError, field_errors
from sla.core.events import EVENT_TYPES, EventType, TicketEvent, TicketStatus
from sla.core.policy import Policy
from sla.core.signature import SignatureError, verify
from sla.core.terms import DEFAULT_ENVIRONMENT, DEFAULT_PRODUCT_STAGE
from sla.ports import SecretSource
from sla.sources.body import parse_json

__all__ = [
    "EARLIEST",
    "FUTURE_TOLERANCE",
    "Payload",
    "StandardWebhooksSource",
    "canonical_event",
    "payload_events",
]

logger = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


class PayloadTicket(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictStr = Field(min_length=1, max_length=256)
    created_at: AwareDatetime
    plan: StrictStr = Field(min_length=1, max_length=64)
    priority: StrictInt | None = None
    environment: StrictStr | None = Field(default=None, max_length=64)
    product_stage: StrictStr | None = Field(default=None, max_length=64)
    status: TicketStatus | None = None

    @field_validator("id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        return value


class PayloadActor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: StrictStr = Field(max_length=64)
    id: StrictStr | None = Field(default=None, max_length=256)


class Payload(BaseModel):
    """The webhook body (contract section 2); unknown fields are ignored, never stored."""

    model_config = ConfigDict(extra="ignore")

    type: EventType
    occurred_at: AwareDatetime
    ticket: PayloadTicket
    actor: PayloadActor | None = None
    reason: StrictStr | None = Field(default=None, max_length=1024)


def instant_errors(loc: tuple[str, ...], instant: datetime, now: datetime) -> list[dict[str, Any]]:
    """An instant more than 5 minutes ahead of ``now``, or before 2000, as a field error."""
    if instant > now + FUTURE_TOLERANCE:
        msg, kind = "is more than 5 minutes in the future", "future_instant"
    elif instant < EARLIEST:
        msg, kind = "is before the year 2000", "past_instant"
    else:
        return []
    return [{"loc": ["body", *loc], "msg": msg, "type": kind}]


class StandardWebhooksSource:
    name = "tickets"

    def __init__(self, policy: Policy, secrets: SecretSource) -> None:
        self.policy = policy
        self.secrets = secrets

    def verify(self, headers: Mapping[str, str], raw: bytes, now: datetime) -> str:
        try:
            return verify(self.secrets.current(), headers, raw, now.timestamp())
        except SignatureError as first:
            fresh = self.secrets.refreshed()
            if fresh is not None:
                try:
                    return verify(fresh, headers, raw, now.timestamp())
                except SignatureError:
                    pass
            logger.info("webhook signature rejected", extra={"reason": first.reason})
            raise UnauthorizedError() from None

    def events(self, raw: bytes, delivery_id: str, now: datetime) -> list[TicketEvent]:
        return payload_events(self.policy, parse_json(raw), delivery_id, now)


def payload_events(
    policy: Policy, payload: Any, delivery_id: str, now: datetime
) -> list[TicketEvent]:
    """The events of a parsed body: none for an unknown type (acknowledged and ignored), else
    the one event, checked against the schema and the policy (UnprocessableError)."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    if isinstance(kind, str) and kind not in EVENT_TYPES:
        return []  # an unknown type: acknowledged and ignored
    try:
        data = Payload.model_validate(payload)
    except ValidationError as exc:
        raise UnprocessableError(
            "The payload does not match the schema.", field_errors(exc)
        ) from None
    return [canonical_event(policy, data, delivery_id, now)]


def canonical_event(policy: Policy, data: Payload, delivery_id: str, now: datetime) -> TicketEvent:
    """A body that matches the schema as the canonical event, checked against the policy
    (plan, priority, environment, product stage) and ``now`` (instants); UnprocessableError
    with field locations otherwise."""
    errors: list[dict[str, Any]] = []

    def check(loc: tuple[str, ...], fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValueError as exc:
            errors.append({"loc": ["body", *loc], "msg": str(exc), "type": "value_error"})
            return None

    t = data.ticket
    plan = check(("ticket", "plan"), policy.normalise_plan, t.plan)
    check(("ticket", "priority"), policy.check_priority, t.priority)
    environment = check(
        ("ticket", "environment"),
        policy.check_environment,
        t.environment or DEFAULT_ENVIRONMENT,
    )
    stage = check(
        ("ticket", "product_stage"),
        policy.check_product_stage,
        t.product_stage or DEFAULT_PRODUCT_STAGE,
    )
    errors += instant_errors(("occurred_at",), data.occurred_at, now)
    errors += instant_errors(("ticket", "created_at"), t.created_at, now)
    if errors:
        raise UnprocessableError("The payload does not match the policy.", errors)
    return TicketEvent.model_validate(
        {
            "event_id": delivery_id,
            "type": data.type,
            "occurred_at": data.occurred_at,
            "ticket": {
                "id": t.id,
                "created_at": t.created_at,
                "plan": plan,
                "priority": t.priority,
                "environment": environment,
                "product_stage": stage,
                "status": t.status,
            },
            "actor": data.actor.model_dump() if data.actor else {"type": "unknown"},
            "reason": data.reason,
        }
    )
