"""State once (STYLE.md habit 14): a ticket's state is reduced once per delivery on the request
path, and never again by the stream consumer, the notifier or the sweeper, which read the stored
state. Counted as steps of the fold (``sla.core.state.TicketFold.add``)."""

from __future__ import annotations

from typing import Any

import pytest

from sla import Policy
from sla.core import state as state_module
from tests.unit.world import World


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    counted: list[str] = []
    real = state_module.TicketFold.add

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted.append("step")
        return real(*args, **kwargs)

    monkeypatch.setattr(state_module.TicketFold, "add", counting)
    return counted


def created_and_raised(policy: Policy) -> World:
    """A ticket created at 08:59Z and raised to P1 by its requester 30 s later."""
    world = World(policy)
    world.send("ticket.created", "2026-11-25T08:59:00Z", "m1")
    world.send("ticket.updated", "2026-11-25T08:59:30Z", "m2", priority=1)
    return world


def test_a_new_ticket_is_reduced_once(policy: Policy, steps: list[str]) -> None:
    world = World(policy)
    world.send("ticket.created", "2026-11-25T08:59:00Z", "m1")  # ingest, then the stream
    assert len(steps) == 1


def test_an_update_and_a_reply_that_owes_a_warning_are_each_reduced_once(
    policy: Policy, steps: list[str]
) -> None:
    world = created_and_raised(policy)
    assert len(steps) == 2
    world.advance("2026-11-25T11:20:00Z")  # the warning timer fires and publishes
    assert world.types() == ["sla.warning"]
    world.send("ticket.responded", "2026-11-25T11:15:00Z", "m3", actor="agent", priority=1)
    world.advance("2026-11-25T13:00:00Z")  # the sweeper and timers have nothing left to do
    assert len(steps) == 3


def test_an_event_older_than_the_state_refolds_the_history_once(
    policy: Policy, steps: list[str]
) -> None:
    world = created_and_raised(policy)
    steps.clear()
    world.send("ticket.updated", "2026-11-25T08:59:10Z", "m0", priority=3)  # arrives late
    assert len(steps) == 3  # the two recorded events and the late one, once


def test_a_duplicate_is_not_reduced(policy: Policy, steps: list[str]) -> None:
    world = created_and_raised(policy)
    steps.clear()
    assert world.send("ticket.updated", "2026-11-25T08:59:30Z", "m2", priority=1).outcome == (
        "duplicate"
    )
    assert steps == []
