"""``sla report --jobs N``: the tickets shared out among worker processes give the report of one
process, byte for byte (summary, CSV, page, problems and exit status), on a small sample export
with every metric, lines out of order and repeated, bad lines and a what-if; each bad line is
reported once, with its number, in the order of the file; the cheap look that sends a line to
its share never sends it elsewhere than its ticket; merged tallies are the tally of all."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.report_sample import END, sample_lines
from sla import Policy, TicketEvent, load_policy
from sla.tools.report import (
    EventsReader,
    Group,
    LineError,
    Outcome,
    Period,
    Side,
    Tally,
    line_maybe_of,
    line_share,
    outcomes,
    report_from_events,
    ticket_share,
    validated_event,
)
from tests.unit.tools.test_cli import run

POLICIES = Path(__file__).parents[3] / "layers/sla/sla/policies"
NOW = "2026-11-30T06:00:00Z"
P2 = '2 = { hours = 6, clock = "business" }'

# bad lines, put into the export at these line numbers (1-based, in the final file)
BAD = {
    3: "{not json",  # nothing to tell its ticket by
    40: "[]",
    77: json.dumps({"event_id": "x-1", "type": "ticket.created"}),  # no ticket at all
    # a ticket's id, a bad field: the share of that ticket reports it
    150: json.dumps(
        {
            "event_id": "x-2",
            "type": "ticket.responded",
            "occurred_at": "2026-11-20T10:00:00Z",
            "ticket": {"id": "T-0000007", "created_at": "2026-11-20T09:00:00Z", "plan": 1},
        }
    ),
    # an escaped id: the look cannot place it, every worker parses it, one reports it
    401: '{"event_id": "x-3", "type": "ticket.created", "ticket": {"id": "T-\\u00e9"}}',
    # an object inside the ticket: the look cannot place it either
    402: json.dumps(
        {
            "event_id": "x-4",
            "type": "ticket.solved",
            "occurred_at": "2026-11-20T10:00:00Z",
            "ticket": {"id": "T-0000009", "created_at": "nope", "x": {"id": "T-0000010"}},
        }
    ),
    900: "null",
}
BLANK = 500  # a blank line: no problem
UNKNOWN = 501  # an unknown event type: ignored, as the webhook ignores it


def export(path: Path) -> Path:
    """300 tickets over three weeks under every metric, one event in fifty delivered up to a
    day late, forty lines repeated, and the lines above."""
    rng = random.Random(7)
    lines = list(sample_lines(300, weeks=3, late=0.02, policy=load_policy(_all_metrics())))
    for _ in range(40):
        lines.insert(rng.randrange(len(lines)), rng.choice(lines))
    unknown = {**json.loads(lines[10]), "event_id": "x-5", "type": "ticket.merged"}
    extra = {**BAD, BLANK: "", UNKNOWN: json.dumps(unknown)}
    for number in sorted(extra):
        lines.insert(number - 1, extra[number])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _all_metrics() -> Path:
    return POLICIES / "all-metrics.toml"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("jobs")
    text = _all_metrics().read_text()
    # the proposal: Professional P2 in 4 business hours, and no Basic plan (its tickets are
    # problems under it, line by line, and ticket by ticket where they are folded again)
    assert text.count(P2) == 1 and text.count("[plans.basic]\ntargets = {}\n") == 1
    proposed = text.replace(P2, '2 = { hours = 4, clock = "business" }')
    (folder / "proposed.toml").write_text(proposed.replace("[plans.basic]\ntargets = {}\n", ""))
    return {"events": export(folder / "events.jsonl"), "proposed": folder / "proposed.toml"}


def report(files: dict[str, Path], jobs: int, *extra: str) -> tuple[int, str, str, bytes, bytes]:
    out = files["events"].parent / f"jobs-{jobs}"
    out.mkdir(exist_ok=True)
    code, stdout, stderr = run(
        [
            "report",
            "--events",
            str(files["events"]),
            "--policy",
            str(_all_metrics()),
            "--now",
            NOW,
            "--csv",
            str(out / "r.csv"),
            "--html",
            str(out / "r.html"),
            "--jobs",
            str(jobs),
            *extra,
        ]
    )
    return code, stdout, stderr, (out / "r.csv").read_bytes(), (out / "r.html").read_bytes()


# -- the same report --------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [2, 3])
def test_several_processes_give_the_report_of_one_byte_for_byte(
    files: dict[str, Path], jobs: int
) -> None:
    # Given the sample export with a what-if the Basic tickets are problems under
    what_if = ("--what-if", str(files["proposed"]))
    one = report(files, 1, *what_if)
    # When it is reported by several processes
    several = report(files, jobs, *what_if)
    # Then the summary, the problems on standard error, the CSV, the page and the exit status
    # are those of one process
    assert several == one
    code, stdout, stderr, _, _ = one
    assert code == 1 and "next_reply" in stdout and "what-if:" in stdout
    assert "(under proposed.toml)" in stderr and "\nsla report: ticket T-" in stderr


def test_each_bad_line_is_reported_once_with_its_number_in_the_order_of_the_file(
    files: dict[str, Path],
) -> None:
    code, stdout, stderr, _, _ = report(files, 3)
    assert code == 1
    numbers = [int(line.split(": ")[1].removeprefix("line ")) for line in stderr.splitlines()]
    assert numbers == sorted(BAD)
    assert f"problems: {len(BAD)}, reported on standard error" in stdout


def test_a_file_that_cannot_be_read_is_one_clear_line_before_any_worker_starts(
    tmp_path: Path,
) -> None:
    code, out, err = run(["report", "--events", str(tmp_path / "none.jsonl"), "--jobs", "2"])
    assert (code, out) == (2, "")
    assert (
        err
        == f"sla report: error: cannot read {tmp_path / 'none.jsonl'}: No such file or directory\n"
    )


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_is_a_whole_number_from_one(jobs: str) -> None:
    code, _, err = run(["report", "--events", "x.jsonl", "--jobs", jobs])
    assert code == 2 and "--jobs: expected a whole number from 1" in err


def test_an_error_in_a_worker_is_raised_by_the_report(files: dict[str, Path]) -> None:
    # Given a parser that fails on one ticket's lines (in the share of one worker)
    def parse(line: bytes, policy: Policy, now: Any) -> TicketEvent | None:
        event = validated_event(line, policy, now)
        if event is not None and event.ticket.id == "T-0000042":
            raise ZeroDivisionError("a bug")
        return event

    policy = load_policy(_all_metrics())
    sides = [Side("current", policy, Tally(ZoneInfo("Europe/Bratislava")))]
    # When the report runs in two processes, Then the error reaches the caller, with where
    # it happened
    with pytest.raises(ZeroDivisionError, match="a bug") as raised:
        report_from_events(
            files["events"], sides, Period(), END, warn=lambda _: None, parse=parse, jobs=2
        )
    assert any("in a report worker process" in note for note in raised.value.__notes__)


# -- sharing out the lines --------------------------------------------------------------------


def _event(line: bytes, policy: Policy) -> TicketEvent | None:
    try:
        return validated_event(line, policy, END)
    except LineError:
        return None


def test_the_cheap_look_places_every_sample_line_in_its_tickets_share(policy: Policy) -> None:
    for text in sample_lines(40, weeks=1):
        line = text.encode()
        event = _event(line, policy)
        assert event is not None
        for count in (2, 3, 8):
            assert line_share(line, count) == ticket_share(event.ticket.id, count)


TICKET = {"created_at": "2026-11-20T09:00:00Z", "plan": "professional"}
SPELLINGS: list[Callable[[str, str], dict[str, Any]]] = [
    # ways to write a line about ticket ``i`` that holds another id ``o``
    lambda i, o: {"ticket": {"id": i, **TICKET}, "actor": {"type": "agent", "id": o}},
    lambda i, o: {"actor": {"id": o, "type": "agent"}, "ticket": {**TICKET, "id": i}},
    lambda i, o: {"ticket": {"id ": "repeated", **TICKET, "id": i}},  # two ids: the last wins
    lambda i, o: {"ticket": {"note": "}", **TICKET, "id": i, "more": "{"}, "reason": "}"},
    lambda i, o: {"ticket": {**TICKET, "id": i}, "reason": "ticket"},
    lambda i, o: {"ticket": {"fields": {"id": o}, **TICKET, "id": i}},
    lambda i, o: {"extra": {"ticket": {"id": o}}, "ticket": {"id": i, **TICKET}},
]


def _spelled(ticket_id: str, other: str, spelling: int, spaced: bool) -> str:
    record: dict[str, Any] = {
        "event_id": "e-1",
        "type": "ticket.updated",
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    separators = (",\t", " :  ") if spaced else (", ", ": ")
    record.update(SPELLINGS[spelling](ticket_id, other))
    text = json.dumps(record, ensure_ascii=False, separators=separators)
    written = json.dumps({"id": other}, ensure_ascii=False, separators=separators)[1:-1]
    return text.replace(json.dumps({"id ": "repeated"}, separators=separators)[1:-1], written)


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.isprintable),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.sampled_from(range(len(SPELLINGS))),
    st.booleans(),
    st.integers(min_value=2, max_value=8),
)
def test_the_cheap_look_never_places_a_line_in_another_share_than_its_tickets(
    policy: Policy, ticket_id: str, other: str, spelling: int, spaced: bool, count: int
) -> None:
    # Given a line about a ticket, written in one of many ways, that holds another id too
    line = _spelled(ticket_id, other, spelling, spaced).encode("utf-8")
    event = _event(line, policy)
    assert event is not None and event.ticket.id == ticket_id
    # When the look places it, Then it says nothing, or the share of the line's ticket
    share = line_share(line, count)
    assert share is None or share == ticket_share(ticket_id, count)
    # And a refold looking for the ticket never passes its line by
    assert line_maybe_of(line, {ticket_id.encode("utf-8"), b"T-other"})


def test_a_refold_passes_by_the_usual_lines_of_other_tickets(policy: Policy) -> None:
    # Given the usual lines of 40 tickets, Then a refold of one of them parses its lines only
    lines = [text.encode() for text in sample_lines(40, weeks=1)]
    events = [_event(line, policy) for line in lines]
    wanted = events[0]
    assert wanted is not None
    looked = [line_maybe_of(line, {wanted.ticket.id.encode()}) for line in lines]
    assert looked == [e is not None and e.ticket.id == wanted.ticket.id for e in events]


# -- merging tallies --------------------------------------------------------------------------


def _groups(tally: Tally) -> dict[Any, tuple[Any, ...]]:
    every: dict[Any, Group] = {**tally.groups, **tally.totals, **tally.weeks}
    return {
        key: (
            g.met,
            g.breached,
            g.running,
            g.exempt,
            g.no_target,
            g.pending,
            {clock: sorted(values) for clock, values in g.took.items()},
            list(g.targets.items()),  # in the order first seen: it breaks ties for the target
            g.target,
        )
        for key, g in every.items()
    }


@pytest.fixture(scope="module")
def placed(files: dict[str, Path]) -> list[tuple[int, list[Outcome]]]:
    """The outcomes of the sample's tickets, each with its ticket's place in the file."""
    policy = load_policy(_all_metrics())
    reader = EventsReader([policy], ["current"], END, warn=lambda _: None)
    reader.read(files["events"])
    return [(at, outcomes(state, policy, END)) for at, state in reader.placed_states(0)]


@settings(max_examples=20, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=2, max_value=4))
def test_tallies_of_shares_merged_in_any_order_are_the_tally_of_all(
    placed: list[tuple[int, list[Outcome]]], rng: random.Random, count: int
) -> None:
    # Given the sample's outcomes tallied at once, and in shares of its tickets picked at random
    zone = ZoneInfo("Europe/Bratislava")
    whole, shares = Tally(zone), [Tally(zone) for _ in range(count)]
    for at, found in placed:
        share = rng.choice(shares)
        for outcome in found:
            whole.add(outcome, at)
            share.add(outcome, at)
    # When the shares are merged in any order
    rng.shuffle(shares)
    merged = Tally(zone)
    for share in shares:
        merged.merge(share)
    # Then every group has the counts, times and targets (in the order first seen) of the whole
    assert _groups(merged) == _groups(whole)
    assert sorted(o.ticket_id for b in merged.breaches.values() for o in b) == sorted(
        o.ticket_id for b in whole.breaches.values() for o in b
    )
