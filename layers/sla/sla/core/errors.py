"""Our exceptions. They say what went wrong, never how to answer it over HTTP: that is one
table in ``sla.runtime.problems``. Adapters translate AWS errors into these (``raise ... from
exc``). Messages never quote submitted values or secrets."""

from __future__ import annotations

import traceback
from typing import Any

__all__ = [
    "BadRequestError",
    "ConfigurationError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "SlaError",
    "StoreError",
    "TransientError",
    "UnauthorizedError",
    "UnprocessableError",
    "UnsupportedMediaTypeError",
    "describe",
    "field_errors",
]


class SlaError(Exception):
    """Base of our errors: ``detail`` is safe to show, ``errors`` lists field locations."""

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class BadRequestError(SlaError):
    """The request cannot be read (not JSON, not UTF-8, a malformed header)."""


class UnauthorizedError(SlaError):
    """The sender could not be authenticated: one uniform answer, whatever was wrong."""

    def __init__(self) -> None:
        super().__init__("The webhook signature could not be verified.")


class NotFoundError(SlaError):
    """No such ticket, route or source."""


class MethodNotAllowedError(SlaError):
    """A known route asked with a method it does not answer."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__(f"This route answers {', '.join(allowed)} only.")
        self.allowed = allowed


class PayloadTooLargeError(SlaError):
    """The body is over the limit."""


class UnsupportedMediaTypeError(SlaError):
    """The body is not of a media type we read."""


class UnprocessableError(SlaError):
    """Well-formed, but not what the schema or the policy allows."""


class TransientError(SlaError):
    """A fault that a retry will likely fix (throttling, a timeout, a lost race)."""

    retry_after_seconds = 5


class StoreError(SlaError):
    """A storage or AWS failure that a retry will not fix (permissions, a missing table)."""


class ConfigurationError(SlaError):
    """The deployment is misconfigured (a missing or unreadable secret, a bad policy)."""


def describe(exc: BaseException) -> dict[str, Any]:
    """What to log about a failure without its messages (which may quote submitted values):
    the exception and cause types, the AWS error code, and where it was raised."""
    cause = exc.__cause__ or exc.__context__
    frames = traceback.extract_tb(exc.__traceback__)
    info: dict[str, Any] = {
        "error": type(exc).__name__,
        "where": [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-3:]],
    }
    if cause is not None:
        info["cause"] = type(cause).__name__
        response = getattr(cause, "response", None)
        if isinstance(response, dict):
            info["aws_error_code"] = response.get("Error", {}).get("Code")
    return info


def field_errors(exc: Any, prefix: tuple[str | int, ...] = ("body",)) -> list[dict[str, Any]]:
    """A pydantic ``ValidationError`` as field locations and messages only: never the values."""
    return [
        {"loc": [*prefix, *e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
