"""Jira Service Management and Jira Cloud admin webhooks, ``POST /webhooks/jira``.

Verification: an admin webhook saved with a secret carries ``X-Hub-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body keyed with the secret's text (WebSub's ``method=signature``). The
delivery id is ``X-Atlassian-Webhook-Identifier``, the same on every retry of one delivery.

Events used: ``jira:issue_created`` (a complete snapshot), ``jira:issue_updated`` when its
``changelog`` names the priority, the status, the labels or a mapped field, and
``comment_created`` / ``comment_updated`` (the comment's ``created`` is the reply's time; the
``issue`` they carry has no creation time and no custom fields, so their snapshot is partial).
Everything else (deletions, worklogs, attachments, a description edit) is acknowledged and ignored.

Who wrote it: ``accountType`` ``atlassian`` is a licensed user (an agent), ``customer`` a portal
customer, ``app`` an app or automation rule (``system``). ``comment.jsdPublic`` false is an internal
note. Jira's timestamps carry offsets without a colon (``+0000``, ``-0330``); the envelope's
``timestamp`` is epoch milliseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from sla.core.errors import UnauthorizedError, UnprocessableError, field_errors
from sla.core.events import SNAPSHOT_FIELDS, Actor, TicketEvent, TicketStatus
from sla.core.signature import SigningSecret
from sla.sources.body import header, parse_json
from sla.sources.canonical import instant_errors
from sla.sources.helpdesk import HelpdeskSource, verified
from sla.sources.mapping import plan_origin

__all__ = ["STATUS_CATEGORIES", "STATUS_NAMES", "JiraSource"]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-hub-signature"
DELIVERY_HEADER = "x-atlassian-webhook-identifier"
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_MAX_DELIVERY_ID = 200  # leaves room for the source prefix and a "#n" suffix within 256
_MAX_KEY = 200
_MAX_INSTANT_TEXT = 64

ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated"})
COMMENT_EVENTS = frozenset({"comment_created", "comment_updated"})

# Jira status names (compared case-insensitively) whose meaning the status category does not say:
# "Waiting for customer" is in the "In Progress" category, "Closed" and "Canceled" in "Done".
STATUS_NAMES: dict[str, TicketStatus] = {
    "waiting for customer": "pending",
    "pending": "pending",
    "on hold": "on_hold",
    "resolved": "solved",
    "done": "solved",
    "closed": "closed",
    "canceled": "closed",
    "cancelled": "closed",
    "declined": "closed",
}
# otherwise the status category (``statusCategory.key``) decides
STATUS_CATEGORIES: dict[str, TicketStatus] = {
    "new": "new",
    "indeterminate": "open",
    "done": "solved",
}
_ACCOUNT_TYPES = {"atlassian": "agent", "customer": "customer", "app": "system"}


class _Rejected(Exception):
    """Why a request was not authenticated (for the log only)."""


def _error(loc: Iterable[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


def _text(value: Any) -> str | None:
    """The text of a Jira field value: a string, a select option ``{"value": ...}``, or the first
    option of a multi-select. None for anything else."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _status_of(value: Any) -> TicketStatus | None:
    """Our status for Jira's ``status`` object: by name first, then by category."""
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    if isinstance(name, str) and name.strip().lower() in STATUS_NAMES:
        return STATUS_NAMES[name.strip().lower()]
    category = value.get("statusCategory")
    key = category.get("key") if isinstance(category, dict) else None
    if isinstance(key, str) and key in STATUS_CATEGORIES:
        return STATUS_CATEGORIES[key]
    return "open"  # a status without a known category: the ticket is neither new nor done


def _actor(user: Any) -> Actor:
    if not isinstance(user, dict):
        return Actor(type="system")
    account_type = user.get("accountType")
    kind = _ACCOUNT_TYPES.get(account_type, "system") if isinstance(account_type, str) else "system"
    account = user.get("accountId")
    valid = isinstance(account, str) and 0 < len(account) <= 256 and account.isprintable()
    return Actor(type=kind, id=account if valid else None)


def _names(item: dict[str, Any]) -> set[str]:
    """What a changelog item changed: its ``fieldId`` (newer payloads) and ``field`` (a display
    name such as "Status" in newer payloads, the id in older ones)."""
    names = set()
    for key in ("fieldId", "field"):
        value = item.get(key)
        if isinstance(value, str):
            names.add(value)
            names.add(value.lower())
    return names


class JiraSource(HelpdeskSource):
    """Jira admin webhooks turned into canonical ticket events."""

    name = "jira"

    # -- verification ----------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], raw: bytes, now: datetime) -> str:
        try:
            delivery = self._delivery_id(headers, raw)
            digest = self._digest(headers)
            if not verified(self.secrets, lambda keys: self._matches(keys, raw, digest)):
                raise _Rejected("no matching signature")
        except _Rejected as exc:
            logger.info("jira webhook rejected", extra={"reason": str(exc)})
            raise UnauthorizedError() from None
        return delivery

    def _delivery_id(self, headers: Mapping[str, str], raw: bytes) -> str:
        value = header(headers, DELIVERY_HEADER)
        if value is None:  # Jira Cloud always sends one; a hash of the body otherwise
            return f"{self.name}:" + hashlib.sha256(raw).hexdigest()
        value = value.strip()
        if not value or len(value) > _MAX_DELIVERY_ID or not value.isprintable():
            raise _Rejected("malformed delivery identifier")
        return f"{self.name}:{value}"

    @staticmethod
    def _digest(headers: Mapping[str, str]) -> bytes:
        value = header(headers, SIGNATURE_HEADER)
        if value is None:
            raise _Rejected("missing signature")
        match = _SIGNATURE.fullmatch(value.strip())
        if match is None:
            raise _Rejected("malformed signature or not sha256")
        return bytes.fromhex(match.group(1))

    @staticmethod
    def _matches(secrets: Iterable[SigningSecret], raw: bytes, digest: bytes) -> bool:
        matched = False
        for secret in secrets:  # no early exit: every secret is compared, in constant time
            expected = hmac.new(secret.key, raw, hashlib.sha256).digest()
            matched |= hmac.compare_digest(expected, digest)
        return matched

    # -- normalisation ---------------------------------------------------------------------------

    def events(self, raw: bytes, delivery_id: str, now: datetime) -> list[TicketEvent]:
        payload = parse_json(raw)
        if not isinstance(payload, dict):
            raise UnprocessableError(
                "The payload is not a Jira webhook.",
                [_error((), "must be an object", "dict_type")],
            )
        kind = payload.get("webhookEvent")
        if not isinstance(kind, str):
            raise UnprocessableError(
                "The payload is not a Jira webhook.",
                [_error(("webhookEvent",), "must be a string", "string_type")],
            )
        if kind in ISSUE_EVENTS:
            drafts = self._issue_event(kind, payload, now)
        elif kind in COMMENT_EVENTS:
            drafts = self._comment_event(payload, now)
        else:
            return []  # not needed: acknowledged and ignored
        if len(drafts) == 1:
            drafts[0]["event_id"] = delivery_id
        else:
            for n, draft in enumerate(drafts):
                draft["event_id"] = f"{delivery_id}#{n}"
        try:
            return [TicketEvent.model_validate(draft) for draft in drafts]
        except ValidationError as exc:  # a safety net: every value was checked above
            raise UnprocessableError(
                "The payload does not match the schema.", field_errors(exc)
            ) from None

    def _issue(self, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The ticket id and the issue's fields, or UnprocessableError."""
        issue = payload.get("issue")
        if not isinstance(issue, dict):
            raise UnprocessableError(
                "The payload names no issue.", [_error(("issue",), "is required", "missing")]
            )
        key = issue.get("key")
        if not isinstance(key, str) or not 0 < len(key) <= _MAX_KEY or not key.isprintable():
            raise UnprocessableError(
                "The payload names no issue.",
                [_error(("issue", "key"), "must be an issue key", "string_type")],
            )
        fields = issue.get("fields")
        if fields is None:
            fields = {}
        if not isinstance(fields, dict):
            raise UnprocessableError(
                "The issue's fields are not an object.",
                [_error(("issue", "fields"), "must be an object", "dict_type")],
            )
        return f"{self.name}:{key}", fields

    def _issue_event(
        self, kind: str, payload: dict[str, Any], now: datetime
    ) -> list[dict[str, Any]]:
        ticket_id, fields = self._issue(payload)
        errors: list[dict[str, Any]] = []
        occurred = self._instant(payload.get("timestamp"), ("timestamp",), now, errors)
        ticket = self._snapshot(ticket_id, fields, True, now, errors)
        actor = _actor(payload.get("user"))
        if kind == "jira:issue_created":
            self._raise(errors)
            return [self._draft("ticket.created", occurred, ticket, actor)]

        changelog = payload.get("changelog")
        items = changelog.get("items") if isinstance(changelog, dict) else None
        changed: set[str] = set()
        old_status: TicketStatus | None = None
        resolution_cleared = False
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            names = _names(item)
            if "status" in names:
                changed.add("status")
                old = item.get("fromString")
                if isinstance(old, str):
                    old_status = self.mapping.status(old) or STATUS_NAMES.get(old.strip().lower())
            if "resolution" in names and item.get("from") is not None and item.get("to") is None:
                resolution_cleared = True
            for field, watched in (
                ("priority", "priority"),
                ("labels", "labels"),
                ("plan", self.mapping.plan_field),
                ("environment", self.mapping.environment_field),
                ("product_stage", self.mapping.product_stage_field),
            ):
                if watched is not None and watched in names:
                    changed.add(field)
        if not changed:
            return []  # nothing the SLA depends on changed (a summary, an assignee, a comment)
        self._raise(errors)

        drafts: list[dict[str, Any]] = []
        status = ticket.get("status")
        stop = None
        if "status" in changed:
            if status in ("solved", "closed"):
                stop = f"ticket.{status}"
            elif old_status in ("solved", "closed") or resolution_cleared:
                stop = "ticket.reopened"
        if changed - {"status"} or stop is None:
            # only a human agent changing the priority is a reclassification
            by = actor
            if actor.type == "agent" and "priority" not in changed:
                by = Actor(type="system", id=actor.id)
            drafts.append(self._draft("ticket.updated", occurred, ticket, by))
        if stop is not None:
            drafts.append(self._draft(stop, occurred, ticket, actor))
        return drafts

    def _comment_event(self, payload: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
        ticket_id, fields = self._issue(payload)
        comment = payload.get("comment")
        if not isinstance(comment, dict):
            raise UnprocessableError(
                "The payload carries no comment.", [_error(("comment",), "is required", "missing")]
            )
        # jsdPublic is absent outside service projects, where every comment is public
        public = comment.get("jsdPublic")
        restricted = comment.get("visibility")
        if not (public is True or public is None) or restricted not in (None, {}):
            return []  # an internal note (or a comment restricted to a role): the clock runs on
        author = comment.get("author")
        account_type = author.get("accountType") if isinstance(author, dict) else None
        if account_type == "atlassian":
            kind = "ticket.responded"
        elif account_type == "customer":
            kind = "ticket.customer_replied"
        else:
            return []  # an app or automation rule, or an author Jira does not describe
        errors: list[dict[str, Any]] = []
        occurred = self._instant(comment.get("created"), ("comment", "created"), now, errors)
        ticket = self._snapshot(ticket_id, fields, False, now, errors)
        self._raise(errors)
        return [self._draft(kind, occurred, ticket, _actor(author))]

    # -- the snapshot ----------------------------------------------------------------------------

    def _snapshot(
        self,
        ticket_id: str,
        fields: dict[str, Any],
        whole_issue: bool,
        now: datetime,
        errors: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The ticket as the issue's fields say it; ``fields`` names what they carry unless they
        carry everything. ``whole_issue``: an issue event, where Jira sends every field (so an
        unconfigured environment or product stage is the mapping's default, not unknown)."""
        ticket: dict[str, Any] = {"id": ticket_id}
        if "created" in fields:
            ticket["created_at"] = self._instant(
                fields["created"], ("issue", "fields", "created"), now, errors
            )
        if "priority" in fields:
            ticket["priority"] = self._priority(fields["priority"], errors)
            value = fields["priority"]
            said = value.get("name") or value.get("id") if isinstance(value, dict) else None
            if isinstance(said, str | int) and not isinstance(said, bool):
                ticket.setdefault("origin", {})["priority"] = f"jira priority {said}"
        if "status" in fields:
            status = fields["status"]
            configured = (
                self.mapping.status(status.get("name")) or self.mapping.status(status.get("id"))
                if isinstance(status, dict)
                else None
            )
            ticket["status"] = configured or _status_of(status)
        self._plan(fields, ticket, errors)
        m = self.mapping
        self._term(
            "environment",
            m.environment_field,
            m.default_environment,
            self.policy.check_environment,
            fields,
            whole_issue,
            ticket,
            errors,
        )
        self._term(
            "product_stage",
            m.product_stage_field,
            m.default_product_stage,
            self.policy.check_product_stage,
            fields,
            whole_issue,
            ticket,
            errors,
        )
        carried = [name for name in SNAPSHOT_FIELDS if name in ticket]
        ticket["fields"] = None if len(carried) == len(SNAPSHOT_FIELDS) else frozenset(carried)
        return ticket

    def _priority(self, value: Any, errors: list[dict[str, Any]]) -> int | None:
        """Ours for Jira's priority object: by its id (names are editable), else by its name."""
        if not isinstance(value, dict):
            return None
        for key in ("id", "name"):
            text = value.get(key)
            if isinstance(text, str | int) and not isinstance(text, bool):
                priority = self.mapping.priority(self.name, text)
                if priority is not None:
                    try:
                        self.policy.check_priority(priority)
                    except ValueError as exc:
                        errors.append(_error(("issue", "fields", "priority"), str(exc), "value"))
                        return None
                    return priority
        return None  # not mapped: the policy's default priority

    def _plan(
        self, fields: dict[str, Any], ticket: dict[str, Any], errors: list[dict[str, Any]]
    ) -> None:
        plan_field = self.mapping.plan_field
        from_field = plan_field is not None and plan_field in fields
        if not from_field and "labels" not in fields:
            return  # the payload does not carry the places the plan would be in
        chosen = _text(fields[plan_field]) if from_field and plan_field is not None else None
        raw_labels = fields.get("labels")
        labels = (
            [x for x in raw_labels if isinstance(x, str)] if isinstance(raw_labels, list) else []
        )
        plan = self.mapping.plan_from({plan_field: chosen} if plan_field else {}, labels)
        if plan is None:
            ticket["plan"] = None
            return
        try:
            ticket["plan"] = self.policy.normalise_plan(plan)
            used = {plan_field: chosen} if plan_field else {}
            ticket.setdefault("origin", {})["plan"] = plan_origin(self.mapping, used, labels)
        except ValueError as exc:
            where = plan_field if chosen is not None and plan_field is not None else "labels"
            errors.append(_error(("issue", "fields", where), str(exc), "value_error"))

    def _term(
        self,
        name: str,
        field: str | None,
        default: str,
        check: Callable[[str], str],
        fields: dict[str, Any],
        whole_issue: bool,
        ticket: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> None:
        """The environment or the product stage: from its field, else the mapping's default."""
        loc: tuple[str, ...]
        if field is None:
            if not whole_issue:
                return
            value, loc = default, ("issue", "fields")
        elif field in fields:
            value, loc = _text(fields[field]) or default, ("issue", "fields", field)
        else:
            return
        try:
            ticket[name] = check(value)
        except ValueError as exc:
            errors.append(_error(loc, str(exc), "value_error"))

    # -- values ----------------------------------------------------------------------------------

    @staticmethod
    def _instant(
        value: Any, loc: tuple[str, ...], now: datetime, errors: list[dict[str, Any]]
    ) -> datetime | None:
        """An instant from ISO 8601 text with an offset (Jira's ``+0000``) or epoch milliseconds."""
        try:
            if isinstance(value, str) and len(value) <= _MAX_INSTANT_TEXT:
                instant = datetime.fromisoformat(value)
                if instant.tzinfo is None:
                    errors.append(_error(loc, "must carry a UTC offset", "timezone_aware"))
                    return None
                instant = instant.astimezone(UTC)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                instant = datetime.fromtimestamp(value / 1000, UTC)
            else:
                errors.append(_error(loc, "must be an instant", "datetime_type"))
                return None
        except (ValueError, OverflowError, OSError):
            errors.append(_error(loc, "is not a valid instant", "datetime_parsing"))
            return None
        problems = instant_errors(loc, instant, now)
        errors += problems
        return None if problems else instant

    @staticmethod
    def _raise(errors: list[dict[str, Any]]) -> None:
        if errors:
            raise UnprocessableError("The payload does not match the policy.", errors)

    @staticmethod
    def _draft(
        kind: str, occurred: datetime | None, ticket: dict[str, Any], actor: Actor
    ) -> dict[str, Any]:
        return {
            "type": kind,
            "occurred_at": occurred,
            "ticket": ticket,
            "actor": actor.model_dump(),
        }
