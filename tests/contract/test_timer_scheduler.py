"""The timers' contract (``sla.ports.TimerScheduler``): every case runs on ``MemoryTimers`` and on
``SchedulerTimers`` under moto, with the same expected result. What a schedule holds is read
from the twin's ``schedules`` and from the Scheduler's ``get_schedule``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sla.core.notices import schedule_name
from sla.ports import TimerInput
from tests.contract.conftest import T0, TimersUnderTest

NOW = T0
WHEN = datetime(2026, 11, 25, 13, 29, tzinfo=UTC)
NAME = schedule_name("T-1", "warning")
WARNING = TimerInput(ticket_id="T-1", kind="warning", for_=WHEN - timedelta(seconds=30))


def test_a_schedule_set_exists_and_holds_its_time_and_input(timers: TimersUnderTest) -> None:
    timers.port.set(NAME, WHEN, WARNING, NOW)
    assert timers.port.exists(NAME)
    assert timers.schedule(NAME) == (WHEN, WARNING)


def test_a_schedule_never_set_does_not_exist(timers: TimersUnderTest) -> None:
    assert not timers.port.exists(NAME)


def test_setting_a_schedule_again_moves_it(timers: TimersUnderTest) -> None:
    """Given a schedule set, when it is set again with another time and input (a new deadline),
    then the one schedule holds the new time and input."""
    timers.port.set(NAME, WHEN, WARNING, NOW)
    later = WHEN + timedelta(hours=2)
    moved = TimerInput(ticket_id="T-1", kind="warning", for_=later)
    timers.port.set(NAME, later, moved, NOW + timedelta(minutes=1))
    assert timers.schedule(NAME) == (later, moved)


def test_schedules_are_kept_apart_by_name(timers: TimersUnderTest) -> None:
    breach = TimerInput(ticket_id="T-1", kind="breach", for_=WHEN + timedelta(hours=1))
    timers.port.set(NAME, WHEN, WARNING, NOW)
    timers.port.set(schedule_name("T-1", "breach"), WHEN + timedelta(hours=1), breach, NOW)
    timers.port.delete(NAME)
    assert not timers.port.exists(NAME)
    assert timers.schedule(schedule_name("T-1", "breach")) == (WHEN + timedelta(hours=1), breach)


def test_a_deleted_schedule_no_longer_exists(timers: TimersUnderTest) -> None:
    timers.port.set(NAME, WHEN, WARNING, NOW)
    timers.port.delete(NAME)
    assert not timers.port.exists(NAME)
    assert timers.schedule(NAME) is None


def test_deleting_a_schedule_that_is_not_there_is_fine(timers: TimersUnderTest) -> None:
    timers.port.delete(NAME)
    timers.port.delete(NAME)
    assert not timers.port.exists(NAME)


@pytest.mark.parametrize(
    "name",
    ["", "has space", "slash/name", "colon:name", "x" * 65, "ümlaut"],
    ids=["empty", "space", "slash", "colon", "65-chars", "non-ascii"],
)
def test_a_malformed_name_is_refused_before_any_call(timers: TimersUnderTest, name: str) -> None:
    with pytest.raises(ValueError, match="schedule name"):
        timers.port.set(name, WHEN, WARNING, NOW)
    assert timers.calls == []
    assert timers.schedule(NAME) is None


def test_the_longest_name_the_scheduler_takes_is_accepted(timers: TimersUnderTest) -> None:
    name = "a-Z_0." + "x" * 58  # 64 characters of the allowed set
    timers.port.set(name, WHEN, WARNING, NOW)
    assert timers.port.exists(name)


@pytest.mark.parametrize(
    "when",
    [
        NOW - timedelta(minutes=1),
        NOW,
        WHEN.replace(tzinfo=None),
        WHEN.astimezone(timezone(timedelta(hours=1))),
        WHEN + timedelta(seconds=30),
    ],
    ids=["past", "now", "naive", "not-utc", "not-a-whole-minute"],
)
def test_a_time_not_in_the_future_or_not_a_whole_utc_minute_is_refused_before_any_call(
    timers: TimersUnderTest, when: datetime
) -> None:
    with pytest.raises(ValueError, match="schedule"):
        timers.port.set(NAME, when, WARNING, NOW)
    assert timers.calls == []
    assert timers.schedule(NAME) is None


def test_a_time_a_fraction_of_a_second_past_a_minute_is_refused(timers: TimersUnderTest) -> None:
    with pytest.raises(ValueError, match="schedule"):
        timers.port.set(NAME, WHEN + timedelta(milliseconds=500), WARNING, NOW)
