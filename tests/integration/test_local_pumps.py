"""The local scheduler pump's reading of Scheduler under moto: every page of ListSchedules (moto
pages at 50, newest first), a page token gone stale, and a schedule fired as it is now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.pumps import ScheduleBook, live_schedules

GROUP = "pump-test"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def scheduler(aws: None) -> Any:
    client = boto3.client("scheduler")
    client.create_schedule_group(Name=GROUP)
    return client


def arm(scheduler: Any, name: str, at: datetime, *, update: bool = False) -> None:
    call = scheduler.update_schedule if update else scheduler.create_schedule
    call(
        Name=name,
        GroupName=GROUP,
        ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="ENABLED",
        Target={
            "Arn": "arn:aws:lambda:eu-central-1:123456789012:function:notifier",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"name": name, "at": at.isoformat()}),
        },
    )


def test_every_page_of_schedules_is_read_with_its_input(scheduler: Any) -> None:
    # Given 120 schedules: more than two of moto's pages
    for i in range(120):
        arm(scheduler, f"s-{i:03d}", NOW + timedelta(minutes=i))
    # When they are listed
    listed = live_schedules(scheduler, GROUP)
    # Then every one is there, with its expression and exact input
    assert sorted(s.name for s in listed) == [f"s-{i:03d}" for i in range(120)]
    assert all(s.input["at"] == s.at.isoformat() for s in listed)


class DeletingBetweenPages:
    """A Scheduler client that, after the first page, deletes the schedule its token points at
    (as the timers function may while the page is read)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.exceptions = client.exceptions
        self.deleted: list[str] = []

    def list_schedules(self, **kwargs: Any) -> Any:
        page = self.client.list_schedules(**kwargs)
        if "NextToken" not in kwargs and not self.deleted:
            after = self.client.list_schedules(**kwargs, NextToken=page["NextToken"])
            victim = after["Schedules"][0]["Name"]
            self.client.delete_schedule(Name=victim, GroupName=GROUP)
            self.deleted.append(victim)
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_a_schedule_deleted_between_two_pages_starts_the_listing_again(scheduler: Any) -> None:
    # Given 120 schedules, and one deleted while the first page is read
    for i in range(120):
        arm(scheduler, f"s-{i:03d}", NOW + timedelta(minutes=i))
    client = DeletingBetweenPages(scheduler)
    # When they are listed
    listed = live_schedules(client, GROUP)
    # Then the listing is whole without the deleted one
    assert len(client.deleted) == 1
    assert sorted(s.name for s in listed) == sorted(
        f"s-{i:03d}" for i in range(120) if f"s-{i:03d}" not in client.deleted
    )


def test_a_schedule_moved_after_the_listing_fires_at_its_new_time(scheduler: Any) -> None:
    # Given a book that listed a schedule due now, which is then moved an hour later
    arm(scheduler, "moved", NOW)
    book = ScheduleBook(scheduler, GROUP)
    assert [s.name for s in book.due(NOW)] == ["moved"]
    arm(scheduler, "moved", NOW + timedelta(hours=1), update=True)
    # When the pump takes it, now and an hour later
    early = book.take("moved", NOW)
    later = book.take("moved", NOW + timedelta(hours=1))
    # Then it does not fire now, and fires then with its input as it is then, once
    assert early is None
    assert later == {"name": "moved", "at": (NOW + timedelta(hours=1)).isoformat()}
    assert book.take("moved", NOW + timedelta(hours=1)) is None
    assert live_schedules(scheduler, GROUP) == []
