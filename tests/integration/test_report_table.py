"""``sla report --table``: the ticket table under moto (built from template.yaml), read page by
page, gives the report the export of the same events gives, the what-if included; a missing
table or a refused read is one clear line, never a traceback."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.template import table_kwargs
from sla import Policy, TicketEvent, apply_event, load_policy
from sla.aws.store import DynamoTicketStore, ticket_item
from sla.ports import StoredTicket
from sla.tools import report as report_module
from sla.tools.report import (
    Period,
    Report,
    Side,
    TableReader,
    Tally,
    parse_bound,
    report_from_events,
    report_from_table,
    write_csv,
)
from tests.unit.helpers import utc
from tests.unit.tools.report_week import NOW, week, what_if_policy
from tests.unit.tools.test_cli import run

TABLE = "sla-tickets-report"
ZONE = ZoneInfo("Europe/Bratislava")
PAGE = 3  # items per Scan page: the week's ten tickets and their deliveries span many pages
DEFAULT_POLICY = Path(__file__).parents[2] / "layers/sla/sla/policy.toml"
LEGACY = "T-F"  # written in the first layout: its events inside the ticket item


class PagingClient:
    """The moto client, recording calls and capping Scan and Query pages at ``PAGE`` items."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.real, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            if name in ("scan", "query"):
                kwargs.setdefault("Limit", PAGE)
            return target(**kwargs)

        return call


@pytest.fixture
def client(policy: Policy) -> Iterator[PagingClient]:
    """A table holding the week, each delivery saved as the webhook saves it."""
    with mock_aws():
        real = boto3.client("dynamodb", region_name="eu-central-1")
        real.create_table(**table_kwargs("TicketsTable", TABLE))
        store = DynamoTicketStore(TABLE, policy, real)
        states: dict[str, Any] = {}
        versions: dict[str, int] = {}
        events: dict[str, list[dict[str, Any]]] = {}
        for record in week():
            event = TicketEvent.model_validate(record)
            ticket_id = event.ticket.id
            states[ticket_id] = apply_event(states.get(ticket_id), event, policy)
            versions[ticket_id] = versions.get(ticket_id, 0) + 1
            ticket = StoredTicket(ticket_id, versions[ticket_id], states[ticket_id])
            store.save(ticket, event, datetime(2026, 11, 27, 12, tzinfo=UTC))
            events.setdefault(ticket_id, []).append(event.model_dump(mode="json"))
        # one ticket as the first layout wrote it: its events in the item, no state
        item = ticket_item(StoredTicket(LEGACY, versions[LEGACY], states[LEGACY]), utc(NOW))
        del item["state"]
        item["events"] = {"S": json.dumps(events[LEGACY])}
        real.put_item(TableName=TABLE, Item=item)
        yield PagingClient(real)


@pytest.fixture
def what_if(tmp_path: Path) -> Policy:
    path = tmp_path / "what-if.toml"
    path.write_text(what_if_policy(DEFAULT_POLICY.read_text()))
    return load_policy(path)


def sides(*policies: Policy) -> list[Side]:
    labels = ["current", "what-if"]
    return [Side(labels[i], p, Tally(ZONE)) for i, p in enumerate(policies)]


def csv_of(report: Report) -> str:
    out = io.StringIO()
    write_csv(report, out)
    return out.getvalue()


def from_export(tmp_path: Path, *policies: Policy, period: Period) -> Report:
    path = tmp_path / "week.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in week()))
    return report_from_events(path, sides(*policies), period, utc(NOW), warn=print)


def test_the_table_gives_the_report_of_the_export_of_the_same_events(
    policy: Policy, client: PagingClient, tmp_path: Path
) -> None:
    # Given the week in the table, When the report is read from it
    warnings: list[str] = []
    reader = TableReader(TABLE, policy, client)
    report = report_from_table(reader, sides(policy), Period(), utc(NOW), warn=warnings.append)
    # Then it equals the report of the export, line for line
    assert csv_of(report) == csv_of(from_export(tmp_path, policy, period=Period()))
    assert report.current.tickets == 10 and warnings == []
    # read with one Scan per page, of the ticket items only (no Query without a what-if)
    assert client.calls.count("scan") == reader.pages > 1
    assert "query" not in client.calls
    assert reader.items == 10


def test_the_what_if_refolds_each_tickets_recorded_events_in_the_period(
    policy: Policy, what_if: Policy, client: PagingClient, tmp_path: Path
) -> None:
    # Given the week in the table, When a what-if report of Monday's tickets is read from it
    period = Period(parse_bound("2026-11-23", ZONE), parse_bound("2026-11-24", ZONE))
    report = report_from_table(
        TableReader(TABLE, policy, client), sides(policy, what_if), period, utc(NOW), warn=print
    )
    # Then both sides equal the export's
    assert csv_of(report) == csv_of(from_export(tmp_path, policy, what_if, period=period))
    monday = {"T-A", "T-B", "T-E", "T-F", "T-G", "T-I"}
    assert report.current.tickets == report.sides[1].tickets == len(monday)
    # and only the period's tickets had their events read: one Query each (pages of 3 items)
    assert client.calls.count("query") == len(monday)


def test_long_reads_show_progress_on_standard_error(
    policy: Policy, client: PagingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter(range(0, 10_000, 10))  # every clock reading ten seconds after the last
    monkeypatch.setattr("sla.tools.report.time.monotonic", lambda: next(ticks))
    lines: list[str] = []
    reader = TableReader(TABLE, policy, client)
    report_from_table(reader, sides(policy), Period(), utc(NOW), warn=print, progress=lines.append)
    assert lines[0] == "1 tickets read (1 pages)"
    assert lines[-1] == f"10 tickets read ({reader.pages} pages)"


def test_the_command_reads_the_table(client: PagingClient, tmp_path: Path) -> None:
    csv_path = tmp_path / "table.csv"
    code, out, err = run(["report", "--table", TABLE, "--now", NOW, "--csv", str(csv_path)])
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == f"source: table {TABLE}: 10 tickets"
    assert csv_path.read_text().count("\n") == 6  # the header and the five groups


def test_a_missing_table_is_one_clear_line(client: PagingClient) -> None:
    code, out, err = run(["report", "--table", "no-such-table", "--now", NOW])
    assert (code, out) == (2, "")
    assert err == ("sla report: error: The ticket table scan failed: ResourceNotFoundException\n")


class RefusingClient:
    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
            raise ClientError(error, name)

        return call


def test_a_refused_read_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_module, "_LazyDynamoDB", lambda **_: RefusingClient())
    code, out, err = run(["report", "--table", TABLE, "--now", NOW])
    assert (code, out) == (2, "")
    assert err == "sla report: error: The ticket table scan failed: AccessDeniedException\n"


def test_without_a_region_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, out, err = run(["report", "--table", TABLE, "--now", NOW])
    assert (code, out) == (2, "")
    assert err == "sla report: error: The ticket table scan failed: You must specify a region.\n"
