"""Schedule names and times: deterministic, valid for Scheduler, never in the past."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.core.notices import (
    at_expression,
    check_schedule_name,
    fire_at,
    notification_id,
    schedule_name,
)
from sla.fakes import MemoryTimers
from sla.ports import TimerInput

NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 25, 10, 0, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "ticket_id", ["T-1", "ünïcødé-票", "a/b/c", "x" * 200, " ", "../..", "T-1\u200b"]
)
def test_schedule_names_are_valid_whatever_the_ticket_id(ticket_id: str) -> None:
    for kind in ("warning", "breach"):
        name = schedule_name(ticket_id, kind)
        assert NAME.fullmatch(name), name
        assert name == schedule_name(ticket_id, kind)


@given(st.lists(st.text(min_size=1, max_size=200), min_size=2, max_size=50, unique=True))
def test_schedule_names_never_collide(ids: list[str]) -> None:
    names = {schedule_name(i, "breach") for i in ids} | {schedule_name(i, "warning") for i in ids}
    assert len(names) == 2 * len(ids)


def test_notification_ids_are_stable_and_distinct() -> None:
    at = datetime(2026, 11, 25, 14, 59, tzinfo=UTC)
    assert notification_id("T-1", "breach", at) == notification_id("T-1", "breach", at)
    assert len({notification_id("T-1", k, at) for k in ("warning", "breach", "retraction")}) == 3
    assert notification_id("T-1", "breach", at) != notification_id(
        "T-1", "breach", at + timedelta(minutes=1)
    )


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ("2026-11-25T14:59:00Z", "2026-11-25T14:59:00Z"),  # a whole minute stays
        ("2026-11-25T14:59:00.000001Z", "2026-11-25T15:00:00Z"),  # anything after rounds up
        ("2026-11-25T14:59:30Z", "2026-11-25T15:00:00Z"),
        ("2026-11-25T10:00:30Z", "2026-11-25T10:01:00Z"),  # within a minute: a minute ahead
        ("2026-11-25T10:01:00Z", "2026-11-25T10:01:00Z"),
        ("2026-11-25T15:59:00+01:00", "2026-11-25T14:59:00Z"),  # UTC out, whatever comes in
    ],
)
def test_fire_at_rounds_up_to_the_minute_and_keeps_a_lead(due: str, expected: str) -> None:
    assert fire_at(datetime.fromisoformat(due), NOW) == datetime.fromisoformat(expected)


def test_a_near_instant_with_seconds_still_gets_a_full_minute_of_lead() -> None:
    assert fire_at(datetime(2026, 11, 25, 10, 0, 50, tzinfo=UTC), LATER) == datetime(
        2026, 11, 25, 10, 2, tzinfo=UTC
    )


@pytest.mark.parametrize("due", ["2026-11-25T10:00:00Z", "2026-11-25T09:00:00Z"])
def test_due_or_past_is_judged_at_once_not_scheduled(due: str) -> None:
    assert fire_at(datetime.fromisoformat(due), NOW) is None


def test_at_expressions_are_checked() -> None:
    assert (
        at_expression(datetime(2026, 11, 25, 15, 0, tzinfo=UTC), NOW) == "at(2026-11-25T15:00:00)"
    )
    with pytest.raises(ValueError, match="future"):
        at_expression(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), NOW)
    with pytest.raises(ValueError, match="UTC"):
        at_expression(datetime(2026, 11, 25, 16, 0, tzinfo=timezone(timedelta(hours=1))), NOW)
    with pytest.raises(ValueError, match="malformed"):
        at_expression(datetime(2026, 11, 25, 15, 0, 30, tzinfo=UTC), NOW)


def test_the_fake_scheduler_validates_like_the_real_adapter() -> None:
    timers = MemoryTimers()
    payload = TimerInput(ticket_id="T-1", kind="breach", for_=NOW)
    with pytest.raises(ValueError):
        timers.set("bad name!", NOW + timedelta(minutes=5), payload, NOW)
    with pytest.raises(ValueError):
        timers.set("ok", NOW - timedelta(minutes=5), payload, NOW)


def test_timer_input_uses_the_contract_field_name() -> None:
    payload = TimerInput(ticket_id="T-1", kind="breach", for_=NOW)
    assert payload.model_dump(mode="json", by_alias=True) == {
        "ticket_id": "T-1",
        "kind": "breach",
        "for": "2026-11-25T10:00:00Z",
        "version": 1,
    }


def test_a_timer_input_of_another_metric_round_trips_its_metric_and_cycle() -> None:
    payload = TimerInput(ticket_id="T-1", kind="warning", for_=NOW, metric="next_reply", cycle=3)
    dumped = payload.model_dump(mode="json", by_alias=True)
    assert (dumped["metric"], dumped["cycle"]) == ("next_reply", 3)
    assert TimerInput.model_validate_json(payload.model_dump_json(by_alias=True)) == payload
    first = TimerInput(ticket_id="T-1", kind="warning", for_=NOW, metric="resolution")
    assert first.model_dump(mode="json")["cycle"] == 1
    assert TimerInput.model_validate_json(first.model_dump_json(by_alias=True)) == first


def test_schedule_names_are_distinct_per_metric_cycle_and_kind_and_keep_first_responses() -> None:
    long_id = "zendesk:" + "9" * 248
    names = {
        schedule_name(ticket, kind, metric, cycle)
        for ticket in ("T-1", "T-2", long_id)
        for kind in ("warning", "breach")
        for metric in ("first_response", "next_reply", "resolution")
        for cycle in (1, 2, 10, 999_999_999)
    }
    assert len(names) == 3 * 2 * 3 * 4
    assert all(check_schedule_name(name) == name for name in names)
    digest = schedule_name("T-1", "breach").removeprefix("sla-b-")
    assert schedule_name("T-1", "breach", "first_response", 1) == "sla-b-" + digest
    assert schedule_name("T-1", "breach", "next_reply", 2) == "sla-nb2-" + digest[:48]


def test_notification_ids_differ_per_metric_and_cycle_and_keep_first_responses() -> None:
    ids = {
        notification_id("T-1", "breach", NOW, metric, cycle)
        for metric in ("first_response", "next_reply", "resolution")
        for cycle in (1, 2)
    }
    assert len(ids) == 6
    assert notification_id("T-1", "breach", NOW, "first_response", 1) == notification_id(
        "T-1", "breach", NOW
    )
