"""The business calendar, read as a specification.

Bratislava is UTC+1 in winter (CET) and UTC+2 in summer (CEST); in 2026 summer time starts on
Sunday 29 March and ends on Sunday 25 October. Every expected instant below was computed by hand.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from sla import BusinessCalendar, CalendarConfig, Policy
from tests.unit.helpers import utc

H = timedelta(hours=1)
WEEKDAYS_9_TO_5 = {
    day: ["09:00-17:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def calendar(**overrides: object) -> BusinessCalendar:
    data: dict[str, object] = {"timezone": "Europe/Bratislava", "hours": WEEKDAYS_9_TO_5}
    data.update(overrides)
    return BusinessCalendar(CalendarConfig.model_validate(data))


@pytest.mark.parametrize(
    ("start", "hours", "expected", "why"),
    [
        (
            "2026-11-27T15:30:00Z",
            3,
            "2026-11-30T10:30:00Z",
            "Fri 16:30 + 3 h: 30 min Fri, 2.5 h Mon",
        ),
        (
            "2026-11-28T10:00:00Z",
            3,
            "2026-11-30T11:00:00Z",
            "Saturday arrival counts from Mon 09:00",
        ),
        ("2026-11-29T23:30:00Z", 3, "2026-11-30T11:00:00Z", "Mon 00:30 local, before opening"),
        ("2026-11-25T07:59:59Z", 3, "2026-11-25T11:00:00Z", "08:59:59: starts at 09:00"),
        ("2026-11-25T08:00:00Z", 3, "2026-11-25T11:00:00Z", "09:00:00 exactly"),
        ("2026-11-25T15:59:59Z", 3, "2026-11-26T10:59:59Z", "16:59:59: one second, then Thu"),
        ("2026-11-25T16:00:00Z", 3, "2026-11-26T11:00:00Z", "17:00:00 is closed"),
        ("2026-11-25T13:00:00Z", 3, "2026-11-25T16:00:00Z", "lands on 17:00:00 and stays there"),
        ("2026-11-23T08:00:00Z", 8, "2026-11-23T16:00:00Z", "a whole day ends at 17:00"),
        ("2026-11-23T08:00:00Z", 9, "2026-11-24T09:00:00Z", "9 h from Mon 09:00: Tue 10:00"),
        ("2026-11-27T16:00:00Z", 1, "2026-11-30T09:00:00Z", "Fri 17:00 + 1 h: Mon 10:00"),
        ("2026-12-23T15:00:00Z", 3, "2026-12-28T10:00:00Z", "Christmas: 24-26 Dec closed"),
        ("2026-12-31T14:00:00Z", 3, "2027-01-04T09:00:00Z", "New Year: 1 Jan closed"),
        ("2027-01-05T15:00:00Z", 3, "2027-01-07T10:00:00Z", "Epiphany, 6 Jan, closed"),
        ("2026-03-27T15:00:00Z", 3, "2026-03-30T09:00:00Z", "spring DST weekend: CET in, CEST out"),
        ("2026-10-23T14:00:00Z", 3, "2026-10-26T10:00:00Z", "autumn DST weekend: CEST in, CET out"),
        ("2026-03-27T15:00:00Z", 40, "2026-04-07T14:00:00Z", "over DST and Easter (3 and 6 Apr)"),
        ("2023-09-01T07:00:00Z", 3, "2023-09-04T10:00:00Z", "1 Sep 2023 was a holiday"),
        (
            "2025-09-01T07:00:00Z",
            3,
            "2025-09-01T10:00:00Z",
            "1 Sep 2025 is not (dropped from 2024)",
        ),
        ("2023-11-17T08:00:00Z", 3, "2023-11-20T11:00:00Z", "17 Nov 2023 was a holiday"),
        (
            "2025-11-17T08:00:00Z",
            3,
            "2025-11-17T11:00:00Z",
            "17 Nov 2025 is not (dropped from 2025)",
        ),
        ("2025-05-08T07:00:00Z", 3, "2025-05-09T10:00:00Z", "8 May 2025 was a holiday"),
        ("2026-05-08T07:00:00Z", 3, "2026-05-08T10:00:00Z", "8 May 2026 is not"),
        ("2025-09-15T07:00:00Z", 3, "2025-09-16T10:00:00Z", "15 Sep 2025 was a holiday"),
        ("2026-09-15T07:00:00Z", 3, "2026-09-15T10:00:00Z", "15 Sep 2026 is not"),
        ("2026-11-27T16:30:00+01:00", 3, "2026-11-30T10:30:00Z", "input at +01:00"),
        ("2026-11-27T10:30:00-05:00", 3, "2026-11-30T10:30:00Z", "input at -05:00"),
        ("2026-11-27T21:00:00+05:30", 3, "2026-11-30T10:30:00Z", "input at +05:30"),
        ("2026-11-25T08:00:00.250000Z", 3, "2026-11-25T11:00:00.250000Z", "microseconds kept"),
        ("2026-12-31T15:59:59.999999Z", 0, "2026-12-31T15:59:59.999999Z", "zero adds nothing"),
    ],
)
def test_add_business_time(
    policy: Policy, start: str, hours: float, expected: str, why: str
) -> None:
    result = policy.calendar.add_business_time(utc(start), timedelta(hours=hours))
    assert result == utc(expected), why
    assert result.utcoffset() == timedelta(0), "results are UTC"


@pytest.mark.parametrize(
    ("a", "b", "seconds"),
    [
        ("2026-11-27T14:00:00Z", "2026-11-30T10:00:00Z", 4 * 3600),
        ("2026-11-28T00:00:00Z", "2026-11-29T23:00:00Z", 0),
        ("2026-11-25T07:59:59Z", "2026-11-25T08:00:01Z", 1),
        ("2026-11-25T15:59:59Z", "2026-11-25T16:00:00Z", 1),
        ("2026-11-25T16:00:00Z", "2026-11-25T16:00:01Z", 0),
        ("2026-11-22T23:00:00Z", "2026-11-29T23:00:00Z", 40 * 3600),
        ("2026-12-20T23:00:00Z", "2026-12-27T23:00:00Z", 24 * 3600),
        ("2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z", 40 * 3600),
        ("2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z", 40 * 3600),
        ("2026-11-30T10:00:00Z", "2026-11-27T14:00:00Z", -4 * 3600),
        ("2026-11-25T08:00:00Z", "2026-11-25T08:00:00Z", 0),
    ],
)
def test_business_time_between(policy: Policy, a: str, b: str, seconds: int) -> None:
    assert policy.calendar.business_time_between(utc(a), utc(b)) == timedelta(seconds=seconds)


def test_business_time_keeps_microseconds(policy: Policy) -> None:
    a, b = utc("2026-11-25T08:00:00.000001Z"), utc("2026-11-25T08:00:00.500000Z")
    assert policy.calendar.business_time_between(a, b) == timedelta(microseconds=499_999)


@pytest.mark.parametrize(
    ("instant", "open_"),
    [
        ("2026-11-25T07:59:59.999999Z", False),
        ("2026-11-25T08:00:00Z", True),
        ("2026-11-25T15:59:59.999999Z", True),
        ("2026-11-25T16:00:00Z", False),
        ("2026-11-28T12:00:00Z", False),
        ("2026-12-24T10:00:00Z", False),
        ("2026-07-01T07:00:00Z", True),
        ("2026-07-01T06:59:59Z", False),
    ],
)
def test_is_business_time(policy: Policy, instant: str, open_: bool) -> None:
    assert policy.calendar.is_business_time(utc(instant)) is open_


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-11-28T12:00:00Z", "2026-11-30T08:00:00Z"),
        ("2026-11-27T16:00:00Z", "2026-11-30T08:00:00Z"),
        ("2026-11-25T10:15:00Z", "2026-11-25T10:15:00Z"),
        ("2026-12-23T16:00:00Z", "2026-12-28T08:00:00Z"),
        ("2026-03-28T12:00:00Z", "2026-03-30T07:00:00Z"),
    ],
)
def test_next_opening(policy: Policy, instant: str, expected: str) -> None:
    assert policy.calendar.next_opening(utc(instant)) == utc(expected)


@pytest.mark.parametrize(
    "call",
    [
        lambda c, naive: c.add_business_time(naive, timedelta(hours=1)),
        lambda c, naive: c.business_time_between(naive, naive),
        lambda c, naive: c.is_business_time(naive),
        lambda c, naive: c.next_opening(naive),
    ],
)
def test_naive_datetimes_are_rejected(policy: Policy, call: object) -> None:
    from datetime import datetime

    naive = datetime(2026, 11, 25, 9, 0)
    with pytest.raises(ValueError, match="naive"):
        call(policy.calendar, naive)  # type: ignore[operator]


def test_negative_duration_is_rejected(policy: Policy) -> None:
    with pytest.raises(ValueError, match="negative"):
        policy.calendar.add_business_time(utc("2026-11-25T08:00:00Z"), -H)


def test_split_days_and_lunch_break() -> None:
    cal = calendar(hours={"monday": ["13:00-17:00", "09:00-12:00"]})
    # Mon 11:00 CET + 2 h: 1 h before lunch, 1 h after
    assert cal.add_business_time(utc("2026-11-23T10:00:00Z"), 2 * H) == utc("2026-11-23T13:00:00Z")
    # 7 h a week: 4 h from Mon 13:00 uses the afternoon exactly, ending at 17:00
    assert cal.add_business_time(utc("2026-11-23T12:00:00Z"), 4 * H) == utc("2026-11-23T16:00:00Z")
    assert cal.add_business_time(utc("2026-11-23T12:00:00Z"), 5 * H) == utc("2026-11-30T09:00:00Z")


def test_round_the_clock_day_counts_real_hours_on_dst_sunday() -> None:
    cal = calendar(hours={"sunday": ["00:00-24:00"]}, holidays={"country": None})
    # 29 Mar 2026 has 23 real hours, 25 Oct 2026 has 25
    spring = cal.business_time_between(utc("2026-03-28T00:00:00Z"), utc("2026-03-30T00:00:00Z"))
    autumn = cal.business_time_between(utc("2026-10-24T00:00:00Z"), utc("2026-10-26T00:00:00Z"))
    assert (spring, autumn) == (23 * H, 25 * H)


def test_extra_closed_and_open_dates() -> None:
    cal = calendar(
        closed_dates=[date(2026, 11, 26)],
        open_dates={"2026-11-28": ["10:00-12:00"], "2026-12-24": ["09:00-11:00"]},
    )
    # Wed 16:00 CET + 2 h: 1 h Wed, Thu closed, 1 h Fri
    assert cal.add_business_time(utc("2026-11-25T15:00:00Z"), 2 * H) == utc("2026-11-27T09:00:00Z")
    # Fri 16:00 CET + 3 h: 1 h Fri, 2 h on the open Saturday ending at 12:00 CET
    assert cal.add_business_time(utc("2026-11-27T15:00:00Z"), 3 * H) == utc("2026-11-28T11:00:00Z")
    # Christmas Eve opened 09:00-11:00 although it is a holiday
    assert cal.is_business_time(utc("2026-12-24T08:30:00Z"))


def test_subdivision_holidays() -> None:
    # Bavaria (DE-BY) closes on Epiphany, Berlin (DE-BE) does not
    by = calendar(timezone="Europe/Berlin", holidays={"country": "DE", "subdivision": "BY"})
    be = calendar(timezone="Europe/Berlin", holidays={"country": "DE", "subdivision": "BE"})
    epiphany = utc("2027-01-06T10:00:00Z")
    assert (by.is_business_time(epiphany), be.is_business_time(epiphany)) == (False, True)


def test_across_many_years_in_both_directions(policy: Policy) -> None:
    cal = policy.calendar
    late = utc("2031-06-02T07:00:00Z")  # Monday 09:00 CEST
    early = utc("2019-06-03T07:00:00Z")  # Monday 09:00 CEST
    assert cal.add_business_time(late, 8 * H) == utc("2031-06-02T15:00:00Z")
    assert cal.add_business_time(early, 8 * H) == utc("2019-06-03T15:00:00Z")
    span = cal.business_time_between(early, late)
    assert span == cal.business_time_between(early, utc("2025-01-01T00:00:00Z")) + (
        cal.business_time_between(utc("2025-01-01T00:00:00Z"), late)
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "unknown IANA time zone"),
        ({"hours": {"funday": ["09:00-17:00"]}}, "unknown weekday"),
        ({"hours": {"monday": ["17:00-09:00"]}}, "end after it starts"),
        ({"hours": {"monday": ["9-17"]}}, "expected HH:MM"),
        ({"hours": {"monday": ["09:00-13:00", "12:00-17:00"]}}, "overlap"),
        ({"hours": {"monday": []}}, "no opening hours"),
        ({"holidays": {"country": "XX"}}, "does not know country"),
        ({"closed_dates": ["2026-12-24"], "open_dates": {"2026-12-24": []}}, "both"),
    ],
)
def test_bad_calendar_config(override: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        calendar(**override)


_HOLIDAYS_CHILD = """
import json, sys
from sla.core.calendar import HolidaySource, _country_class

sources = [("SK", None), ("DE", "BY"), ("DE", "BE"), ("US", "CA"), ("GB", "SCT"), ("CZ", None),
           ("AT", None), ("FR", None), ("PL", None), ("AU", "NSW"), ("JP", None), ("BR", None)]
years = (2024, 2025, 2026, 2027)
if sys.argv[1] == "package":
    import holidays
    import holidays.countries
    from holidays.registry import COUNTRIES

    for module, (name, *codes) in COUNTRIES.items():
        for code in (name, *codes):
            assert _country_class(code) is getattr(holidays, code).get_entity(), code
    found = {f"{c}-{s}-{y}": sorted(map(str, holidays.country_holidays(c, subdiv=s, years=y)))
             for c, s in sources for y in years}
else:
    found = {f"{c}-{s}-{y}": sorted(map(str, HolidaySource(country=c, subdivision=s).dates(y)))
             for c, s in sources for y in years}
    assert "holidays.countries" not in sys.modules, "the package of all countries was imported"
print(json.dumps(found))
"""


def test_one_country_module_gives_the_packages_holidays() -> None:
    """Only the configured country's module is imported (a cold-start saving), and its holidays
    are the package's own: a dozen countries and subdivisions loaded that way, compared with a
    process that imported the package whole; and the same class for every code it knows."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {"PYTHONPATH": f"{root / 'layers' / 'sla'}{os.pathsep}{root}"}
    answers = []
    for mode in ("ours", "package"):
        done = subprocess.run(
            [sys.executable, "-c", _HOLIDAYS_CHILD, mode],
            capture_output=True,
            text=True,
            check=False,
            cwd=root,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        answers.append(json.loads(done.stdout))
    ours, package = answers
    assert ours == package
    assert "2026-12-24" in ours["SK-None-2026"] and "2026-01-06" in ours["DE-BY-2026"]


def test_a_far_off_instant_is_refused_not_built_up_to(policy: Policy) -> None:
    """The timeline is contiguous from the first year used: one instant centuries away would
    build every year in between. The span is capped at 150 years, with a clear error."""
    from sla import load_policy

    cal = load_policy().calendar  # a fresh calendar, not the session's shared one
    assert cal.add_business_time(utc("2026-11-25T09:00:00Z"), 1 * H) == utc("2026-11-25T10:00:00Z")
    with pytest.raises(ValueError, match="at most 150 consecutive years"):
        cal.add_business_time(utc("2300-01-03T09:00:00Z"), 1 * H)
    timeline = cal._timeline
    assert timeline is not None
    assert timeline.last_year - timeline.first_year < 150
    backwards = load_policy().calendar
    assert backwards.is_business_time(utc("2130-01-03T09:00:00Z"))
    with pytest.raises(ValueError, match="at most 150 consecutive years"):
        backwards.is_business_time(utc("1975-01-03T09:00:00Z"))
    # within the span everything still works, in both directions
    assert cal.business_time_between(utc("2000-01-03T09:00:00Z"), utc("2000-01-03T10:00:00Z")) == H
