"""How a helpdesk's tickets map onto the policy: per source, validated at start with a clear error.

The mapping file is TOML with one table per source (``[zendesk]``, ``[jira]``, ``[freshdesk]``,
``[zammad]``); every key is optional and the defaults are the ones the README documents:

* ``priorities``: the helpdesk's priority (its name or id, compared case-insensitively) to ours;
* ``plan_field`` (a ticket or organisation field whose value is the plan, or whose value
  ``plan_values`` maps to one: an "Account tier" of "Enterprise" to ``advanced``),
  ``plan_tag_prefix`` (a tag ``plan_<name>``), ``default_plan`` (else);
* ``environment_field`` / ``product_stage_field`` with their defaults;
* ``agent_roles``: who counts as an agent, where the helpdesk says so by role;
* ``timezone``: the helpdesk's zone, where its timestamps carry no offset (Freshdesk);
* ``statuses``: the helpdesk's status names (or ids) to ours (``new``, ``open``, ``pending``,
  ``on_hold``, ``solved``, ``closed``), before the source's own table (localised or custom
  status names).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sla.core.events import TicketStatus

__all__ = ["DEFAULT_PRIORITIES", "MappingError", "SourceMapping", "load_mappings"]

# the survey's defaults (README, "Wiring a helpdesk"); keys lower-case
DEFAULT_PRIORITIES: dict[str, dict[str, int]] = {
    "zendesk": {"urgent": 1, "high": 2, "normal": 3, "low": 3},
    "jira": {"1": 1, "2": 2, "3": 3, "4": 3, "5": 3},  # priority ids: Highest .. Lowest
    "freshdesk": {"4": 1, "3": 2, "2": 3, "1": 3, "urgent": 1, "high": 2, "medium": 3, "low": 3},
    "zammad": {"3": 1, "2": 3, "1": 3, "3 high": 1, "2 normal": 3, "1 low": 3},
}


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the field and the problem."""


class SourceMapping(BaseModel):
    """One helpdesk's mapping onto the policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    priorities: dict[str, int] = Field(default_factory=dict)
    plan_field: str | None = None
    plan_values: dict[str, str] = Field(default_factory=dict)
    plan_tag_prefix: str = "plan_"
    default_plan: str | None = None
    environment_field: str | None = None
    default_environment: str = "production"
    product_stage_field: str | None = None
    default_product_stage: str = "ga"
    agent_roles: frozenset[str] = frozenset({"agent", "admin"})
    timezone: str | None = None
    statuses: dict[str, TicketStatus] = Field(default_factory=dict)

    @field_validator("plan_values")
    @classmethod
    def _lower_plan_values(cls, value: dict[str, str]) -> dict[str, str]:
        return {str(k).strip().lower(): v.strip().lower() for k, v in value.items()}

    @field_validator("statuses")
    @classmethod
    def _lower_statuses(cls, value: dict[str, TicketStatus]) -> dict[str, TicketStatus]:
        return {str(k).strip().lower(): v for k, v in value.items()}

    def status(self, value: Any) -> TicketStatus | None:
        """Our status for a helpdesk's status name or id, as the mapping's ``statuses`` says
        (compared case-insensitively); None where it says nothing (then the source's own table)."""
        if value is None:
            return None
        return self.statuses.get(str(value).strip().lower())

    @field_validator("priorities")
    @classmethod
    def _lower_keys(cls, value: dict[str, int]) -> dict[str, int]:
        return {str(k).strip().lower(): v for k, v in value.items()}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("unknown IANA time zone") from None
        return value

    def priority(self, source: str, value: Any) -> int | None:
        """Our priority for the helpdesk's value (None: none given, or not mapped)."""
        if value is None or value == "":
            return None
        key = str(value).strip().lower()
        table = {**DEFAULT_PRIORITIES.get(source, {}), **self.priorities}
        return table.get(key)

    def plan_from(self, fields: dict[str, Any], tags: list[str]) -> str | None:
        """The plan: the configured field, else a ``plan_<name>`` tag, else the default plan."""
        if self.plan_field is not None:
            value = fields.get(self.plan_field)
            if isinstance(value, str) and value.strip():
                text = value.strip().lower()
                return self.plan_values.get(text, text)
        for tag in tags:
            if isinstance(tag, str) and tag.lower().startswith(self.plan_tag_prefix):
                return tag[len(self.plan_tag_prefix) :].lower() or None
        return self.default_plan


def plan_origin(mapping: SourceMapping, fields: dict[str, Any], tags: list[str]) -> str:
    """Where :meth:`SourceMapping.plan_from` takes the plan from, for the view: ``field <name>``,
    ``tag <tag>`` or ``default plan``."""
    if mapping.plan_field is not None:
        value = fields.get(mapping.plan_field)
        if isinstance(value, str) and value.strip():
            return f"field {mapping.plan_field}"
    for tag in tags:
        if isinstance(tag, str) and tag.lower().startswith(mapping.plan_tag_prefix):
            return f"tag {tag}"
    return "default plan"


def load_mappings(path: str | Path | None) -> dict[str, SourceMapping]:
    """Every source's mapping from a TOML file (None: the defaults for every source)."""
    if path is None:
        return {}
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from None
    mappings: dict[str, SourceMapping] = {}
    for source, table in raw.items():
        if source not in DEFAULT_PRIORITIES:
            raise MappingError(f"invalid mapping {path}: unknown source {source!r}")
        try:
            mappings[source] = SourceMapping.model_validate(table)
        except ValidationError as exc:
            problems = "; ".join(
                f"{source}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise MappingError(f"invalid mapping {path}: {problems}") from None
    return mappings
