"""The SLA counts in CloudWatch: by plan, priority and SLA metric, as EMF documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from sla.app.notifier import Judgement
from sla.runtime.observability import SLA_METRICS, count, count_published

FOR = datetime(2026, 11, 25, 14, 59, tzinfo=UTC)


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The EMF documents printed since the last call."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def dimensions(document: dict[str, Any]) -> dict[str, str]:
    (names,) = document["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    return {name: document[name] for name in names}


def test_a_count_carries_the_sla_metric_as_a_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a next-reply deadline set for a Professional P2 ticket
    # When it is counted
    count("DeadlinesSet", "professional", 2, metric="next_reply")
    # Then one document says so, by plan, priority and metric (and the service)
    (document,) = emitted(capsys)
    assert document["DeadlinesSet"] == [1.0]
    assert dimensions(document) == {
        "plan": "professional",
        "priority": "2",
        "metric": "next_reply",
        "service": "sla-keeper",
    }


def test_a_count_without_a_metric_is_a_first_response_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    count("Met", "basic", 3)
    (document,) = emitted(capsys)
    assert dimensions(document)["metric"] == "first_response"


@pytest.mark.parametrize("stray", ["T-1001", "", "First_Response"])
def test_a_metric_outside_the_three_is_counted_as_unknown(
    capsys: pytest.CaptureFixture[str], stray: str
) -> None:
    """The dimension stays few-valued: a stray value (a ticket id by mistake) is no new series."""
    count("Met", "basic", 3, metric=stray)
    (document,) = emitted(capsys)
    assert dimensions(document)["metric"] == "unknown"
    assert "unknown" not in SLA_METRICS


def test_published_notices_are_counted_under_their_judgement_s_metric(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a published resolution breach, a published next-reply warning and a duplicate
    judged = [
        SimpleNamespace(
            kind="breach", outcome="published", plan="enterprise", priority=1, metric="resolution"
        ),
        SimpleNamespace(
            kind="warning", outcome="published", plan="basic", priority=4, metric="next_reply"
        ),
        SimpleNamespace(
            kind="breach", outcome="duplicate", plan="basic", priority=4, metric="next_reply"
        ),
    ]
    # When they are counted
    count_published(cast(list[Judgement], judged))
    # Then each published one is counted once, under its own metric
    counted = [
        (next(name for name in ("Breaches", "Warnings") if name in d), dimensions(d))
        for d in emitted(capsys)
    ]
    assert counted == [
        (
            "Breaches",
            {
                "plan": "enterprise",
                "priority": "1",
                "metric": "resolution",
                "service": "sla-keeper",
            },
        ),
        (
            "Warnings",
            {"plan": "basic", "priority": "4", "metric": "next_reply", "service": "sla-keeper"},
        ),
    ]


def test_a_judgement_without_a_metric_counts_as_first_response(
    capsys: pytest.CaptureFixture[str],
) -> None:
    count_published([Judgement("T-1", "retraction", FOR, "published", "professional", 2)])
    (document,) = emitted(capsys)
    assert document["Retractions"] == [1.0]
    assert dimensions(document)["metric"] == "first_response"
