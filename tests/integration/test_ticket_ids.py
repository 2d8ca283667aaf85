"""Any ticket id that can be created can be read back, in the events API Gateway would build.

API Gateway HTTP API hands the function the path percent-decoded (docs/api-paths.md): the read
route must match a decoded segment whatever its characters. Ids that a path segment cannot carry
on AWS (``/``, ``?``, ``%``, dot segments) are read through GET /tickets/sla?id=..., as any id can.
"""

from __future__ import annotations

import pytest

from local.signing import api_gateway_path
from tests.integration.conftest import Api, payload

# Readable through the path on AWS: no "/", "?" or "%", not a dot segment.
PATH_IDS = [
    "a b",
    "a#b",
    "a+b",
    "Ünïcödé-票",
    "a,b",
    "a&b=c",
    "'\"<q>`\\|^{}[]~",
    "😀",
    "x" * 256,
]
# A path segment cannot carry these on AWS; the query route reads them.
QUERY_ONLY_IDS = ["a/b", "a?b", "100%", "%2F", "..", "../x", ".", "a%20b", "a/"]


@pytest.mark.parametrize("ticket_id", PATH_IDS)
def test_an_id_created_by_a_webhook_is_read_back_by_its_path(api: Api, ticket_id: str) -> None:
    assert api.post(payload(id=ticket_id)).status == 200

    answer = api.sla(ticket_id)

    assert answer.status == 200, answer.raw
    assert answer.body["ticket_id"] == ticket_id
    assert [h["event"] for h in answer.body["history"]] == ["ticket.created"]


@pytest.mark.parametrize("ticket_id", PATH_IDS + QUERY_ONLY_IDS)
def test_any_id_created_by_a_webhook_is_read_back_by_the_query_route(
    api: Api, ticket_id: str
) -> None:
    assert api.post(payload(id=ticket_id)).status == 200

    answer = api.sla_by_query(ticket_id)

    assert answer.status == 200, answer.raw
    assert answer.body["ticket_id"] == ticket_id
    assert answer.body == api.sla_by_query(ticket_id).body


def test_both_read_routes_give_the_same_answer(api: Api) -> None:
    assert api.post(payload(id="a b")).status == 200
    assert api.sla("a b").body == api.sla_by_query("a b").body


def test_the_query_route_without_an_id_is_a_422_problem_with_its_location(api: Api) -> None:
    from local.signing import http_api_event

    answer = api.invoke(http_api_event("GET", "/tickets/sla", query={"ticket": "T-1001"}))

    assert answer.status == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [e["loc"] for e in answer.body["errors"]] == [["query", "id"]]
    assert "T-1001" not in answer.raw


def test_an_unknown_id_is_a_404_problem_on_either_route(api: Api) -> None:
    for answer in (api.sla("a b"), api.sla_by_query("a/b")):
        assert answer.status == 404
        assert answer.headers["Content-Type"] == "application/problem+json"


def test_an_id_with_a_slash_is_no_path_segment(api: Api) -> None:
    """As on AWS, where API Gateway decodes %2F before routing: /tickets/a%2Fb/sla is no route."""
    assert api.post(payload(id="a/b")).status == 200
    assert api.sla("a/b").status == 404
    assert api.sla_by_query("a/b").status == 200


@pytest.mark.parametrize(
    ("sent", "handed_over"),
    [  # live captures of an HTTP API (docs/api-paths.md): what API Gateway put in rawPath
        ("/capture/plain", "/capture/plain"),
        ("/capture/space%20value", "/capture/space value"),
        ("/capture/hash%23value", "/capture/hash#value"),
        ("/capture/slash%2Fvalue", "/capture/slash/value"),
        ("/capture/unicode-%CE%BB-%E4%B8%96%E7%95%8C", "/capture/unicode-λ-世界"),
    ],
)
def test_the_local_stack_decodes_a_path_as_api_gateway_does(sent: str, handed_over: str) -> None:
    assert api_gateway_path(sent) == handed_over
