"""The SLA lists (``GET /tickets?status=...``): which list each metric of a ticket is on.

A pure function of what the ticket item holds, its state and its ledger of published notices, so
that a list entry changes only when the ticket item is written (a delivery, or the notifier
recording a notice it published) and the store can keep it in index attributes of that item.

Each metric of a ticket is on at most one list, decided by its latest cycle when that cycle is
targeted and has not stopped:

* ``breached``: the breach notice for the cycle's current deadline went out and was not
  retracted; the cycle has not stopped (it may be paused);
* ``at_risk``: the clock runs (not stopped, not paused), a warning for one of the cycle's current
  warning instants went out, and no breach for its deadline did;
* ``running``: the clock runs and neither went out.

Everything else is on no list: a cycle that stopped (met, or breached and then answered or
solved: it is over, and the report counts it), a paused cycle that has not breached (its deadline
is not known while it waits), next reply between exchanges, exempt, no target, pending. The lists
follow the notices, not the wall clock: a ticket moves to ``at_risk`` when its warning is
published (within a minute of the warning time) and to ``breached`` when its breach is. A notice
for an instant the cycle no longer has (a reclassification moved the deadline) does not count.

Within a list, entries are ordered by their rank: the deadline (fixed-width UTC, to the
microsecond), then a hash of the ticket id, so that ranks are unique, sort as strings in the same
order everywhere, and stay short whatever the id.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sla.core.cycles import MetricState
from sla.core.notices import Notice, NoticeKey
from sla.core.state import TicketState
from sla.core.terms import MetricName

__all__ = [
    "LIST_STATUSES",
    "RANK",
    "ListEntry",
    "ListStatus",
    "ListedTicket",
    "TicketList",
    "list_entries",
    "metric_entry",
    "rank",
    "rank_deadline",
]

ListStatus = Literal["at_risk", "breached", "running"]
LIST_STATUSES: tuple[ListStatus, ...] = ("at_risk", "breached", "running")
_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"
# a rank: the deadline (27 characters), "#", 16 base32 characters of the id's SHA-256
RANK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[a-z2-7]{16}")


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One metric of a ticket on a list: which list, the cycle, its deadline, and the
    classification the cycle is judged by (for the filters)."""

    metric: MetricName
    status: ListStatus
    cycle: int
    deadline: datetime
    plan: str
    priority: int


def metric_entry(
    metric: MetricName, ms: MetricState, published: frozenset[NoticeKey], plan: str
) -> ListEntry | None:
    """The list entry of one metric (module docstring), or None when it is on no list."""
    cycle = ms.ongoing
    if (
        cycle is None
        or cycle.kind != "targeted"
        or cycle.deadline is None
        or cycle.priority is None
    ):
        return None
    n, deadline = cycle.number, cycle.deadline
    breach: NoticeKey = (metric, n, "breach", deadline)
    retraction: NoticeKey = (metric, n, "retraction", deadline)
    status: ListStatus
    if breach in published and retraction not in published:
        status = "breached"
    elif cycle.open_pause() is not None:
        return None
    elif any(
        w.at is not None and (metric, n, "warning", w.at) in published for w in cycle.warnings
    ):
        status = "at_risk"
    else:
        status = "running"
    return ListEntry(metric, status, n, deadline, plan, cycle.priority)


def list_entries(state: TicketState, notices: Iterable[Notice]) -> dict[MetricName, ListEntry]:
    """Every list entry of a ticket, by metric: at most one per metric."""
    if state.current is None:  # pending: no cycle is judged yet
        return {}
    published = frozenset(n.key for n in notices)
    entries: dict[MetricName, ListEntry] = {}
    for metric, ms in state.metrics.items():
        entry = metric_entry(metric, ms, published, state.current.plan)
        if entry is not None:
            entries[metric] = entry
    return entries


def rank(deadline: datetime, ticket_id: str) -> str:
    """An entry's position in its list: unique per ticket, ordered as (deadline, id hash)."""
    digest = hashlib.sha256(ticket_id.encode("utf-8")).digest()
    tail = base64.b32encode(digest[:10]).decode("ascii").lower()
    return f"{deadline.astimezone(UTC).strftime(_INSTANT)}#{tail}"


def rank_deadline(value: str) -> datetime:
    """The deadline a rank starts with."""
    return datetime.strptime(value[:27], _INSTANT).replace(tzinfo=UTC)


class ListedTicket(BaseModel):
    """One ticket on a list, for one metric."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    metric: MetricName
    status: ListStatus
    cycle: int = Field(description="The metric's cycle (next reply: the exchange); else 1.")
    deadline: datetime
    plan: str
    priority: int


class TicketList(BaseModel):
    """A page of a list, soonest deadline first."""

    model_config = ConfigDict(frozen=True)

    status: ListStatus
    metric: MetricName
    tickets: tuple[ListedTicket, ...]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end of the list."
    )
