"""The webhook API's application logic: verify, validate, record, answer.

Handlers pass the raw request and ``now``; this module does the rest and raises the exceptions
of :mod:`sla.errors`, which the handler maps to problem documents in one place.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

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

from sla.errors import (
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    TransientError,
    UnauthorizedError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from sla.policy import DEFAULT_ENVIRONMENT, DEFAULT_PRODUCT_STAGE, Policy
from sla.secrets import SecretSource
from sla.signature import SignatureError, verify
from sla.store import DuplicateDeliveryError, StoredTicket, TicketStore, VersionConflictError
from sla.ticket import (
    EVENT_TYPES,
    SlaView,
    Target,
    TicketEvent,
    TicketState,
    reduce_events,
    sla_view,
)

__all__ = ["IngestResult", "Quote", "WebhookService"]

logger = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
# How far ahead a quote may be asked for. The calendar builds its timeline year by year up to the
# instant asked: unbounded, one public request for the year 9000 would build seven thousand.
QUOTE_AHEAD = timedelta(days=731)
MAX_EVENTS_PER_TICKET = 500
MAX_ATTEMPTS = 8
MAX_JSON_DEPTH = 32


# -- the webhook payload (contract section 2) -----------------------------------------------------


class PayloadTicket(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictStr = Field(min_length=1, max_length=256)
    created_at: AwareDatetime
    plan: StrictStr = Field(min_length=1, max_length=64)
    priority: StrictInt | None = None
    environment: StrictStr | None = Field(default=None, max_length=64)
    product_stage: StrictStr | None = Field(default=None, max_length=64)

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
    model_config = ConfigDict(extra="ignore")

    type: Literal[
        "ticket.created", "ticket.updated", "ticket.responded", "ticket.solved", "ticket.closed"
    ]
    occurred_at: AwareDatetime
    ticket: PayloadTicket
    actor: PayloadActor | None = None
    reason: StrictStr | None = Field(default=None, max_length=1024)


def _errors(
    exc: ValidationError, prefix: tuple[str | int, ...] = ("body",)
) -> list[dict[str, Any]]:
    """Field locations and messages only: never the submitted values."""
    return [
        {"loc": [*prefix, *e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def _depth(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    outcome: Literal["applied", "duplicate", "ignored"]
    view: SlaView | None
    event_id: str


class Quote(BaseModel):
    """What a ticket submitted at ``clock_started_at`` would get."""

    model_config = ConfigDict(frozen=True)

    plan: str
    requested_priority: int | None
    priority: int
    priority_reason: str
    target: Target | None
    status: Literal["running", "exempt", "no_target"]
    clock_started_at: datetime
    warning_at: datetime | None
    deadline: datetime | None


class QuoteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=64)
    priority: int | None = None
    environment: str = Field(default=DEFAULT_ENVIRONMENT, max_length=64)
    product_stage: str = Field(default=DEFAULT_PRODUCT_STAGE, max_length=64)
    at: AwareDatetime | None = None


# -- the service ---------------------------------------------------------------------------------


class WebhookService:
    def __init__(
        self, policy: Policy, store: TicketStore, secrets: SecretSource, body_limit: int
    ) -> None:
        self.policy = policy
        self.store = store
        self.secrets = secrets
        self.body_limit = body_limit

    # POST /webhooks/tickets
    def ingest(
        self, headers: Mapping[str, str], body: str | None, is_base64: bool, now: datetime
    ) -> IngestResult:
        raw = self._raw_body(body, is_base64)
        self._check_content_type(headers)
        event_id = self._verify(headers, raw, now)
        payload = self._parse(raw)
        if not isinstance(payload, dict) or payload.get("type") not in EVENT_TYPES:
            if isinstance(payload, dict) and isinstance(payload.get("type"), str):
                return IngestResult("ignored", None, event_id)  # unknown types: acknowledged
            raise UnprocessableError(
                "The payload does not match the schema.",
                [{"loc": ["body", "type"], "msg": "Field required", "type": "missing"}],
            )
        event = self._validate(payload, event_id, now)
        return self._record(event, now)

    def _raw_body(self, body: str | None, is_base64: bool) -> bytes:
        text = body or ""
        if is_base64:
            if len(text) > (self.body_limit + 2) // 3 * 4 + 4:
                raise PayloadTooLargeError(f"The body is over {self.body_limit} bytes.")
            import base64
            import binascii

            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise BadRequestError("The body encoding is invalid.") from None
        else:
            if len(text) > self.body_limit:  # characters <= bytes: a cheap first check
                raise PayloadTooLargeError(f"The body is over {self.body_limit} bytes.")
            raw = text.encode("utf-8", errors="surrogateescape")
        if len(raw) > self.body_limit:
            raise PayloadTooLargeError(f"The body is over {self.body_limit} bytes.")
        return raw

    @staticmethod
    def _check_content_type(headers: Mapping[str, str]) -> None:
        value = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        media = value.split(";", 1)[0].strip().lower()
        if media != "application/json":
            raise UnsupportedMediaTypeError("The body must be application/json.")

    def _verify(self, headers: Mapping[str, str], raw: bytes, now: datetime) -> str:
        try:
            return verify(self.secrets.current(), headers, raw, now.timestamp())
        except SignatureError as first:
            # A rotated secret may be newer than our cache; the source rate-limits refreshes so
            # forged traffic cannot force a fetch per request.
            fresh = self.secrets.refreshed()
            if fresh is not None:
                try:
                    return verify(fresh, headers, raw, now.timestamp())
                except SignatureError:
                    pass
            logger.info("webhook signature rejected", extra={"reason": first.reason})
            raise UnauthorizedError() from None

    @staticmethod
    def _parse(raw: bytes) -> Any:
        try:
            value = json.loads(raw)
        # ValueError covers bad JSON, bad UTF-8 and numbers beyond Python's 4,300-digit limit
        except (ValueError, RecursionError):
            raise BadRequestError("The body is not valid JSON.") from None
        if not _depth(value, MAX_JSON_DEPTH):
            raise BadRequestError("The body is nested too deeply.")
        return value

    def _validate(self, payload: dict[str, Any], event_id: str, now: datetime) -> TicketEvent:
        try:
            data = Payload.model_validate(payload)
        except ValidationError as exc:
            raise UnprocessableError(
                "The payload does not match the schema.", _errors(exc)
            ) from None
        errors: list[dict[str, Any]] = []

        def check(loc: tuple[str, ...], fn: Any, *args: Any) -> Any:
            try:
                return fn(*args)
            except ValueError as exc:
                errors.append({"loc": ["body", *loc], "msg": str(exc), "type": "value_error"})
                return None

        t = data.ticket
        plan = check(("ticket", "plan"), self.policy.normalise_plan, t.plan)
        check(("ticket", "priority"), self.policy.check_priority, t.priority)
        environment = check(
            ("ticket", "environment"),
            self.policy.check_environment,
            t.environment or DEFAULT_ENVIRONMENT,
        )
        stage = check(
            ("ticket", "product_stage"),
            self.policy.check_product_stage,
            t.product_stage or DEFAULT_PRODUCT_STAGE,
        )
        for loc, instant in (
            (("occurred_at",), data.occurred_at),
            (("ticket", "created_at"), t.created_at),
        ):
            if instant > now + FUTURE_TOLERANCE:
                errors.append(
                    {
                        "loc": ["body", *loc],
                        "msg": "is more than 5 minutes in the future",
                        "type": "future_instant",
                    }
                )
            elif instant < EARLIEST:
                errors.append(
                    {
                        "loc": ["body", *loc],
                        "msg": "is before the year 2000",
                        "type": "past_instant",
                    }
                )
        if errors:
            raise UnprocessableError("The payload does not match the policy.", errors)
        return TicketEvent.model_validate(
            {
                "event_id": event_id,
                "type": data.type,
                "occurred_at": data.occurred_at,
                "ticket": {
                    "id": t.id,
                    "created_at": t.created_at,
                    "plan": plan,
                    "priority": t.priority,
                    "environment": environment,
                    "product_stage": stage,
                },
                "actor": data.actor.model_dump() if data.actor else {"type": "unknown"},
                "reason": data.reason,
            }
        )

    def _record(self, event: TicketEvent, now: datetime) -> IngestResult:
        ticket_id = event.ticket.id
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.load(ticket_id)
            if stored is not None and stored.has_event(event.event_id):
                return IngestResult("duplicate", self._view(stored, now), event.event_id)
            version = stored.version if stored else 0
            events = (*(stored.events if stored else ()), event)
            if len(events) > MAX_EVENTS_PER_TICKET:
                raise UnprocessableError(
                    f"The ticket has reached {MAX_EVENTS_PER_TICKET} events; no more are accepted."
                )
            state = self._reduce(events)
            try:
                notices = stored.notices if stored else ()
                self.store.save(
                    StoredTicket(ticket_id, version + 1, events, notices), state, event, now
                )
            except VersionConflictError:
                continue
            except DuplicateDeliveryError:
                # Confirmed from the ticket itself: the delivery and the ticket are written in
                # one transaction, so a recorded delivery is always among the ticket's events.
                current = self.store.load(ticket_id)
                if current is not None and current.has_event(event.event_id):
                    return IngestResult("duplicate", self._view(current, now), event.event_id)
                continue
            return IngestResult("applied", sla_view(state, now), event.event_id)
        raise TransientError("The ticket is being changed by many deliveries at once; retry.")

    def _reduce(self, events: tuple[TicketEvent, ...]) -> TicketState:
        return reduce_events(events, self.policy)

    def _view(self, stored: StoredTicket, now: datetime, history: bool = False) -> SlaView:
        return sla_view(self._reduce(stored.events), now, with_history=history)

    # GET /tickets/{id}/sla
    def read(self, ticket_id: str, now: datetime) -> SlaView:
        stored = self.store.load(ticket_id) if 0 < len(ticket_id) <= 256 else None
        if stored is None:
            raise NotFoundError("No ticket with this id.")
        return self._view(stored, now, history=True)

    # GET /sla/quote
    def quote(self, params: Mapping[str, str], now: datetime) -> Quote:
        try:
            query = QuoteQuery.model_validate(dict(params))
        except ValidationError as exc:
            raise UnprocessableError(
                "The query does not match the schema.", _errors(exc, ("query",))
            ) from None
        try:
            classification = self.policy.classify(
                query.plan,
                query.priority,
                environment=query.environment,
                product_stage=query.product_stage,
            )
        except ValueError as exc:
            raise UnprocessableError(
                "The query does not match the policy.",
                [{"loc": ["query"], "msg": str(exc), "type": "value_error"}],
            ) from None
        at = (query.at or now).astimezone(UTC)  # the contract answers in UTC
        if at < EARLIEST:
            raise UnprocessableError(
                "The query does not match the policy.",
                [
                    {
                        "loc": ["query", "at"],
                        "msg": "is before the year 2000",
                        "type": "past_instant",
                    }
                ],
            )
        if at > now + QUOTE_AHEAD:
            raise UnprocessableError(
                "The query does not match the policy.",
                [
                    {
                        "loc": ["query", "at"],
                        "msg": "is more than two years ahead",
                        "type": "future_instant",
                    }
                ],
            )
        due = self.policy.due(at, classification)
        target = classification.target
        return Quote(
            plan=classification.plan,
            requested_priority=classification.requested_priority,
            priority=classification.priority,
            priority_reason=classification.priority_reason,
            target=Target(hours=target.hours, clock=target.clock) if target else None,
            status="running" if classification.kind == "targeted" else classification.kind,
            clock_started_at=at,
            warning_at=due.warning_at if due else None,
            deadline=due.deadline if due else None,
        )
