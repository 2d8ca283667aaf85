"""One line of a JSON-lines export of canonical events (``sla report --events``), parsed as the
webhook parses a body (``sla.sources.canonical``: the schema, then the policy's plans,
priorities, environments and product stages, then the instants).

:func:`validated_event` is the webhook's own path, the reference. :func:`fast_event` gives the
same answer several times faster for the usual line: msgspec decodes the bytes straight into
typed records (no type is coerced: what the webhook's strict schema accepts and nothing more;
instants in RFC 3339 with at most microseconds), and the event's models are built from them
without validating again. The ticket and actor objects, which a ticket's lines repeat, are
decoded once by their bytes (two bounded caches). A line the fast path cannot take whole (a
field it does not know, so no nesting it would skip unchecked; a partial snapshot or a
helpdesk's origins; an instant in another form; a very long line; anything invalid) takes the
validated path, which gives the answer and its message. Tests hold the two equal, case by case
and on generated lines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel

from sla.core.errors import BadRequestError, UnprocessableError
from sla.core.events import Actor, EventType, TicketEvent, TicketSnapshot, TicketStatus
from sla.core.models import built
from sla.core.policy import Policy
from sla.core.terms import DEFAULT_ENVIRONMENT, DEFAULT_PRODUCT_STAGE
from sla.sources.body import parse_json
from sla.sources.canonical import EARLIEST, FUTURE_TOLERANCE, payload_events

__all__ = ["LineError", "fast_event", "validated_event"]


class LineError(ValueError):
    """A line of the export that is not a canonical event; the message quotes no values."""


def _problem(exc: UnprocessableError) -> str:
    parts = []
    for error in exc.errors or []:
        where = ".".join(str(p) for p in error["loc"][1:])  # without the leading "body"
        parts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(parts) or exc.detail


def validated_event(line: bytes, policy: Policy, now: datetime) -> TicketEvent | None:
    """A line of the export as the webhook reads a body (``sla.sources.canonical``): the event,
    None for an unknown type (ignored), or LineError."""
    try:
        record = parse_json(line)
    except BadRequestError as exc:  # "The body is not valid JSON in UTF-8."
        raise LineError(exc.detail.removeprefix("The body is ").rstrip(".")) from None
    if not isinstance(record, dict):
        raise LineError("expected a JSON object")
    event_id = record.get("event_id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 256:
        raise LineError("event_id: expected a string of 1 to 256 characters")
    try:
        events = payload_events(policy, record, event_id, now)
    except UnprocessableError as exc:
        raise LineError(_problem(exc)) from None
    return events[0] if events else None


# -- the fast path ----------------------------------------------------------------------------

# lines longer than this take the validated path (no event of the fast path's is this long)
_FAST_MAX_BYTES = 4096
# RFC 3339 with a "T", at most microseconds and an offset: what both parsers read alike
_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_Instant = Annotated[str, msgspec.Meta(pattern=_INSTANT)]
_UNSET: Any = msgspec.UNSET


class _Ticket(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    created_at: _Instant
    plan: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    priority: int | None = None
    environment: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    product_stage: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    status: TicketStatus | None = None
    # a partial snapshot or a helpdesk's origins: the fast path leaves them to the webhook's
    fields: Any = _UNSET
    origin: Any = _UNSET


class _Actor(msgspec.Struct, forbid_unknown_fields=True):
    type: Annotated[str, msgspec.Meta(max_length=64)]
    id: Annotated[str, msgspec.Meta(max_length=256)] | None = None


class _Line(msgspec.Struct, forbid_unknown_fields=True):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    type: EventType
    occurred_at: _Instant
    # the ticket and the actor as their bytes, decoded once for the lines that repeat them
    ticket: msgspec.Raw
    actor: msgspec.Raw = msgspec.Raw()  # empty: not given
    reason: Annotated[str, msgspec.Meta(max_length=1024)] | None = None


_decode = msgspec.json.Decoder(_Line).decode
_decode_ticket = msgspec.json.Decoder(_Ticket).decode
_decode_actor = msgspec.json.Decoder(_Actor).decode
_NO_ACTOR = Actor()
# the snapshots and actors of the latest distinct ticket and actor objects, by their bytes: a
# ticket's lines repeat them (a cache, emptied when full, so that memory stays bounded)
_CACHED = 16_384
_snapshots: dict[bytes, TicketSnapshot | None] = {}
# the snapshots found to fit a policy by a reader's time, with the policy and the time (a
# snapshot is one object for as long as it is cached, so its id stays its own)
_fitting: dict[int, tuple[TicketSnapshot, Policy, datetime]] = {}
_actors: dict[bytes, Actor] = {}


# the fast path builds every field of these models: a field added to one must be added here
_BUILT: dict[type[BaseModel], frozenset[str]] = {
    TicketEvent: frozenset({"event_id", "type", "occurred_at", "ticket", "actor", "reason"}),
    TicketSnapshot: frozenset(
        {"id", "created_at", "plan", "priority", "environment", "product_stage", "status"}
        | {"fields", "origin"}
    ),
    Actor: frozenset({"type", "id"}),
}
assert all(set(cls.model_fields) == names for cls, names in _BUILT.items()), "a model changed"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _snapshot(raw: bytes) -> TicketSnapshot | None:
    """The ticket object of a line as a snapshot, or None for one the fast path leaves to the
    webhook's (a partial snapshot, a helpdesk's origins, a control character in the id).
    msgspec's errors (any invalid object), and ValueError for an instant, propagate."""
    if raw in _snapshots:
        return _snapshots[raw]
    t = _decode_ticket(raw)
    snapshot = None
    if t.fields is _UNSET and t.origin is _UNSET and t.id.isprintable():
        snapshot = built(
            TicketSnapshot,
            {
                "id": t.id,
                "created_at": _instant(t.created_at),
                "plan": t.plan.lower(),
                "priority": t.priority,
                "environment": (t.environment or DEFAULT_ENVIRONMENT).lower(),
                "product_stage": (t.product_stage or DEFAULT_PRODUCT_STAGE).lower(),
                "status": t.status,
                "fields": None,
                "origin": {},
            },
        )
    if len(_snapshots) >= _CACHED:
        _snapshots.clear()
        _fitting.clear()
    _snapshots[raw] = snapshot
    return snapshot


def _actor(raw: bytes) -> Actor:
    """The actor object of a line (msgspec's errors propagate)."""
    actor = _actors.get(raw)
    if actor is None:
        if raw == b"null":
            return _NO_ACTOR
        a = _decode_actor(raw)
        actor = built(Actor, {"type": a.type, "id": a.id})
        if len(_actors) >= _CACHED:
            _actors.clear()
        _actors[raw] = actor
    return actor


def _fits(snapshot: TicketSnapshot, policy: Policy, now: datetime) -> bool:
    """Whether the policy knows the snapshot's plan, priority, environment and stage, and it was
    created between the earliest instant and ``now`` (with the tolerance); once per snapshot
    for a policy and a time."""
    fitting = _fitting.get(id(snapshot))
    if fitting is not None and fitting[0] is snapshot and fitting[1:] == (policy, now):
        return True
    created = snapshot.created_at
    priority = snapshot.priority
    if (
        snapshot.plan not in policy.config.plans
        or (priority is not None and priority not in policy.priorities)
        or snapshot.environment not in policy.environments
        or snapshot.product_stage not in policy.product_stages
        or created is None
        or not EARLIEST <= created <= now + FUTURE_TOLERANCE
    ):
        return False
    _fitting[id(snapshot)] = (snapshot, policy, now)
    return True


def fast_event(line: bytes, policy: Policy, now: datetime) -> TicketEvent | None:
    """:func:`validated_event`, several times faster for the usual line, with the same result
    (see the module's docstring)."""
    if len(line) > _FAST_MAX_BYTES:
        return validated_event(line, policy, now)
    try:
        record = _decode(line)
        snapshot = _snapshot(bytes(record.ticket))
        occurred = _instant(record.occurred_at)
        actor = _actor(bytes(record.actor)) if record.actor else _NO_ACTOR
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError, RecursionError):
        # its message (msgspec gives up on deep nesting with RecursionError; the webhook's
        # parsing refuses it by its depth limit), or an unknown type ignored
        return validated_event(line, policy, now)
    if snapshot is None or not EARLIEST <= occurred <= now + FUTURE_TOLERANCE:
        return validated_event(line, policy, now)
    if not _fits(snapshot, policy, now):
        return validated_event(line, policy, now)
    return built(
        TicketEvent,
        {
            "event_id": record.event_id,
            "type": record.type,
            "occurred_at": occurred,
            "ticket": snapshot,
            "actor": actor,
            "reason": record.reason,
        },
    )
