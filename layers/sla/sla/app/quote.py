"""Quote the terms a ticket submitted now (or at ``at``) would get (``GET /sla/quote``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from sla.core.errors import UnprocessableError, field_errors
from sla.core.policy import Policy
from sla.core.terms import DEFAULT_ENVIRONMENT, DEFAULT_PRODUCT_STAGE
from sla.core.view import Quote, quote
from sla.sources.canonical import EARLIEST

__all__ = ["QUOTE_AHEAD", "QuoteQuery", "quote_terms"]

# How far ahead a quote may be asked for. The calendar builds its timeline year by year up to the
# instant asked: unbounded, one public request for the year 9000 would build seven thousand.
QUOTE_AHEAD = timedelta(days=731)


class QuoteQuery(BaseModel):
    """The query; unknown parameters (a cache-buster such as ``_=123``) are ignored."""

    model_config = ConfigDict(extra="ignore")

    plan: str = Field(min_length=1, max_length=64)
    priority: int | None = None
    environment: str = Field(default=DEFAULT_ENVIRONMENT, max_length=64)
    product_stage: str = Field(default=DEFAULT_PRODUCT_STAGE, max_length=64)
    at: AwareDatetime | None = None


def _at_error(msg: str, kind: str) -> UnprocessableError:
    return UnprocessableError(
        "The query does not match the policy.",
        [{"loc": ["query", "at"], "msg": msg, "type": kind}],
    )


def quote_terms(policy: Policy, params: Mapping[str, str], now: datetime) -> Quote:
    try:
        query = QuoteQuery.model_validate(dict(params))
    except ValidationError as exc:
        raise UnprocessableError(
            "The query does not match the schema.", field_errors(exc, ("query",))
        ) from None
    try:
        classification = policy.classify(
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
        raise _at_error("is before the year 2000", "past_instant")
    if at > now + QUOTE_AHEAD:
        raise _at_error("is more than two years ahead", "future_instant")
    return quote(policy, at, classification)
