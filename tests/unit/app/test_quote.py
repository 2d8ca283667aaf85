"""The quote (``GET /sla/quote``) answers the deadlines of every metric the plan has for a ticket
submitted now (issue 11): with the policy that ships all three metrics, each metric's target,
warnings and deadline for a cycle that starts at the quote's instant and is never paused; with
the default policy, the contract's quote alone. Hand-computed in UTC; business hours Mon-Fri
09:00-17:00 Europe/Bratislava (CET, UTC+1 in November)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from sla import Policy, load_policy
from sla.app.quote import quote_terms
from tests.unit.helpers import utc

ALL_METRICS = load_policy(str(resources.files("sla") / "policies" / "all-metrics.toml"))
NOW = utc("2026-11-25T08:59:00Z")  # Wednesday 09:59 CET


def quoted(policy: Policy, **params: str) -> dict[str, Any]:
    """The quote as the API answers it (JSON), asked at ``NOW``."""
    answer: dict[str, Any] = quote_terms(policy, params, NOW).model_dump(mode="json")
    return answer


def test_with_the_default_policy_the_quote_is_the_contracts_and_has_no_metrics(
    policy: Policy,
) -> None:
    """Given the default policy (first response only), the quote keeps the contract's fields."""
    answer = quoted(policy, plan="professional", priority="2")
    assert "metrics" not in answer
    assert answer["deadline"] == "2026-11-25T14:59:00Z"


def test_a_professional_p2_quote_gives_each_metrics_target_warnings_and_deadline() -> None:
    """Given the all-metrics policy and a Professional P2 ticket submitted Wednesday 09:59 CET,
    then first response is due 6 business hours later (15:59 CET), a next reply 8 business hours
    after a customer writing now (Thursday 09:59 CET, its warnings at 50, 75 and 90%), and the
    resolution 40 business hours later (the next Wednesday, 2 December, 09:59 CET)."""
    answer = quoted(ALL_METRICS, plan="professional", priority="2")
    assert answer["deadline"] == "2026-11-25T14:59:00Z"  # the top level stays first response's
    assert answer["metrics"] == {
        "first_response": {
            "target": {"hours": 6, "clock": "business"},
            "status": "running",
            "warnings": [{"threshold": 0.75, "at": "2026-11-25T13:29:00Z"}],
            "deadline": "2026-11-25T14:59:00Z",
        },
        "next_reply": {
            "target": {"hours": 8, "clock": "business"},
            "status": "running",
            "warnings": [
                {"threshold": 0.5, "at": "2026-11-25T12:59:00Z"},  # 4 h: 13:59 CET
                {"threshold": 0.75, "at": "2026-11-25T14:59:00Z"},  # 6 h: 15:59 CET
                {"threshold": 0.9, "at": "2026-11-26T08:11:00Z"},  # 7 h 12 min: Thu 09:11 CET
            ],
            "deadline": "2026-11-26T08:59:00Z",  # 7 h 01 min on Wednesday, 59 min on Thursday
        },
        "resolution": {
            "target": {"hours": 40, "clock": "business"},
            "status": "running",
            # 30 h: 7:01 Wed, 8 Thu, 8 Fri, then 6:59 on Monday: 15:59 CET
            "warnings": [{"threshold": 0.75, "at": "2026-11-30T14:59:00Z"}],
            # 40 h: 31:01 by Monday's close, 8 on Tuesday, 59 min on Wednesday 2 December
            "deadline": "2026-12-02T08:59:00Z",
        },
    }


def test_elapsed_targets_count_every_hour() -> None:
    """Given Advanced P1 (24/7 targets) quoted at 08:59Z, then a next reply is due 2 hours later
    and the resolution 24 hours later, whatever the opening hours."""
    metrics = quoted(ALL_METRICS, plan="advanced", priority="1")["metrics"]
    assert metrics["next_reply"]["deadline"] == "2026-11-25T10:59:00Z"
    assert [w["at"] for w in metrics["next_reply"]["warnings"]] == [
        "2026-11-25T09:59:00Z",
        "2026-11-25T10:29:00Z",
        "2026-11-25T10:47:00Z",
    ]
    assert metrics["resolution"]["deadline"] == "2026-11-26T08:59:00Z"
    assert metrics["resolution"]["warnings"] == [{"threshold": 0.75, "at": "2026-11-26T02:59:00Z"}]


def test_a_quote_at_a_given_instant_counts_from_there() -> None:
    """Given ``at`` Friday 16:30 CET, a next reply of 8 business hours runs 30 minutes on Friday
    and 7 h 30 min on Monday: due Monday 16:30 CET."""
    answer = quoted(ALL_METRICS, plan="professional", priority="2", at="2026-11-27T15:30:00Z")
    assert answer["clock_started_at"] == "2026-11-27T15:30:00Z"
    assert answer["metrics"]["next_reply"]["deadline"] == "2026-11-30T15:30:00Z"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"plan": "basic"}, "no_target"),
        ({"plan": "professional", "priority": "1", "product_stage": "beta"}, "exempt"),
    ],
)
def test_a_plan_without_targets_or_an_exempt_stage_quotes_each_metric_so(
    params: dict[str, str], status: str
) -> None:
    answer = quoted(ALL_METRICS, **params)
    assert answer["status"] == status
    assert answer["metrics"] == {
        metric: {"target": None, "status": status, "warnings": [], "deadline": None}
        for metric in ("first_response", "next_reply", "resolution")
    }


def test_a_metric_the_plan_lacks_has_no_target_while_the_others_run(tmp_path: Any) -> None:
    """Given a policy whose Basic plan has a resolution target and no response targets, then
    its quote runs the resolution clock alone."""
    text = (resources.files("sla") / "policies" / "all-metrics.toml").read_text()
    text += '\n[metrics.resolution.targets.basic]\n3 = { hours = 80, clock = "business" }\n'
    path = tmp_path / "basic-resolution.toml"
    path.write_text(text)
    metrics = quoted(load_policy(path), plan="basic")["metrics"]
    assert {name: m["status"] for name, m in metrics.items()} == {
        "first_response": "no_target",
        "next_reply": "no_target",
        "resolution": "running",
    }
    assert metrics["resolution"]["target"] == {"hours": 80, "clock": "business"}
