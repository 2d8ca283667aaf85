"""``sla report`` (contract section 5): outcomes, aggregation and the period, worked out by hand
on a week of tickets (tests/unit/tools/report_week.py); reading an export in any order; the
fast path equal to the webhook's own parsing; the what-if; the command's output and exit
status."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.payloads import ticket_body
from sla import Policy, TicketEvent, load_policy, reduce_events
from sla.core.errors import UnprocessableError
from sla.tools import export_lines
from sla.tools.report import (
    FIRST_RESPONSE,
    EventsReader,
    LineError,
    Outcome,
    Period,
    Report,
    Side,
    Tally,
    fast_event,
    outcomes,
    parse_bound,
    percentile,
    report_from_events,
    validated_event,
    write_csv,
    write_summary,
)
from tests.unit.helpers import utc
from tests.unit.tools.report_week import NOW, week, what_if_policy
from tests.unit.tools.test_cli import run

ZONE = ZoneInfo("Europe/Bratislava")
DEFAULT_POLICY = Path(__file__).parents[3] / "layers/sla/sla/policy.toml"


def write_lines(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def sides(*policies: Policy) -> list[Side]:
    labels = ["current", "what-if"]
    return [Side(labels[i], p, Tally(ZONE)) for i, p in enumerate(policies)]


ALL_TIME = Period()


def build(
    path: Path, *policies: Policy, period: Period = ALL_TIME, now: str = NOW
) -> tuple[Report, list[str]]:
    warnings: list[str] = []
    report = report_from_events(path, sides(*policies), period, utc(now), warn=warnings.append)
    return report, warnings


@pytest.fixture
def what_if(tmp_path: Path) -> Policy:
    path = tmp_path / "what-if.toml"
    path.write_text(what_if_policy(DEFAULT_POLICY.read_text()))
    return load_policy(path)


@pytest.fixture
def week_file(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "week.jsonl", week())


def counts(report: Report, side: int, plan: str, priority: int) -> tuple[Any, ...]:
    g = report.sides[side].tally.groups[(FIRST_RESPONSE, plan, priority)]
    return (g.tickets, g.met, g.breached, g.running, g.exempt, g.no_target, g.achievement)


# -- the week, by hand --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "priority", "expected"),
    [
        # tickets, met, breached, running, exempt, no target, achievement
        ("professional", 1, (1, 1, 0, 0, 0, 0, 1.0)),
        ("professional", 2, (6, 2, 2, 1, 1, 0, 0.5)),
        ("professional", 3, (1, 1, 0, 0, 0, 0, 1.0)),  # T-G: staging asked for P1
        ("advanced", 1, (1, 0, 1, 0, 0, 0, 0.0)),
        ("basic", 2, (1, 0, 0, 0, 0, 1, None)),
    ],
)
def test_counts_and_achievement_by_plan_and_priority(
    policy: Policy, week_file: Path, plan: str, priority: int, expected: tuple[Any, ...]
) -> None:
    # Given the week's export, When it is reported at Friday noon
    report, warnings = build(week_file, policy)
    # Then each group counts its tickets by status, and achievement is met / (met + breached)
    assert counts(report, 0, plan, priority) == expected
    assert warnings == []


def test_only_the_groups_with_tickets_are_there_in_the_policys_plan_order(
    policy: Policy, week_file: Path
) -> None:
    report, _ = build(week_file, policy)
    assert report.group_keys(FIRST_RESPONSE) == [
        (FIRST_RESPONSE, "basic", 2),
        (FIRST_RESPONSE, "professional", 1),
        (FIRST_RESPONSE, "professional", 2),
        (FIRST_RESPONSE, "professional", 3),
        (FIRST_RESPONSE, "advanced", 1),
    ]


def test_the_totals_of_the_metric(policy: Policy, week_file: Path) -> None:
    report, _ = build(week_file, policy)
    total = report.current.tally.totals[FIRST_RESPONSE]
    assert (total.tickets, total.met, total.breached, total.running) == (10, 4, 3, 1)
    assert (total.exempt, total.no_target, total.achievement) == (1, 1, 4 / 7)
    assert report.current.tickets == 10


@pytest.mark.parametrize(
    ("plan", "priority", "clock", "median", "p90"),
    [
        # 2, 2, 7, 8 business hours: (2 + 7) / 2; rank 2.7 -> 7 + 0.7 x (8 - 7)
        ("professional", 2, "business", 4.5, 7.7),
        ("professional", 1, "business", 1.5, 1.5),
        ("advanced", 1, "elapsed", 1.5, 1.5),  # Thursday night: 1.5 h elapsed, 0 in business
        ("basic", 2, "business", 1.0, 1.0),  # no target: business time
    ],
)
def test_median_and_90th_percentile_in_the_targets_clock(
    policy: Policy,
    week_file: Path,
    plan: str,
    priority: int,
    clock: str,
    median: float,
    p90: float,
) -> None:
    report, _ = build(week_file, policy)
    group = report.current.tally.groups[(FIRST_RESPONSE, plan, priority)]
    assert group.clock == clock
    assert group.quantile_hours(0.5) == pytest.approx(median)
    assert group.quantile_hours(0.9) == pytest.approx(p90)


def test_the_breaches_with_their_tickets(policy: Policy, week_file: Path) -> None:
    report, _ = build(week_file, policy)
    breaches = {o.ticket_id: o for o in report.current.tally.breaches[FIRST_RESPONSE]}
    assert sorted(breaches) == ["T-B", "T-E", "T-H"]
    assert breaches["T-E"].deadline == utc("2026-11-24T10:00:00Z")
    assert breaches["T-E"].stopped_at == utc("2026-11-24T12:00:00Z")
    assert breaches["T-E"].took == timedelta(hours=8)
    assert breaches["T-H"].took == timedelta(hours=1.5)


def test_a_running_ticket_past_its_deadline_counts_as_breached(
    policy: Policy, week_file: Path
) -> None:
    # T-D's deadline is Friday 16:00Z: judged a minute later it has breached, still open
    report, _ = build(week_file, policy, now="2026-11-27T16:01:00Z")
    assert counts(report, 0, "professional", 2) == (6, 2, 3, 0, 1, 0, 0.4)
    late = {o.ticket_id: o for o in report.current.tally.breaches[FIRST_RESPONSE]}["T-D"]
    assert (late.stopped_at, late.took) == (None, None)


# -- the what-if ---------------------------------------------------------------------------------


def test_the_what_if_recomputes_the_same_tickets_under_the_proposed_policy(
    policy: Policy, what_if: Policy, week_file: Path
) -> None:
    # Given the week, When reported with P2 proposed at 8 business hours
    report, _ = build(week_file, policy, what_if)
    # Then the current policy's counts are unchanged, and the what-if's beside them
    assert counts(report, 0, "professional", 2) == (6, 2, 2, 1, 1, 0, 0.5)
    assert counts(report, 1, "professional", 2) == (6, 4, 0, 1, 1, 0, 1.0)
    # the other groups keep their targets, so their outcomes
    for plan, priority in [("professional", 1), ("advanced", 1), ("basic", 2)]:
        assert counts(report, 1, plan, priority) == counts(report, 0, plan, priority)
    group = report.sides[1].tally.groups[(FIRST_RESPONSE, "professional", 2)]
    assert group.target == (8, "business")
    assert report.sides[1].tally.totals[FIRST_RESPONSE].achievement == 6 / 7


def test_the_what_if_csv_puts_both_policies_side_by_side(
    policy: Policy, what_if: Policy, week_file: Path
) -> None:
    report, _ = build(week_file, policy, what_if)
    out = io.StringIO()
    write_csv(report, out)
    lines = out.getvalue().splitlines()
    columns = (
        "tickets,met,breached,running,achievement,exempt,no_target,pending,target_hours,clock,"
        "median_hours,p90_hours"
    )
    what_if_columns = ",".join(f"what_if_{c}" for c in columns.split(","))
    assert lines[0] == f"plan,priority,metric,{columns},{what_if_columns}"
    assert lines[1:] == [
        "basic,2,first_response,1,0,0,0,,0,1,0,,business,1,1,1,0,0,0,,0,1,0,,business,1,1",
        "professional,1,first_response,1,1,0,0,1.0000,0,0,0,3,business,1.5,1.5,"
        "1,1,0,0,1.0000,0,0,0,3,business,1.5,1.5",
        "professional,2,first_response,6,2,2,1,0.5000,1,0,0,6,business,4.5,7.7,"
        "6,4,0,1,1.0000,1,0,0,8,business,4.5,7.7",
        "professional,3,first_response,1,1,0,0,1.0000,0,0,0,9,business,8,8,"
        "1,1,0,0,1.0000,0,0,0,9,business,8,8",
        "advanced,1,first_response,1,0,1,0,0.0000,0,0,0,1,elapsed,1.5,1.5,"
        "1,0,1,0,0.0000,0,0,0,1,elapsed,1.5,1.5",
    ]


def test_a_ticket_the_proposed_policy_cannot_classify_is_a_problem_on_that_side_only(
    policy: Policy, tmp_path: Path
) -> None:
    text = DEFAULT_POLICY.read_text().replace("[plans.basic]\ntargets = {}\n", "")
    assert "basic" not in text.split("[plans.", 1)[1].split("]")[0]
    (tmp_path / "no-basic.toml").write_text(text)
    proposed = load_policy(tmp_path / "no-basic.toml")
    path = write_lines(tmp_path / "week.jsonl", week())
    report, warnings = build(path, policy, proposed)
    assert report.current.tickets == 10 and report.sides[1].tickets == 9
    assert report.problems == 1
    assert len(warnings) == 1 and warnings[0].startswith("line ")
    assert "unknown plan" in warnings[0] and warnings[0].endswith("(under what-if)")


# -- the period and the weeks, in the policy's zone ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", "2026-11-22T23:00:00Z"),  # midnight in Bratislava, CET
        ("2026-07-01", "2026-06-30T22:00:00Z"),  # CEST
        ("2026-11-23T09:30", "2026-11-23T08:30:00Z"),  # wall time in the zone
        ("2026-11-23T09:30:00Z", "2026-11-23T09:30:00Z"),  # an instant stays as it is
        ("2026-11-23T09:30:00+05:00", "2026-11-23T04:30:00Z"),
    ],
)
def test_period_bounds_are_read_in_the_policys_zone(text: str, expected: str) -> None:
    assert parse_bound(text, ZONE) == utc(expected)


def test_a_malformed_bound_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a date or an ISO 8601 instant"):
        parse_bound("last week", ZONE)


def test_a_ticket_is_in_the_period_when_created_in_from_to_local_days(
    policy: Policy, tmp_path: Path
) -> None:
    created = {
        "T-sun-late": "2026-11-22T22:59:59Z",  # Sunday 23:59:59 in Bratislava: before
        "T-mon-first": "2026-11-22T23:00:00Z",  # Monday 00:00 local: the first instant in
        "T-mon-last": "2026-11-23T22:59:59Z",  # Monday 23:59:59 local: the last one in
        "T-tue-first": "2026-11-23T23:00:00Z",  # Tuesday 00:00 local: excluded
    }
    records = [
        {"event_id": f"{t}-1", **ticket_body("ticket.created", at, id=t, created_at=at)}
        for t, at in created.items()
    ]
    path = write_lines(tmp_path / "days.jsonl", records)
    period = Period(parse_bound("2026-11-23", ZONE), parse_bound("2026-11-24", ZONE))
    report, _ = build(path, policy, period=period, now="2026-11-25T12:00:00Z")
    assert report.current.tickets == 2
    assert [o.ticket_id for o in report.current.tally.breaches[FIRST_RESPONSE]] == [
        "T-mon-first",
        "T-mon-last",
    ]


def test_weeks_are_local_weeks_from_monday(policy: Policy, tmp_path: Path) -> None:
    created = {"T-sun": "2026-11-22T22:30:00Z", "T-mon": "2026-11-22T23:30:00Z"}
    records = [
        {"event_id": f"{t}-1", **ticket_body("ticket.created", at, id=t, created_at=at)}
        for t, at in created.items()
    ]
    path = write_lines(tmp_path / "weeks.jsonl", records)
    report, _ = build(path, policy, now="2026-11-23T09:00:00Z")
    weeks = {w: g.tickets for (_, w), g in report.current.tally.weeks.items()}
    assert weeks == {date(2026, 11, 16): 1, date(2026, 11, 23): 1}
    assert report.weeks(FIRST_RESPONSE) == [date(2026, 11, 16), date(2026, 11, 23)]


def test_an_empty_period_gives_an_empty_report_that_says_so(
    policy: Policy, week_file: Path
) -> None:
    period = Period(parse_bound("2026-12-01", ZONE), parse_bound("2026-12-08", ZONE))
    report, _ = build(week_file, policy, period=period)
    summary, table = io.StringIO(), io.StringIO()
    write_summary(report, summary)
    write_csv(report, table)
    assert "No tickets were created in this period." in summary.getvalue()
    assert table.getvalue().count("\n") == 1  # the header only


# -- percentiles and outcomes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 10], 0.5, 2.5),
        ([1, 2, 3], 0.5, 2),
        ([5], 0.9, 5),
        (list(range(1, 11)), 0.9, 9.1),  # rank 8.1
        (list(range(1, 11)), 1.0, 10),
        (list(range(1, 11)), 0.0, 1),
    ],
)
def test_percentiles_interpolate_between_closest_ranks(
    values: list[int], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_outcome_of_a_met_ticket(policy: Policy) -> None:
    events = [TicketEvent.model_validate({"event_id": e["event_id"], **e}) for e in week()]
    state = reduce_events([e for e in events if e.ticket.id == "T-C"], policy)
    assert outcomes(state, policy, utc(NOW)) == [
        Outcome(
            ticket_id="T-C",
            metric="first_response",
            cycle=1,
            plan="professional",
            priority=2,
            status="met",
            created_at=utc("2026-11-24T15:00:00Z"),
            started_at=utc("2026-11-24T15:00:00Z"),
            stopped_at=utc("2026-11-25T09:00:00Z"),
            deadline=utc("2026-11-25T13:00:00Z"),
            target_hours=6,
            clock="business",
            took=timedelta(hours=2),
        )
    ]


def test_outcome_of_a_pending_ticket(policy: Policy) -> None:
    # a helpdesk comment on a ticket whose creation has not arrived: no plan, no creation time
    comment = TicketEvent.model_validate(
        {
            "event_id": "c1",
            "type": "ticket.responded",
            "occurred_at": "2026-11-25T10:00:00Z",
            "ticket": {"id": "zendesk:7", "fields": ["status"], "status": "open"},
            "actor": {"type": "agent"},
        }
    )
    [outcome] = outcomes(reduce_events([comment], policy), policy, utc(NOW))
    assert (outcome.status, outcome.plan, outcome.priority) == ("pending", "", None)
    assert (outcome.created_at, outcome.deadline, outcome.took) == (None, None, None)


# -- reading the export ----------------------------------------------------------------------------


def reference(records: list[dict[str, Any]], policy: Policy) -> dict[str, Any]:
    """Each ticket's state as the webhook's reducer gives it from all of its events."""
    by_ticket: dict[str, list[TicketEvent]] = {}
    for r in records:
        event = TicketEvent.model_validate(r)
        by_ticket.setdefault(event.ticket.id, []).append(event)
    return {
        t: reduce_events(events, policy).model_copy(update={"history": None}).model_dump()
        for t, events in by_ticket.items()
    }


def folded(path: Path, policy: Policy) -> tuple[EventsReader, dict[str, Any]]:
    reader = EventsReader([policy], ["current"], utc(NOW), warn=print)
    reader.read(path)
    return reader, {s.ticket_id: s.model_dump() for s in reader.states(0)}


def test_an_export_in_order_is_folded_event_by_event_without_a_refold(
    policy: Policy, week_file: Path
) -> None:
    reader, states = folded(week_file, policy)
    assert states == reference(week(), policy)
    assert reader.refolded == 0


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=5))
def test_any_order_and_repeats_give_the_states_of_in_order_delivery(
    policy: Policy, rng: random.Random, repeats: int
) -> None:
    import tempfile

    # Given the week's events shuffled, some of them delivered twice
    records = week()
    shuffled = records + [rng.choice(records) for _ in range(repeats)]
    rng.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder) / "shuffled.jsonl", shuffled)
        # When the export is read
        reader, states = folded(path, policy)
    # Then every ticket's state is the in-order one, and only tickets seen out of order (or
    # repeated before their last event) were folded again
    assert states == reference(records, policy)
    assert reader.refolded <= len(states)


def test_only_the_tickets_seen_out_of_order_are_folded_again(
    policy: Policy, tmp_path: Path
) -> None:
    records = week()
    late_reply = next(r for r in records if r["event_id"] == "T-A-2")
    records.remove(late_reply)
    records.insert(0, late_reply)  # T-A's reply arrives before its creation
    records.append(records[3])  # and one event repeated at the end
    path = write_lines(tmp_path / "late.jsonl", records)
    reader, states = folded(path, policy)
    assert states == reference(records, policy)
    assert reader.refolded == 1 + (records[3]["ticket"]["id"] != "T-A")


def test_a_ticket_folded_again_finds_its_lines_however_their_json_is_spelled(
    policy: Policy, tmp_path: Path
) -> None:
    # Given a ticket whose id is not ASCII, its lines written escaped, raw and with spaces, and
    # its reply before its creation
    events = [
        {**e, "ticket": {**e["ticket"], "id": "T-\u00e9t\u00e9"}}
        for e in week()
        if e["ticket"]["id"] == "T-A"
    ]
    reply, created = events[1], events[0]
    lines = [
        json.dumps(reply),  # {"id": "T-\u00e9t\u00e9"}
        json.dumps(created, ensure_ascii=False).replace('"id": ', '"id" :  '),
        json.dumps({**reply, "event_id": "again"}, ensure_ascii=False),
    ]
    path = tmp_path / "spelled.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # When the export is read, Then the ticket was folded again from all three lines
    reader, states = folded(path, policy)
    assert reader.refolded == 1
    assert states == reference([reply, created, {**reply, "event_id": "again"}], policy)
    assert states["T-\u00e9t\u00e9"]["events"] == 3


def test_a_delivery_id_used_again_is_a_repeat_as_the_webhook_sees_it(
    policy: Policy, tmp_path: Path
) -> None:
    # Given T-D's reply delivered under the id of its creation (a sender reusing ids)
    records = week()
    creation = next(r for r in records if r["event_id"] == "T-D-1")
    reply = {**creation, "type": "ticket.responded", "occurred_at": "2026-11-27T11:00:00Z"}
    path = write_lines(tmp_path / "reused.jsonl", [*records, reply])
    # When the export is read, Then it is dropped, as the webhook drops a known delivery id
    _, states = folded(path, policy)
    assert states == reference([*records, reply], policy)
    assert states["T-D"]["first_response_at"] is None


def test_a_malformed_line_is_reported_with_its_number_and_the_rest_still_count(
    policy: Policy, tmp_path: Path
) -> None:
    lines = [json.dumps(r) for r in week()]
    lines.insert(2, "{not json")
    lines.insert(5, json.dumps({**week()[0], "event_id": "x", "ticket": {"id": "T-Z"}}))
    lines.insert(7, "")
    lines.insert(8, json.dumps({**week()[0], "event_id": "y", "type": "ticket.merged"}))
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report, warnings = build(path, policy)
    assert warnings == [
        "line 3: not valid JSON in UTF-8",
        "line 6: ticket.created_at: Field required; ticket.plan: Field required",
    ]
    assert report.problems == 2
    assert report.current.tickets == 10  # the unknown type is ignored, as the webhook does


# -- the fast path equals the webhook's parsing ----------------------------------------------------

GOOD = {
    "event_id": "d-1",
    **ticket_body("ticket.responded", "2026-11-25T10:00:00Z", actor="agent"),
}


def line(**changes: Any) -> bytes:
    record = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target = record
        for part in path:
            target = target[part]
        if value is _DROP:
            target.pop(last, None)
        else:
            target[last] = value
    return json.dumps(record).encode()


_DROP = object()
_DEEP = b"[" * 1700 + b"]" * 1700  # JSON nested deeper than msgspec goes


def outcome_of(parse: Any, raw: bytes, policy: Policy) -> Any:
    try:
        event = parse(raw, policy, utc("2026-11-25T12:00:00Z"))
    except LineError as exc:
        return ("error", str(exc))
    return None if event is None else ("event", event.model_dump())


CASES: list[bytes] = [
    line(),
    line(occurred_at="2026-11-25T11:00:00+01:00"),
    line(occurred_at="2026-11-25T10:00:00.123456Z"),
    line(occurred_at="2026-11-25 10:00:00Z"),
    line(occurred_at=1764064800),
    line(occurred_at="2026-11-25T10:00:00"),
    line(occurred_at="2026-11-25T12:06:00Z"),  # more than 5 minutes ahead
    line(occurred_at="1999-12-31T23:59:59Z"),
    line(ticket__plan="PROFESSIONAL"),
    line(ticket__plan="gold"),
    line(ticket__plan=""),
    line(ticket__plan=_DROP),
    line(ticket__priority=None),
    line(ticket__priority=_DROP),
    line(ticket__priority="2"),
    line(ticket__priority=2.0),
    line(ticket__priority=True),
    line(ticket__priority=4),
    line(ticket__environment="Staging"),
    line(ticket__environment=None),
    line(ticket__environment=""),
    line(ticket__environment=_DROP),
    line(ticket__environment="moon"),
    line(ticket__product_stage="BETA"),
    line(ticket__product_stage=""),
    line(ticket__product_stage=None),
    line(ticket__status="pending"),
    line(ticket__status="lost"),
    line(ticket__created_at=_DROP),
    line(ticket__created_at=None),
    line(ticket__created_at="2026-11-25T12:06:00Z"),
    line(ticket__created_at="1999-12-31T23:59:59Z"),
    line(ticket__created_at="2026-11-25T09:00:00-05:00"),
    line(ticket__id="T\u00e9-\U0001f642"),
    line(ticket__id="T\n1"),
    line(ticket__id=""),
    line(ticket__id="x" * 257),
    line(ticket__fields=["plan"]),
    line(ticket__fields=None),
    line(occurred_at="2026-11-25t10:00:00Z"),
    line(occurred_at="2026-11-25T10:00:00z"),
    line(occurred_at="2026-11-25T10:00:00.1234567Z"),
    line(occurred_at="2026-11-25T10:00:00,5Z"),
    line(occurred_at="2026-11-25T10:00:60Z"),
    line(occurred_at="2026-11-25T24:00:00Z"),
    line(occurred_at="2026-11-25T11:00:00+05:60"),
    line(occurred_at="2026-11-25T11:00:00+24:00"),
    line(occurred_at="2026-11-25T11:00:00+0100"),
    line(occurred_at="2026-11-25T09:00:00-00:00"),
    line(occurred_at="2026-02-30T10:00:00Z"),
    line(occurred_at="+2026-11-25T10:00:00Z"),
    line(ticket__created_at="2026-11-25T10:00Z"),
    line(ticket__created_at="2026-11-25"),
    line(ticket__plan="Profes\u0073ional"),
    line(ticket__plan="professional\u0000"),
    line(ticket__id="T-\ud83d\ude42"),
    line(ticket__priority=-1),
    line(ticket__priority=2**70),
    line(ticket__status=None),
    line(ticket__status="PENDING"),
    line(actor__type="x" * 65),
    line(actor__id=None),
    line(actor__id=5),
    line(ticket=None),
    line(ticket=[]),
    line(ticket__origin={"plan": "tag"}),
    line(ticket__origin={}),
    line(ticket__extra={"a": [1, 2]}),
    line(actor=_DROP),
    line(actor=None),
    line(actor={}),
    line(actor={"type": "agent"}),
    line(actor={"type": "agent", "id": None, "name": "x"}),
    line(actor={"type": 5}),
    line(reason="moved to P1"),
    line(reason="x" * 1025),
    line(reason=5),
    line(type="ticket.merged"),
    line(type=["ticket.created"]),
    line(event_id=_DROP),
    line(event_id=""),
    line(event_id=5),
    line(event_id="e" * 257),
    line(nested=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]),
    line(reason="\ud800"),
    b'{"event_id": "d-1", "type": "ticket.created", "x": NaN}',
    b'{"event_id": "d-1", "type": "ticket.created", "x": 1' + b"0" * 4400 + b"}",
    b"[1, 2]",
    b'"text"',
    b"\xef\xbb\xbf" + line(),
    b'{"event_id": "\xff"}',
    line() + b" trailing",
    line().replace(b'"priority": 2', b'"priority": 2, "priority": 3'),
    line().replace(b'"priority": 2', b'"priority": 2, "priority": "3"'),
    line().replace(b'"priority": 2', b'"priority": "3", "priority": 2'),
    line().replace(
        b'"type": "ticket.responded"', b'"type": "ticket.merged", "type": "ticket.responded"'
    ),
    line().replace(b'"plan": "professional"', b'"plan": "Profes\\u0073ional"'),
    line().replace(b'"id": "T-1001"', b'"id": "T-\\ud83d\\ude42"'),
    line().replace(b'"id": "T-1001"', b'"id": "T-\\u00e9"'),
    # nested deeper than msgspec goes, under the fast path's length: in a field it keeps whole
    # (the ticket, the actor) and in one it decodes as anything (a partial snapshot's fields)
    line(ticket="deep").replace(b'"deep"', _DEEP),
    line(actor="deep").replace(b'"deep"', _DEEP),
    line().replace(b'"ticket": {', b'"ticket": {"fields": ' + _DEEP + b", "),
]


@pytest.mark.parametrize("raw", CASES, ids=range(len(CASES)))
def test_the_fast_path_answers_as_the_webhooks_parsing(policy: Policy, raw: bytes) -> None:
    assert outcome_of(fast_event, raw, policy) == outcome_of(validated_event, raw, policy)


def test_the_usual_line_takes_the_fast_path(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the webhook's parsing made unavailable
    def refuse(*_: Any) -> None:
        raise AssertionError("took the validated path")

    monkeypatch.setattr(export_lines, "validated_event", refuse)
    # When usual lines are read (an offset, microseconds, a customer without an id, a status)
    usual = [
        line(),
        line(occurred_at="2026-11-25T11:00:00.5+01:00", actor={"type": "customer"}),
        line(ticket__status="pending", ticket__environment="STAGING", ticket__priority=None),
    ]
    # Then each is an event, equal to what the webhook's parsing gives
    monkeypatch.undo()
    expected = [outcome_of(validated_event, raw, policy) for raw in usual]
    monkeypatch.setattr(export_lines, "validated_event", refuse)
    assert [outcome_of(fast_event, raw, policy) for raw in usual] == expected
    assert all(kind == "event" for kind, _ in expected)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=5),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "2", "professional", "BASIC", "staging", "ga", "beta", "agent", "new"]),
    st.sampled_from(["2026-11-25T10:00:00Z", "2026-11-25T10:00:00", "2030-01-01T00:00:00Z"]),
    st.just(_DROP),
)
FIELDS = [
    "event_id",
    "type",
    "occurred_at",
    "reason",
    "ticket__id",
    "ticket__created_at",
    "ticket__plan",
    "ticket__priority",
    "ticket__environment",
    "ticket__product_stage",
    "ticket__status",
    "actor__type",
    "actor__id",
]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4))
def test_the_fast_path_answers_as_the_webhooks_parsing_for_any_field_values(
    policy: Policy, changes: dict[str, Any]
) -> None:
    raw = line(**changes)
    assert outcome_of(fast_event, raw, policy) == outcome_of(validated_event, raw, policy)


def test_the_webhooks_parsing_rejects_what_the_fast_path_sends_its_way(policy: Policy) -> None:
    # the reference really is the webhook's: the same messages as its 422
    from sla.sources.canonical import payload_events

    record = json.loads(line(ticket__priority="2"))
    with pytest.raises(UnprocessableError):
        payload_events(policy, record, "d-1", utc("2026-11-25T12:00:00Z"))
    assert outcome_of(fast_event, line(ticket__priority="2"), policy) == (
        "error",
        "ticket.priority: Input should be a valid integer",
    )


# -- the command ----------------------------------------------------------------------------------


def test_the_command_prints_a_summary_and_writes_the_csv_and_the_page(
    week_file: Path, tmp_path: Path
) -> None:
    csv_path, html_path = tmp_path / "r.csv", tmp_path / "r.html"
    argv = ["report", "--events", str(week_file), "--now", NOW, "--from", "2026-11-23"]
    code, out, err = run(
        [*argv, "--to", "2026-11-30", "--csv", str(csv_path), "--html", str(html_path)]
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        "SLA report: tickets created from 2026-11-23 00:00 to 2026-11-30 00:00 "
        "(Europe/Bratislava), judged at 2026-11-27T12:00:00Z"
    )
    assert (
        "  professional P2                6       2        2       1    50.0%    4.5h    7.7h"
        in out
    )
    assert (
        "  all                           10       4        3       1    57.1%    2.0h    8.0h"
        in out
    )
    assert csv_path.read_text().startswith("plan,priority,metric,tickets,met,breached,running,")
    assert html_path.read_text().startswith("<!doctype html>")


def test_the_command_goes_on_after_a_bad_line_and_exits_1(week_file: Path) -> None:
    week_file.write_text(week_file.read_text() + "[]\n")
    code, out, err = run(["report", "--events", str(week_file), "--now", NOW])
    assert code == 1
    assert err == "sla report: line 19: expected a JSON object\n"
    assert "  all                           10" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--events", "missing.jsonl"], "cannot read missing.jsonl: No such file or directory"),
        (["--events", "x", "--from", "monday"], "not a date or an ISO 8601 instant"),
        (["--events", "x", "--from", "2026-11-23", "--to", "2026-11-23"], "must come after"),
        (["--events", "x", "--zone", "Mars/Olympus"], "unknown IANA time zone"),
        (["--events", "x", "--now", "2026-11-23T10:00"], "--now needs a timezone"),
        (["--events", "x", "--what-if", "nowhere.toml"], "cannot read policy nowhere.toml"),
    ],
)
def test_bad_arguments_are_one_clear_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["report", *argv])
    assert (code, out) == (2, "")
    assert err.startswith("sla report: error: ") and message in err
    assert err.count("\n") == 1


def test_events_or_table_is_required() -> None:
    code, _, err = run(["report"])
    assert code == 2 and "one of the arguments --events --table is required" in err


def test_the_default_instant_is_now_in_utc(week_file: Path) -> None:
    code, out, _ = run(["report", "--events", str(week_file)])
    judged = out.splitlines()[0].rsplit("judged at ", 1)[1]
    assert code == 0
    assert abs(utc(judged) - datetime.now(UTC)) < timedelta(minutes=5)
