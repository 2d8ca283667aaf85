"""Zammad: trigger webhooks with Zammad's default payload, verified on the raw bytes and turned
into canonical ticket events.

Signing (zammad/zammad ``lib/user_agent.rb``, ``UserAgent.set_signature``): when the webhook has
an "HMAC SHA1 Signature Token" and the body is not empty, Zammad adds ``X-Hub-Signature:
sha1=<OpenSSL::HMAC.hexdigest('sha1', token, body)>``: lower-case hex of HMAC-SHA1 over the raw
body, keyed with the token's text. Nothing else is signed: no timestamp, no delivery id.
``X-Zammad-Delivery`` is the delivery job's ActiveJob id (``app/jobs/trigger_webhook_job.rb``),
the same on each of the job's retries; it is our delivery id (``zammad:<id>``).

The default payload (``TriggerWebhookJob::RecordPayload``) is ``{"ticket": {...}, "article":
{...}}``: the whole ticket record (every attribute, custom ones included, with ``priority``,
``organization``, ``owner``, ``customer``, ``created_by`` and ``updated_by`` resolved to objects
and ``state`` to its name) and the article of the change, ``{}`` when the change had none. It
carries no change set, and Zammad renders it when the job runs, from the ticket as it is then. So
each delivery says what the ticket *is*; the events are derived from that:

* the ticket: ``ticket.created`` (at ``ticket.created_at``, by ``created_by``) when the delivery
  is the ticket's creation (its article is the ticket's first one, or the ticket was never
  updated after its creation); ``ticket.closed`` (at ``ticket.updated_at``, by ``updated_by``)
  when its state is ``closed``, ``merged`` or ``removed``, a creation included; otherwise, if
  not a creation, ``ticket.updated`` (the same instant and user) with the status (``new``,
  ``open``; ``pending reminder`` and ``pending close`` as ``pending``). A reopening cannot be
  told from any other update of a once-closed ticket: it shows as the status going from
  ``closed`` back to ``open``.
* the article, at ``article.created_at``: a public (``internal: false``) article of a
  communication type (not a ``note``: Zammad's own first-response rule) sent by an ``Agent`` is
  ``ticket.responded``; by a ``Customer`` (not the ticket's first article) is
  ``ticket.customer_replied``. Internal articles, notes (the ``merged`` note of a merge among
  them), ``System`` articles (trigger and scheduler messages, auto-replies) and articles by
  Zammad's system user (id 1) give nothing.

The ticket is ``zammad:<ticket.id>``: the internal id, which never changes and is what the REST
API, ``article.ticket_id`` and attachment links use; the displayed ``number`` follows a
configurable generator (increment or date based, with its own settings) and is not a key.
Priority comes from the mapping: a configured key (the priority's name, then its id), else the
defaults by ``priority_id`` (names are editable, ids are seeded); the plan from the
organisation's (else the ticket's) attribute named by ``plan_field``, else a ``plan_<name>`` tag
where a payload carries ``tags`` (Zammad's default payload does not), else ``default_plan``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from sla.core.errors import UnauthorizedError, UnprocessableError, field_errors
from sla.core.events import SNAPSHOT_FIELDS, TicketEvent
from sla.core.signature import SigningSecret
from sla.sources.body import header, parse_json
from sla.sources.canonical import instant_errors
from sla.sources.helpdesk import HelpdeskSource, verified
from sla.sources.mapping import plan_origin

__all__ = ["SYSTEM_USER_ID", "ZammadSource", "parse_instant"]

logger = logging.getLogger(__name__)

SYSTEM_USER_ID = 1  # Zammad's user 1 ("-"): what automations and the scheduler act as
_SIGNATURE = re.compile(r"sha1=([0-9a-f]{40})")  # Ruby's hexdigest: lower case, 40 digits
_DELIVERY = re.compile(r"[\x21-\x7e]{1,200}")  # an ActiveJob id is a UUID; visible ASCII, bounded
# Zammad's seeded states (db/seeds/ticket_states.rb) and our status for each
_STATUSES = {
    "new": "new",
    "open": "open",
    "pending reminder": "pending",
    "pending close": "pending",
    "closed": "closed",
    "merged": "closed",
    "removed": "closed",
}
_CLOSED_STATES = frozenset({"closed", "merged", "removed"})
_NOT_COMMUNICATION = frozenset({"note"})  # article types that are not messages to the customer
_INSTANT = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) ?(Z|UTC|[+-]\d{2}:?\d{2})"
)
_DIGITS = re.compile(r"[0-9]{1,18}")


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_instant(value: str) -> datetime:
    """An instant as Zammad writes it, in UTC: ``2020-11-13T14:34:35.282Z`` (the default payload,
    JSON of ``TimeWithZone``) or ``2019-10-08 15:24:47 UTC`` / ``... +0200`` (``to_s``, what a
    custom payload's ``#{ticket.created_at}`` gives). ValueError for anything else, naive
    times included."""
    match = _INSTANT.fullmatch(value.strip())
    if match is None:
        raise ValueError("is not a timestamp with a time zone")
    day, clock, zone = match.groups()
    if "." in clock:  # Python keeps microseconds; Zammad sends milliseconds
        whole, fraction = clock.split(".")
        clock = f"{whole}.{fraction[:6].ljust(6, '0')}"
    offset = "+00:00" if zone in ("Z", "UTC") else zone
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}{offset}")
    except ValueError:  # a day or hour out of range
        raise ValueError("is not a timestamp with a time zone") from None
    return parsed.astimezone(UTC)


class _Reader:
    """Reads values out of the payload, collecting field errors (locations, never values)."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def fail(self, loc: tuple[str | int, ...], msg: str, kind: str) -> None:
        self.errors.append({"loc": ["body", *loc], "msg": msg, "type": kind})

    def object(self, value: Any, loc: tuple[str | int, ...]) -> dict[str, Any] | None:
        """An object, or None (absent or null)."""
        if value is None or isinstance(value, dict):
            return value
        self.fail(loc, "must be an object", "dict_type")
        return None

    def integer(self, value: Any, loc: tuple[str | int, ...]) -> int | None:
        """A non-negative id: a JSON integer or a string of digits (custom payloads)."""
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**18:
            return value
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            return int(value.strip())
        self.fail(loc, "must be an id (a whole number)", "int_type")
        return None

    def text(self, value: Any, loc: tuple[str | int, ...]) -> str | None:
        if value is None or isinstance(value, str):
            return value
        self.fail(loc, "must be a string", "string_type")
        return None

    def name(self, value: Any, loc: tuple[str | int, ...]) -> str | None:
        """A name given as a string (``"open"``) or an object with a ``name`` (``{"name": ...}``),
        lower-cased."""
        if isinstance(value, dict):
            return self.name(value.get("name"), (*loc, "name"))
        text = self.text(value, loc)
        return None if text is None else text.strip().lower()

    def boolean(self, value: Any, loc: tuple[str | int, ...]) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.fail(loc, "must be a boolean", "bool_type")
        return None

    def instant(self, value: Any, loc: tuple[str | int, ...], now: datetime) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(loc, "must be a timestamp string", "string_type")
            return None
        try:
            parsed = parse_instant(value)
        except (ValueError, OverflowError):
            self.fail(loc, "is not a timestamp with a time zone", "datetime_parsing")
            return None
        errors = instant_errors(tuple(str(p) for p in loc), parsed, now)
        if errors:
            self.errors += errors
            return None
        return parsed


@dataclass(frozen=True, slots=True)
class _User:
    """Who did something, as the payload says it: an id, and roles when the user is an object."""

    id: int | None
    roles: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _Article:
    id: int | None
    sender: str | None
    type: str | None
    internal: bool | None
    created_at: datetime | None
    author: int | None  # created_by_id
    on_behalf_of: int | None  # origin_by_id: the customer an agent wrote it for


class ZammadSource(HelpdeskSource):
    """Zammad trigger webhooks (default payload), signed with the webhook's HMAC-SHA1 token."""

    name = "zammad"

    # -- authentication -------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], raw: bytes, now: datetime) -> str:
        try:
            signature = self._signature(headers)
            delivery = self._delivery(headers, raw)
        except _Rejected as rejected:
            logger.info("zammad signature rejected", extra={"reason": rejected.reason})
            raise UnauthorizedError() from None
        if verified(self.secrets, lambda keys: self._matches(keys, signature, raw)):
            return delivery
        logger.info("zammad signature rejected", extra={"reason": "no matching signature"})
        raise UnauthorizedError()

    @staticmethod
    def _signature(headers: Mapping[str, str]) -> str:
        value = header(headers, "x-hub-signature")
        if value is None:
            raise _Rejected("missing header x-hub-signature")
        match = _SIGNATURE.fullmatch(value.strip(" \t"))
        if match is None:
            raise _Rejected("malformed x-hub-signature (sha1=<40 lower-case hex digits> due)")
        return match.group(1)

    def _delivery(self, headers: Mapping[str, str], raw: bytes) -> str:
        value = header(headers, "x-zammad-delivery")
        if value is None:  # Zammad always sends it; a proxy may drop it: the body names the change
            return f"{self.name}:" + hashlib.sha256(raw).hexdigest()
        value = value.strip(" \t")
        if not _DELIVERY.fullmatch(value):
            raise _Rejected("malformed x-zammad-delivery")
        return f"{self.name}:{value}"

    @staticmethod
    def _matches(secrets: tuple[SigningSecret, ...], signature: str, raw: bytes) -> bool:
        matched = False
        for secret in secrets:
            expected = hmac.new(secret.key, raw, hashlib.sha1).hexdigest()
            # no early exit: every secret is compared, each in constant time
            matched |= hmac.compare_digest(expected, signature)
        return matched

    # -- normalisation --------------------------------------------------------------------------

    def events(self, raw: bytes, delivery_id: str, now: datetime) -> list[TicketEvent]:
        payload = parse_json(raw)
        read = _Reader()
        if not isinstance(payload, dict):
            read.fail((), "must be an object with a ticket", "dict_type")
            raise UnprocessableError("The payload is not a Zammad webhook.", read.errors)
        ticket = read.object(payload.get("ticket"), ("ticket",))
        if ticket is None:
            if not read.errors:
                read.fail(("ticket",), "Field required", "missing")
            raise UnprocessableError("The payload is not a Zammad webhook.", read.errors)
        ticket_id = read.integer(ticket.get("id"), ("ticket", "id"))
        if ticket.get("id") is None:
            read.fail(("ticket", "id"), "Field required", "missing")
        article = self._article(read, payload.get("article"), now)
        created_at = read.instant(ticket.get("created_at"), ("ticket", "created_at"), now)
        updated_at = read.instant(ticket.get("updated_at"), ("ticket", "updated_at"), now)
        if ticket.get("updated_at") is None:
            read.fail(("ticket", "updated_at"), "Field required", "missing")
        state = read.name(ticket.get("state"), ("ticket", "state"))
        updated_by = self._user(read, ticket, "updated_by")
        created_by = self._user(read, ticket, "created_by")
        first_article = self._first_article(read, ticket)
        snapshot = self._snapshot(read, ticket, state)
        if read.errors or ticket_id is None or updated_at is None:
            raise UnprocessableError("The payload does not match the schema.", read.errors)

        snapshot["id"] = f"{self.name}:{ticket_id}"
        if created_at is not None:
            snapshot["created_at"] = created_at
        carried = {field for field in SNAPSHOT_FIELDS if field in snapshot}
        snapshot["fields"] = None if len(carried) == len(SNAPSHOT_FIELDS) else frozenset(carried)

        creation = created_at is not None and (
            created_at == updated_at
            or (article is not None and article.id is not None and article.id == first_article)
        )
        found: list[tuple[str, datetime, dict[str, Any]]] = []
        if creation:
            assert created_at is not None
            found.append(("ticket.created", created_at, self._actor(created_by)))
        if state in _CLOSED_STATES:  # a ticket may be created closed (a call logged as done)
            found.append(("ticket.closed", updated_at, self._actor(updated_by)))
        elif not creation:
            found.append(("ticket.updated", updated_at, self._actor(updated_by)))
        if article is not None:
            found += self._article_events(article, first=creation)

        try:
            return [
                TicketEvent.model_validate(
                    {
                        "event_id": delivery_id if len(found) == 1 else f"{delivery_id}#{n}",
                        "type": kind,
                        "occurred_at": at,
                        "ticket": snapshot,
                        "actor": actor,
                    }
                )
                for n, (kind, at, actor) in enumerate(found)
            ]
        except ValidationError as exc:  # a snapshot the schema refuses (a plan name too long)
            raise UnprocessableError(
                "The payload does not match the schema.", field_errors(exc)
            ) from None

    def _article(self, read: _Reader, value: Any, now: datetime) -> _Article | None:
        article = read.object(value, ("article",))
        if not article:  # absent, null or {}: the change had no article
            return None
        loc = ("article",)
        sender = read.name(article.get("sender"), (*loc, "sender"))
        internal = read.boolean(article.get("internal"), (*loc, "internal"))
        created_at = read.instant(article.get("created_at"), (*loc, "created_at"), now)
        if article.get("created_at") is None and sender in ("agent", "customer"):
            read.fail((*loc, "created_at"), "Field required", "missing")
        return _Article(
            id=read.integer(article.get("id"), (*loc, "id")),
            sender=sender,
            type=read.name(article.get("type"), (*loc, "type")),
            internal=internal,
            created_at=created_at,
            author=read.integer(article.get("created_by_id"), (*loc, "created_by_id")),
            on_behalf_of=read.integer(article.get("origin_by_id"), (*loc, "origin_by_id")),
        )

    @staticmethod
    def _first_article(read: _Reader, ticket: dict[str, Any]) -> int | None:
        """The ticket's first article (the smallest of ``article_ids``), if the payload says."""
        ids = ticket.get("article_ids")
        if ids is None:
            return None
        if not isinstance(ids, list):
            read.fail(("ticket", "article_ids"), "must be a list of ids", "list_type")
            return None
        numbers = []
        for value in ids:
            number = read.integer(value, ("ticket", "article_ids"))
            if number is None:  # one error for the list, however long
                return None
            numbers.append(number)
        return min(numbers) if numbers else None

    @staticmethod
    def _user(read: _Reader, ticket: dict[str, Any], role: str) -> _User:
        user_id = read.integer(ticket.get(f"{role}_id"), ("ticket", f"{role}_id"))
        user = ticket.get(role)
        roles: frozenset[str] | None = None
        if isinstance(user, dict):  # the default payload resolves the user; a custom one may not
            if user_id is None:
                user_id = read.integer(user.get("id"), ("ticket", role, "id"))
            names = user.get("roles")
            if isinstance(names, list):
                roles = frozenset(r.strip().lower() for r in names if isinstance(r, str))
        return _User(user_id, roles)

    def _actor(self, user: _User) -> dict[str, Any]:
        if user.id == SYSTEM_USER_ID:
            kind = "system"
        elif user.roles is None:
            kind = "unknown"
        elif user.roles & self.mapping.agent_roles:
            kind = "agent"
        else:
            kind = "customer"
        return {"type": kind, "id": None if user.id is None else str(user.id)}

    @staticmethod
    def _article_events(
        article: _Article, *, first: bool
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        if article.internal is not False or article.created_at is None:
            return []  # internal, or the payload does not say it is public
        if article.type in _NOT_COMMUNICATION or article.author == SYSTEM_USER_ID:
            return []
        if article.sender == "agent":
            actor = {"type": "agent", "id": _text_id(article.author)}
            return [("ticket.responded", article.created_at, actor)]
        if article.sender == "customer" and not first:  # the first one is the request itself
            customer = article.on_behalf_of if article.on_behalf_of is not None else article.author
            actor = {"type": "customer", "id": _text_id(customer)}
            return [("ticket.customer_replied", article.created_at, actor)]
        return []  # System (auto-replies, trigger notes) or a sender we do not know

    def _snapshot(self, read: _Reader, ticket: dict[str, Any], state: str | None) -> dict[str, Any]:
        """The snapshot's fields the payload carries (a field it does not carry is left out)."""
        snapshot: dict[str, Any] = {}
        organization = read.object(ticket.get("organization"), ("ticket", "organization"))

        priority = ticket.get("priority")
        name = read.name(priority, ("ticket", "priority"))
        if isinstance(priority, dict) and ticket.get("priority_id") is None:
            priority_id = read.integer(priority.get("id"), ("ticket", "priority", "id"))
        else:
            priority_id = read.integer(ticket.get("priority_id"), ("ticket", "priority_id"))
        if name is not None or priority_id is not None:
            ours = self._priority(name, priority_id)
            try:
                self.policy.check_priority(ours)
            except ValueError as exc:  # the mapping names a priority the policy does not have
                read.fail(("ticket", "priority"), str(exc), "value_error")
            snapshot["priority"] = ours
            said = name if name is not None else priority_id
            snapshot.setdefault("origin", {})["priority"] = f"zammad priority {said}"

        configured = self.mapping.status(state)  # custom states, as the mapping names them
        if configured is not None:
            snapshot["status"] = configured
        elif state is not None and state in _STATUSES:
            snapshot["status"] = _STATUSES[state]

        def attribute(field: str) -> tuple[str | None, tuple[str, ...]]:
            """A custom attribute's text: the organisation's, else the ticket's."""
            for source, loc in ((organization, ("ticket", "organization")), (ticket, ("ticket",))):
                if source is not None:
                    value = source.get(field)
                    if isinstance(value, str) and value.strip():
                        return value, (*loc, field)
            return None, ("ticket", "organization", field)

        # the plan: an attribute, a plan_<name> tag, the default plan; only where the payload
        # carries the places it would be in (the default payload always carries organization)
        fields: dict[str, Any] = {}
        loc: tuple[str, ...] = ("ticket", "organization")
        if self.mapping.plan_field is not None:
            value, loc = attribute(self.mapping.plan_field)
            if value is not None:
                fields[self.mapping.plan_field] = value
        tags = self._tags(read, ticket.get("tags"))
        if not fields and any(t.lower().startswith(self.mapping.plan_tag_prefix) for t in tags):
            loc = ("ticket", "tags")
        if "organization" in ticket or "tags" in ticket or fields:
            plan = self.mapping.plan_from(fields, tags)
            if plan is not None:
                snapshot["plan"] = self._check(read, loc, self.policy.normalise_plan, plan)
                origin = plan_origin(self.mapping, fields, tags)
                snapshot.setdefault("origin", {})["plan"] = origin

        for key, field, default, check in self.described_fields():
            value, where = attribute(field) if field is not None else (None, ("ticket",))
            snapshot[key] = self._check(read, where, check, (value or default).strip())
        return snapshot

    def _priority(self, name: str | None, priority_id: int | None) -> int | None:
        """The mapping's priority: a configured key first (the name, then the id), then the
        defaults by id (Zammad's names are editable; ``1 low``, ``2 normal``, ``3 high`` seeded)."""
        keys = [k for k in (name, None if priority_id is None else str(priority_id)) if k]
        for key in keys:
            if key.strip().lower() in self.mapping.priorities:
                return self.mapping.priority(self.name, key)
        for key in reversed(keys):
            found = self.mapping.priority(self.name, key)
            if found is not None:
                return found
        return None

    @staticmethod
    def _tags(read: _Reader, value: Any) -> list[str]:
        """Tags, where a payload carries them (Zammad's default payload does not): a list, or
        comma-separated text."""
        if value is None:
            return []
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        if isinstance(value, list) and all(isinstance(t, str) for t in value):
            return value
        read.fail(("ticket", "tags"), "must be a list of strings", "list_type")
        return []

    @staticmethod
    def _check(read: _Reader, loc: tuple[str, ...], fn: Any, value: Any) -> Any:
        try:
            return fn(value)
        except ValueError as exc:
            read.fail(loc, str(exc), "value_error")
            return None


def _text_id(value: int | None) -> str | None:
    return None if value is None else str(value)
