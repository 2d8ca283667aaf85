"""What the helpdesk sources share: checking a request against the secrets during a rotation,
and reading a body that must be a JSON object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sla.core.errors import UnprocessableError
from sla.core.signature import SigningSecret
from sla.ports import SecretSource
from sla.sources.body import parse_json

__all__ = ["json_object", "verified"]


def verified(secrets: SecretSource, matches: Callable[[tuple[SigningSecret, ...]], bool]) -> bool:
    """Whether the request matches one of the current secrets, or, when a refresh is due (a
    rotation newer than the cache), one of the fresh ones. The secret source rate-limits its
    refreshes, so forged traffic cannot force a fetch per request."""
    if matches(secrets.current()):
        return True
    fresh = secrets.refreshed()
    return fresh is not None and matches(fresh)


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    """The body as a JSON object (BadRequestError for what is not JSON in UTF-8; a 422 naming
    ``what`` for JSON that is not an object)."""
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise UnprocessableError(
            f"The payload is not {what}.",
            [{"loc": ["body"], "msg": "must be a JSON object", "type": "dict_type"}],
        )
    return payload
