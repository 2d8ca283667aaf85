"""Which requests the routes answer: wrong methods are a 405 with Allow, unknown paths a 404, the
quote ignores query parameters it does not know, and the local-only routes exist only locally."""

from __future__ import annotations

import json

import pytest

from local.signing import http_api_event
from tests.integration.conftest import Answer, Api


def assert_problem(answer: Answer, status: int) -> None:
    assert answer.status == status, answer.raw
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["status"] == status


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/webhooks/tickets", "POST"),
        ("GET", "/webhooks/tickets", "POST"),
        ("PUT", "/webhooks/tickets", "POST"),
        ("POST", "/sla/quote", "GET"),
        ("HEAD", "/sla/quote", "GET"),
        ("OPTIONS", "/sla/quote", "GET"),
        ("DELETE", "/tickets/T-1001/sla", "GET"),
        ("PATCH", "/tickets/a b/sla", "GET"),
        ("POST", "/tickets/sla", "GET"),
        ("POST", "/tickets", "GET"),
        ("DELETE", "/tickets", "GET"),
    ],
)
def test_a_wrong_method_on_a_known_path_is_a_405_problem_with_allow(
    api: Api, method: str, path: str, allow: str
) -> None:
    answer = api.invoke(http_api_event(method, path, body=b'{"a": 1}'))

    assert_problem(answer, 405)
    assert answer.headers["Allow"] == allow
    assert answer.body["type"] == "urn:sla-keeper:problem:method-not-allowed"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("DELETE", "/nope"),
        ("GET", "/tickets/"),
        ("GET", "/tickets/a/b/sla"),
        ("GET", "/sla/quote/"),
        ("GET", "/openapi.json"),  # local only
        ("GET", "/swagger"),  # local only
        ("POST", "/swagger"),
    ],
)
def test_an_unknown_path_is_a_404_problem_whatever_the_method(
    api: Api, method: str, path: str
) -> None:
    answer = api.invoke(http_api_event(method, path))

    assert_problem(answer, 404)
    assert "Allow" not in answer.headers


def test_the_quote_ignores_query_parameters_it_does_not_know_and_never_echoes_them(
    api: Api,
) -> None:
    answer = api.quote(plan="professional", priority="1", colour="CANARY-blue", CANARY="x")

    assert answer.status == 200, answer.raw
    assert answer.body == api.quote(plan="professional", priority="1").body
    assert "CANARY" not in answer.raw and "colour" not in answer.raw


def test_the_quote_still_refuses_a_bad_known_parameter(api: Api) -> None:
    answer = api.quote(plan="professional", priority="x", colour="blue")

    assert_problem(answer, 422)
    assert [e["loc"] for e in answer.body["errors"]] == [["query", "priority"]]


def test_powertools_never_parses_the_webhook_body_before_the_signature(api: Api) -> None:
    """Not JSON and unsigned: the one uniform 401, not a validation answer about the body."""
    event = http_api_event(
        "POST", "/webhooks/tickets", headers={"content-type": "application/json"}, body=b"{not"
    )

    answer = api.invoke(event)

    assert_problem(answer, 401)


def test_the_openapi_document_is_served_locally(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Swagger UI too, but Powertools registers it only in a process started with SLA_LOCAL=1
    (tests/e2e/test_api_over_http.py): on AWS its models are not even imported."""
    monkeypatch.setenv("SLA_LOCAL", "1")

    document = api.invoke(http_api_event("GET", "/openapi.json"))

    assert document.status == 200
    assert document.headers["Content-Type"] == "application/json"
    assert document.body == json.loads(api.app.openapi_document())
    assert api.invoke(http_api_event("POST", "/openapi.json")).headers["Allow"] == "GET"
