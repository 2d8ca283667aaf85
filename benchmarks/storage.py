"""What one delivery costs as a ticket's history grows, in the first storage layout and in the
current one, side by side in one run.

* First layout: every event as JSON inside the ticket item. A delivery read the whole item
  (GetItem), reduced every event again and wrote the whole item back with the delivery item in
  one transaction. Its write model is rebuilt here item for item; its in-process work is modelled
  with today's code: the same request checks, then the events JSON of the whole history parsed,
  ``reduce_events`` over all of them plus the new one, every event ``json.dumps``-ed back (with
  its default escaping of non-ASCII text, as it was written), the answer's view.
* Current layout: the reduced state in the ticket item, each event in its own delivery item. A
  delivery is one GetItem of the ticket item, one step of the fold and one transaction of two
  puts. Timed through the real ``WebhookService.ingest`` on the in-memory store, with every load
  and save going through the DynamoDB item (``ticket_item`` / ``ticket_from_item`` /
  ``delivery_item``), so that encoding and decoding count as on AWS. Also measured: an older
  event (the creation's instant, an id that sorts first), for which it reads the recorded events
  (a Query of the delivery items) and folds them all again.

Capacity units come from item sizes by DynamoDB's rules (``item_size``), not from moto, whose
consumed capacity is wrong: a transactional write costs 2 write units per started KiB of each
item, a consistent read 1 read unit per started 4 KiB (a Query: of the items read, per 1 MB
page). Fold steps are counted by wrapping ``sla.core.state._step`` in a last, untimed pass.

Each sample is delivery n + 1 onto a ticket holding n events (the store is put back after each):
the ticket's creation, then an agent's notes (``ticket.updated`` with a reason: 200 characters of
German, or in the worst case 1,024 four-byte characters, the heaviest the schema admits). The
delivery is one more such note that also moves the priority from 2 to 3, so that the fold step
does the same work whatever the history, and every delivery happens at the same instant. A timed
delivery follows an untimed one of its own column (the caches as its previous request left them),
the columns take turns, and the stored tickets are frozen out of the garbage collector's sight
(they stand for the table, not for the function's memory).

    .venv/bin/python -m benchmarks.storage [--rounds 25]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sla.core.state as fold
from local.payloads import TICKET, ticket_body, ticket_event
from local.signing import TEST_SECRET, signature_headers
from sla.app.api import WebhookService
from sla.aws.store import delivery_item, item_size, ticket_from_item, ticket_item
from sla.core.events import TicketEvent
from sla.core.notices import due_at
from sla.core.policy import Policy, load_policy
from sla.core.view import sla_view
from sla.fakes import MemoryTicketStore, StaticSecrets
from sla.ports import StoredTicket
from sla.sources.canonical import StandardWebhooksSource

HISTORIES = (1, 100, 1000)
ITEM_LIMIT = 400 * 1024  # DynamoDB's item size limit, 400 KB
QUERY_PAGE = 1024 * 1024
WCU_GOAL = 6
TIME_GOAL = 1.2
TICKET_ID = str(TICKET["id"])
CREATED = datetime(2026, 11, 25, 8, 59, tzinfo=UTC)
# every delivery measured happens at the same instant, within business hours: whatever the history,
# the view answered and the notice due are the same computations
DELIVERED = CREATED + timedelta(minutes=20)

# an agent's note of 200 characters of German, as helpdesks send them
NOTE = (
    "Kunde meldet erneut, dass der Export nach dem Update fehlschlägt. Priorität nach Rücksprache "
    "mit dem Teamleiter beibehalten; Workaround über die ältere Schnittstelle geprüft, Rückmeldung "
    "folgt morgen."
)
# the heaviest reason the schema admits: 1,024 characters of four bytes each in UTF-8
WORST = "\U0001f642" * 1024
REASONS = {"typical": NOTE, "worst case": WORST}


def write_units(*items: dict[str, Any]) -> int:
    """A transaction's write units: 2 per started KiB of each item written."""
    return sum(2 * math.ceil(item_size(item) / 1024) for item in items)


def read_units(item: dict[str, Any]) -> int:
    """A consistent GetItem's read units: 1 per started 4 KiB."""
    return math.ceil(item_size(item) / 4096)


def query_units(items: list[dict[str, Any]]) -> int:
    """A consistent Query's read units: sizes summed per 1 MB page, 1 per started 4 KiB."""
    units, page = 0, 0
    for size in map(item_size, items):
        if page + size > QUERY_PAGE:
            units, page = units + math.ceil(page / 4096), 0
        page += size
    return units + math.ceil(page / 4096)


# -- the current layout: the real service on the in-memory store, through the items ----------------


class ItemStore(MemoryTicketStore):
    """The in-memory store with every load and save going through the DynamoDB items."""

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy
        self.items: dict[str, dict[str, Any]] = {}
        self.delivery_items: dict[str, dict[str, dict[str, Any]]] = {}
        self.read: list[dict[str, Any]] = []
        self.queried: list[dict[str, Any]] = []
        self.written: list[dict[str, Any]] = []

    def load(self, ticket_id: str) -> StoredTicket | None:
        item = self.items.get(ticket_id)
        if item is None:
            return None
        self.read = [item]
        return ticket_from_item(item, self.policy)

    def events(self, ticket_id: str) -> list[TicketEvent]:
        self.queried = list(self.delivery_items.get(ticket_id, {}).values())
        return [TicketEvent.model_validate_json(i["event"]["S"]) for i in self.queried]

    def save(self, ticket: StoredTicket, event: TicketEvent, received_at: datetime) -> None:
        delivery = delivery_item(event, received_at)
        item = ticket_item(ticket, received_at)
        super().save(ticket, event, received_at)
        self.items[ticket.ticket_id] = item
        self.delivery_items.setdefault(ticket.ticket_id, {})[event.event_id] = delivery
        self.written = [delivery, item]

    def mark(self) -> tuple[dict[str, Any], StoredTicket]:
        return self.items[TICKET_ID], self.tickets[TICKET_ID]

    def back_to(self, mark: tuple[dict[str, Any], StoredTicket], event_id: str) -> None:
        """Forget the delivery ``event_id``: the ticket as it was at ``mark``."""
        self.items[TICKET_ID], self.tickets[TICKET_ID] = mark
        self.deliveries[TICKET_ID].pop(event_id)
        self.delivery_items[TICKET_ID].pop(event_id)


def signed(
    msg_id: str,
    type_: str,
    occurred_at: datetime,
    reason: str | None,
    now: datetime,
    **ticket: Any,
) -> tuple[dict[str, str], str]:
    actor = "agent" if type_ == "ticket.updated" else "customer"
    payload = ticket_body(type_, occurred_at, actor=actor, reason=reason, **ticket)
    body = json.dumps(payload).encode()
    return signature_headers(body, int(now.timestamp()), msg_id=msg_id), body.decode()


def event_at(k: int, n: int) -> datetime:
    """When the k-th of a ticket's n events occurred: its creation at CREATED, the agent's notes
    a second apart up to just before DELIVERED."""
    return CREATED if k == 0 else DELIVERED - timedelta(seconds=n - k)


# -- the first layout, rebuilt ---------------------------------------------------------------------


def first_ticket_item(
    events: list[TicketEvent], state: fold.TicketState, updated_at: datetime
) -> dict[str, Any]:
    """The first layout's ticket item: every event, the notices, the version, the projection."""

    def iso(value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")

    item: dict[str, Any] = {
        "pk": {"S": f"T#{state.ticket_id}"},
        "sk": {"S": "TICKET"},
        "ticket_id": {"S": state.ticket_id},
        "version": {"N": str(len(events))},
        "events": {
            "S": json.dumps([e.model_dump(mode="json") for e in events], separators=(",", ":"))
        },
        "notices": {"S": "[]"},
        "plan": {"S": state.plan},
        "priority": {"N": str(state.priority)},
        "kind": {"S": state.kind},
        "updated_at": {"S": iso(updated_at)},
    }
    started = state.terms.clock_started_at if state.terms is not None else None
    for name, value in (
        ("clock_started_at", started),
        ("warning_at", state.warning_at),
        ("deadline", state.deadline),
        ("clock_stopped_at", state.clock_stopped_at),
    ):
        if value is not None:
            item[name] = {"S": iso(value)}
    due = due_at(state, frozenset())
    if due is not None:
        item["due_shard"] = {"S": "due"}
        item["due_at"] = {"S": iso(due)}
    return item


def first_delivery_item(event: TicketEvent, received_at: datetime) -> dict[str, Any]:
    at = received_at.isoformat().replace("+00:00", "Z")
    return {
        "pk": {"S": f"T#{event.ticket.id}"},
        "sk": {"S": "DELIVERY#" + event.event_id},
        "event_id": {"S": event.event_id},
        "event_type": {"S": event.type},
        "occurred_at": {"S": event.occurred_at.isoformat().replace("+00:00", "Z")},
        "received_at": {"S": at},
        "event": {"S": event.model_dump_json()},
    }


@dataclass
class FirstLayout:
    """The first layout's path, modelled with today's code (see the module's docstring)."""

    policy: Policy
    source: StandardWebhooksSource
    item: dict[str, Any]
    read: list[dict[str, Any]] = field(default_factory=list)
    written: list[dict[str, Any]] = field(default_factory=list)

    def deliver(self, headers: dict[str, str], body: str, now: datetime) -> None:
        raw = body.encode()
        delivery_id = self.source.verify(headers, raw, now)
        (event,) = self.source.events(raw, delivery_id, now)
        self.read = [self.item]
        events = [TicketEvent.model_validate(e) for e in json.loads(self.item["events"]["S"])]
        if any(e.event_id == event.event_id for e in events):
            raise AssertionError("a duplicate")
        events.append(event)
        state = fold.reduce_events(events, self.policy)
        self.written = [first_delivery_item(event, now), first_ticket_item(events, state, now)]
        sla_view(state, now)


# -- the run ---------------------------------------------------------------------------------------


@dataclass
class Point:
    """One history length of one kind of event: both layouts, and what was measured."""

    n: int
    reason: str
    store: ItemStore
    service: WebhookService
    first: FirstLayout
    times: dict[str, list[float]] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)


def setup(policy: Policy, n: int, reason: str) -> Point:
    source = StandardWebhooksSource(policy, StaticSecrets(TEST_SECRET))
    store = ItemStore(policy)
    service = WebhookService(policy, store, {"tickets": source}, 256 * 1024)
    events = []
    for k in range(n):
        type_ = "ticket.created" if k == 0 else "ticket.updated"
        note = None if k == 0 else reason
        msg_id = f"msg_seed_{k:05d}"
        at = event_at(k, n)
        headers, body = signed(msg_id, type_, at, note, at)
        assert service.ingest(headers, body, False, at).outcome == "applied"
        actor = "agent" if k else "customer"
        events.append(ticket_event(msg_id, type_, at, actor=actor, reason=note))
    state = fold.reduce_events(events, policy)
    first = FirstLayout(policy, source, first_ticket_item(events, state, events[-1].occurred_at))
    return Point(n, reason, store, service, first)


def timed(action: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    action()
    return (time.perf_counter() - t0) * 1e6


REPEATS = {"current": 9, "older": 1, "first": 1}  # timed deliveries a round (after one untimed)


def sample(point: Point, i: int, counting: bool = False) -> None:
    """Delivery n + 1 in each layout (an agent's note after the last event that moves the priority
    from 2 to 3), and an older event in the current layout; each store is put back after each
    delivery. ``counting``: one delivery each, fold steps counted, nothing timed."""
    at, now = DELIVERED, DELIVERED + timedelta(seconds=1)
    store, mark = point.store, point.store.mark()
    first, item = point.first, point.first.item
    older = CREATED  # the instant of the ticket's creation, and an id that sorts first
    runs: list[tuple[str, datetime, Callable[[dict[str, str], str], object]]] = [
        ("current", at, lambda h, b: point.service.ingest(h, b, False, now)),
        ("older", older, lambda h, b: point.service.ingest(h, b, False, now)),
        ("first", at, lambda h, b: first.deliver(h, b, now)),
    ]
    for name, occurred_at, deliver in runs:
        # the first delivery, untimed, leaves the caches as this column's previous request would,
        # not as another column's left them
        for attempt in range(1 if counting else 1 + REPEATS[name]):
            msg_id = f"msg_{name[0]}_{i:05d}_{attempt:02d}"
            headers, body = signed(
                msg_id, "ticket.updated", occurred_at, point.reason, now, priority=3
            )
            before = STEPS[0]
            took = timed(lambda: deliver(headers, body))  # noqa: B023 - called at once
            if name == "first":
                read, written = first.read, first.written
                first.item = item
            else:
                read, written = store.read, store.written
                store.back_to(mark, msg_id)
            if counting:
                point.figures[f"{name} steps"] = STEPS[0] - before
            elif attempt:
                point.times.setdefault(name, []).append(took)
        point.figures[f"{name} rcu"] = sum(map(read_units, read))
        if name == "older":
            point.figures[f"{name} rcu"] += query_units(store.queried)
        point.figures[f"{name} wcu"] = write_units(*written)
        point.figures[f"{name} bytes"] = max(map(item_size, [*written, *read]))


STEPS = [0]


def count_steps(points: list[Point]) -> None:
    """Fold steps per delivery: one more pass, untimed, with the fold's step wrapped."""
    original = fold._step

    def counting(
        state: fold.TicketState | None,
        event: TicketEvent,
        policy: Policy,
        keep: int | None = fold.KEEP_CYCLES,
    ) -> tuple[fold.TicketState, fold.HistoryEntry]:
        STEPS[0] += 1
        return original(state, event, policy, keep)

    fold._step = counting
    try:
        for point in points:
            sample(point, 90_000, counting=True)
    finally:
        fold._step = original


# -- the report ------------------------------------------------------------------------------------


def median(point: Point, name: str) -> float:
    return statistics.median(point.times[name])


def over(point: Point) -> bool:
    return point.figures["first bytes"] > ITEM_LIMIT


ROWS: list[tuple[str, Callable[[Point], str]]] = [
    ("write units, first layout", lambda p: f"{p.figures['first wcu']:,}" + "†" * over(p)),
    ("write units, current layout", lambda p: f"{p.figures['current wcu']:,}"),
    ("read units, first layout", lambda p: f"{p.figures['first rcu']:,}"),
    ("read units, current layout", lambda p: f"{p.figures['current rcu']:,}"),
    ("read units, current layout, an older event", lambda p: f"{p.figures['older rcu']:,}"),
    ("handler µs (median), first layout, modelled", lambda p: f"{median(p, 'first'):,.0f}"),
    ("handler µs (median), current layout", lambda p: f"{median(p, 'current'):,.0f}"),
    ("handler µs (median), current layout, an older event", lambda p: f"{median(p, 'older'):,.0f}"),
    ("fold steps, first layout", lambda p: f"{p.figures['first steps']:,}"),
    ("fold steps, current layout", lambda p: f"{p.figures['current steps']:,}"),
    ("fold steps, current layout, an older event", lambda p: f"{p.figures['older steps']:,}"),
    (
        "largest item (bytes), first layout",
        lambda p: f"{p.figures['first bytes']:,}" + "†" * over(p),
    ),
    ("largest item (bytes), current layout", lambda p: f"{p.figures['current bytes']:,}"),
]


def table(points: dict[tuple[str, int], Point]) -> str:
    heads = [f"{n:,}" if kind == "typical" else f"{n:,}, worst case" for kind, n in points]
    lines = [
        "| per delivery, at events on the ticket: | " + " | ".join(heads) + " |",
        "| --- |" + " ---: |" * len(heads),
    ]
    for label, cell in ROWS:
        lines.append(f"| {label} | " + " | ".join(cell(p) for p in points.values()) + " |")
    return "\n".join(lines)


def checks(points: dict[tuple[str, int], Point]) -> list[str]:
    lines = []
    for kind in REASONS:
        column = [points[(kind, n)] for n in HISTORIES]
        units = [p.figures["current wcu"] for p in column]
        reads = [p.figures["current rcu"] for p in column]
        flat = len(set(units)) == 1 and len(set(reads)) == 1
        ratio = median(column[-1], "current") / median(column[0], "current")
        ratio_100 = median(column[-1], "current") / median(column[1], "current")
        first_ratio = median(column[-1], "first") / median(column[0], "first")
        last = column[-1].figures
        lines += [
            f"{kind}: current layout flat (the same units at 1, 100 and 1,000 events): "
            + ("met" if flat else "NOT MET"),
            f"{kind}: current layout at most {WCU_GOAL} write units per delivery: "
            f"{max(units)} " + ("met" if max(units) <= WCU_GOAL else "NOT MET"),
            f"{kind}: handler time, delivery 1,000 / delivery 1: current layout {ratio:.2f}x "
            + ("met" if ratio <= TIME_GOAL else "NOT MET")
            + f" (goal {TIME_GOAL}x; 1,000 / 100: {ratio_100:.2f}x); first layout"
            f" {first_ratio:.0f}x",
            f"{kind}: largest item at 1,000 events: first layout {last['first bytes']:,} bytes ("
            + ("over" if last["first bytes"] > ITEM_LIMIT else "under")
            + f" the 400 KB limit), current layout {last['current bytes']:,} bytes",
        ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    policy = load_policy()
    started = time.perf_counter()
    points = {
        (kind, n): setup(policy, n, reason) for kind, reason in REASONS.items() for n in HISTORIES
    }
    for i in range(3):  # warm up: caches, the calendar's first year
        for point in points.values():
            sample(point, 80_000 + i)
    for point in points.values():
        point.times.clear()
    # the stored tickets stand for the table, not for the function's memory: out of the
    # collector's sight, as they would be
    gc.collect()
    gc.freeze()
    for i in range(args.rounds):  # interleaved: a busy moment of the machine hits every column
        for point in points.values():
            sample(point, i)
    count_steps(list(points.values()))
    print(table(points))
    print()
    print(
        "† over DynamoDB's 400 KB item limit: that write is refused (the first layout also "
        "refused a ticket's 501st event). The first layout's handler time is modelled with "
        "today's code: the request checks, the whole history's events JSON parsed, "
        "reduce_events over all of them and the new one, all dumped back to JSON."
    )
    print()
    for line in checks(points):
        print(f"- {line}")
    print(
        f"\nmedians of {args.rounds * REPEATS['current']} deliveries a cell for the current layout,"
        f" {args.rounds} for the others; {time.perf_counter() - started:.0f} s in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
