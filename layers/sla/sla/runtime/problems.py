"""The one place that turns our exceptions into RFC 9457 problem documents and HTTP statuses.

Problem bodies never echo submitted values or secrets; a 5xx other than a transient fault says
nothing about its cause."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sla.core.errors import (
    BadRequestError,
    ConfigurationError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    SlaError,
    StoreError,
    TransientError,
    UnauthorizedError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)

__all__ = ["PROBLEM_CONTENT_TYPE", "Problem", "problem_for"]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "urn:sla-keeper:problem:"
_INTERNAL = (500, "Internal error", "internal-error")
# exception class -> (status, title, slug of the problem type)
TABLE: dict[type[SlaError], tuple[int, str, str]] = {
    BadRequestError: (400, "Malformed request", "malformed-request"),
    UnauthorizedError: (401, "Unauthorized", "unauthorized"),
    NotFoundError: (404, "Not found", "not-found"),
    MethodNotAllowedError: (405, "Method not allowed", "method-not-allowed"),
    PayloadTooLargeError: (413, "Payload too large", "payload-too-large"),
    UnsupportedMediaTypeError: (415, "Unsupported media type", "unsupported-media-type"),
    UnprocessableError: (422, "Validation failed", "validation-failed"),
    TransientError: (503, "Temporarily unavailable", "temporarily-unavailable"),
    StoreError: _INTERNAL,
    ConfigurationError: _INTERNAL,
}


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


def _entry(exc: Exception) -> tuple[int, str, str]:
    for cls in type(exc).__mro__:
        if cls in TABLE:
            return TABLE[cls]
    return _INTERNAL


def problem_for(exc: Exception) -> Problem:
    """The problem document for any exception: ours by class, anything else as a bare 500."""
    status, title, slug = _entry(exc)
    if not isinstance(exc, SlaError):
        return Problem(status, title, "An unexpected error occurred.", _TYPE_BASE + slug)
    headers: dict[str, str] = {}
    if isinstance(exc, TransientError):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, MethodNotAllowedError):
        headers["Allow"] = ", ".join(exc.allowed)
    detail = (
        exc.detail
        if status < 500 or isinstance(exc, TransientError)
        else ("An unexpected error occurred.")
    )
    return Problem(status, title, detail, _TYPE_BASE + slug, exc.errors, headers)
