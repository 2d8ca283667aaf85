"""What the three metrics cost the fold, beside first response alone, in one run.

* A ticket with three metrics, ten next-reply cycles and a resolution with ten pauses: its
  creation, the first response, then ten exchanges (a customer's message, then an agent's reply),
  the agent setting the ticket ``pending`` with each reply but the last (so the resolution clock
  pauses ten times, each pause ended by the customer's next message), and the solve: 23 events.
  Folded under the all-metrics policy (``layers/sla/sla/policies/all-metrics.toml``) and, beside
  it, the same events under the default policy (first response alone): ``reduce_events`` over the
  whole ticket, and ``apply_event`` of three deliveries onto the state of every event before them
  (the tenth customer message, which resumes the resolution clock, judged again over its pauses,
  and starts next-reply cycle 10; the tenth agent reply, which stops it; the solve).
* Per-delivery cost as the history grows: ``apply_event`` of one more customer message onto a
  ticket of 10, 100 and 1,000 prior events, all-metrics policy, for two histories: exchanges
  alone (the resolution clock never paused), and exchanges with the ticket ``pending`` while it
  waits on the customer (a pause per exchange). Beside each, the size of the ticket item that
  stores the state before it (``sla.aws.store.ticket_item``). A ticket of 10 events has 4
  completed next-reply cycles; from 12 events on, the state keeps ``KEEP_CYCLES`` (5) of them.
* A deadline with ten pauses: ``sla.core.cycles.judge`` of a resolution cycle (its warning and
  its deadline) with ten pauses of 30 minutes every two hours, beside the same cycle without
  pauses, for a business-hour target (Professional P2, 40 business hours) and an elapsed one
  (Advanced P1, 24 hours).

Every figure is the median of interleaved repeats (which column goes first alternates), after
untimed warm-up rounds, with the objects built beforehand frozen out of the garbage collector's
sight; ratios are taken within the run.

    .venv/bin/python -m benchmarks.metrics [--rounds 200]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources

from local.payloads import ticket_event
from sla.aws.store import item_size, ticket_item
from sla.core.cycles import judge
from sla.core.events import TicketEvent
from sla.core.policy import Policy, load_policy
from sla.core.state import KEEP_CYCLES, TicketState, apply_event, reduce_events
from sla.core.terms import Target
from sla.ports import StoredTicket

CREATED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 CET
EVERY = timedelta(minutes=37)  # between a ticket's events: through nights and weekends
EXCHANGES = 10
HISTORIES = (10, 100, 1000)
STEP_GOAL_US = 1000.0  # "well under a millisecond"
FLAT_GOAL = 1.2


def policies() -> dict[str, Policy]:
    path = resources.files("sla") / "policies" / "all-metrics.toml"
    return {"one metric": load_policy(), "three metrics": load_policy(str(path))}


# -- the tickets ----------------------------------------------------------------------------------


def event(k: int, type_: str, status: str) -> TicketEvent:
    """The k-th event of the ticket (its creation is the 0th)."""
    actor = "agent" if type_ in ("ticket.responded", "ticket.solved") else "customer"
    at = CREATED + k * EVERY
    return ticket_event(f"e{k:05d}", type_, at, actor=actor, created_at=CREATED, status=status)


def ten_exchanges() -> list[TicketEvent]:
    """Creation, first response, ten exchanges with ten pauses, the solve (23 events)."""
    events = [event(0, "ticket.created", "new"), event(1, "ticket.responded", "pending")]
    for i in range(EXCHANGES):
        last = i == EXCHANGES - 1
        events.append(event(len(events), "ticket.customer_replied", "open"))
        events.append(event(len(events), "ticket.responded", "open" if last else "pending"))
    events.append(event(len(events), "ticket.solved", "solved"))
    return events


def history(n: int, pausing: bool) -> list[TicketEvent]:
    """A ticket of ``n`` events (creation, first response, exchanges), then one more customer
    message: ``n`` even, so that the last of the ``n`` is an agent's reply."""
    assert n % 2 == 0
    waiting = "pending" if pausing else "open"
    events = [event(0, "ticket.created", "new"), event(1, "ticket.responded", waiting)]
    while len(events) <= n:
        events.append(event(len(events), "ticket.customer_replied", "open"))
        events.append(event(len(events), "ticket.responded", waiting))
    return events[: n + 1]


def folded(events: list[TicketEvent], policy: Policy) -> TicketState:
    """The state a ticket's item holds after these deliveries in order: one step each."""
    state: TicketState | None = None
    for e in events:
        state = apply_event(state, e, policy)
    assert state is not None
    return state


def stored_bytes(state: TicketState) -> int:
    return item_size(ticket_item(StoredTicket(state.ticket_id, state.events, state), CREATED))


# -- timing ---------------------------------------------------------------------------------------


def measure(cases: dict[str, Callable[[], object]], rounds: int, inner: int) -> dict[str, float]:
    """Median µs per call of each case: ``rounds`` rounds of ``inner`` calls each, the cases
    taking turns (the order reversed every other round), after untimed warm-up rounds."""
    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    # what the cases were built from stands for the table, not for the function's memory: out of
    # the collector's sight, as it would be
    gc.collect()
    gc.freeze()
    for r in range(rounds + 3):
        for name in names if r % 2 else reversed(names):
            fn = cases[name]
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            took = (time.perf_counter() - t0) / inner * 1e6
            if r >= 3:
                times[name].append(took)
    return {name: statistics.median(values) for name, values in times.items()}


def fold_rows(rounds: int) -> list[tuple[str, float, float]]:
    """(row, one metric µs, three metrics µs) for the ticket of ten exchanges."""
    events = ten_exchanges()
    by_type = {"a customer's message": 20, "an agent's reply": 21, "the solve": 22}
    cases: dict[str, Callable[[], object]] = {}
    for name, policy in policies().items():
        cases[f"reduce {name}"] = partial(reduce_events, events, policy)
        for label, i in by_type.items():
            before = folded(events[:i], policy)
            cases[f"{label} {name}"] = partial(apply_event, before, events[i], policy)
    got = measure(cases, rounds, inner=5)
    n = len(events)
    rows = [
        (
            f"`reduce_events`, the whole ticket ({n} events)",
            got["reduce one metric"],
            got["reduce three metrics"],
        ),
        (
            "the same, per event",
            got["reduce one metric"] / n,
            got["reduce three metrics"] / n,
        ),
    ]
    notes = {
        "a customer's message": " (resolution resumes, judged again over its pauses; "
        "next-reply cycle 10 starts)",
        "an agent's reply": " (next-reply cycle 10 stops)",
        "the solve": " (resolution stops)",
    }
    for label in by_type:
        rows.append(
            (
                f"`apply_event`: {label}{notes[label]}",
                got[f"{label} one metric"],
                got[f"{label} three metrics"],
            )
        )
    return rows


def history_rows(rounds: int) -> list[tuple[str, dict[int, float], dict[int, int], int]]:
    """(history, µs by prior events, item bytes by prior events, resolution pauses at 1,000)."""
    policy = policies()["three metrics"]
    rows = []
    for label, pausing in (
        ("exchanges, never paused", False),
        ("exchanges, pending while waiting on the customer", True),
    ):
        cases: dict[str, Callable[[], object]] = {}
        sizes: dict[int, int] = {}
        pauses = 0
        for n in HISTORIES:
            events = history(n, pausing)
            before = folded(events[:-1], policy)
            sizes[n] = stored_bytes(before)
            pauses = len(before.metrics["resolution"].cycles[-1].pauses)
            cases[str(n)] = partial(apply_event, before, events[-1], policy)
        got = measure(cases, rounds, inner=5)
        rows.append((label, {n: got[str(n)] for n in HISTORIES}, sizes, pauses))
    return rows


def judge_rows(rounds: int) -> list[tuple[str, float, float]]:
    """(target, µs without pauses, µs with ten pauses) of a resolution cycle's judgement."""
    policy = policies()["three metrics"]
    fractions = policy.warnings["resolution"]
    starts = [CREATED + timedelta(hours=1 + 2 * k) for k in range(10)]
    ten = [(a, a + timedelta(minutes=30)) for a in starts]
    targets = {
        "40 business hours (Professional P2)": Target(hours=40, clock="business"),
        "24 hours, 24/7 (Advanced P1)": Target(hours=24, clock="elapsed"),
    }
    cases: dict[str, Callable[[], object]] = {}
    for label, target in targets.items():
        none: list[tuple[datetime, datetime]] = []
        for name, given in (("none", none), ("ten", ten)):
            cases[f"{label} {name}"] = partial(
                judge, policy.calendar, CREATED, target, fractions, given, None
            )
            if name == "ten":  # every pause falls before the deadline: each one counts
                plain = judge(policy.calendar, CREATED, target, fractions, [], None).deadline
                moved = judge(policy.calendar, CREATED, target, fractions, ten, None).deadline
                assert plain is not None and moved is not None and moved > plain
                assert ten[-1][1] < plain
    got = measure(cases, rounds, inner=50)
    return [(label, got[f"{label} none"], got[f"{label} ten"]) for label in targets]


# -- the report -----------------------------------------------------------------------------------


def fmt(us: float) -> str:
    return f"{us:,.0f} µs" if us >= 10 else f"{us:,.1f} µs"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    folds = fold_rows(args.rounds)
    histories = history_rows(args.rounds)
    judged = judge_rows(args.rounds)

    print(
        f"A ticket of {EXCHANGES} exchanges with {EXCHANGES} pauses (the state keeps "
        f"{KEEP_CYCLES} completed cycles of a metric in detail, as stored):\n"
    )
    print("| | one metric (default policy) | three metrics (all-metrics policy) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label, one, three in folds:
        print(f"| {label} | {fmt(one)} | {fmt(three)} | {three / one:.1f}x |")

    heads = " | ".join(f"{n:,} prior events" for n in HISTORIES)
    print(f"\nOne more customer message, all-metrics policy:\n\n| history | {heads} | ratio |")
    print("| --- |" + " ---: |" * (len(HISTORIES) + 1))
    for label, took, sizes, pauses in histories:
        cells = " | ".join(f"{fmt(took[n])}, item {sizes[n]:,} B" for n in HISTORIES)
        ratio = took[HISTORIES[-1]] / took[HISTORIES[0]]
        print(f"| {label} ({pauses} pauses at {HISTORIES[-1]:,}) | {cells} | {ratio:.2f}x |")

    print("\nA resolution cycle's judgement (`sla.core.cycles.judge`: its warning and deadline):\n")
    print("| target | no pause | ten pauses | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label, none, ten in judged:
        print(f"| {label} | {fmt(none)} | {fmt(ten)} | {ten / none:.1f}x |")

    slowest = max(three for label, _, three in folds if label.startswith("`apply_event`"))
    print()
    print(
        f"- goal: an all-metrics delivery step well under 1 ms: slowest {fmt(slowest)}: "
        + ("met" if slowest < STEP_GOAL_US / 2 else "NOT met")
    )
    for label, took, sizes, _ in histories:
        ratio = took[HISTORIES[-1]] / took[HISTORIES[0]]
        grown = sizes[HISTORIES[-1]] / sizes[HISTORIES[0]]
        print(
            f"- goal: per-delivery cost flat in history ({label}): "
            f"{HISTORIES[-1]:,} / {HISTORIES[0]:,} prior events {ratio:.2f}x time, "
            f"{grown:.2f}x item: "
            + ("met" if ratio <= FLAT_GOAL and grown <= FLAT_GOAL else "NOT met")
        )
    print(f"\n{args.rounds} rounds; {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
