"""The laws every helpdesk source obeys (STYLE.md habit 13), one suite run on each source in
the registry with its own recorded payloads: nothing a sender sends raises anything but a
uniform 401, a 400 or a 422; a delivery read twice gives the same events; and a recorded
delivery verifies, signed as the helpdesk signs it."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.signing import helpdesk_headers
from sla import load_policy
from sla.core.errors import BadRequestError, UnauthorizedError, UnprocessableError
from sla.core.signature import parse_text_secrets
from sla.fakes import StaticSecrets
from sla.sources import Source
from sla.sources.mapping import SourceMapping
from sla.sources.registry import HELPDESKS, helpdesk_source

FIXTURES = Path(__file__).parents[2] / "fixtures" / "helpdesks"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = "a-secret-for-the-laws"
ALLOWED = (UnauthorizedError, BadRequestError, UnprocessableError)
POLICY = load_policy()
# each source with its fields mapped, so that the payloads' fields are read, not skipped
MAPPINGS = {
    "zendesk": SourceMapping(default_plan="basic", environment_field="environment"),
    "jira": SourceMapping(
        default_plan="basic",
        plan_field="customfield_10071",
        environment_field="customfield_10070",
        product_stage_field="customfield_10112",
    ),
    "freshdesk": SourceMapping(
        timezone="Asia/Kolkata", plan_field="sla_plan", environment_field="environment"
    ),
    "zammad": SourceMapping(
        plan_field="plan",
        default_plan="basic",
        environment_field="environment",
        product_stage_field="stage",
    ),
}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def source(name: str) -> Source:
    secrets = StaticSecrets(SECRET, parse=parse_text_secrets)
    return helpdesk_source(name, POLICY, secrets, MAPPINGS[name])


def recorded(name: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / name).glob("*.json") if "template" not in p.stem)


def verify_then_read(name: str, data: bytes, headers: dict[str, str]) -> None:
    """Only the three answers a sender can be given for its own mistakes."""
    under_test = source(name)
    with contextlib.suppress(*ALLOWED):
        under_test.events(data, under_test.verify(headers, data, NOW), NOW)


def signed(name: str, data: bytes) -> dict[str, str]:
    return helpdesk_headers(name, SECRET, data, NOW, "delivery-1")


NAMES = st.sampled_from(sorted(HELPDESKS))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=NAMES,
    data=st.binary(max_size=200),
    headers=st.dictionaries(st.text(max_size=40), st.text(max_size=80)),
)
def test_random_bytes_and_headers_give_only_401_400_or_422(
    name: str, data: bytes, headers: dict[str, str]
) -> None:
    verify_then_read(name, data, headers)
    verify_then_read(name, data, headers | signed(name, data))  # signed: the body is read too


@settings(max_examples=200, deadline=None)
@given(name=NAMES, payload=JSON)
def test_random_json_gives_only_400_or_422(name: str, payload: Any) -> None:
    data = json.dumps(payload).encode()
    verify_then_read(name, data, signed(name, data))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


CASES = [(name, path) for name in sorted(HELPDESKS) for path in recorded(name)]


@settings(max_examples=400, deadline=None)
@given(choice=st.data(), value=JSON)
def test_recorded_deliveries_with_any_field_replaced_give_only_400_or_422(
    choice: st.DataObject, value: Any
) -> None:
    name, path = choice.draw(st.sampled_from(CASES))
    payload: Any = json.loads(path.read_bytes())
    paths = _paths(payload)
    if paths:
        where = choice.draw(st.sampled_from(paths))
        target = payload
        for step in where[:-1]:
            target = target[step]
        target[where[-1]] = value
    data = json.dumps(payload).encode()
    verify_then_read(name, data, signed(name, data))


@pytest.mark.parametrize(("name", "path"), CASES, ids=[f"{n}-{p.stem}" for n, p in CASES])
def test_a_recorded_delivery_verifies_and_reads_the_same_twice(name: str, path: Path) -> None:
    data = path.read_bytes()
    under_test = source(name)
    delivery = under_test.verify(signed(name, data), data, NOW)
    assert delivery.startswith(f"{name}:")
    try:
        first = under_test.events(data, delivery, NOW)
    except UnprocessableError:  # a payload recorded from another receiver's template
        return
    assert under_test.events(data, delivery, NOW) == first
    assert len({e.event_id for e in first}) == len(first)  # one delivery, distinct events
    assert all(e.ticket.id.startswith(f"{name}:") for e in first)
