"""A week of tickets whose report is worked out by hand: the unit tests of ``sla report`` and its
test against a moto table share it.

Monday 2026-11-23 to Friday 2026-11-27 (no Slovak holiday), CET: business hours are 08:00Z to
16:00Z. Judged at Friday 12:00Z. Default policy: Professional P1 3 h, P2 6 h, P3 9 h business;
Advanced P1 1 h elapsed; Basic no target.

| ticket | plan, priority | created (Z) | stopped (Z) | took | deadline (Z) | status |
| --- | --- | --- | --- | --- | --- | --- |
| T-A | professional 2 | Mon 08:00 | reply Mon 10:00 | 2 h | Mon 14:00 | met |
| T-B | professional 2 | Mon 08:00 | reply Mon 15:00 | 7 h | Mon 14:00 | breached |
| T-C | professional 2 | Tue 15:00 | reply Wed 09:00 | 1 h + 1 h = 2 h | Wed 13:00 | met |
| T-D | professional 2 | Fri 10:00 | - | - | Fri 16:00 | running |
| T-E | professional 2 | Mon 12:00 | solved Tue 12:00 | 4 h + 4 h = 8 h | Tue 10:00 | breached |
| T-J | professional 2, beta | Tue 08:00 | - | - | - | exempt |
| T-F | professional 1 | Mon 09:00 | reply Mon 10:30 | 1.5 h | Mon 12:00 | met |
| T-G | professional 1, staging: P3 | Mon 08:00 | reply Mon 16:00 | 8 h | Tue 09:00 | met |
| T-H | advanced 1 | Thu 20:00 | reply Thu 21:30 | 1.5 h elapsed | Thu 21:00 | breached |
| T-I | basic 2 | Mon 08:00 | reply Mon 09:00 | 1 h | - | no target |

Professional P2 then has 6 tickets: 2 met, 2 breached, 1 running, 1 exempt; achievement 2 / 4 =
50%; its times 2, 2, 7, 8 h: median (2 + 7) / 2 = 4.5 h, 90th percentile at rank 0.9 x 3 = 2.7:
7 + 0.7 x (8 - 7) = 7.7 h. Under a what-if of 8 business hours for P2, T-B (7 h) and T-E (8 h,
stopped exactly at its new deadline) are met: 4 met, 0 breached, 100%; T-D still runs (its
deadline moves to Monday 10:00Z).
"""

from __future__ import annotations

from typing import Any

from local.payloads import ticket_body

NOW = "2026-11-27T12:00:00Z"


def _ticket(
    ticket_id: str,
    created: str,
    stop: tuple[str, str] | None,
    *,
    plan: str = "professional",
    priority: int = 2,
    **fields: Any,
) -> list[dict[str, Any]]:
    """The canonical events of a ticket: its creation, then the reply or solve that stops it."""
    ticket = {"id": ticket_id, "created_at": created, "plan": plan, "priority": priority, **fields}
    events = [{"event_id": f"{ticket_id}-1", **ticket_body("ticket.created", created, **ticket)}]
    if stop is not None:
        kind, at = stop
        events.append(
            {"event_id": f"{ticket_id}-2", **ticket_body(kind, at, actor="agent", **ticket)}
        )
    return events


def week() -> list[dict[str, Any]]:
    """The week's events, in the order they happened."""
    events = [
        *_ticket("T-A", "2026-11-23T08:00:00Z", ("ticket.responded", "2026-11-23T10:00:00Z")),
        *_ticket("T-B", "2026-11-23T08:00:00Z", ("ticket.responded", "2026-11-23T15:00:00Z")),
        *_ticket("T-C", "2026-11-24T15:00:00Z", ("ticket.responded", "2026-11-25T09:00:00Z")),
        *_ticket("T-D", "2026-11-27T10:00:00Z", None),
        *_ticket("T-E", "2026-11-23T12:00:00Z", ("ticket.solved", "2026-11-24T12:00:00Z")),
        *_ticket("T-J", "2026-11-24T08:00:00Z", None, product_stage="beta"),
        *_ticket(
            "T-F",
            "2026-11-23T09:00:00Z",
            ("ticket.responded", "2026-11-23T10:30:00Z"),
            priority=1,
        ),
        *_ticket(
            "T-G",
            "2026-11-23T08:00:00Z",
            ("ticket.responded", "2026-11-23T16:00:00Z"),
            priority=1,
            environment="staging",
        ),
        *_ticket(
            "T-H",
            "2026-11-26T20:00:00Z",
            ("ticket.responded", "2026-11-26T21:30:00Z"),
            plan="advanced",
            priority=1,
        ),
        *_ticket(
            "T-I",
            "2026-11-23T08:00:00Z",
            ("ticket.responded", "2026-11-23T09:00:00Z"),
            plan="basic",
        ),
    ]
    return sorted(events, key=lambda e: (e["occurred_at"], e["event_id"]))


def what_if_policy(default_text: str) -> str:
    """The default policy's text with Professional P2 promised in 8 business hours."""
    old = '2 = { hours = 6, clock = "business" }'
    assert default_text.count(old) == 1
    return default_text.replace(old, '2 = { hours = 8, clock = "business" }')
