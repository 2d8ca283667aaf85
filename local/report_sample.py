"""A made-up but plausible export of canonical events for ``sla report``: the screenshot in the
README, the browser test and the report's benchmark use it.

Tickets arrive mostly during business hours (Europe/Bratislava), over a number of weeks; plans,
priorities, staging and beta tickets in realistic shares; agents answer within a spread around
a share of the target (faster for urgent tickets), now and then reclassify a ticket, and solve
most tickets; customers reply and get a second answer. Events after ``end`` have not happened and
are left out. The lines come in the order the events happened (a few delivered late, out of
order, when ``late`` says so), each a canonical body (contract section 2) with its ``event_id``.

    python -m local.report_sample --tickets 2000 --weeks 8 > sample.jsonl
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sla import Policy, load_policy

__all__ = ["END", "sample_lines"]

END = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # a Monday morning: the report's "now"
ZONE = ZoneInfo("Europe/Bratislava")
PLANS = (("basic", 0.3), ("professional", 0.5), ("advanced", 0.2))
PRIORITIES = ((1, 0.1), (2, 0.3), (3, 0.5), (None, 0.1))


def _pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def _z(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _created(rng: random.Random, start: datetime, end: datetime, n: int) -> list[datetime]:
    """``n`` creation instants, three in four during business hours, in order."""
    span = (end - start).total_seconds()
    out: list[datetime] = []
    while len(out) < n:
        instant = start + timedelta(seconds=rng.random() * span)
        local = instant.astimezone(ZONE)
        in_hours = local.weekday() < 5 and 9 <= local.hour < 17
        if in_hours or rng.random() < 0.12:  # about 3:1 given the hours' share of the week
            out.append(instant)
    out.sort()
    return out


def _ticket_events(
    rng: random.Random, policy: Policy, number: int, created: datetime, padding: int
) -> list[tuple[datetime, str, dict[str, Any]]]:
    """One ticket's life: (instant, event type, body fields) in order."""
    plan, priority = _pick(rng, PLANS), _pick(rng, PRIORITIES)
    ticket: dict[str, Any] = {
        "id": f"T-{number:07d}",
        "created_at": _z(created),
        "plan": plan,
        "priority": priority,
        "environment": "staging" if rng.random() < 0.07 else "production",
        "product_stage": "beta" if rng.random() < 0.04 else "ga",
    }
    life: list[tuple[datetime, str, dict[str, Any]]] = [
        (created, "ticket.created", {"actor": {"type": "customer", "id": f"c-{number}"}})
    ]
    agent = {"type": "agent", "id": f"a-{rng.randrange(12)}"}
    chosen = None
    if rng.random() < 0.08:  # an agent reclassifies the ticket soon after it arrives
        at = created + timedelta(minutes=rng.uniform(2, 40))
        chosen = rng.choice([p for p in (1, 2, 3) if p != (priority or 3)])
        life.append(
            (at, "ticket.updated", {"actor": agent, "reason": "triage", "priority": chosen})
        )
    target = policy.classify(
        plan, priority, environment=ticket["environment"], agent_priority=chosen
    ).target
    hours = target.hours if target is not None else 8.0
    elapsed = target is not None and target.clock == "elapsed"
    # the first answer: around a share of the target, faster for urgent tickets
    share = 0.35 if (chosen or priority) == 1 else 0.5
    delay = timedelta(hours=hours * share * rng.lognormvariate(0, 0.75))
    first = created + delay if elapsed else policy.calendar.add_business_time(created, delay)
    if rng.random() < 0.05:  # solved by the customer before any answer
        life.append((first, "ticket.solved", {"actor": {"type": "customer"}}))
    else:
        life.append((first, "ticket.responded", {"actor": agent}))
        last = first
        if rng.random() < 0.5:  # the customer replies, an agent answers again
            asked = last + timedelta(hours=rng.uniform(0.5, 30))
            answered = policy.calendar.add_business_time(
                asked, timedelta(hours=rng.uniform(0.2, 6))
            )
            life += [
                (asked, "ticket.customer_replied", {"actor": {"type": "customer"}}),
                (answered, "ticket.responded", {"actor": agent}),
            ]
            last = answered
        if rng.random() < 0.9:
            solved = last + timedelta(hours=rng.uniform(1, 72))
            life.append((solved, "ticket.solved", {"actor": agent, "status": "solved"}))
            if rng.random() < 0.5:
                closed = solved + timedelta(days=rng.uniform(1, 5))
                life.append((closed, "ticket.closed", {"actor": agent, "status": "closed"}))
    for _ in range(padding):  # the customer edits the ticket (the benchmark's longer histories)
        at = created + timedelta(minutes=rng.uniform(1, 3000))
        life.append((at, "ticket.updated", {"actor": {"type": "customer"}, "status": "open"}))
    life.sort(key=lambda e: e[0])
    out = []
    for at, kind, extra in life:
        fields = {k: v for k, v in extra.items() if k not in ("actor", "reason")}
        if "priority" in fields:  # later snapshots carry the agent's priority
            ticket = {**ticket, "priority": fields.pop("priority")}
        out.append((at, kind, {"ticket": {**ticket, **fields}, **extra}))
    return out


def sample_lines(
    tickets: int,
    *,
    weeks: int = 8,
    end: datetime = END,
    seed: int = 1,
    padding: int = 0,
    late: float = 0.0,
    policy: Policy | None = None,
) -> Iterator[str]:
    """The export's lines (without newlines), in the order the events happened; a share
    ``late`` of them delivered up to a day late, out of order. ``padding`` adds as many customer
    edits to every ticket."""
    rng = random.Random(seed)  # noqa: S311 - made-up data, reproducible
    policy = policy or load_policy()
    start = end - timedelta(weeks=weeks)
    pending: list[tuple[datetime, int, str]] = []  # (delivered, sequence, line)
    sequence = 0
    for number, created in enumerate(_created(rng, start, end, tickets)):
        for n, (at, kind, body) in enumerate(_ticket_events(rng, policy, number, created, padding)):
            if at > end:
                break
            record: dict[str, Any] = {
                "event_id": f"T-{number:07d}-{n}",
                "type": kind,
                "occurred_at": _z(at),
                "ticket": body["ticket"],
                "actor": body["actor"],
                "reason": body.get("reason"),
            }
            delivered = at + timedelta(hours=rng.uniform(1, 24)) if rng.random() < late else at
            sequence += 1
            heapq.heappush(pending, (delivered, sequence, json.dumps(record)))
        while pending and pending[0][0] <= created:
            yield heapq.heappop(pending)[2]
    while pending:
        yield heapq.heappop(pending)[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for line in sample_lines(args.tickets, weeks=args.weeks, seed=args.seed):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
