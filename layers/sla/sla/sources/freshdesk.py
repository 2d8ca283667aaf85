"""Freshdesk: automation-rule webhooks ("Trigger webhook", JSON, Advanced content) rendered from
the body template that ``docs/helpdesks/freshdesk.md`` gives, one automation rule per event.

Freshdesk signs nothing. The webhook's "Requires authentication" option sends HTTP Basic
credentials; the password is this source's secret (any user name), compared in constant time
with every configured secret (two during a rotation). Freshdesk sends no delivery id either, so
the delivery id is a hash of the raw body: the body names the ticket, the rule and the instant
of the change, so two different events never share one, and a retry of the same call does.

The template's literal ``sla_rule`` says which rule rendered it, because the one thing the body
cannot render is who performed the event (the rule's "action performed by" setting):

========================  ===================================================================
``sla_rule``              canonical event
========================  ===================================================================
``ticket_created``        ``ticket.created`` at ``{{ticket.created_on}}``
``agent_reply``           ``ticket.responded`` (a reply sent by an agent) at the reply's time
``customer_reply``        ``ticket.customer_replied`` (a reply by the requester)
``priority_by_agent``     ``ticket.updated`` by an agent: a reclassification
``priority_by_system``    ``ticket.updated`` by the system (automations, SLA rules)
``status_changed``        ``ticket.solved`` / ``closed`` / ``reopened`` / ``updated``
``ticket_updated``        ``ticket.updated`` (a field the mapping reads changed)
========================  ===================================================================

``{{triggered_event}}`` is not JSON (``{ticket_action:created}``, ``{priority:{from:3,to:1}}``,
``{note_type:private}``): it is read leniently for the statuses a change came from, and a note
(even a public one) never stops a clock. Freshdesk renders times without an offset, in the
helpdesk's time zone (``2026-03-11 12:44:19``), so the mapping's ``timezone`` is required.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from sla.core.errors import (
    ConfigurationError,
    UnauthorizedError,
    UnprocessableError,
    field_errors,
)
from sla.core.events import SNAPSHOT_FIELDS, Actor, EventType, TicketEvent, TicketStatus
from sla.core.policy import Policy
from sla.core.signature import SigningSecret
from sla.ports import SecretSource
from sla.sources.body import header
from sla.sources.canonical import instant_errors
from sla.sources.helpdesk import HelpdeskSource, json_object, verified
from sla.sources.mapping import SourceMapping, plan_origin

__all__ = [
    "RULES",
    "FreshdeskSource",
    "TriggeredEvent",
    "parse_instant",
    "parse_triggered_event",
]

logger = logging.getLogger(__name__)

NAME = "freshdesk"
# the template's ``sla_rule`` values; any other value is acknowledged and ignored
RULES = frozenset(
    {
        "ticket_created",
        "agent_reply",
        "customer_reply",
        "priority_by_agent",
        "priority_by_system",
        "status_changed",
        "ticket_updated",
    }
)
_MAX_AUTHORIZATION = 4096
_MAX_TEXT = 256  # a rendered instant, id, status or priority is far shorter
_TICKET_ID = re.compile(r"[0-9]{1,20}")
# what the placeholders render ("2026-03-11 12:44:19"), and the same with an offset should a
# helpdesk render one (Rails prints " +0530" or " UTC"); ISO 8601 is accepted as well
_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[ T]"
    r"(?P<clock>[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)(?:\.(?P<fraction>[0-9]{1,9}))?"
    r" ?(?P<zone>Z|UTC|[+-][0-9]{2}:?[0-9]{2})?"
)
_WORD = re.compile(r"[A-Za-z0-9_.-]+")
# Freshdesk's built-in statuses by name and by id (2 Open .. 5 Closed), and the two custom
# statuses new accounts start with; any other (custom) status is not carried
_STATUSES: dict[str, TicketStatus] = {
    "open": "open",
    "pending": "pending",
    "resolved": "solved",
    "closed": "closed",
    "waiting on customer": "pending",
    "waiting on third party": "on_hold",
    "2": "open",
    "3": "pending",
    "4": "solved",
    "5": "closed",
}
_DONE: frozenset[str] = frozenset({"solved", "closed"})


@dataclass(frozen=True, slots=True)
class TriggeredEvent:
    """``{{triggered_event}}`` read leniently: its name (``ticket_action``, ``priority``,
    ``status``, ``note_type``, ``reply_sent``, ...), a simple value (``created``, ``public``)
    or the ``from`` / ``to`` values of a property change."""

    name: str
    value: str | None = None
    old: str | None = None
    new: str | None = None

    @property
    def is_note(self) -> bool:
        return self.name == "note_type"


def parse_triggered_event(text: str) -> TriggeredEvent | None:
    """Freshdesk's ``{name:value}`` / ``{name:{from:a,to:b}}`` (not JSON: nothing is quoted),
    read word by word so that quotes, spaces or Ruby's ``=>`` change nothing; None when empty."""
    words = [w.lower() for w in _WORD.findall(text[:1024])]
    if not words:
        return None
    name, rest = words[0], words[1:]
    old = new = None
    for key, value in itertools.pairwise(rest):
        if key == "from" and old is None:
            old = value
        elif key == "to" and new is None:
            new = value
    value = rest[0] if rest and rest[0] not in ("from", "to") else None
    return TriggeredEvent(name, value, old, new)


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """A rendered instant in UTC: an offset it carries wins, else it is local time in ``zone``
    (in a repeated hour at the end of summer time, the first of the two). ValueError if it is
    not an instant."""
    match = _INSTANT.fullmatch(text.strip())
    if match is None:
        raise ValueError("is not a date and time (expected YYYY-MM-DD HH:MM:SS)")
    clock = match["clock"] if match["clock"].count(":") == 2 else match["clock"] + ":00"
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    try:
        local = datetime.fromisoformat(f"{match['date']}T{clock}.{fraction}")
        kind = match["zone"]
        if kind is None:
            aware = local.replace(tzinfo=zone)
        elif kind in ("Z", "UTC"):
            aware = local.replace(tzinfo=UTC)
        else:
            digits = kind[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:])
            if int(digits[2:]) > 59:
                raise ValueError("offset minutes")
            sign = -1 if kind[0] == "-" else 1
            aware = local.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))
        return aware.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("is not a valid date and time") from None


def _basic_password(headers: Mapping[str, str]) -> tuple[bytes | None, str]:
    """The password of an ``Authorization: Basic`` header (RFC 7617), or None and why not."""
    value = header(headers, "authorization")
    if value is None:
        return None, "no authorization header"
    if not isinstance(value, str) or len(value) > _MAX_AUTHORIZATION:
        return None, "malformed authorization header"
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, "not basic authentication"
    try:
        text = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return None, "malformed basic credentials"
    _user, colon, password = text.partition(":")
    if not colon or not password:
        return None, "no password"
    return password.encode("utf-8"), ""


def _matches(password: bytes, secrets: Iterable[SigningSecret]) -> bool:
    """Whether the password is one of the secrets: every secret compared, in constant time, as
    digests of equal length (so that the comparison does not reveal a secret's length)."""
    given = hashlib.sha256(password).digest()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given, hashlib.sha256(secret.key).digest())
    return matched


class _Errors:
    """Field errors collected while reading one body: locations and messages, never values."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: tuple[str, ...], msg: str, kind: str = "value_error") -> None:
        self.items.append({"loc": ["body", *loc], "msg": msg, "type": kind})


def _text(data: Mapping[str, Any], key: str, loc: tuple[str, ...], errors: _Errors) -> str | None:
    """A rendered placeholder: a string (numbers as their text), None when absent or empty (an
    empty object renders as the empty string)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.add((*loc, key), "must be a string", "string_type")
        return None
    text = str(value).strip()
    if len(text) > _MAX_TEXT:
        errors.add((*loc, key), f"must be at most {_MAX_TEXT} characters", "string_too_long")
        return None
    return text or None


def _origin(snapshot: dict[str, Any], name: str, origin: str) -> None:
    snapshot.setdefault("origin", {})[name] = origin


def _status(value: str | None) -> TicketStatus | None:
    return None if value is None else _STATUSES.get(value.strip().lower())


class FreshdeskSource(HelpdeskSource):
    """Freshdesk automation-rule webhooks (contract 2b), authenticated by HTTP Basic."""

    name = NAME

    def __init__(self, policy: Policy, secrets: SecretSource, mapping: SourceMapping) -> None:
        if mapping.timezone is None:
            raise ConfigurationError(
                "The freshdesk mapping needs a timezone: Freshdesk renders times without an "
                "offset, in the helpdesk's time zone (set timezone in the [freshdesk] table, "
                'e.g. timezone = "Europe/Bratislava").'
            )
        try:
            if mapping.default_plan is not None:
                policy.normalise_plan(mapping.default_plan)
            policy.check_environment(mapping.default_environment)
            policy.check_product_stage(mapping.default_product_stage)
            for value in mapping.priorities.values():
                policy.check_priority(value)
        except ValueError as exc:
            raise ConfigurationError(
                f"The freshdesk mapping does not fit the policy: {exc}"
            ) from None
        super().__init__(policy, secrets, mapping)
        self.zone = ZoneInfo(mapping.timezone)

    # -- authentication -------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], raw: bytes, now: datetime) -> str:
        """Check the Basic password against the secrets (once more against fresh ones); the
        delivery id is ``freshdesk:<sha256 of the raw body>``. The body is not authenticated:
        Basic authentication vouches for the sender only (TLS protects the body in transit)."""
        password, reason = _basic_password(headers)
        if password is not None:
            if verified(self.secrets, lambda keys: _matches(password, keys)):
                return f"{self.name}:" + hashlib.sha256(raw).hexdigest()
            reason = "wrong password"
        logger.info("freshdesk webhook authentication rejected", extra={"reason": reason})
        raise UnauthorizedError()

    # -- normalisation --------------------------------------------------------------------

    def events(self, raw: bytes, delivery_id: str, now: datetime) -> list[TicketEvent]:
        payload = json_object(raw, "the Freshdesk template's object")
        rule = payload.get("sla_rule")
        if not isinstance(rule, str):
            raise UnprocessableError(
                "The payload is not the Freshdesk template: sla_rule is missing.",
                [{"loc": ["body", "sla_rule"], "msg": "is required", "type": "missing"}],
            )
        if rule.strip() not in RULES:
            logger.info("freshdesk rule ignored", extra={"reason": "unknown sla_rule"})
            return []
        rule = rule.strip()
        trigger_text = payload.get("triggered_event")
        if trigger_text is not None and not isinstance(trigger_text, str):
            raise UnprocessableError(
                "The payload does not match the Freshdesk template.",
                [
                    {
                        "loc": ["body", "triggered_event"],
                        "msg": "must be a string",
                        "type": "string_type",
                    }
                ],
            )
        trigger = parse_triggered_event(trigger_text) if trigger_text else None
        if trigger is not None and trigger.is_note:
            return []  # a note, even a public one, is never a reply: the clock keeps running
        ticket = payload.get("ticket")
        if not isinstance(ticket, dict):
            raise UnprocessableError(
                "The payload does not match the Freshdesk template.",
                [{"loc": ["body", "ticket"], "msg": "must be an object", "type": "dict_type"}],
            )
        return [self._event(rule, trigger, payload, ticket, delivery_id, now)]

    def _event(
        self,
        rule: str,
        trigger: TriggeredEvent | None,
        payload: Mapping[str, Any],
        ticket: Mapping[str, Any],
        delivery_id: str,
        now: datetime,
    ) -> TicketEvent:
        errors = _Errors()
        loc = ("ticket",)
        ticket_id = self._ticket_id(ticket.get("id"), errors)
        instants = {
            key: self._instant(ticket, key, errors)
            for key in ("created_on", "modified_on", "status_changed_on")
        }
        snapshot: dict[str, Any] = {}
        if instants["created_on"] is not None:
            snapshot["created_at"] = instants["created_on"]

        priority_text = _text(ticket, "priority", loc, errors)
        if "priority" in ticket:
            if priority_text is None and trigger is not None and trigger.name == "priority":
                priority_text = trigger.new
            priority = self.mapping.priority(NAME, priority_text)
            try:
                self.policy.check_priority(priority)
                snapshot["priority"] = priority
                if priority_text is not None:
                    _origin(snapshot, "priority", f"freshdesk priority {priority_text}")
            except ValueError as exc:
                errors.add((*loc, "priority"), str(exc))

        status_text = _text(ticket, "status", loc, errors)
        status = self._status(status_text)
        if status is None and rule == "status_changed" and trigger is not None:
            status = self._status(trigger.new)
        if status is not None:
            snapshot["status"] = status

        fields = self._fields(payload, errors)
        tags = self._tags(ticket, errors)
        self._plan(snapshot, fields, tags, errors)
        for key, field_name, default, check in self.described_fields():
            if field_name is None:
                snapshot[key] = check(default)
            elif fields is not None and field_name in fields:
                try:
                    snapshot[key] = check(fields[field_name] or default)
                except ValueError as exc:
                    errors.add(("fields", field_name), str(exc))

        kind, actor, occurred_key = self._kind(rule, trigger, status)
        occurred_at = instants[occurred_key]
        if occurred_at is None and occurred_key == "status_changed_on":
            occurred_key, occurred_at = "modified_on", instants["modified_on"]
        if occurred_at is None and not any(
            e["loc"] == ["body", *loc, occurred_key] for e in errors.items
        ):
            errors.add((*loc, occurred_key), f"is required for sla_rule {rule}", "missing")
        if occurred_at is not None:
            errors.items += instant_errors((*loc, occurred_key), occurred_at, now)
        if "created_at" in snapshot and occurred_key != "created_on":
            errors.items += instant_errors((*loc, "created_on"), snapshot["created_at"], now)
        if errors.items or ticket_id is None or occurred_at is None:
            raise UnprocessableError(
                "The payload does not match the Freshdesk template.", errors.items
            )

        carried = set(snapshot) - {"origin"}
        snapshot["id"] = f"{NAME}:{ticket_id}"
        snapshot["fields"] = None if carried >= set(SNAPSHOT_FIELDS) else frozenset(carried)
        try:
            return TicketEvent.model_validate(
                {
                    "event_id": delivery_id,
                    "type": kind,
                    "occurred_at": occurred_at,
                    "ticket": snapshot,
                    "actor": actor,
                }
            )
        except ValidationError as exc:
            raise UnprocessableError(
                "The payload does not match the event schema.", field_errors(exc)
            ) from None

    def _kind(
        self, rule: str, trigger: TriggeredEvent | None, status: TicketStatus | None
    ) -> tuple[EventType, Actor, str]:
        """The canonical type, who acted, and which instant the change happened at."""
        if rule == "ticket_created":
            return "ticket.created", Actor(), "created_on"
        if rule == "agent_reply":
            return "ticket.responded", Actor(type="agent"), "modified_on"
        if rule == "customer_reply":
            return "ticket.customer_replied", Actor(type="customer"), "modified_on"
        if rule == "priority_by_agent":
            return "ticket.updated", Actor(type="agent"), "modified_on"
        if rule == "priority_by_system":
            return "ticket.updated", Actor(type="system"), "modified_on"
        if rule == "status_changed":
            came_from = None if trigger is None or trigger.name != "status" else trigger.old
            if status == "solved":
                kind: EventType = "ticket.solved"
            elif status == "closed":
                kind = "ticket.closed"
            elif self._status(came_from) in _DONE and (
                status is not None or (trigger is not None and trigger.new is not None)
            ):
                kind = "ticket.reopened"
            else:
                kind = "ticket.updated"
            return kind, Actor(), "status_changed_on"
        return "ticket.updated", Actor(), "modified_on"  # ticket_updated

    def _status(self, value: str | None) -> TicketStatus | None:
        """A status name: the mapping's ``statuses`` first (custom statuses), then Freshdesk's."""
        return self.mapping.status(value) or _status(value)

    def _ticket_id(self, value: Any, errors: _Errors) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**20:
            return str(value)
        if isinstance(value, str) and _TICKET_ID.fullmatch(value.strip()):
            return value.strip()
        kind = "missing" if value is None else "value_error"
        errors.add(("ticket", "id"), "must be the ticket number ({{ticket.id}})", kind)
        return None

    def _instant(self, ticket: Mapping[str, Any], key: str, errors: _Errors) -> datetime | None:
        text = _text(ticket, key, ("ticket",), errors)
        if text is None:
            return None
        try:
            return parse_instant(text, self.zone)
        except ValueError as exc:
            errors.add(("ticket", key), str(exc))
            return None

    @staticmethod
    def _fields(payload: Mapping[str, Any], errors: _Errors) -> dict[str, str] | None:
        """The template's ``fields``: the ticket and company fields the mapping reads, by the
        names the template gives them (an empty value: the field is empty)."""
        value = payload.get("fields")
        if value is None:
            return None
        if not isinstance(value, dict):
            errors.add(("fields",), "must be an object", "dict_type")
            return None
        fields: dict[str, str] = {}
        for key in value:
            fields[key] = _text(value, key, ("fields",), errors) or ""
        return fields

    @staticmethod
    def _tags(ticket: Mapping[str, Any], errors: _Errors) -> list[str] | None:
        """``{{ticket.tags}}`` renders the names joined by ", "; a list is read as well."""
        value = ticket.get("tags")
        if value is None:
            return None
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        if isinstance(value, list) and all(isinstance(t, str) for t in value):
            return [t.strip() for t in value if t.strip()]
        errors.add(("ticket", "tags"), "must be a string of comma-separated tags", "string_type")
        return None

    def _plan(
        self,
        snapshot: dict[str, Any],
        fields: dict[str, str] | None,
        tags: list[str] | None,
        errors: _Errors,
    ) -> None:
        """The plan, only where the payload carries the places it comes from (the configured
        field, the tags); none found and no default plan: the earlier plan is kept."""
        field_name = self.mapping.plan_field
        from_field = field_name is not None and fields is not None and field_name in fields
        if not from_field and tags is None:
            return
        used = fields if from_field and fields is not None else {}
        plan = self.mapping.plan_from(used, tags or [])
        if plan is None:
            return
        try:
            snapshot["plan"] = self.policy.normalise_plan(plan)
            _origin(snapshot, "plan", plan_origin(self.mapping, used, tags or []))
        except ValueError as exc:
            if from_field and fields is not None and field_name is not None and fields[field_name]:
                errors.add(("fields", field_name), str(exc))
            else:
                errors.add(("ticket", "tags"), str(exc))
