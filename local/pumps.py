"""What AWS does between our functions, done by hand against moto (which does none of it):
read the table's stream into Lambda stream events, and fire due one-time schedules with their
exact input (deleting them after completion). Used by the integration tests and the local stack."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


class StreamReader:
    """Reads a table's stream from the start, shard by shard, remembering where it stopped."""

    def __init__(self, dynamodb: Any, streams: Any, table_name: str) -> None:
        self.streams = streams
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.region = self.arn.split(":")[3]
        self._iterators: dict[str, str | None] = {}

    def positions(self) -> list[str]:
        """The shard iterators this reader will use next."""
        return [i for i in self._iterators.values() if i is not None]

    def _shards(self) -> Iterator[str]:
        description = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        for shard in description["Shards"]:
            yield shard["ShardId"]

    def poll(self, limit: int = 1000) -> list[dict[str, Any]]:
        """New records (at most ``limit`` per shard), as the ``Records`` of a Lambda DynamoDB
        stream event."""
        records: list[dict[str, Any]] = []
        for shard in self._shards():
            iterator = self._iterators.get(shard)
            if shard not in self._iterators:
                iterator = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            if iterator is None:
                continue
            page = self.streams.get_records(ShardIterator=iterator, Limit=limit)
            self._iterators[shard] = page.get("NextShardIterator")
            for record in page["Records"]:
                records.append(
                    {
                        **record,
                        "eventSource": "aws:dynamodb",
                        "eventSourceARN": self.arn,
                        "awsRegion": self.region,
                    }
                )
        # as Lambda would hand them over: plain JSON (the API gives datetimes)
        plain: list[dict[str, Any]] = json.loads(json.dumps(records, default=str))
        return plain


def schedule_time(expression: str) -> datetime:
    match = _AT.fullmatch(expression)
    if match is None:
        raise ValueError(f"not a one-time schedule: {expression}")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)


@dataclass(frozen=True)
class LiveSchedule:
    """A schedule as Scheduler holds it: its ``at()`` expression and exact input."""

    name: str
    expression: str
    input: dict[str, Any]
    modified: datetime  # LastModificationDate: the expression and input change only with it

    @property
    def at(self) -> datetime:
        return schedule_time(self.expression)


class Cancelled(Exception):
    """A listing given up half-way because its caller is stopping."""


def _never() -> bool:
    return False


def live_schedules(
    scheduler: Any,
    group: str,
    known: Mapping[str, LiveSchedule] | None = None,
    cancelled: Callable[[], bool] = _never,
) -> list[LiveSchedule]:
    """Every schedule of the group, newest first. ``ListSchedules`` answers in pages (moto: 50
    a page, newest first), read here to the last ``NextToken``; it gives no expression and no
    input, so each schedule is read with ``GetSchedule``, unless ``known`` holds it at the same
    ``LastModificationDate``. A schedule deleted in between is left out; a page token that went
    stale because its schedule was deleted meanwhile (moto: ``InvalidToken``) starts the
    listing again. Raises ``Cancelled`` between two calls once ``cancelled()`` says so."""
    from botocore.exceptions import ClientError

    known = known or {}
    for attempt in range(5):
        try:
            summaries = _summaries(scheduler, group, cancelled)
            break
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidToken" or attempt == 4:
                raise
    found = []
    for summary in summaries:
        if cancelled():
            raise Cancelled
        name, modified = summary["Name"], summary["LastModificationDate"]
        cached = known.get(name)
        if cached is not None and cached.modified == modified:
            found.append(cached)
            continue
        schedule = read_schedule(scheduler, group, name)
        if schedule is not None:
            found.append(schedule)
    return found


def _summaries(scheduler: Any, group: str, cancelled: Callable[[], bool]) -> list[dict[str, Any]]:
    summaries: list[dict[str, Any]] = []
    page = scheduler.list_schedules(GroupName=group, MaxResults=100)
    summaries.extend(page.get("Schedules", []))
    while page.get("NextToken"):
        if cancelled():
            raise Cancelled
        page = scheduler.list_schedules(
            GroupName=group, MaxResults=100, NextToken=page["NextToken"]
        )
        summaries.extend(page.get("Schedules", []))
    return summaries


def read_schedule(scheduler: Any, group: str, name: str) -> LiveSchedule | None:
    """One schedule with ``GetSchedule``; None when it does not exist (any more)."""
    try:
        schedule = scheduler.get_schedule(Name=name, GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return LiveSchedule(
        name=schedule["Name"],
        expression=schedule["ScheduleExpression"],
        input=json.loads(schedule["Target"]["Input"]),
        modified=schedule["LastModificationDate"],
    )


def complete(scheduler: Any, group: str, name: str) -> bool:
    """Delete a schedule that fired, as ``ActionAfterCompletion: DELETE`` does; False when it
    was gone already (then it does not fire: someone deleted it first)."""
    try:
        scheduler.delete_schedule(Name=name, GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return False
    return True


def due_schedules(scheduler: Any, group: str, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Schedules of the group whose ``at()`` has come, with their exact input, oldest first; each
    is deleted, as ``ActionAfterCompletion: DELETE`` does after it fires."""
    due = sorted((s for s in live_schedules(scheduler, group) if s.at <= now), key=_when)
    return [(s.name, s.input) for s in due if complete(scheduler, group, s.name)]


def _when(schedule: LiveSchedule) -> tuple[datetime, str]:
    return schedule.at, schedule.name


class ScheduleBook:
    """The live schedules of a group as last listed, for a pump that fires them over and over.

    Listing thousands of schedules takes seconds in moto (every page sorts the whole group), so
    the book lists again only when the schedules may have changed (``changed()``) and the clock
    has moved at least ``RELIST`` past the last listing. That misses nothing due: the timers and
    the notifier never write an ``at()`` less than a minute ahead of their clock
    (``sla.timers.fire_at``), so a schedule written since the last listing is not due before
    ``RELIST`` has passed. What the book offers is read again before it fires (``take``), so a
    schedule moved or deleted since the listing fires as it is now, or not at all."""

    RELIST = timedelta(seconds=30)

    def __init__(self, scheduler: Any, group: str, cancelled: Callable[[], bool] = _never) -> None:
        self.scheduler = scheduler
        self.group = group
        self.cancelled = cancelled
        self._schedules: dict[str, LiveSchedule] = {}
        self._listed_at: datetime | None = None
        self._changed = True

    def changed(self) -> None:
        """Something that writes schedules ran."""
        self._changed = True

    def due(self, now: datetime) -> list[LiveSchedule]:
        """The schedules whose ``at()`` has come, oldest first."""
        stale = self._listed_at is None or (self._changed and now >= self._listed_at + self.RELIST)
        if stale:
            listed = live_schedules(self.scheduler, self.group, self._schedules, self.cancelled)
            self._schedules = {s.name: s for s in listed}
            self._changed = False  # nothing writes schedules while the pump lists them
            self._listed_at = now
        return sorted((s for s in self._schedules.values() if s.at <= now), key=_when)

    def take(self, name: str, now: datetime) -> dict[str, Any] | None:
        """Fire a schedule: its input as it is now, and the schedule deleted; None when it is
        gone or no longer due (then the book keeps what it found)."""
        schedule = read_schedule(self.scheduler, self.group, name)
        if schedule is None or schedule.at > now:
            self._forget(name, schedule)
            return None
        self._schedules.pop(name, None)
        return schedule.input if complete(self.scheduler, self.group, name) else None

    def _forget(self, name: str, current: LiveSchedule | None) -> None:
        if current is None:
            self._schedules.pop(name, None)
        else:
            self._schedules[name] = current
