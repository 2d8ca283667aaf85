"""The support policy: targets, classification rules and the policy file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from sla import Policy, PolicyError, load_policy
from sla.core.terms import MetricName
from tests.unit.helpers import utc

WED_0959_CET = utc("2026-11-25T08:59:00Z")


@pytest.mark.parametrize(
    ("plan", "priority", "expected"),
    [
        ("professional", 1, "2026-11-25T11:59:00Z"),
        ("professional", 2, "2026-11-25T14:59:00Z"),
        ("professional", 3, "2026-11-26T09:59:00Z"),
        ("advanced", 1, "2026-11-25T09:59:00Z"),
        ("advanced", 2, "2026-11-25T11:59:00Z"),
        ("advanced", 3, "2026-11-25T14:59:00Z"),
        ("basic", 1, None),
        ("basic", 3, None),
        ("Professional", None, "2026-11-26T09:59:00Z"),
        ("ADVANCED", 1, "2026-11-25T09:59:00Z"),
    ],
)
def test_targets_table(
    policy: Policy, plan: str, priority: int | None, expected: str | None
) -> None:
    result = policy.deadline(WED_0959_CET, plan=plan, priority=priority)
    assert result == (utc(expected) if expected else None)


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),  # 01:30 CET -> 03:30 CEST: one real hour
        ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"),  # 02:30 CEST -> 02:30 CET: one real hour
        ("2026-12-25T22:00:00Z", "2026-12-25T23:00:00Z"),  # holidays and nights do not matter
        ("2026-11-28T12:00:00+01:00", "2026-11-28T12:00:00Z"),
    ],
)
def test_advanced_p1_is_elapsed_time_across_dst(
    policy: Policy, created_at: str, expected: str
) -> None:
    assert policy.deadline(utc(created_at), plan="advanced", priority=1) == utc(expected)


@pytest.mark.parametrize(
    ("kwargs", "priority", "reason", "kind"),
    [
        ({"priority": 2}, 2, "requested", "targeted"),
        ({}, 3, "default", "targeted"),
        ({"priority": None}, 3, "default", "targeted"),
        ({"priority": 1, "environment": "staging"}, 3, "non_production", "targeted"),
        ({"priority": 2, "environment": "Development"}, 3, "non_production", "targeted"),
        ({"priority": 3, "environment": "staging"}, 3, "requested", "targeted"),
        ({"priority": 1, "environment": "staging", "agent_priority": 1}, 1, "agent", "targeted"),
        ({"priority": 1, "agent_priority": 3}, 3, "agent", "targeted"),
        ({"priority": 1, "product_stage": "beta"}, 1, "requested", "exempt"),
        ({"priority": 1, "product_stage": "developer_preview"}, 1, "requested", "exempt"),
    ],
)
def test_classification_rules(
    policy: Policy, kwargs: dict[str, object], priority: int, reason: str, kind: str
) -> None:
    c = policy.classify("professional", **kwargs)  # type: ignore[arg-type]
    assert (c.priority, c.priority_reason, c.kind) == (priority, reason, kind)
    assert (c.target is None) == (kind != "targeted")


def test_basic_plan_has_no_target_whatever_else(policy: Policy) -> None:
    c = policy.classify("basic", 1, product_stage="beta")
    assert (c.kind, c.target) == ("no_target", None)


def test_staging_p1_deadline_is_the_p3_deadline(policy: Policy) -> None:
    staging = policy.deadline(WED_0959_CET, plan="professional", priority=1, environment="staging")
    assert staging == policy.deadline(WED_0959_CET, plan="professional", priority=3)


def test_exempt_product_has_no_deadline(policy: Policy) -> None:
    assert policy.deadline(WED_0959_CET, plan="advanced", priority=1, product_stage="beta") is None


def test_warning_at_three_quarters_in_the_targets_own_clock(policy: Policy) -> None:
    business = policy.due(WED_0959_CET, policy.classify("professional", 2))
    elapsed = policy.due(WED_0959_CET, policy.classify("advanced", 1))
    assert business is not None and elapsed is not None
    assert business.warning_at == utc("2026-11-25T13:29:00Z")  # 4.5 business hours
    assert elapsed.warning_at == WED_0959_CET + timedelta(minutes=45)
    # Friday 16:00 CET, 3 business hours: the warning (2 h 15 min) falls on Monday
    friday = policy.due(utc("2026-11-27T15:00:00Z"), policy.classify("professional", 1))
    assert friday is not None
    assert friday.warning_at == utc("2026-11-30T09:15:00Z")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"plan": "platinum"}, "unknown plan"),
        ({"plan": "professional", "priority": 4}, "unknown priority"),
        ({"plan": "professional", "priority": 0}, "unknown priority"),
        ({"plan": "professional", "priority": True}, "unknown priority"),
        ({"plan": "professional", "environment": "qa"}, "unknown environment"),
        ({"plan": "professional", "product_stage": "alpha"}, "unknown product stage"),
    ],
)
def test_bad_arguments_raise_value_error(
    policy: Policy, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        policy.deadline(WED_0959_CET, **kwargs)  # type: ignore[arg-type]


def test_naive_created_at_raises(policy: Policy) -> None:
    with pytest.raises(ValueError, match="naive"):
        policy.deadline(datetime(2026, 11, 25, 9), plan="professional", priority=1)


def test_error_messages_do_not_echo_input(policy: Policy) -> None:
    with pytest.raises(ValueError) as info:
        policy.deadline(WED_0959_CET, plan="secret-plan-name", priority=1)
    assert "secret-plan-name" not in str(info.value)


DEFAULT_TEXT = (Path(__file__).parents[3] / "layers/sla/sla/policy.toml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_a_copy_of_the_default_policy_loads_the_same(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, DEFAULT_TEXT))
    assert policy.config == load_policy().config


def test_an_edited_policy_changes_deadlines(tmp_path: Path) -> None:
    text = DEFAULT_TEXT.replace(
        '1 = { hours = 3, clock = "business" }', '1 = { hours = 2, clock = "business" }'
    )
    policy = load_policy(write(tmp_path, text))
    assert policy.deadline(WED_0959_CET, plan="professional", priority=1) == utc(
        "2026-11-25T10:59:00Z"
    )


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        (
            'timezone = "Europe/Bratislava"',
            'timezone = "Mars/Olympus"',
            "calendar.timezone",
            "unknown IANA",
        ),
        ("warning_fraction = 0.75", "warning_fraction = 1.5", "warning_fraction", "less than 1"),
        (
            'monday = ["09:00-17:00"]',
            'monday = ["09:00-27:00"]',
            "calendar.hours.monday.0",
            "out of range",
        ),
        ('country = "SK"', 'country = "ZZ"', "calendar.holidays", "does not know country"),
        ("default_priority = 3", "default_priority = 7", "(top level)", "default_priority"),
        (
            '2 = { hours = 3, clock = "business" }',
            '2 = { hours = 3, clock = "sundial" }',
            "plans.advanced.targets.2.clock",
            "'business' or 'elapsed'",
        ),
        (
            '2 = { hours = 6, clock = "business" }',
            '2 = { hours = -6, clock = "business" }',
            "plans.professional.targets.2.hours",
            "greater than 0",
        ),
        ("default_priority = 3", 'default_priority = 3\ncolour = "blue"', "colour", "Extra inputs"),
    ],
)
def test_broken_policy_names_field_and_problem(
    tmp_path: Path, old: str, new: str, field: str, problem: str
) -> None:
    assert old in DEFAULT_TEXT
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, DEFAULT_TEXT.replace(old, new, 1)))
    message = str(info.value)
    assert field in message and problem in message, message


def test_policy_file_that_is_not_toml(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not TOML"):
        load_policy(write(tmp_path, "this is [not toml"))


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "nope.toml")


@pytest.mark.parametrize(("plan", "priority"), [("professional", 2), ("advanced", 1)])
def test_a_deadline_past_the_year_9999_is_a_value_error(
    policy: Policy, plan: str, priority: int
) -> None:
    with pytest.raises(ValueError, match="after the year 9999"):
        policy.deadline(datetime(9999, 12, 31, 23, 30, tzinfo=UTC), plan=plan, priority=priority)


# -- the deadline of another metric (issue 11) ---------------------------------------------------

ALL_METRICS = load_policy(Path(__file__).parents[3] / "layers/sla/sla/policies/all-metrics.toml")
EVERY_METRIC: tuple[MetricName, ...] = ("first_response", "next_reply", "resolution")


@pytest.mark.parametrize(
    ("metric", "plan", "priority", "expected"),
    [
        ("first_response", "professional", 2, "2026-11-25T14:59:00Z"),
        # 8 business hours: 7:01 on Wednesday, 0:59 on Thursday
        ("next_reply", "professional", 2, "2026-11-26T08:59:00Z"),
        ("next_reply", "advanced", 1, "2026-11-25T10:59:00Z"),  # 2 hours, 24/7
        # 40 business hours: Wed 7:01, Thu, Fri, Mon, Tue 8 each, 0:59 on Wednesday 2 December
        ("resolution", "professional", 2, "2026-12-02T08:59:00Z"),
        ("resolution", "advanced", 1, "2026-11-26T08:59:00Z"),  # 24 hours, 24/7
        ("next_reply", "basic", 3, None),
        ("resolution", "basic", 3, None),
    ],
)
def test_the_deadline_of_each_metric_for_a_cycle_starting_then(
    metric: MetricName, plan: str, priority: int, expected: str | None
) -> None:
    result = ALL_METRICS.deadline(WED_0959_CET, plan=plan, priority=priority, metric=metric)
    assert result == (utc(expected) if expected else None)


def test_the_same_ticket_gets_each_metrics_own_deadline_from_the_caches() -> None:
    """Asked in turn, the cached rules of one metric never answer for another."""
    answers = [
        ALL_METRICS.deadline(WED_0959_CET, plan="professional", priority=1, metric=m)
        for m in (*EVERY_METRIC, *EVERY_METRIC)
    ]
    expected = [
        utc("2026-11-25T11:59:00Z"),  # 3 business hours
        utc("2026-11-25T12:59:00Z"),  # 4 business hours
        utc("2026-11-30T08:59:00Z"),  # 24 business hours: Wed 7:01, Thu 8, Fri 8, Mon 0:59
    ]
    assert answers == expected * 2


def test_an_exempt_product_stage_has_no_deadline_in_any_metric() -> None:
    for metric in EVERY_METRIC:
        deadline = ALL_METRICS.deadline(
            WED_0959_CET, plan="advanced", priority=1, product_stage="beta", metric=metric
        )
        assert deadline is None


def test_first_response_given_as_any_string_is_the_first_response_deadline() -> None:
    """A metric name read from input is not the interned literal: the answer is the same."""
    name = cast(MetricName, "".join(["first", "_", "response"]))
    deadline = ALL_METRICS.deadline(WED_0959_CET, plan="advanced", priority=2, metric=name)
    assert deadline == utc("2026-11-25T11:59:00Z")


def test_a_metric_the_policy_does_not_define_is_an_error_naming_its_metrics(
    policy: Policy,
) -> None:
    with pytest.raises(ValueError, match=r"no next_reply targets; its metrics: first_response$"):
        policy.deadline(WED_0959_CET, plan="professional", metric="next_reply")
    with pytest.raises(ValueError, match=r"^unknown metric; the policy's metrics: first_response$"):
        policy.deadline(WED_0959_CET, plan="professional", metric=cast(MetricName, "reply"))


def test_a_bool_priority_is_refused_even_after_its_integer_was_classified(policy: Policy) -> None:
    """The classifications are remembered by their arguments, and True == 1 in Python."""
    assert policy.classify("professional", 1).priority == 1
    with pytest.raises(ValueError, match="unknown priority"):
        policy.classify("professional", True)
    with pytest.raises(ValueError, match="unknown priority"):
        policy.classify("professional", 2, agent_priority=True)
