"""Literal answers the contract shows, shared by the tests that expect them."""

from __future__ import annotations

from typing import Any

# Contract section 3's example: the sample ticket (Professional P2, created Wednesday
# 2026-11-25T08:59Z) just after creation, plus the classification now
CONTRACT_VIEW: dict[str, Any] = {
    "ticket_id": "T-1001",
    "plan": "professional",
    "requested_priority": 2,
    "priority": 2,
    "priority_reason": "requested",
    "target": {"hours": 6, "clock": "business"},
    "status": "running",
    "clock_started_at": "2026-11-25T08:59:00Z",
    "warning_at": "2026-11-25T13:29:00Z",
    "deadline": "2026-11-25T14:59:00Z",
    "first_response_at": None,
    "clock_stopped_at": None,
    # the classification now; the fields above are the terms the SLA is judged by
    "current": {
        "plan": "professional",
        "requested_priority": 2,
        "priority": 2,
        "priority_reason": "requested",
        "kind": "targeted",
    },
    # where a helpdesk's plan and priority came from; the canonical webhook states them itself
    "origin": {},
}
