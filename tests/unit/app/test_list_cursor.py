"""The lists' cursor (``sla.app.lists``): what a page gives back is accepted for the same query,
whatever its plan and position, and nothing else is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.app.lists import ListQuery, decode_cursor, encode_cursor
from sla.core.errors import BadRequestError
from sla.core.lists import LIST_STATUSES, rank
from sla.core.terms import METRICS

queries = st.builds(
    ListQuery,
    status=st.sampled_from(LIST_STATUSES),
    metric=st.sampled_from(METRICS),
    plan=st.none() | st.text(min_size=1, max_size=64),
    priority=st.none() | st.integers(1, 3),
)
ranks = st.builds(
    rank,
    st.datetimes(datetime(2000, 1, 1), datetime(9999, 1, 1), timezones=st.just(UTC)),
    st.text(min_size=1, max_size=256),
)


@given(queries, ranks)
def test_a_cursor_reads_back_its_position_for_the_same_query(query: ListQuery, after: str) -> None:
    assert decode_cursor(query, encode_cursor(query, after)) == after


def test_the_longest_cursor_reads_back() -> None:
    query = ListQuery(status="breached", metric="first_response", plan="🎫" * 64, priority=3)
    after = rank(datetime(2026, 11, 25, tzinfo=UTC), "T-1")
    assert decode_cursor(query, encode_cursor(query, after)) == after


@given(queries, queries, ranks)
def test_a_cursor_of_another_query_is_refused(one: ListQuery, other: ListQuery, after: str) -> None:
    cursor = encode_cursor(one, after)
    if one.position(after) == other.position(after):
        assert decode_cursor(other, cursor) == after
    else:
        with pytest.raises(BadRequestError):
            decode_cursor(other, cursor)
