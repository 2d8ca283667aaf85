"""Laws of business time, and agreement with a slow day-by-day reference implementation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import Policy, load_policy

POLICY = load_policy()
ZONE = ZoneInfo("Europe/Bratislava")

instants = st.datetimes(
    min_value=datetime(2023, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=400))


def reference_add(start: datetime, duration: timedelta) -> datetime:
    """Walk local days from the start's date, consuming each day's 09:00-17:00 opening."""
    remaining = duration
    day = start.astimezone(ZONE).date()
    sk = holidays.country_holidays("SK", years=range(day.year, day.year + 3))
    if remaining == timedelta(0):
        return start
    while True:
        if day.weekday() < 5 and day not in sk:
            opens = datetime.combine(day, time(9), tzinfo=ZONE).astimezone(UTC)
            closes = datetime.combine(day, time(17), tzinfo=ZONE).astimezone(UTC)
            begin = max(opens, start)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(start=instants, duration=durations)
def test_agrees_with_reference(start: datetime, duration: timedelta) -> None:
    assert POLICY.calendar.add_business_time(start, duration) == reference_add(start, duration)


@settings(max_examples=300, deadline=None)
@given(start=instants, duration=durations)
def test_measuring_what_was_added_gives_it_back(start: datetime, duration: timedelta) -> None:
    cal = POLICY.calendar
    assert cal.business_time_between(start, cal.add_business_time(start, duration)) == duration


@settings(max_examples=300, deadline=None)
@given(a=instants, b=instants, duration=durations)
def test_monotone_in_start(a: datetime, b: datetime, duration: timedelta) -> None:
    a, b = min(a, b), max(a, b)
    cal = POLICY.calendar
    assert cal.add_business_time(a, duration) <= cal.add_business_time(b, duration)


@settings(max_examples=300, deadline=None)
@given(start=instants, d1=durations, d2=durations)
def test_monotone_in_duration(start: datetime, d1: timedelta, d2: timedelta) -> None:
    d1, d2 = min(d1, d2), max(d1, d2)
    cal = POLICY.calendar
    assert cal.add_business_time(start, d1) <= cal.add_business_time(start, d2)


@settings(max_examples=300, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_measuring_is_additive_and_antisymmetric(a: datetime, b: datetime, c: datetime) -> None:
    between = POLICY.calendar.business_time_between
    assert between(a, c) == between(a, b) + between(b, c)
    assert between(a, b) == -between(b, a)


@settings(max_examples=200, deadline=None)
@given(start=instants)
def test_deadline_is_business_time_or_closing(start: datetime) -> None:
    """A positive deadline is inside hours, or exactly a closing instant (17:00:00 local)."""
    cal = POLICY.calendar
    deadline = cal.add_business_time(start, timedelta(hours=3))
    local = deadline.astimezone(ZONE)
    assert cal.is_business_time(deadline) or local.time() == time(17)
    assert deadline > start


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31)))
def test_fresh_calendars_agree_whatever_year_loads_first(day: date) -> None:
    """Years load lazily in any order; the timeline must not depend on which came first."""
    fresh: Policy = load_policy()
    start = datetime.combine(day, time(12), tzinfo=UTC)
    fresh.calendar.add_business_time(start, timedelta(hours=1))
    probe = datetime(2025, 6, 2, 7, tzinfo=UTC)
    far = datetime(2028, 12, 29, 7, tzinfo=UTC)
    assert fresh.calendar.business_time_between(probe, far) == (
        POLICY.calendar.business_time_between(probe, far)
    )
