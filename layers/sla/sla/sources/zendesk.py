"""Zendesk, ``POST /webhooks/zendesk``: event-subscription webhooks (``zen:event-type:ticket.*``)
and trigger webhooks whose body is the template in ``docs/helpdesks/zendesk.md``, both signed by
Zendesk, turned into canonical ticket events.

Signing, as Zendesk's "Verifying webhook authenticity" page gives it: ``X-Zendesk-Webhook-
Signature`` is ``base64(HMAC-SHA256(TIMESTAMP + BODY))``, keyed with the webhook's signing secret
as text, over the ``X-Zendesk-Webhook-Signature-Timestamp`` value (ISO 8601, e.g.
``2021-03-25T05:09:27Z``) followed by the raw body, no separator. An older copy of that page wrote
the order as "(BODY)(TIMESTAMP)" and published an example signature computed in that order; the
current page, its Node example and the receivers in use sign the timestamp first, and so do we.
The timestamp must be within 5 minutes of now, either way. The delivery id is
``X-Zendesk-Webhook-Invocation-Id`` (not covered by the signature).

Events (``detail`` is the ticket, ``event`` the change, ``time`` the instant, with nanoseconds):
``ticket.created``; ``ticket.priority_changed`` (a reclassification when a person other than the
requester made it; ``detail.actor_id`` ``-1`` is Zendesk itself); ``ticket.status_changed``
(solved, closed, reopened, or another status); ``ticket.comment_added`` (a public comment by
staff is a reply, by anyone else a customer message; comments carry no time of their own, so the
envelope's ``time`` is used); ``ticket.tags_changed`` (the plan may come from a tag). Everything
else is acknowledged and ignored.

Trigger bodies carry ``"sla_keeper_trigger": 1`` and an ``event`` the trigger sets. Zendesk's
``*_with_timestamp`` placeholders may have minute precision: a reply or a solve is then read as the
last instant of its minute, so that it never looks earlier than it was.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from sla.core.errors import UnauthorizedError, UnprocessableError, field_errors
from sla.core.events import SNAPSHOT_FIELDS, Actor, EventType, TicketEvent, TicketStatus
from sla.core.policy import Policy
from sla.core.signature import SigningSecret
from sla.ports import SecretSource
from sla.sources.body import header
from sla.sources.canonical import instant_errors
from sla.sources.helpdesk import HelpdeskSource, json_object, verified
from sla.sources.mapping import SourceMapping, plan_origin

__all__ = ["SIGNATURE_TOLERANCE", "TRIGGER_MARKER", "ZendeskSource", "parse_instant", "signature"]

logger = logging.getLogger(__name__)

NAME = "zendesk"
SIGNATURE_TOLERANCE = timedelta(minutes=5)
TRIGGER_MARKER = "sla_keeper_trigger"
SYSTEM_USER = "-1"  # Zendesk's own user id ("-1" represents the Zendesk system)

_SIGNATURE = "x-zendesk-webhook-signature"
_TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
_INVOCATION = "x-zendesk-webhook-invocation-id"
_TOKEN = re.compile(r"[\x21-\x7e]{1,200}")
_INSTANT = re.compile(
    r"(?P<minute>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:?[0-9]{2})"
)
_TICKET_ID = re.compile(r"[1-9][0-9]{0,19}")
_USER_ID = re.compile(r"-?[0-9]{1,20}")
_MINUTE_END = timedelta(seconds=59, microseconds=999999)
_STATUSES: dict[str, TicketStatus] = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "on_hold",
    "on-hold": "on_hold",
    "on_hold": "on_hold",
    "on hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
}
_END_USER_ROLES = frozenset({"end-user", "end user", "end_user", "enduser"})
_RECLASSIFIED = "priority changed by an agent in Zendesk"
_NOT_ZENDESK = f"must be a Zendesk event type (or the body have {TRIGGER_MARKER})"


# -- signing ---------------------------------------------------------------------------------------


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    """Zendesk's signature of a request: base64 HMAC-SHA256 of the timestamp header's value
    followed by the raw body (for tests and for signing a request by hand)."""
    mac = hmac.new(key, timestamp.encode("utf-8") + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def parse_instant(text: str) -> tuple[datetime, bool] | None:
    """An ISO 8601 instant as Zendesk writes them (``2021-03-25T05:09:27Z``, nanoseconds, an
    offset, or minute precision as in ``2013-12-12T05:35Z``), in UTC, and whether it has minute
    precision only; None for anything else (no zone, a date alone, week dates)."""
    match = _INSTANT.fullmatch(text)
    if match is None:
        return None
    second = ":" + (match["second"] or "00")
    fraction = "." + match["fraction"][:6] if match["fraction"] else ""
    try:
        value = datetime.fromisoformat(match["minute"] + second + fraction + match["zone"])
    except ValueError:  # month 13, hour 25, ...
        return None
    return value.astimezone(UTC), match["second"] is None


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _signed_parts(headers: Mapping[str, str], now: datetime) -> tuple[str, bytes, str]:
    """The timestamp, the decoded signature and the invocation id, checked; or _Rejected."""
    given = header(headers, _SIGNATURE)
    stamp = header(headers, _TIMESTAMP)
    invocation = header(headers, _INVOCATION)
    if given is None or stamp is None or invocation is None:
        raise _Rejected("missing header")
    if _TOKEN.fullmatch(invocation) is None:
        raise _Rejected("malformed invocation id")
    try:
        candidate = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        raise _Rejected("malformed signature") from None
    # canonical base64 of a SHA-256 MAC only: a MAC has one spelling
    if len(candidate) != 32 or base64.b64encode(candidate).decode("ascii") != given:
        raise _Rejected("malformed signature")
    parsed = parse_instant(stamp) if len(stamp) <= 64 else None
    if parsed is None:
        raise _Rejected("malformed timestamp")
    if abs((now - parsed[0]).total_seconds()) > SIGNATURE_TOLERANCE.total_seconds():
        raise _Rejected("stale timestamp")
    return stamp, candidate, invocation


def _matches(secrets: Iterable[SigningSecret], message: bytes, candidate: bytes) -> bool:
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.key, message, hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, candidate)  # no early exit
    return matched


# -- payload models --------------------------------------------------------------------------------


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _ticket_id(value: Any) -> str:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if _TICKET_ID.fullmatch(text) is None:
        raise ValueError("must be a Zendesk ticket id (digits)")
    return text


def _user_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if _USER_ID.fullmatch(text) is None:
        raise ValueError("must be a Zendesk user id (digits)")
    return text


def _flag(value: bool | str | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise ValueError("must be true or false")
    return text == "true"


TicketId = Annotated[str, BeforeValidator(_ticket_id)]
UserId = Annotated[str | None, BeforeValidator(_user_id)]
Text = Annotated[StrictStr, Field(max_length=64)]
Flag = Annotated[
    StrictBool | StrictStr | None, BeforeValidator(_blank_is_none), AfterValidator(_flag)
]
Role = Annotated[Text | None, BeforeValidator(_blank_is_none)]
Tag = Annotated[StrictStr, Field(max_length=256)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Detail(_Model):
    """The ticket in an event's ``detail``."""

    id: TicketId
    created_at: Text | None = None
    priority: Text | None = None
    status: Text | None = None
    tags: list[Tag] | None = None
    actor_id: UserId = None
    requester_id: UserId = None


class _Envelope(_Model):
    type: StrictStr
    time: Text
    detail: _Detail
    event: dict[str, Any] | None = None


class _ValueChange(_Model):
    current: Text | None = None
    previous: Text | None = None


class _Author(_Model):
    id: UserId = None
    is_staff: StrictBool | None = None


class _Comment(_Model):
    is_public: StrictBool | None = None
    author: _Author | None = None


class _CommentAdded(_Model):
    comment: _Comment


class _TriggerTicket(_Model):
    id: TicketId
    created_at: Text
    updated_at: Annotated[Text | None, BeforeValidator(_blank_is_none)] = None
    priority: Text | None = None
    status: Text | None = None
    tags: StrictStr | list[Tag] | None = None
    fields: dict[str, Annotated[StrictStr, Field(max_length=256)] | None] | None = None


class _TriggerComment(_Model):
    is_public: Flag = None
    author_id: UserId = None
    author_role: Role = None


class _TriggerUser(_Model):
    id: UserId = None
    role: Role = None


TriggerEvent = Literal[
    "created", "public_comment", "priority_changed", "status_changed", "reopened"
]


class _TriggerBody(_Model):
    """The trigger template's body (``docs/helpdesks/zendesk.md``)."""

    sla_keeper_trigger: StrictInt
    event: TriggerEvent
    ticket: _TriggerTicket
    latest_comment: _TriggerComment | None = None
    current_user: _TriggerUser | None = None


# -- normalising -----------------------------------------------------------------------------------


@dataclass
class _Errors:
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, loc: tuple[str | int, ...], msg: str, kind: str = "value_error") -> None:
        self.items.append({"loc": ["body", *loc], "msg": msg, "type": kind})


@dataclass(frozen=True)
class _Facts:
    """What a payload says about the ticket, before mapping; None: not carried."""

    id: str
    loc: tuple[str, ...]  # where the ticket is in the body
    created_at: str | None
    priority: tuple[str | None] | None  # (value,) when carried, the value None for no priority
    status: str | None
    tags: list[str] | None
    tags_loc: tuple[str, ...]
    fields: dict[str, str | None] | None  # custom fields (trigger template only)


@dataclass(frozen=True)
class _Draft:
    type: EventType
    occurred_at: datetime
    actor: Actor
    reason: str | None = None
    loc: tuple[str, ...] = ("time",)  # where the instant is in the body


_Outcome = tuple[_Facts, list[_Draft]]


class ZendeskSource(HelpdeskSource):
    """Zendesk's event-subscription and trigger webhooks (see the module's docstring)."""

    name = NAME

    def __init__(self, policy: Policy, secrets: SecretSource, mapping: SourceMapping) -> None:
        super().__init__(policy, secrets, mapping)
        # the plan a payload names (a field or a tag), leaving the default plan to _plan
        self._named_plan = mapping.model_copy(update={"default_plan": None})
        self._handlers: dict[str, Callable[[_Envelope, _Facts, datetime], _Outcome]] = {
            "zen:event-type:ticket.created": self._created,
            "zen:event-type:ticket.priority_changed": self._priority_changed,
            "zen:event-type:ticket.status_changed": self._status_changed,
            "zen:event-type:ticket.comment_added": self._comment_added,
            "zen:event-type:ticket.tags_changed": self._tags_changed,
        }

    # -- verify ------------------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], raw: bytes, now: datetime) -> str:
        try:
            stamp, candidate, invocation = _signed_parts(headers, now)
        except _Rejected as exc:
            logger.info("zendesk webhook rejected", extra={"reason": exc.reason})
            raise UnauthorizedError() from None
        message = stamp.encode("ascii") + raw
        if verified(self.secrets, lambda keys: _matches(keys, message, candidate)):
            return f"{NAME}:{invocation}"
        logger.info("zendesk webhook rejected", extra={"reason": "no matching signature"})
        raise UnauthorizedError()

    # -- events ------------------------------------------------------------------------------------

    def events(self, raw: bytes, delivery_id: str, now: datetime) -> list[TicketEvent]:
        payload = json_object(raw, "a Zendesk webhook body")
        errors = _Errors()
        if TRIGGER_MARKER in payload:
            facts, drafts = self._trigger(payload, now, errors)
        else:
            kind = payload.get("type")
            if not isinstance(kind, str) or not kind.startswith("zen:event-type:"):
                raise UnprocessableError(
                    "The payload is not a Zendesk webhook body.",
                    [
                        {
                            "loc": ["body", "type"],
                            "msg": _NOT_ZENDESK,
                            "type": "value_error",
                        }
                    ],
                )
            handler = self._handlers.get(kind)
            if handler is None:
                return []  # not needed for the SLA: acknowledged and ignored
            envelope = _validated(_Envelope, payload, ())
            time = parse_instant(envelope.time)
            if time is None:
                errors.add(("time",), "must be an ISO 8601 instant with a time zone")
                facts, drafts = self._facts(envelope), []
            else:
                facts, drafts = handler(envelope, self._facts(envelope), time[0])
        if not drafts and not errors.items:
            return []
        snapshot = self._snapshot(facts, now, errors)
        for draft in drafts:
            errors.items += instant_errors(draft.loc, draft.occurred_at, now)
        if errors.items:
            unique = list({(str(e["loc"]), e["type"]): e for e in errors.items}.values())
            raise UnprocessableError("The payload does not match the policy.", unique)
        events = []
        for n, draft in enumerate(drafts):
            event_id = delivery_id if len(drafts) == 1 else f"{delivery_id}#{n}"
            try:
                events.append(
                    TicketEvent.model_validate(
                        {
                            "event_id": event_id,
                            "type": draft.type,
                            "occurred_at": draft.occurred_at,
                            "ticket": snapshot,
                            "actor": draft.actor,
                            "reason": draft.reason,
                        }
                    )
                )
            except ValidationError as exc:
                raise UnprocessableError(
                    "The payload does not make a ticket event.", field_errors(exc)
                ) from None
        return events

    # -- event subscriptions -----------------------------------------------------------------------

    @staticmethod
    def _facts(envelope: _Envelope) -> _Facts:
        detail = envelope.detail
        return _Facts(
            id=detail.id,
            loc=("detail",),
            created_at=detail.created_at,
            priority=(detail.priority,) if "priority" in detail.model_fields_set else None,
            status=detail.status,
            tags=detail.tags,
            tags_loc=("detail", "tags"),
            fields=None,  # an event's ticket carries no custom fields
        )

    @staticmethod
    def _who(detail: _Detail) -> Actor:
        """Who made a change: Zendesk itself (``-1``: triggers, automations), the requester, or
        another person (staff: only agents change priorities and statuses of others' tickets)."""
        actor_id = detail.actor_id
        if actor_id is None or actor_id == SYSTEM_USER:
            return Actor(type="system", id=actor_id)
        if actor_id == detail.requester_id:
            return Actor(type="customer", id=actor_id)
        return Actor(type="agent", id=actor_id)

    def _created(self, envelope: _Envelope, facts: _Facts, time: datetime) -> _Outcome:
        return facts, [_Draft("ticket.created", time, self._who(envelope.detail))]

    def _priority_changed(self, envelope: _Envelope, facts: _Facts, time: datetime) -> _Outcome:
        change = _validated(_ValueChange, envelope.event or {}, ("event",))
        if "current" in change.model_fields_set:  # the change itself, more exact than detail
            facts = replace(facts, priority=(change.current,))
        actor = self._who(envelope.detail)
        reason = _RECLASSIFIED if actor.type == "agent" else None
        return facts, [_Draft("ticket.updated", time, actor, reason)]

    def _status_changed(self, envelope: _Envelope, facts: _Facts, time: datetime) -> _Outcome:
        change = _validated(_ValueChange, envelope.event or {}, ("event",))
        if change.current is not None:
            facts = replace(facts, status=change.current)
        current, previous = self._status(facts.status), self._status(change.previous)
        if current is None:
            return facts, []  # deleted, archived, scrubbed: nothing the SLA measures
        actor = self._who(envelope.detail)
        if current == "solved":
            return facts, [_Draft("ticket.solved", time, actor)]
        if current == "closed":
            return facts, [_Draft("ticket.closed", time, actor)]
        if previous in ("solved", "closed"):
            return facts, [_Draft("ticket.reopened", time, actor)]
        return facts, [_Draft("ticket.updated", time, _not_reclassifying(actor))]

    def _comment_added(self, envelope: _Envelope, facts: _Facts, time: datetime) -> _Outcome:
        comment = _validated(_CommentAdded, envelope.event or {}, ("event",)).comment
        author = comment.author
        if comment.is_public is not True or author is None:
            return facts, []  # internal notes never stop or start a clock
        if author.id == SYSTEM_USER or author.is_staff is None:
            return facts, []  # Zendesk's own messages, or an author we cannot place
        if author.is_staff:
            return facts, [_Draft("ticket.responded", time, Actor(type="agent", id=author.id))]
        return facts, [
            _Draft("ticket.customer_replied", time, Actor(type="customer", id=author.id))
        ]

    def _tags_changed(self, envelope: _Envelope, facts: _Facts, time: datetime) -> _Outcome:
        actor = _not_reclassifying(self._who(envelope.detail))
        return facts, [_Draft("ticket.updated", time, actor)]

    # -- trigger template --------------------------------------------------------------------------

    def _trigger(
        self, payload: dict[str, Any], now: datetime, errors: _Errors
    ) -> tuple[_Facts, list[_Draft]]:
        version = payload.get(TRIGGER_MARKER)
        if type(version) is not int or version != 1:
            raise UnprocessableError(
                "The trigger body is of an unknown template version.",
                [
                    {
                        "loc": ["body", TRIGGER_MARKER],
                        "msg": "unsupported template version; expected 1",
                        "type": "value_error",
                    }
                ],
            )
        body = _validated(_TriggerBody, payload, ())
        t = body.ticket
        tags = t.tags.split() if isinstance(t.tags, str) else t.tags
        facts = _Facts(
            id=t.id,
            loc=("ticket",),
            created_at=t.created_at,
            priority=(t.priority,) if "priority" in t.model_fields_set else None,
            status=t.status,
            tags=tags,
            tags_loc=("ticket", "tags"),
            fields=t.fields,
        )
        user = body.current_user or _TriggerUser()
        user_actor = self._role_actor(user.role, user.id)
        comment = body.latest_comment or _TriggerComment()
        if comment.author_role is not None:
            author = self._role_actor(comment.author_role, comment.author_id)
        elif comment.author_id is None or comment.author_id == user.id:
            author = self._role_actor(user.role, comment.author_id or user.id)
        else:
            author = Actor(type="system", id=comment.author_id)  # an author we cannot place

        if body.event == "created":
            created = _instant_of(t.created_at, ("ticket", "created_at"), errors)
            if created is None:
                return facts, []
            here = ("ticket", "created_at")
            drafts = [_Draft("ticket.created", created[0], user_actor, loc=here)]
            if comment.is_public is True and author.type == "agent":
                # an agent opened the ticket with a public message: that is a public reply
                drafts.append(_Draft("ticket.responded", _latest(created), author, loc=here))
            return facts, drafts

        if t.updated_at is None:
            errors.add(("ticket", "updated_at"), "is required for this event", "missing")
            return facts, []
        updated = _instant_of(t.updated_at, ("ticket", "updated_at"), errors)
        if updated is None:
            return facts, []
        at, here = updated[0], ("ticket", "updated_at")
        if body.event == "public_comment":
            if comment.is_public is not True:
                return facts, []
            if author.type == "agent":
                return facts, [_Draft("ticket.responded", _latest(updated), author, loc=here)]
            if author.type == "customer":
                return facts, [_Draft("ticket.customer_replied", at, author, loc=here)]
            return facts, []
        if body.event == "priority_changed":
            reason = _RECLASSIFIED if user_actor.type == "agent" else None
            return facts, [_Draft("ticket.updated", at, user_actor, reason, here)]
        if body.event == "reopened":
            return facts, [_Draft("ticket.reopened", at, user_actor, loc=here)]
        # status_changed
        status = self._status(t.status)
        if status in ("solved", "closed"):
            kind: EventType = "ticket.solved" if status == "solved" else "ticket.closed"
            return facts, [_Draft(kind, _latest(updated), user_actor, loc=here)]
        return facts, [_Draft("ticket.updated", at, _not_reclassifying(user_actor), loc=here)]

    def _role_actor(self, role: str | None, user_id: str | None) -> Actor:
        """An actor from a Zendesk role as placeholders render it (``Agent``, ``Admin``,
        ``End-user``); Zendesk itself, and anyone whose role is unknown, is ``system``."""
        name = (role or "").strip().lower()
        if user_id == SYSTEM_USER:
            return Actor(type="system", id=user_id)
        if name in {r.lower() for r in self.mapping.agent_roles}:
            return Actor(type="agent", id=user_id)
        if name in _END_USER_ROLES:
            return Actor(type="customer", id=user_id)
        return Actor(type="system", id=user_id)

    def _status(self, value: str | None) -> TicketStatus | None:
        """Our status for Zendesk's (``OPEN``, ``Open``, ``On-hold``, ``HOLD``, ...): the mapping's
        ``statuses`` first (localised or custom names), then Zendesk's own; None for any other
        (``DELETED``, ``ARCHIVED``, ``SCRUBBED``, an unknown name)."""
        if value is None:
            return None
        return self.mapping.status(value) or _STATUSES.get(value.strip().lower())

    # -- the snapshot ------------------------------------------------------------------------------

    def _snapshot(self, facts: _Facts, now: datetime, errors: _Errors) -> dict[str, Any]:
        """The ticket as of the event: every field the payload carries, mapped and checked; a
        partial snapshot (``fields``) when some are not carried."""
        snapshot: dict[str, Any] = {"id": f"{NAME}:{facts.id}"}
        carried: set[str] = set()
        if facts.created_at is not None:
            parsed = _instant_of(facts.created_at, (*facts.loc, "created_at"), errors)
            if parsed is not None:
                snapshot["created_at"] = parsed[0]
                carried.add("created_at")
                errors.items += instant_errors((*facts.loc, "created_at"), parsed[0], now)
        if facts.priority is not None:
            priority = self.mapping.priority(NAME, facts.priority[0])
            try:
                self.policy.check_priority(priority)
            except ValueError as exc:
                errors.add((*facts.loc, "priority"), str(exc))
            snapshot["priority"] = priority
            carried.add("priority")
            snapshot.setdefault("origin", {})["priority"] = f"zendesk priority {facts.priority[0]}"
        status = self._status(facts.status)
        if status is not None:
            snapshot["status"] = status
            carried.add("status")
        plan = self._plan(facts, errors)
        if plan is not None:
            snapshot["plan"] = plan
            carried.add("plan")
            origin = plan_origin(self._named_plan, facts.fields or {}, facts.tags or [])
            snapshot.setdefault("origin", {})["plan"] = origin
        for name, configured, default, check in self.described_fields():
            if configured is None:
                value, loc = default, (*facts.loc, name)
            elif facts.fields is not None and configured in facts.fields:
                value = facts.fields[configured] or default
                loc = (*facts.loc, "fields", configured)
            else:
                continue  # the payload does not carry the field: keep the earlier value
            try:
                snapshot[name] = check(value)
                carried.add(name)
            except ValueError as exc:
                errors.add(loc, str(exc))
        if carried != set(SNAPSHOT_FIELDS):
            snapshot["fields"] = frozenset(carried)
        return snapshot

    def _plan(self, facts: _Facts, errors: _Errors) -> str | None:
        """The plan the payload names (a field, else a ``plan_<name>`` tag), else the default plan
        when the payload carries the places a plan would be in; None: not carried."""
        field_name = self.mapping.plan_field
        fields = facts.fields or {}
        named = self._named_plan.plan_from(fields, facts.tags or [])
        if field_name is not None and isinstance(fields.get(field_name), str):
            loc = (*facts.loc, "fields", field_name)
        else:
            loc = facts.tags_loc
        if named is None:
            field_carried = field_name is None or field_name in fields
            if facts.tags is None or not field_carried or self.mapping.default_plan is None:
                return None
            named, loc = self.mapping.default_plan, facts.tags_loc
        try:
            return self.policy.normalise_plan(named)
        except ValueError as exc:
            errors.add(loc, str(exc))
            return None


def _validated(model: type[_Model], data: Any, prefix: tuple[str, ...]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UnprocessableError(
            "The payload does not match Zendesk's webhook body.",
            field_errors(exc, ("body", *prefix)),
        ) from None


def _instant_of(text: str, loc: tuple[str, ...], errors: _Errors) -> tuple[datetime, bool] | None:
    parsed = parse_instant(text)
    if parsed is None:
        errors.add(loc, "must be an ISO 8601 instant with a time zone")
    return parsed


def _latest(parsed: tuple[datetime, bool]) -> datetime:
    """When something stopped a clock: the last instant of the minute when only the minute is
    known, so that a reply or a solve never looks earlier than it was."""
    value, minute_only = parsed
    return value + _MINUTE_END if minute_only else value


def _not_reclassifying(actor: Actor) -> Actor:
    """A change that is not a priority change by an agent: staff and Zendesk act as ``system``
    here, so that a priority the snapshot happens to carry is not taken for an agent's choice."""
    return actor if actor.type == "customer" else Actor(type="system", id=actor.id)
