"""The support policy: targets by plan and priority, classification rules, and deadlines.

The policy file (TOML) is validated by pydantic once; the hot path (``Policy.deadline``) works on
plain values and epoch microseconds so that bulk recomputation stays fast.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sla.core.calendar import BusinessCalendar, CalendarConfig, from_epoch_us, to_epoch_us
from sla.core.events import TicketStatus
from sla.core.terms import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_PRODUCT_STAGE,
    METRICS,
    Clock,
    MetricName,
    PriorityReason,
    Target,
    TargetKind,
    Terms,
)

__all__ = [
    "Classification",
    "Due",
    "MetricConfig",
    "Policy",
    "PolicyConfig",
    "PolicyError",
    "PriorityReason",
    "Target",
    "load_policy",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_timedelta = timedelta
_NO_TARGET = (False, -1)
_FIRST_RESPONSE: MetricName = "first_response"
_RULE_CACHE_SIZE = 4096
_PAST_THE_END = "the deadline would fall after the year 9999"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the field and the problem."""


class TargetConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hours: int | float = Field(gt=0, le=24 * 366)
    clock: Clock


class PlanConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    targets: dict[int, TargetConfig] = Field(
        default_factory=dict, description="priority -> first-response target; empty: no target"
    )


# what pauses each metric's clock when the policy does not say (contract section 1b)
DEFAULT_PAUSE_ON: dict[MetricName, frozenset[TicketStatus]] = {
    "first_response": frozenset(),
    "next_reply": frozenset(),
    "resolution": frozenset({"pending", "on_hold"}),
}


class MetricConfig(BaseModel):
    """A metric of the policy (``[metrics.<name>]``): its warnings, the statuses that pause its
    clock, and its targets per plan and priority (first response takes its targets from
    ``plans.<plan>.targets``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warnings: tuple[float, ...] | None = Field(
        default=None, description="fractions of the target at which a warning is due"
    )
    pause_on: frozenset[TicketStatus] | None = None
    targets: dict[str, dict[int, TargetConfig]] = Field(default_factory=dict)

    @field_validator("warnings")
    @classmethod
    def _fractions(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return None
        if not all(0 < f < 1 for f in value):
            raise ValueError("each warning fraction must be greater than 0 and less than 1")
        if len(set(value)) != len(value):
            raise ValueError("warning fractions must differ")
        return tuple(sorted(value))

    @field_validator("pause_on")
    @classmethod
    def _no_stop_status(
        cls, value: frozenset[TicketStatus] | None
    ) -> frozenset[TicketStatus] | None:
        if value is not None and value & {"solved", "closed"}:
            raise ValueError("solved and closed stop a clock; they cannot pause it")
        return value

    @field_validator("targets")
    @classmethod
    def _lower_plans(cls, value: dict[str, dict[int, TargetConfig]]) -> dict[str, Any]:
        lowered = {name.lower(): table for name, table in value.items()}
        if len(lowered) != len(value):
            raise ValueError("plan names must differ in more than letter case")
        return lowered


class PolicyConfig(BaseModel):
    """The policy file, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_priority: int
    non_production_environments: frozenset[str] = frozenset({"staging", "development"})
    non_production_priority: int
    exempt_product_stages: frozenset[str] = frozenset({"beta", "developer_preview"})
    warning_fraction: float = Field(default=0.75, gt=0, lt=1)
    calendar: CalendarConfig
    plans: dict[str, PlanConfig] = Field(min_length=1)
    metrics: dict[MetricName, MetricConfig] = Field(default_factory=dict)

    @field_validator("plans")
    @classmethod
    def _lower_names(cls, value: dict[str, PlanConfig]) -> dict[str, PlanConfig]:
        lowered = {name.lower(): plan for name, plan in value.items()}
        if len(lowered) != len(value):
            raise ValueError("plan names must differ in more than letter case")
        return lowered

    @field_validator("non_production_environments", "exempt_product_stages")
    @classmethod
    def _lower_set(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(v.lower() for v in value)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyConfig:
        tables = {name: set(plan.targets) for name, plan in self.plans.items() if plan.targets}
        if not tables:
            raise ValueError("no plan has any target")
        priorities = next(iter(tables.values()))
        for name, keys in tables.items():
            if keys != priorities:
                raise ValueError(
                    f"plan {name!r} defines priorities {sorted(keys)}, others {sorted(priorities)}"
                )
        for field in ("default_priority", "non_production_priority"):
            if getattr(self, field) not in priorities:
                raise ValueError(f"{field} must be one of the priorities {sorted(priorities)}")
        if DEFAULT_ENVIRONMENT in self.non_production_environments:
            raise ValueError("'production' cannot be a non-production environment")
        if DEFAULT_PRODUCT_STAGE in self.exempt_product_stages:
            raise ValueError("'ga' cannot be an exempt product stage")
        first = self.metrics.get("first_response")
        if first is not None:
            if first.targets:
                raise ValueError(
                    "metrics.first_response: first-response targets live in plans.<plan>.targets"
                )
            if first.warnings is not None and "warning_fraction" in self.model_fields_set:
                raise ValueError(
                    "give first-response warnings once: warning_fraction or "
                    "metrics.first_response.warnings"
                )
        for metric, config in self.metrics.items():
            for plan, table in config.targets.items():
                if plan not in self.plans:
                    raise ValueError(f"metrics.{metric}: unknown plan {plan!r}")
                unknown = sorted(set(table) - priorities)
                if unknown:
                    raise ValueError(
                        f"metrics.{metric}.targets.{plan}: unknown priorities {unknown}; "
                        f"expected some of {sorted(priorities)}"
                    )
        return self

    @property
    def priorities(self) -> tuple[int, ...]:
        return tuple(sorted(next(p.targets for p in self.plans.values() if p.targets)))

    def metric_names(self) -> tuple[MetricName, ...]:
        """First response, and the other metrics the policy gives targets, in a fixed order."""
        given = {name for name, config in self.metrics.items() if config.targets}
        return tuple(m for m in METRICS if m == "first_response" or m in given)

    def warnings_of(self, metric: MetricName) -> tuple[float, ...]:
        config = self.metrics.get(metric)
        if config is not None and config.warnings is not None:
            return config.warnings
        return (self.warning_fraction,) if metric == "first_response" else (0.75,)

    def pause_on_of(self, metric: MetricName) -> frozenset[TicketStatus]:
        config = self.metrics.get(metric)
        if config is not None and config.pause_on is not None:
            return config.pause_on
        return DEFAULT_PAUSE_ON[metric]


@dataclass(frozen=True, slots=True)
class Classification:
    """How the policy sees a ticket: its effective priority, why, and its target if any."""

    plan: str
    requested_priority: int | None
    priority: int
    priority_reason: PriorityReason
    kind: TargetKind
    target: Target | None

    def classified(self) -> dict[str, Any]:
        """The fields of :class:`sla.core.terms.Classified`."""
        return {
            "plan": self.plan,
            "requested_priority": self.requested_priority,
            "priority": self.priority,
            "priority_reason": self.priority_reason,
        }


@dataclass(frozen=True, slots=True)
class Due:
    """When the warning and the deadline of a target fall for a clock start."""

    warning_at: datetime
    deadline: datetime


class Policy:
    """The loaded policy. Pure: no clock reads, no AWS."""

    def __init__(self, config: PolicyConfig) -> None:
        self.config = config
        self.calendar = BusinessCalendar(config.calendar)
        self._add_us = self.calendar.add_us
        self.priorities = config.priorities
        self.plans = tuple(sorted(config.plans))
        self.environments = frozenset({DEFAULT_ENVIRONMENT}) | config.non_production_environments
        self.product_stages = frozenset({DEFAULT_PRODUCT_STAGE}) | config.exempt_product_stages
        # (plan, priority, environment, product stage) as given -> (elapsed clock?, target µs)
        self._rules: dict[tuple[str, int | None, str, str], tuple[bool, int]] = {}
        # the same for the other metrics, keyed by the metric first
        self._metric_rules: dict[tuple[str, str, int | None, str, str], tuple[bool, int]] = {}
        # the classifications made, by their arguments (the fold classifies at every event)
        self._classified: dict[tuple[Any, ...], Classification] = {}
        # (plan, priority) -> (target, duration µs, warning µs)
        self._targets: dict[tuple[str, int], tuple[Target, int, int]] = {}
        for name, plan in config.plans.items():
            for priority, t in plan.targets.items():
                target = Target(hours=t.hours, clock=t.clock)
                total = round(t.hours * 3_600_000_000)
                self._targets[(name, priority)] = (
                    target,
                    total,
                    round(total * config.warnings_of("first_response")[0]),
                )
        # the metrics: their names, warning fractions, pause statuses and targets
        self.metrics: tuple[MetricName, ...] = config.metric_names()
        self.warnings: dict[MetricName, tuple[float, ...]] = {
            m: config.warnings_of(m) for m in METRICS
        }
        self.pause_on: dict[MetricName, frozenset[str]] = {
            m: frozenset(config.pause_on_of(m)) for m in METRICS
        }
        self._metric_targets: dict[tuple[MetricName, str, int], Target] = {
            (metric, plan, priority): Target(hours=t.hours, clock=t.clock)
            for metric, mc in config.metrics.items()
            for plan, table in mc.targets.items()
            for priority, t in table.items()
        }

    # -- classification -------------------------------------------------------------------------

    def normalise_plan(self, plan: str) -> str:
        name = plan.lower()
        if name not in self.config.plans:
            raise ValueError(f"unknown plan; expected one of {', '.join(self.plans)}")
        return name

    def check_priority(self, priority: int | None) -> None:
        if priority is not None and (isinstance(priority, bool) or priority not in self.priorities):
            choices = ", ".join(str(p) for p in self.priorities)
            raise ValueError(f"unknown priority; expected one of {choices} or none")

    def check_environment(self, environment: str) -> str:
        value = environment.lower()
        if value not in self.environments:
            raise ValueError(
                f"unknown environment; expected one of {', '.join(sorted(self.environments))}"
            )
        return value

    def check_product_stage(self, product_stage: str) -> str:
        value = product_stage.lower()
        if value not in self.product_stages:
            choices = ", ".join(sorted(self.product_stages))
            raise ValueError(f"unknown product stage; expected one of {choices}")
        return value

    def classify(
        self,
        plan: str,
        priority: int | None = None,
        *,
        environment: str = DEFAULT_ENVIRONMENT,
        product_stage: str = DEFAULT_PRODUCT_STAGE,
        agent_priority: int | None = None,
    ) -> Classification:
        """Apply the rules: default priority, production-only urgency, agent override, exemptions.

        ``agent_priority`` is an agent's explicit choice; it wins over the automatic rules.
        """
        key = (plan, priority, environment, product_stage, agent_priority)
        # True == 1 would find 1's classification: a bool is never looked up (it is refused)
        cached = not isinstance(priority, bool) and not isinstance(agent_priority, bool)
        known = self._classified.get(key) if cached else None
        if known is not None:
            return known
        classification = self._classify(
            plan,
            priority,
            environment=environment,
            product_stage=product_stage,
            agent_priority=agent_priority,
        )
        if cached and len(self._classified) < _RULE_CACHE_SIZE:
            self._classified[key] = classification
        return classification

    def _classify(
        self,
        plan: str,
        priority: int | None,
        *,
        environment: str,
        product_stage: str,
        agent_priority: int | None,
    ) -> Classification:
        name = self.normalise_plan(plan)
        self.check_priority(priority)
        self.check_priority(agent_priority)
        environment = self.check_environment(environment)
        stage = self.check_product_stage(product_stage)
        cfg = self.config
        reason: PriorityReason
        if agent_priority is not None:
            effective, reason = agent_priority, "agent"
        elif priority is None:
            effective, reason = cfg.default_priority, "default"
        elif (
            environment in cfg.non_production_environments
            and priority < cfg.non_production_priority
        ):
            effective, reason = cfg.non_production_priority, "non_production"
        else:
            effective, reason = priority, "requested"
        entry = self._targets.get((name, effective))
        kind: TargetKind
        if entry is None:
            kind = "no_target"
        elif stage in cfg.exempt_product_stages:
            kind = "exempt"
        else:
            kind = "targeted"
        return Classification(
            plan=name,
            requested_priority=priority,
            priority=effective,
            priority_reason=reason,
            kind=kind,
            target=entry[0] if entry is not None and kind == "targeted" else None,
        )

    def target(self, metric: MetricName, classification: Classification) -> Target | None:
        """The target of ``metric`` for a classified ticket (None: exempt, or no target)."""
        if metric == "first_response":
            return classification.target
        if classification.kind == "exempt":
            return None
        return self._metric_targets.get((metric, classification.plan, classification.priority))

    # -- deadlines ------------------------------------------------------------------------------

    def due(self, clock_started_at: datetime, classification: Classification) -> Due | None:
        """Warning time and deadline for a classified ticket whose clock started then.
        ValueError when the deadline would fall past the last instant a datetime can hold."""
        if classification.target is None:
            return None
        target, total, warning = self._targets[(classification.plan, classification.priority)]
        start = to_epoch_us(clock_started_at)
        try:
            if target.clock == "elapsed":
                return Due(from_epoch_us(start + warning), from_epoch_us(start + total))
            add = self.calendar.add_us
            return Due(add(start, warning), add(start, total))
        except OverflowError:
            raise ValueError(_PAST_THE_END) from None

    def terms(self, clock_started_at: datetime, classification: Classification) -> Terms:
        """The SLA terms of a classified ticket whose clock started then."""
        due = self.due(clock_started_at, classification)
        return Terms(
            **classification.classified(),
            target=classification.target,
            clock_started_at=clock_started_at,
            warning_at=due.warning_at if due else None,
            deadline=due.deadline if due else None,
        )

    def deadline(
        self,
        created_at: datetime,
        *,
        plan: str,
        priority: int | None = None,
        environment: str = DEFAULT_ENVIRONMENT,
        product_stage: str = DEFAULT_PRODUCT_STAGE,
        metric: MetricName = _FIRST_RESPONSE,
    ) -> datetime | None:
        """The first-response deadline (UTC) of a ticket created then, or None without a target.

        ``metric``: another metric's deadline for a cycle that starts at ``created_at`` and is
        never paused (for next reply: a customer writing then); ValueError for a metric the
        policy does not define.

        The hot path of reports and bulk recomputation: the classification of each distinct
        argument combination is cached, the arithmetic runs on epoch microseconds.
        """
        if priority is True or priority is False:  # True == 1 would hit the cache for 1
            raise ValueError("unknown priority; expected an integer or none")
        if metric is _FIRST_RESPONSE:  # the default, and any literal (interned): no comparison
            rule = self._rules.get((plan, priority, environment, product_stage))
            if rule is None:
                rule = self._rule(plan, priority, environment, product_stage)
        else:
            rule = self._metric_rule(metric, plan, priority, environment, product_stage)
        try:
            delta = created_at - _EPOCH
        except TypeError:
            raise ValueError(f"naive datetime {created_at}: a timezone is required") from None
        if rule is _NO_TARGET:
            return None
        start = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        elapsed, total = rule
        try:
            if elapsed:
                return _EPOCH + _timedelta(0, 0, start + total)
            return self._add_us(start, total)
        except OverflowError:
            raise ValueError(_PAST_THE_END) from None

    def _rule(
        self, plan: str, priority: int | None, environment: str, product_stage: str
    ) -> tuple[bool, int]:
        c = self.classify(plan, priority, environment=environment, product_stage=product_stage)
        rule = _NO_TARGET
        if c.target is not None:
            _, total, _ = self._targets[(c.plan, c.priority)]
            rule = (c.target.clock == "elapsed", total)
        if len(self._rules) < _RULE_CACHE_SIZE:
            self._rules[(plan, priority, environment, product_stage)] = rule
        return rule

    def check_metric(self, metric: str) -> MetricName:
        """``metric`` if the policy defines it; ValueError naming the policy's metrics if not."""
        for name in self.metrics:
            if metric == name:
                return name
        defined = ", ".join(self.metrics)
        if metric in METRICS:
            raise ValueError(f"the policy has no {metric} targets; its metrics: {defined}")
        raise ValueError(f"unknown metric; the policy's metrics: {defined}")

    def _metric_rule(
        self, metric: str, plan: str, priority: int | None, environment: str, product_stage: str
    ) -> tuple[bool, int]:
        """The (elapsed clock?, target µs) of a metric other than first response, cached."""
        key = (metric, plan, priority, environment, product_stage)
        rule = self._metric_rules.get(key)
        if rule is not None:
            return rule
        name = self.check_metric(metric)
        c = self.classify(plan, priority, environment=environment, product_stage=product_stage)
        target = self.target(name, c)
        rule = _NO_TARGET
        if target is not None:
            rule = (target.clock == "elapsed", round(target.hours * 3_600_000_000))
        if len(self._metric_rules) < _RULE_CACHE_SIZE:
            self._metric_rules[key] = rule
        return rule


def _format_error(source: str, error: ValidationError) -> str:
    lines = [f"invalid policy {source}:"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file; ``None`` loads the default policy shipped in the layer."""
    if path is None:
        source = "default policy"
        data = resources.files("sla").joinpath("policy.toml").read_bytes()
    else:
        source = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise PolicyError(f"cannot read policy {source}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"invalid policy {source}: not TOML: {exc}") from None
    try:
        config = PolicyConfig.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_format_error(source, exc)) from None
    return Policy(config)
