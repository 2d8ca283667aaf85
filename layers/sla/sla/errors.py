"""Our exceptions, and the one place that turns them into RFC 9457 problem documents.

Adapters translate AWS errors into these (``raise ... from exc``); handlers map them to HTTP with
:func:`problem_for`. Problem bodies never echo submitted values or secrets.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BadRequestError",
    "ConfigurationError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Problem",
    "ProblemError",
    "StoreError",
    "TransientError",
    "UnauthorizedError",
    "UnprocessableError",
    "UnsupportedMediaTypeError",
    "describe",
    "problem_for",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "urn:sla-keeper:problem:"


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem: what to answer, and which headers go with it."""

    status: int
    title: str
    detail: str
    type: str
    errors: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            doc["errors"] = self.errors
        return doc


class ProblemError(Exception):
    """Base of every error that has an HTTP answer."""

    status = 500
    title = "Internal error"
    slug = "internal-error"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class BadRequestError(ProblemError):
    status, title, slug = 400, "Malformed request", "malformed-request"


class UnauthorizedError(ProblemError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self) -> None:  # one uniform answer, whatever was wrong
        super().__init__("The webhook signature could not be verified.")


class NotFoundError(ProblemError):
    status, title, slug = 404, "Not found", "not-found"


class PayloadTooLargeError(ProblemError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaTypeError(ProblemError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class UnprocessableError(ProblemError):
    status, title, slug = 422, "Validation failed", "validation-failed"


class TransientError(ProblemError):
    """A fault that a retry will likely fix (throttling, a timeout, a lost race)."""

    status, title, slug = 503, "Temporarily unavailable", "temporarily-unavailable"
    retry_after_seconds = 5


class StoreError(ProblemError):
    """A storage failure that a retry will not fix (permissions, a missing table)."""


class ConfigurationError(ProblemError):
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


def problem_for(exc: Exception) -> Problem:
    """The problem document for any exception: ours by class, anything else as a bare 500."""
    if not isinstance(exc, ProblemError):
        return Problem(
            500, "Internal error", "An unexpected error occurred.", _TYPE_BASE + "internal-error"
        )
    headers = {}
    if isinstance(exc, TransientError):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    detail = (
        exc.detail
        if exc.status < 500 or isinstance(exc, TransientError)
        else ("An unexpected error occurred.")
    )
    return Problem(
        status=exc.status,
        title=exc.title,
        detail=detail,
        type=_TYPE_BASE + exc.slug,
        errors=exc.errors,
        headers=headers,
    )
