"""The helpdesk sources by name, imported only when a delivery for one arrives: the canonical
webhook's cold start pays for none of them.

A source module ``sla.sources.<name>`` holds one class implementing :class:`sla.sources.Source`,
constructed with the policy, its secrets and its mapping."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sla.core.policy import Policy
    from sla.ports import SecretSource
    from sla.sources import Source
    from sla.sources.mapping import SourceMapping

__all__ = ["HELPDESKS", "helpdesk_source"]

# name -> the class in sla.sources.<name>
HELPDESKS: dict[str, str] = {
    "zendesk": "ZendeskSource",
    "jira": "JiraSource",
    "freshdesk": "FreshdeskSource",
    "zammad": "ZammadSource",
}


def helpdesk_source(
    name: str, policy: Policy, secrets: SecretSource, mapping: SourceMapping
) -> Source:
    """The source ``name``, built; KeyError for a name that is not a helpdesk."""
    module = importlib.import_module(f"sla.sources.{name}")
    cls: Any = getattr(module, HELPDESKS[name])
    source: Source = cls(policy, secrets, mapping)
    return source
