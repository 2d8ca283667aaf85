"""The SLA lists (``GET /tickets?status=...``): the query checked against the policy, a page read
from the store's list index, and the cursor that resumes after it.

The cursor is opaque to callers: URL-safe base64 of ``[1, status, metric, plan, priority,
rank]``, the rank being the position to go on after. It carries no secret and grants nothing (it
names a position in a list the caller may read anyway), so it is checked rather than signed: a
cursor that is not exactly one this API wrote for the same status, metric and filters is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sla.core.errors import BadRequestError, UnprocessableError, field_errors
from sla.core.lists import RANK, ListStatus, TicketList
from sla.core.policy import Policy
from sla.core.terms import MetricName
from sla.ports import LIST_LIMIT, TicketStore

__all__ = ["DEFAULT_LIMIT", "ListQuery", "decode_cursor", "encode_cursor", "list_tickets"]

DEFAULT_LIMIT = 50
_CURSOR_VERSION = 1
# a cursor this API writes: about 120 characters, at most about 1,120 (a plan of 64 characters
# outside the BMP, each escaped to twelve in the JSON)
_MAX_CURSOR = 2048
_BAD_CURSOR = "The cursor is not one this list gave for this status, metric and filters."


class ListQuery(BaseModel):
    """The query; unknown parameters are ignored, never echoed."""

    model_config = ConfigDict(extra="ignore")

    status: ListStatus
    metric: MetricName = "first_response"
    plan: str | None = Field(default=None, min_length=1, max_length=64)
    priority: int | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=LIST_LIMIT)
    cursor: str | None = None  # checked by decode_cursor: a bad one is a 400, not a 422

    def position(self, after: str) -> list[Any]:
        return [_CURSOR_VERSION, self.status, self.metric, self.plan, self.priority, after]


def encode_cursor(query: ListQuery, after: str) -> str:
    text = json.dumps(query.position(after), separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(query: ListQuery, cursor: str) -> str:
    """The rank a cursor resumes after; BadRequestError for anything but a cursor this API wrote
    for the same query (its exact spelling included)."""
    if not cursor or len(cursor) > _MAX_CURSOR:
        raise BadRequestError(_BAD_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode("ascii"))
    except (binascii.Error, ValueError):
        raise BadRequestError(_BAD_CURSOR) from None
    if not isinstance(data, list) or len(data) != 6:
        raise BadRequestError(_BAD_CURSOR)
    after = data[-1]
    if (
        not isinstance(after, str)
        or not RANK.fullmatch(after)
        or data != query.position(after)
        or encode_cursor(query, after) != cursor
    ):
        raise BadRequestError(_BAD_CURSOR)
    return after


def _unprocessable(field: str, msg: str) -> UnprocessableError:
    return UnprocessableError(
        "The query does not match the policy.",
        [{"loc": ["query", field], "msg": msg, "type": "value_error"}],
    )


def parse_query(policy: Policy, params: Mapping[str, str]) -> ListQuery:
    """The query, its plan in the policy's spelling; UnprocessableError for a value the schema or
    the policy does not allow (never echoing it)."""
    try:
        query = ListQuery.model_validate(dict(params))
    except ValidationError as exc:
        raise UnprocessableError(
            "The query does not match the schema.", field_errors(exc, ("query",))
        ) from None
    if query.metric not in policy.metrics:
        names = ", ".join(policy.metrics)
        raise _unprocessable("metric", f"not a metric of the policy; expected one of {names}")
    update: dict[str, Any] = {}
    if query.plan is not None:
        try:
            update["plan"] = policy.normalise_plan(query.plan)
        except ValueError as exc:
            raise _unprocessable("plan", str(exc)) from None
    try:
        policy.check_priority(query.priority)
    except ValueError as exc:
        raise _unprocessable("priority", str(exc)) from None
    return query.model_copy(update=update)


def list_tickets(policy: Policy, store: TicketStore, params: Mapping[str, str]) -> TicketList:
    """A page of a list: the query checked (422), the cursor checked (400), one read of the
    store's list index."""
    query = parse_query(policy, params)
    after = decode_cursor(query, query.cursor) if query.cursor is not None else None
    page = store.listed(
        query.metric,
        query.status,
        query.limit,
        after,
        plan=query.plan,
        priority=query.priority,
    )
    return TicketList(
        status=query.status,
        metric=query.metric,
        tickets=page.tickets,
        next_cursor=encode_cursor(query, page.after) if page.after is not None else None,
    )
