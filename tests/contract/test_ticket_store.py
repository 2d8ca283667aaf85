"""The ticket store's contract (``sla.ports.TicketStore``): every case runs on
``MemoryTicketStore`` and on ``DynamoTicketStore`` under moto, with the same expected result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from sla import Policy, apply_event
from sla.core.notices import Notice, TimerKind, due_at, notification_id
from sla.ports import DuplicateDeliveryError, StoredTicket, VersionConflictError
from tests.contract.conftest import PAGE, T0, StoreUnderTest, event, history

NOW = T0 + timedelta(hours=1)
LEASE = timedelta(minutes=5)


def notice(ticket: StoredTicket, kind: TimerKind = "warning") -> Notice:
    """The ticket's warning (or breach) notice."""
    for_ = ticket.state.warning_at if kind == "warning" else ticket.state.deadline
    assert for_ is not None
    return Notice(kind, for_, notification_id(ticket.ticket_id, kind, for_))


# -- load and save -------------------------------------------------------------------------------


def test_an_unknown_ticket_loads_as_none_and_has_no_events(store: StoreUnderTest) -> None:
    assert store.port.load("T-unknown") is None
    assert store.port.events("T-unknown") == []


def _stopped(policy: Policy) -> StoredTicket:
    """A ticket answered by an agent, its warning recorded: a stopped clock, nothing due."""
    ((ticket, _),) = history(policy, "T-stopped", 1)
    answer = event("T-stopped", 1, "ticket.responded", actor="agent")
    state = apply_event(ticket.state, answer, policy)
    warned = StoredTicket("T-stopped", 1, state, (notice(ticket),))
    return replace(warned, due_at=due_at(state, warned.published))


def _owing(policy: Policy) -> StoredTicket:
    """A running ticket that was warned and owes its breach notice."""
    ((ticket, _),) = history(policy, "T-running", 1)
    warned = replace(ticket, notices=(notice(ticket),))
    return replace(warned, due_at=due_at(ticket.state, warned.published))


def _fractional(policy: Policy) -> StoredTicket:
    """Instants with microseconds, an id of any characters, no priority given."""
    first = event("Tï/ 🎫 #1", 0, created_at="2026-11-25T08:58:59.123456Z", priority=None)
    state = apply_event(None, first, policy)
    return StoredTicket("Tï/ 🎫 #1", 1, state, (), due_at(state, frozenset()))


@pytest.mark.parametrize("build", [_owing, _stopped, _fractional])
def test_a_saved_ticket_loads_back_equal(
    store: StoreUnderTest, policy: Policy, build: Callable[[Policy], StoredTicket]
) -> None:
    """Given a ticket (state, notices, due time) saved at version 1, when loaded, then the same
    ticket comes back: state, notices, version and due time."""
    ticket = build(policy)
    delivery = event(ticket.ticket_id, 0)
    store.port.save(ticket, delivery, T0)
    assert store.port.load(ticket.ticket_id) == ticket


@pytest.mark.parametrize(
    ("written", "saving"),
    [
        (0, 2),  # a later version of a ticket never written
        (1, 1),  # a second "new" ticket of the same id
        (2, 2),  # a version built on a stale read
        (1, 3),  # a version skipped
    ],
)
def test_a_save_at_a_stale_version_is_a_conflict_and_writes_nothing(
    store: StoreUnderTest, policy: Policy, written: int, saving: int
) -> None:
    """Given ``written`` versions stored, when version ``saving`` is saved with a new event,
    then VersionConflictError, and neither the ticket nor its events changed."""
    versions = history(policy, "T-1", 3)
    before = store.write(versions[:written]) if written else None
    ticket, _ = versions[saving - 1]
    with pytest.raises(VersionConflictError):
        store.port.save(ticket, event("T-1", 9), NOW)
    assert store.port.load("T-1") == before
    assert {e.event_id for e in store.port.events("T-1")} == {
        e.event_id for _, e in versions[:written]
    }


@pytest.mark.parametrize("version", [2, 1, 7], ids=["next", "stale", "skipped"])
def test_an_event_recorded_already_is_a_duplicate_and_writes_nothing(
    store: StoreUnderTest, policy: Policy, version: int
) -> None:
    """Given a ticket saved with event e0, when e0 is saved again (at the next version, or at a
    wrong one), then DuplicateDeliveryError, and the ticket and its events are unchanged."""
    ((first, e0),) = history(policy, "T-1", 1)
    store.port.save(first, e0, T0)
    again = StoredTicket("T-1", version, first.state, (notice(first),), NOW)
    with pytest.raises(DuplicateDeliveryError):
        store.port.save(again, e0, NOW)
    assert store.port.load("T-1") == first
    assert store.port.events("T-1") == [e0]


# -- events --------------------------------------------------------------------------------------


def test_events_gives_every_recorded_event_once_however_many_pages_they_span(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given more events than one page of a query holds, when the events are read, then each
    recorded event comes back exactly once (in any order), and no other ticket's."""
    versions = history(policy, "T-1", 3 * PAGE + 2)
    store.write(versions)
    store.write(history(policy, "T-10", 2))  # a ticket whose key begins like T-1's
    store.calls.clear()
    found = store.port.events("T-1")
    assert Counter(e.event_id for e in found) == Counter(e.event_id for _, e in versions)
    assert sorted(found, key=lambda e: e.event_id) == sorted(
        (e for _, e in versions), key=lambda e: e.event_id
    )
    # the adapter's client pages every Query at PAGE items: it followed the pages
    assert store.side == "memory" or store.calls.count("query") > 3


# -- save_notices --------------------------------------------------------------------------------


def test_save_notices_at_the_next_version_writes_them(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given a stored ticket, when its notices are saved at the next version, then a load gives
    the new notices, version and due time."""
    first = store.write(history(policy, "T-1", 1, due_at=NOW))
    warned = replace(first, version=2, notices=(notice(first),), due_at=NOW + timedelta(hours=1))
    store.port.save_notices(warned, NOW)
    assert store.port.load("T-1") == warned


@pytest.mark.parametrize("version", [1, 2, 4], ids=["as-new", "stale", "skipped"])
def test_save_notices_at_a_wrong_version_is_a_conflict(
    store: StoreUnderTest, policy: Policy, version: int
) -> None:
    """Given a ticket at version 2, when notices are saved at any version but 3, then
    VersionConflictError and the stored ticket is unchanged."""
    current = store.write(history(policy, "T-1", 2))
    stale = replace(current, version=version, notices=(notice(current, "breach"),))
    with pytest.raises(VersionConflictError):
        store.port.save_notices(stale, NOW)
    assert store.port.load("T-1") == current


# -- claims --------------------------------------------------------------------------------------


@pytest.fixture
def ticket(store: StoreUnderTest, policy: Policy) -> StoredTicket:
    return store.write(history(policy, "T-1", 1, due_at=NOW))


def test_a_first_claim_is_granted(store: StoreUnderTest, ticket: StoredTicket) -> None:
    assert store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE) == "claimed"


@pytest.mark.parametrize("later", [timedelta(0), timedelta(minutes=4), LEASE])
def test_a_claim_while_the_lease_holds_is_in_flight(
    store: StoreUnderTest, ticket: StoredTicket, later: timedelta
) -> None:
    """Given a claim with a lease until NOW + LEASE, when the notice is claimed again up to the
    lease's end (inclusive), then "in_flight"."""
    store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE)
    assert store.port.claim(ticket, notice(ticket), NOW + later, NOW + later + LEASE) == "in_flight"


def test_a_claim_after_the_lease_ended_is_granted(
    store: StoreUnderTest, ticket: StoredTicket
) -> None:
    """Given a claim whose holder never published, when its lease has ended, then a new claim
    is granted (the holder crashed)."""
    store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    assert store.port.claim(ticket, notice(ticket), later, later + LEASE) == "claimed"


def test_a_lease_ends_at_its_instant_not_at_the_next_whole_second(
    store: StoreUnderTest, ticket: StoredTicket
) -> None:
    """Given a claim with a lease until NOW + LEASE, when claimed half a second after that,
    then the claim is granted."""
    store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE)
    later = NOW + LEASE + timedelta(milliseconds=500)
    assert store.port.claim(ticket, notice(ticket), later, later + LEASE) == "claimed"


def test_a_published_notice_stays_published(store: StoreUnderTest, ticket: StoredTicket) -> None:
    """Given a claim that was published, when claimed again (even long after the lease, even
    after a release), then "published"."""
    store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE)
    store.port.mark_published("T-1", notice(ticket), NOW + timedelta(seconds=2))
    later = NOW + 3 * LEASE
    assert store.port.claim(ticket, notice(ticket), later, later + LEASE) == "published"
    store.port.release("T-1", notice(ticket))
    assert store.port.claim(ticket, notice(ticket), later, later + LEASE) == "published"


def test_a_claim_at_a_stale_ticket_version_is_a_conflict_and_claims_nothing(
    store: StoreUnderTest, policy: Policy, ticket: StoredTicket
) -> None:
    """Given a ticket changed since it was read, when claimed with the version read, then
    "conflict", and a claim with the current version is granted at once."""
    ((_, _), (current, e1)) = history(policy, "T-1", 2, due_at=NOW)
    store.port.save(current, e1, NOW)
    assert store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE) == "conflict"
    assert store.port.claim(current, notice(current), NOW, NOW + LEASE) == "claimed"


def test_a_claim_on_a_ticket_never_stored_is_a_conflict(
    store: StoreUnderTest, policy: Policy
) -> None:
    ((unsaved, _),) = history(policy, "T-2", 1)
    assert store.port.claim(unsaved, notice(unsaved), NOW, NOW + LEASE) == "conflict"


def test_a_release_lets_the_next_claim_in_at_once(
    store: StoreUnderTest, ticket: StoredTicket
) -> None:
    """Given a claim whose publish failed, when it is released, then a claim a second later,
    well within the old lease, is granted."""
    store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE)
    store.port.release("T-1", notice(ticket))
    retry = NOW + timedelta(seconds=1)
    assert store.port.claim(ticket, notice(ticket), retry, retry + LEASE) == "claimed"


def test_a_release_of_a_notice_never_claimed_is_harmless(
    store: StoreUnderTest, ticket: StoredTicket
) -> None:
    store.port.release("T-1", notice(ticket))
    assert store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE) == "claimed"


def test_claims_are_per_notice(store: StoreUnderTest, ticket: StoredTicket) -> None:
    """Given the warning claimed, when the breach is claimed, then it is granted too."""
    store.port.claim(ticket, notice(ticket), NOW, NOW + LEASE)
    assert store.port.claim(ticket, notice(ticket, "breach"), NOW, NOW + LEASE) == "claimed"


# -- owing ---------------------------------------------------------------------------------------

SINCE = T0 + timedelta(hours=1)
UNTIL = T0 + timedelta(hours=2)
SECOND = timedelta(seconds=1)
# ids in the reverse order of their due times, so that a sort by id would show
DUE = {
    "T-f": SINCE - SECOND,
    "T-e": SINCE,
    "T-d": SINCE + timedelta(minutes=30),
    "T-c": UNTIL,
    "T-b": UNTIL + SECOND,
    "T-a": None,  # owes nothing
}


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        (SINCE, ["T-e", "T-d", "T-c"]),
        (None, ["T-f", "T-e", "T-d", "T-c"]),
    ],
    ids=["since-until", "until"],
)
def test_owing_gives_exactly_the_tickets_due_in_the_range_by_due_time(
    store: StoreUnderTest, policy: Policy, since: datetime | None, expected: list[str]
) -> None:
    """Given tickets due before, at the edges of, inside and after [since, until], and one that
    owes nothing, when asked what is owing, then exactly those due in the range (edges
    included), earliest first."""
    for ticket_id, due in DUE.items():
        store.write(history(policy, ticket_id, 1, due_at=due))
    assert store.port.owing(until=UNTIL, since=since) == expected


def test_owing_leaves_out_tickets_written_at_or_after_changed_before(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given tickets due alike, last written before, at and after a cut-off (one written before
    and again after), when asked with ``changed_before`` at the cut-off, then only the one whose
    last write came before it."""
    cut = T0 + timedelta(minutes=10)
    store.write(history(policy, "T-before", 1, due_at=SINCE), cut - SECOND)
    store.write(history(policy, "T-at", 1, due_at=SINCE), cut)
    store.write(history(policy, "T-after", 1, due_at=SINCE), cut + SECOND)
    rewritten = history(policy, "T-rewritten", 2, due_at=SINCE)
    store.write(rewritten[:1], cut - timedelta(minutes=1))
    store.write(rewritten[1:], cut + timedelta(minutes=1))
    assert store.port.owing(until=UNTIL, changed_before=cut) == ["T-before"]


@pytest.mark.parametrize("writer", ["save", "save_notices"])
def test_a_ticket_that_owes_nothing_any_more_drops_out(
    store: StoreUnderTest, policy: Policy, writer: str
) -> None:
    """Given a ticket owing a notice, when its next version (a delivery, or its notices) owes
    nothing, then it is no longer owing."""
    (first, e0), (second, e1) = history(policy, "T-1", 2, due_at=SINCE)
    store.port.save(first, e0, T0)
    assert store.port.owing(until=UNTIL) == ["T-1"]
    done = replace(second, due_at=None)
    if writer == "save":
        store.port.save(done, e1, T0)
    else:
        store.port.save_notices(done, T0)
    assert store.port.owing(until=UNTIL) == []


def test_owing_finds_a_herd_of_tickets_due_at_the_same_instant(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given 100 tickets due at the same instant (the adapter spreads them over its index
    shards by a hash of the id), when asked, then each is owing, once."""
    ids = [f"T-{n:03d}" for n in range(100)]
    for ticket_id in ids:
        store.write(history(policy, ticket_id, 1, due_at=SINCE))
    found = store.port.owing(until=UNTIL)
    assert sorted(found) == ids


def test_owing_compares_instants_to_the_microsecond(store: StoreUnderTest, policy: Policy) -> None:
    """Given a ticket due at a whole second and one due three quarters of a second later, when
    asked up to half a second after the first (a clock's ``now``), then only the first."""
    due = SINCE
    store.write(history(policy, "T-1", 1, due_at=due))
    store.write(history(policy, "T-2", 1, due_at=due + timedelta(milliseconds=750)))
    assert store.port.owing(until=due + timedelta(milliseconds=500)) == ["T-1"]


def test_owing_orders_by_due_time_within_a_second(store: StoreUnderTest, policy: Policy) -> None:
    """Given a ticket due at a whole second and one due half a second later, when asked, then
    the earlier one comes first."""
    store.write(history(policy, "T-1", 1, due_at=SINCE))
    store.write(history(policy, "T-2", 1, due_at=SINCE + timedelta(milliseconds=500)))
    assert store.port.owing(until=UNTIL) == ["T-1", "T-2"]


def test_save_notices_never_makes_a_ticket_look_settled_earlier(
    store: StoreUnderTest, policy: Policy
) -> None:
    """Given a ticket last delivered after the cut-off (its event occurred before it), when its
    notices are saved after the cut-off too, then ``owing(changed_before=cut)`` still leaves it
    out: its stream records may be in flight."""
    cut = T0 + timedelta(minutes=10)
    first = store.write(history(policy, "T-1", 1, due_at=SINCE), cut + SECOND)
    store.port.save_notices(replace(first, version=2, notices=(notice(first),)), cut + SECOND)
    assert store.port.owing(until=UNTIL, changed_before=cut) == []
