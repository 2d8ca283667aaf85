"""Every rejection of the contract: the status, a problem document, and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.signing import http_api_event, signature_headers, signed_webhook_event
from tests.integration.conftest import TABLE, Api, payload


def stored_items(dynamodb: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.scan(TableName=TABLE)["Items"]
    return items


def assert_problem(answer: Any, status: int) -> None:
    assert answer.status == status, answer.raw
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(answer.body)
    assert answer.body["status"] == status


def post_raw(api: Api, body: bytes, **header_overrides: str) -> Any:
    ts = int(api.now.timestamp())
    headers = signature_headers(body, ts)
    headers.update(header_overrides)
    return api.invoke(http_api_event("POST", "/webhooks/tickets", headers=headers, body=body))


SIGNATURE_CASES = {
    "forged": {"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="},
    "v2": {"webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
    "bare v1": {"webhook-signature": "v1"},
    "garbage": {"webhook-signature": "invalid_signature"},
    "bad base64": {"webhook-signature": "v1,!!!"},
    "empty": {"webhook-signature": ""},
    "float timestamp": {"webhook-timestamp": "1795597200.0"},
    "negative timestamp": {"webhook-timestamp": "-1"},
    "word timestamp": {"webhook-timestamp": "abc"},
    "11 digits": {"webhook-timestamp": "17955972000"},
}


@pytest.mark.parametrize("override", SIGNATURE_CASES.values(), ids=SIGNATURE_CASES.keys())
def test_bad_signatures_get_one_uniform_401(
    api: Api, dynamodb: Any, override: dict[str, str]
) -> None:
    answer = post_raw(api, json.dumps(payload()).encode(), **override)
    assert_problem(answer, 401)
    assert answer.body["detail"] == "The webhook signature could not be verified."
    assert stored_items(dynamodb) == []


@pytest.mark.parametrize("drift", [-301, 301])
def test_stale_or_future_timestamps_are_401(api: Api, dynamodb: Any, drift: int) -> None:
    answer = api.post(payload(), timestamp=int(api.now.timestamp()) + drift)
    assert_problem(answer, 401)
    assert stored_items(dynamodb) == []


@pytest.mark.parametrize("drift", [-300, 300])
def test_timestamps_within_five_minutes_are_accepted(api: Api, drift: int) -> None:
    assert api.post(payload(), timestamp=int(api.now.timestamp()) + drift).status == 200


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_401(api: Api, missing: str) -> None:
    body = json.dumps(payload()).encode()
    headers = signature_headers(body, int(api.now.timestamp()))
    del headers[missing]
    answer = api.invoke(http_api_event("POST", "/webhooks/tickets", headers=headers, body=body))
    assert_problem(answer, 401)


def test_reserialised_body_is_401(api: Api) -> None:
    body = json.dumps(payload()).encode()
    headers = signature_headers(body, int(api.now.timestamp()))
    compact = json.dumps(payload(), separators=(",", ":")).encode()
    answer = api.invoke(http_api_event("POST", "/webhooks/tickets", headers=headers, body=compact))
    assert_problem(answer, 401)


def test_other_secret_is_401(api: Api) -> None:
    assert_problem(api.post(payload(), secret="whsec_" + "B" * 43), 401)


def test_body_over_256_kib_is_413_before_verification(api: Api, dynamodb: Any) -> None:
    body = json.dumps({**payload(), "padding": "x" * (256 * 1024)}).encode()
    answer = post_raw(api, body, **{"webhook-signature": "v1,forged"})
    assert_problem(answer, 413)
    assert stored_items(dynamodb) == []


def test_body_of_exactly_256_kib_is_accepted(api: Api) -> None:
    base = json.dumps({**payload(), "padding": ""}).encode()
    body = json.dumps({**payload(), "padding": "x" * (256 * 1024 - len(base))}).encode()
    assert len(body) == 256 * 1024
    assert api.post(body).status == 200


def test_base64_encoded_body_is_measured_and_verified_as_bytes(api: Api) -> None:
    event = signed_webhook_event(payload(), int(api.now.timestamp()))
    import base64

    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert api.invoke(event).status == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"not json",
        b"\xff\xfe",
        b"[" * 10_000 + b"]" * 10_000,
        b"",
        b'{"type": "ticket.created", "n": ' + b"9" * 5000 + b"}",  # past Python's digit limit
        '{"ticket": "caf\u00e9"}'.encode("latin-1"),  # not UTF-8
        # valid JSON in UTF-16 and UTF-32 (json.loads would take both from bytes) and UTF-8 with
        # a byte-order mark: the contract reads UTF-8 only
        json.dumps(payload()).encode("utf-16"),
        json.dumps(payload()).encode("utf-16-le"),
        json.dumps(payload()).encode("utf-32"),
        b"\xef\xbb\xbf" + json.dumps(payload()).encode(),
    ],
)
def test_malformed_json_is_400(api: Api, dynamodb: Any, body: bytes) -> None:
    answer = api.post(body)
    assert_problem(answer, 400)
    assert stored_items(dynamodb) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(api: Api, content_type: str) -> None:
    answer = post_raw(api, json.dumps(payload()).encode(), **{"content-type": content_type})
    assert_problem(answer, 415)


def test_json_with_charset_is_fine(api: Api) -> None:
    answer = post_raw(
        api, json.dumps(payload()).encode(), **{"content-type": "application/json; charset=utf-8"}
    )
    assert answer.status == 200


SCHEMA_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "unknown plan": (payload(plan="platinum"), ["body", "ticket", "plan"]),
    "priority 4": (payload(priority=4), ["body", "ticket", "priority"]),
    "priority as text": (payload(priority="1"), ["body", "ticket", "priority"]),
    "priority true": (payload(priority=True), ["body", "ticket", "priority"]),
    "naive created_at": (
        payload(created_at="2026-11-25T08:59:00"),
        ["body", "ticket", "created_at"],
    ),
    "naive occurred_at": (payload(occurred_at="2026-11-25T08:59:00"), ["body", "occurred_at"]),
    "future occurred_at": (payload(occurred_at="2026-11-25T09:05:01Z"), ["body", "occurred_at"]),
    "unknown environment": (payload(environment="qa"), ["body", "ticket", "environment"]),
    "unknown stage": (payload(product_stage="alpha"), ["body", "ticket", "product_stage"]),
    "no ticket id": (payload(id=""), ["body", "ticket", "id"]),
    "ancient": (payload(created_at="1999-12-31T23:00:00Z"), ["body", "ticket", "created_at"]),
    # a value of the wrong shape where a string is due: 422 at its location, never a 500
    "type as an object": ({**payload(), "type": {}}, ["body", "type"]),
    "type as a list": ({**payload(), "type": ["ticket.created"]}, ["body", "type"]),
    "type as a number": ({**payload(), "type": 7}, ["body", "type"]),
    "type null": ({**payload(), "type": None}, ["body", "type"]),
    "ticket as a list": ({**payload(), "ticket": [payload()["ticket"]]}, ["body", "ticket"]),
    "body as a list": ([payload()], ["body"]),  # type: ignore[dict-item]
}


@pytest.mark.parametrize(("body", "loc"), SCHEMA_CASES.values(), ids=SCHEMA_CASES.keys())
def test_schema_violations_are_422_with_locations(
    api: Api, dynamodb: Any, body: dict[str, Any], loc: list[str]
) -> None:
    answer = api.post(body)
    assert_problem(answer, 422)
    assert loc in [e["loc"] for e in answer.body["errors"]]
    assert stored_items(dynamodb) == []


def test_422_never_echoes_submitted_values(api: Api) -> None:
    canary = "CANARY-plan-7f3a"
    answer = api.post(payload(plan=canary, priority=99, created_at="CANARY-date"))
    assert answer.status == 422
    assert "CANARY" not in answer.raw


def test_missing_ticket_is_422(api: Api) -> None:
    body = payload()
    del body["ticket"]
    answer = api.post(body)
    assert_problem(answer, 422)
    assert ["body", "ticket"] in [e["loc"] for e in answer.body["errors"]]


def test_unknown_event_type_is_acknowledged_and_ignored(api: Api, dynamodb: Any) -> None:
    answer = api.post({**payload(), "type": "ticket.merged"})
    assert answer.status == 200
    assert answer.body["ignored"] is True
    assert stored_items(dynamodb) == []


def test_unknown_fields_are_ignored_and_never_stored(api: Api, dynamodb: Any) -> None:
    body = payload()
    body["ticket"]["subject"] = "CANARY-subject"
    body["requester_email"] = "canary@example.com"
    assert api.post(body).status == 200
    dump = json.dumps(stored_items(dynamodb))
    assert "CANARY" not in dump and "canary@example.com" not in dump


def test_unknown_route_is_a_404_problem(api: Api) -> None:
    assert_problem(api.invoke(http_api_event("GET", "/nope")), 404)


def test_unknown_quote_parameters_are_ignored_and_never_echoed(api: Api) -> None:
    """A cache-buster (``_=123``, as jQuery sends it) or any other unknown parameter changes
    nothing; a bad known parameter beside one is answered without either name or value."""
    plain = api.quote(plan="professional", priority="1", at="2026-11-27T15:30:00Z")
    busted = api.quote(
        plan="professional", priority="1", at="2026-11-27T15:30:00Z", _="123", colour="blue"
    )
    assert (busted.status, busted.body) == (200, plain.body)
    bad = api.quote(plan="gold", colour="blue-canary")
    assert bad.status == 422
    assert "colour" not in bad.raw and "blue-canary" not in bad.raw and "gold" not in bad.raw


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"plan": "gold"},
        {"plan": "professional", "priority": "x"},
        {"plan": "professional", "at": "2026-11-25T09:00:00"},
        {"plan": "professional", "at": "1999-12-31T23:59:59Z"},
        {"plan": "professional", "priority": "1", "at": "9998-12-31T23:00:00Z"},  # no calendar
    ],
)
def test_bad_quotes_are_422(api: Api, query: dict[str, str]) -> None:
    assert_problem(api.quote(**query), 422)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    at=st.datetimes(timezones=st.timezones()),
    plan=st.sampled_from(["basic", "advanced", "professional", "gold", ""]),
    priority=st.sampled_from(["1", "2", "3", "4", "", "x"]),
    environment=st.sampled_from([None, "production", "staging", "moon"]),
)
def test_no_quote_is_a_500(
    api: Api, at: Any, plan: str, priority: str, environment: str | None
) -> None:
    """Any instant from year 1 to 9999 at any offset, any plan and priority: an answer or a 422."""
    query = {"plan": plan, "priority": priority, "at": at.isoformat()}
    if environment is not None:
        query["environment"] = environment
    answer = api.quote(**query)
    assert answer.status in (200, 422), answer.raw


def test_a_far_future_quote_is_refused_before_any_calendar_work(api: Api) -> None:
    """The quote is public: an instant centuries ahead must not make the calendar build every
    year up to it (seven thousand years for 9000: minutes of work and gigabytes)."""
    from sla.runtime.wiring import webhook_service

    answer = api.quote(plan="professional", priority="1", at="9000-01-01T00:00:00Z")
    assert_problem(answer, 422)
    assert answer.body["errors"][0]["type"] == "future_instant"
    timeline = webhook_service().policy.calendar._timeline
    assert timeline is None or timeline.last_year <= api.now.year + 2
    two_years = api.quote(plan="professional", priority="1", at="2028-11-01T10:00:00Z")
    assert two_years.status == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["ticket.created", "ticket.responded", "x"])},
            optional={"occurred_at": json_values, "ticket": json_values, "actor": json_values},
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_no_signed_body_is_a_500(api: Api, body: bytes) -> None:
    """Whatever a signed body holds, the answer is a decision, never an internal error."""
    assert api.post(body).status in (200, 400, 422), body
