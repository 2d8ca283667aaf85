"""The API's HTTP surface against the local stack over real HTTP: every ticket id a signed webhook
creates is read back (by path where a path can carry it, by query always), wrong methods are a
405 with Allow, and the OpenAPI document and Swagger UI are served locally."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

import pytest

from tests.e2e import test_local_stack as stack
from tests.e2e.test_local_stack import Local, ticket
from tests.integration.test_ticket_ids import PATH_IDS, QUERY_ONLY_IDS

# the fixtures of test_local_stack.py: a stack of this module's own, its output shown on failure
local = stack.local
stack_output = stack.stack_output


def fetch(local: Local, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(local.url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def create(local: Local, ticket_id: str) -> None:
    now = local.now()
    msg_id = "msg_" + hashlib.sha256(ticket_id.encode()).hexdigest()[:24]
    status, _, view = local.send(ticket("ticket.created", now, ticket_id, now), msg_id)
    assert (status, view["ticket_id"]) == (200, ticket_id)


@pytest.mark.parametrize("ticket_id", PATH_IDS)
def test_an_id_is_read_back_by_its_percent_encoded_path(local: Local, ticket_id: str) -> None:
    create(local, ticket_id)

    status, _, view = local.request("GET", f"/tickets/{quote(ticket_id, safe='')}/sla")

    assert (status, view["ticket_id"]) == (200, ticket_id)
    assert [h["event"] for h in view["history"]] == ["ticket.created"]


@pytest.mark.parametrize("ticket_id", PATH_IDS + QUERY_ONLY_IDS)
def test_any_id_is_read_back_by_the_query_route(local: Local, ticket_id: str) -> None:
    create(local, ticket_id)

    status, _, view = local.request("GET", "/tickets/sla?" + urlencode({"id": ticket_id}))

    assert (status, view["ticket_id"]) == (200, ticket_id)
    assert [h["event"] for h in view["history"]] == ["ticket.created"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/webhooks/tickets", "POST"),
        ("POST", "/sla/quote", "GET"),
        ("PUT", "/tickets/T-1/sla", "GET"),
        ("PATCH", "/tickets/sla?id=T-1", "GET"),
    ],
)
def test_a_wrong_method_is_a_405_problem_with_allow(
    local: Local, method: str, path: str, allow: str
) -> None:
    status, headers, body = fetch(local, method, path)

    assert (status, headers["Allow"], headers["Content-Type"]) == (
        405,
        allow,
        "application/problem+json",
    )
    assert json.loads(body)["status"] == 405


def test_an_unknown_path_is_a_404_problem(local: Local) -> None:
    status, headers, _ = fetch(local, "DELETE", "/nope")
    assert (status, headers["Content-Type"]) == (404, "application/problem+json")


def test_the_openapi_document_and_swagger_ui_are_served(local: Local) -> None:
    from functions.webhook.app import openapi_document

    status, headers, body = fetch(local, "GET", "/openapi.json")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == json.loads(openapi_document())

    status, headers, body = fetch(local, "GET", "/swagger")
    assert (status, headers["Content-Type"].split(";")[0]) == (200, "text/html")
    assert b"SwaggerUIBundle" in body
