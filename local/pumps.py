"""What AWS does between our functions, done by hand against moto (which does none of it):
read the table's stream into Lambda stream events, and fire due one-time schedules with their
exact input (deleting them after completion). Used by the integration tests and the local stack."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
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


def due_schedules(scheduler: Any, group: str, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Schedules of the group whose ``at()`` has come, with their exact input, oldest first; each
    is deleted, as ``ActionAfterCompletion: DELETE`` does after it fires."""
    due = []
    for summary in scheduler.list_schedules(GroupName=group).get("Schedules", []):
        schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=group)
        when = schedule_time(schedule["ScheduleExpression"])
        if when <= now:
            due.append((when, schedule["Name"], json.loads(schedule["Target"]["Input"])))
    due.sort(key=lambda d: d[0])
    for _, name, _ in due:
        scheduler.delete_schedule(Name=name, GroupName=group)
    return [(name, payload) for _, name, payload in due]
