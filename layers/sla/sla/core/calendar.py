"""Business calendar: weekly opening hours in a time zone, minus holidays and closures.

Modelled on zendesk/biz. The configuration is data (:class:`CalendarConfig`); the calendar turns it
into a timeline of opening intervals in UTC, built lazily one local year at a time, with prefix
sums of business time so that adding and measuring business time are two binary searches.

Semantics:

* Every instant in and out is timezone-aware; results are UTC. Naive datetimes raise ``ValueError``.
* Opening hours are local wall time on a local date; holidays and closures are local dates.
* A day's interval counts the real time elapsed between its local opening and closing instants, so
  daylight-saving changes inside an interval (not the case for 09:00-17:00) count as they happen. A
  wall time that does not exist on a spring-forward night is read with the offset before the change
  (02:30 becomes 03:30 summer time); an ambiguous autumn time means its first occurrence.
* ``add_business_time`` returns the earliest instant at which the duration is used up: a deadline
  that uses up the last second before closing is the closing instant itself (17:00:00), never the
  next morning. Arrivals outside hours start counting at the next opening.
* ``business_time_between(a, b)`` measures ``[a, b)`` and is negative when ``b`` is before ``a``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from bisect import bisect_left as _bisect_left
from bisect import bisect_right as _bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from holidays.holiday_base import HolidayBase
from holidays.registry import COUNTRIES
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["BusinessCalendar", "CalendarConfig", "HolidaySource", "OpeningHours"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A calendar that finds no opening within this many years is misconfigured (or all closed).
_MAX_SEARCH_YEARS = 10
_MIN_YEAR, _MAX_YEAR = 1971, 9998
# The timeline is contiguous from the first year used to the last: a cap on its span keeps one
# far-off instant from building (and holding) thousands of years, about 100 KiB each.
_MAX_SPAN_YEARS = 150
# Memoised remainders (µs -> timedelta) for add_us; bounded: about 3 MB when full.
_REMAINDERS: dict[int, timedelta] = {}
_REMAINDERS_MAX = 1 << 15


def _parse_hhmm(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        h, m = int(hours), int(minutes)
    except ValueError:
        raise ValueError(f"expected HH:MM, got {text!r}") from None
    if h == 24 and m == 0:
        return time.max  # marker for end of day, replaced by next midnight below
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"time out of range: {text!r}")
    return time(h, m)


class OpeningHours(BaseModel):
    """One opening interval of a day, local wall time, ``start`` inclusive, ``end`` exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time  # time.max stands for 24:00

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            start, sep, end = value.partition("-")
            if not sep:
                raise ValueError(f"expected 'HH:MM-HH:MM', got {value!r}")
            start_t = _parse_hhmm(start.strip())
            if start_t == time.max:
                raise ValueError("an interval cannot start at 24:00")
            return {"start": start_t, "end": _parse_hhmm(end.strip())}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if self.end <= self.start:
            raise ValueError("an interval must end after it starts")
        return self

    def __str__(self) -> str:
        end = "24:00" if self.end == time.max else self.end.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}-{end}"


DayHours = Annotated[list[OpeningHours], Field(max_length=24)]


def _check_day(intervals: list[OpeningHours]) -> list[OpeningHours]:
    ordered = sorted(intervals, key=lambda i: i.start)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"intervals {before} and {after} overlap")
    return ordered


_COUNTRY_LOCK = threading.Lock()


@cache
def _country_class(code: str) -> type[HolidayBase] | None:
    """The ``holidays`` class of one country (by any of its codes), importing its module only.

    ``holidays.country_holidays`` imports the package of all countries, a module each, to find
    one: about 40 ms of every cold start. The registry names each country's module, so that
    module alone is loaded (by file, as the package would); anything unexpected falls back to
    the package's own lookup, which is correct, only slower.
    """
    for module_name, (class_name, *codes) in COUNTRIES.items():
        if code != class_name and code not in codes:
            continue
        qualified = f"holidays.countries.{module_name}"
        with _COUNTRY_LOCK:
            module = sys.modules.get(qualified)
            if module is None and "holidays.countries" not in sys.modules:
                path = Path(holidays_lib.__file__).parent / "countries" / f"{module_name}.py"
                spec = importlib.util.spec_from_file_location(qualified, path)
                if spec is not None and spec.loader is not None and path.is_file():
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[qualified] = module
                    try:
                        spec.loader.exec_module(module)
                    except Exception:
                        del sys.modules[qualified]
                        module = None
        found = getattr(module, code, None)  # the module names a class for each of its codes
        if isinstance(found, type) and issubclass(found, HolidayBase):
            return found
        break
    try:  # the package's own lookup
        entity = getattr(holidays_lib, code).get_entity()
    except AttributeError:
        return None
    return entity if isinstance(entity, type) and issubclass(entity, HolidayBase) else None


class HolidaySource(BaseModel):
    """Public holidays from the ``holidays`` package, looked up by local date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code; none: no holidays"
    )
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known(self) -> HolidaySource:
        if self.country is None:
            if self.subdivision is not None:
                raise ValueError("subdivision given without a country")
            return self
        country = _country_class(self.country)
        if country is None:
            raise ValueError(f"the holidays package does not know country {self.country!r}")
        try:
            country(subdiv=self.subdivision, years=[])
        except (NotImplementedError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        return self

    def dates(self, year: int) -> frozenset[date]:
        if self.country is None:
            return frozenset()
        country = _country_class(self.country)
        assert country is not None  # validated
        return frozenset(country(subdiv=self.subdivision, years=year).keys())


class CalendarConfig(BaseModel):
    """The business calendar as data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str
    hours: dict[str, DayHours] = Field(description="weekday name -> opening intervals")
    holidays: HolidaySource = HolidaySource()
    closed_dates: frozenset[date] = frozenset()
    open_dates: dict[date, DayHours] = Field(
        default_factory=dict, description="dates open with these hours, holiday or not"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[OpeningHours]]) -> dict[str, list[OpeningHours]]:
        unknown = sorted(set(value) - set(_WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(_WEEKDAYS)}")
        checked = {day: _check_day(intervals) for day, intervals in value.items()}
        if not any(checked.values()):
            raise ValueError("no opening hours on any weekday")
        return checked

    @field_validator("open_dates")
    @classmethod
    def _open_days(cls, value: dict[date, list[OpeningHours]]) -> dict[date, list[OpeningHours]]:
        return {day: _check_day(intervals) for day, intervals in value.items()}

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarConfig:
        both = sorted(self.closed_dates & set(self.open_dates))
        if both:
            raise ValueError(f"{both[0].isoformat()} is both a closed and an open date")
        return self


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Opening intervals over a span of local years, as epoch microseconds (UTC).

    ``cum_end[i]`` is the business time (µs) from an arbitrary origin to the end of interval ``i``;
    only differences matter, which lets the span grow in both directions.
    """

    first_year: int
    last_year: int
    lo: int  # start of first_year, local midnight, epoch µs
    hi: int  # start of the year after last_year
    starts: list[int]
    ends: list[int]
    cum_end: list[int]
    ends_dt: list[datetime]  # ``ends`` as UTC datetimes, the hot path's results


def to_epoch_us(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: a timezone is required")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def from_epoch_us(us: int) -> datetime:
    """The UTC datetime of epoch microseconds."""
    return _EPOCH + timedelta(microseconds=us)


class BusinessCalendar:
    """Business time arithmetic over a :class:`CalendarConfig`. Thread-safe; years load lazily."""

    def __init__(self, config: CalendarConfig) -> None:
        self.config = config
        self._zone = ZoneInfo(config.timezone)
        self._weekly: tuple[tuple[OpeningHours, ...], ...] = tuple(
            tuple(config.hours.get(day, ())) for day in _WEEKDAYS
        )
        self._lock = threading.Lock()
        self._timeline: _Timeline | None = None

    # -- public API ----------------------------------------------------------------------------

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant at which ``duration`` of business time from ``start`` is used."""
        return self.add_us(to_epoch_us(start), _duration_us(duration))

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time in ``[a, b)``; negative when ``b`` is before ``a``."""
        ua, ub = to_epoch_us(a), to_epoch_us(b)
        return timedelta(microseconds=self._position(ub) - self._position(ua))

    def is_business_time(self, instant: datetime) -> bool:
        us = to_epoch_us(instant)
        tl = self._covering(us)
        i = _bisect_right(tl.starts, us) - 1
        return i >= 0 and us < tl.ends[i]

    def next_opening(self, instant: datetime) -> datetime:
        """``instant`` itself during business hours, else the start of the next opening."""
        us = to_epoch_us(instant)
        while True:
            tl = self._covering(us)
            i = _bisect_right(tl.starts, us) - 1
            if i >= 0 and us < tl.ends[i]:
                return from_epoch_us(us)
            if i + 1 < len(tl.starts):
                return from_epoch_us(tl.starts[i + 1])
            self._grow_forward(tl)

    # -- epoch-microsecond core (the hot path) --------------------------------------------------

    def add_us(self, start: int, duration: int) -> datetime:
        """``add_business_time`` from epoch microseconds: the hot path, kept flat on purpose.

        The result is the end of an opening interval (a datetime built once per interval) minus
        what is left of that interval; those remainders repeat a lot in bulk work (whole seconds
        within a day), so their timedeltas are memoised up to a bound.
        """
        if duration <= 0:
            if duration < 0:
                raise ValueError("duration must not be negative")
            return from_epoch_us(start)
        tl = self._timeline
        if tl is None or not tl.lo <= start < tl.hi:
            tl = self._extend_to(start)
        starts, ends, cum_end = tl.starts, tl.ends, tl.cum_end
        i = _bisect_right(starts, start) - 1
        if i < 0:  # before the span's first opening: nothing elapsed yet
            i = 0
            target = cum_end[0] - (ends[0] - starts[0]) + duration
        else:
            end = ends[i]
            target = cum_end[i] - (end - start if start < end else 0) + duration
        while target > cum_end[-1]:
            tl = self._grow_forward(tl)
            cum_end = tl.cum_end
        j = _bisect_left(cum_end, target, i)
        remainder = cum_end[j] - target
        if remainder == 0:
            return tl.ends_dt[j]
        delta = _REMAINDERS.get(remainder)
        if delta is None:
            delta = timedelta(0, 0, remainder)
            if len(_REMAINDERS) < _REMAINDERS_MAX:
                _REMAINDERS[remainder] = delta
        return tl.ends_dt[j] - delta

    def between_us(self, a: int, b: int) -> int:
        """``business_time_between`` on epoch microseconds."""
        return self._position(b) - self._position(a)

    def _position(self, us: int) -> int:
        """Business µs from the timeline origin up to ``us``."""
        tl = self._covering(us)
        i = _bisect_right(tl.starts, us) - 1
        if i < 0:  # before the first opening of the span: nothing has elapsed since it
            return tl.cum_end[0] - (tl.ends[0] - tl.starts[0])
        end = tl.ends[i]
        return tl.cum_end[i] - (end - us if us < end else 0)

    def _covering(self, us: int) -> _Timeline:
        tl = self._timeline
        if tl is not None and tl.lo <= us < tl.hi:
            return tl
        return self._extend_to(us)

    # -- building -------------------------------------------------------------------------------

    def _extend_to(self, us: int) -> _Timeline:
        year = from_epoch_us(us).astimezone(self._zone).year
        if not _MIN_YEAR < year < _MAX_YEAR:
            raise ValueError(f"instant {from_epoch_us(us).isoformat()} is out of range")
        with self._lock:
            tl = self._timeline
            if tl is None:
                tl = self._build(year, year, None)
            while us < tl.lo:
                tl = self._build(tl.first_year - 1, tl.first_year - 1, tl)
            while us >= tl.hi:
                tl = self._build(tl.last_year + 1, tl.last_year + 1, tl)
            searched = 0
            while not tl.starts:  # a span without any opening cannot place an instant
                searched += 1
                if searched > _MAX_SEARCH_YEARS:
                    raise ValueError(f"the calendar has no opening hours within {searched} years")
                tl = self._build(tl.last_year + 1, tl.last_year + 1, tl)
            self._timeline = tl
            return tl

    def _grow_forward(self, tl: _Timeline) -> _Timeline:
        if tl.last_year + 1 >= _MAX_YEAR:
            raise ValueError("business time runs past the supported range of years")
        with self._lock:
            current = self._timeline or tl
            if current.last_year == tl.last_year:
                current = self._build(tl.last_year + 1, tl.last_year + 1, current)
                self._timeline = current
            return current

    def _build(self, first: int, last: int, base: _Timeline | None) -> _Timeline:
        """A timeline covering ``base`` plus the local years ``first..last`` adjacent to it."""
        if base is not None:
            span = max(last, base.last_year) - min(first, base.first_year) + 1
            if span > _MAX_SPAN_YEARS:
                raise ValueError(
                    f"one calendar covers at most {_MAX_SPAN_YEARS} consecutive years; "
                    f"{first}..{last} is too far from {base.first_year}..{base.last_year}"
                )
        starts: list[int] = []
        ends: list[int] = []
        for year in range(first, last + 1):
            for s, e in self._year_intervals(year):
                starts.append(s)
                ends.append(e)
        lo = self._local_midnight_us(date(first, 1, 1))
        hi = self._local_midnight_us(date(last + 1, 1, 1))
        ends_dt = [from_epoch_us(e) for e in ends]
        if base is None:
            cum = _prefix(starts, ends, 0)
            return _Timeline(first, last, lo, hi, starts, ends, cum, ends_dt)
        if first > base.last_year:  # append
            origin = base.cum_end[-1] if base.cum_end else 0
            cum = _prefix(starts, ends, origin)
            return _Timeline(
                base.first_year,
                last,
                base.lo,
                hi,
                base.starts + starts,
                base.ends + ends,
                base.cum_end + cum,
                base.ends_dt + ends_dt,
            )
        # prepend: the new intervals end where the base's business time begins
        base_origin = (base.cum_end[0] - (base.ends[0] - base.starts[0])) if base.starts else 0
        total = sum(e - s for s, e in zip(starts, ends, strict=True))
        cum = _prefix(starts, ends, base_origin - total)
        # an empty base keeps its origin at the end of the prepended span
        base_cum = base.cum_end if base.starts else []
        return _Timeline(
            first,
            base.last_year,
            lo,
            base.hi,
            starts + base.starts,
            ends + base.ends,
            cum + base_cum,
            ends_dt + base.ends_dt,
        )

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        cfg = self.config
        holidays = cfg.holidays.dates(year)
        out: list[tuple[int, int]] = []
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            if day in cfg.open_dates:
                intervals: tuple[OpeningHours, ...] | list[OpeningHours] = cfg.open_dates[day]
            elif day in holidays or day in cfg.closed_dates:
                intervals = ()
            else:
                intervals = self._weekly[day.weekday()]
            for interval in intervals:
                s = self._local_us(day, interval.start)
                e = (
                    self._local_midnight_us(day + one)
                    if interval.end == time.max
                    else self._local_us(day, interval.end)
                )
                if out and s <= out[-1][1]:  # touching intervals (e.g. 24:00 then 00:00) merge
                    out[-1] = (out[-1][0], max(e, out[-1][1]))
                elif e > s:
                    out.append((s, e))
            day += one
        return out

    def _local_us(self, day: date, wall: time) -> int:
        local = datetime.combine(day, wall, tzinfo=self._zone)
        return to_epoch_us(local)

    def _local_midnight_us(self, day: date) -> int:
        return self._local_us(day, time(0, 0))


def _prefix(starts: list[int], ends: list[int], origin: int) -> list[int]:
    cum: list[int] = []
    total = origin
    for s, e in zip(starts, ends, strict=True):
        total += e - s
        cum.append(total)
    return cum


def _duration_us(duration: timedelta) -> int:
    if not isinstance(duration, timedelta):
        raise TypeError("duration must be a timedelta")
    us = (duration.days * 86_400 + duration.seconds) * _US + duration.microseconds
    if us < 0:
        raise ValueError("duration must not be negative")
    return us
