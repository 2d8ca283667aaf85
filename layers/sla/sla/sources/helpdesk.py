"""What the helpdesk sources share: checking a request against the secrets during a rotation,
and reading a body that must be a JSON object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sla.core.errors import UnprocessableError
from sla.core.policy import Policy
from sla.core.signature import SigningSecret
from sla.ports import SecretSource
from sla.sources.body import parse_json
from sla.sources.mapping import SourceMapping

__all__ = ["HelpdeskSource", "json_object", "verified"]

# a snapshot key, the mapping's field for it, the mapping's default, the policy's check
Described = tuple[str, str | None, str, Callable[[str], str]]


class HelpdeskSource:
    """What every helpdesk source holds: the policy, its secrets, its mapping."""

    name: str

    def __init__(self, policy: Policy, secrets: SecretSource, mapping: SourceMapping) -> None:
        self.policy = policy
        self.secrets = secrets
        self.mapping = mapping

    def described_fields(self) -> tuple[Described, ...]:
        """The environment and the product stage, as the mapping says where they come from."""
        return (
            (
                "environment",
                self.mapping.environment_field,
                self.mapping.default_environment,
                self.policy.check_environment,
            ),
            (
                "product_stage",
                self.mapping.product_stage_field,
                self.mapping.default_product_stage,
                self.policy.check_product_stage,
            ),
        )


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
