"""The OpenAPI document that Powertools generates from the handler's routes: a valid OpenAPI 3
document, current in docs/openapi.json, true to the template's routes, and true to what the
handler answers and the README shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from local.signing import http_api_event
from local.template import resource
from tests.integration.conftest import Answer, Api, payload

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
READ = ("get", "/tickets/{ticket_id}/sla")
READ_BY_QUERY = ("get", "/tickets/sla")
QUOTE = ("get", "/sla/quote")
LIST = ("get", "/tickets")
WEBHOOK = ("post", "/webhooks/tickets")
ALL_METRICS_POLICY = ROOT / "layers" / "sla" / "sla" / "policies" / "all-metrics.toml"


@cache
def document() -> dict[str, Any]:
    from functions.webhook.app import openapi_document

    parsed: dict[str, Any] = json.loads(openapi_document())
    return parsed


def operation(method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document()["paths"][path][method]
    return found


def validator(*pointer: str) -> Draft202012Validator:
    """Validates against the schema at ``pointer`` in the document, its ``#/components/...``
    references resolved there."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", DRAFT202012.create_resource(document())
    )
    escaped = "/".join(part.replace("~", "~0").replace("/", "~1") for part in pointer)
    return Draft202012Validator({"$ref": f"urn:openapi#/{escaped}"}, registry=registry)


def response_validator(method: str, path: str, status: int) -> Draft202012Validator:
    content = operation(method, path)["responses"][str(status)]["content"]
    media = "application/json" if "application/json" in content else PROBLEM
    return validator("paths", path, method, "responses", str(status), "content", media, "schema")


def assert_documented(answer: Answer, method: str, path: str) -> None:
    """The answer's status is documented for the operation, with its content type and schema."""
    documented = operation(method, path)["responses"]
    assert str(answer.status) in documented, answer.raw
    assert list(documented[str(answer.status)]["content"]) == [answer.headers["Content-Type"]]
    errors = list(response_validator(method, path, answer.status).iter_errors(answer.body))
    assert errors == [], answer.raw


def test_the_document_is_a_valid_openapi_3_document() -> None:
    assert document()["openapi"].startswith("3.")
    validate(document())


def test_docs_openapi_json_is_the_document_the_handler_generates() -> None:
    from functions.webhook.app import openapi_document

    assert (ROOT / "docs" / "openapi.json").read_text() == openapi_document()


def test_the_document_describes_exactly_the_routes_the_template_declares() -> None:
    events = resource("WebhookFunction")["Properties"]["Events"].values()
    declared = {e["Properties"]["Path"] for e in events if e["Type"] == "HttpApi"}

    assert set(document()["paths"]) == declared
    assert {path: set(ops) for path, ops in document()["paths"].items()} == {
        "/webhooks/tickets": {"post"},
        "/webhooks/{source}": {"post"},
        "/tickets/{ticket_id}/sla": {"get"},
        "/tickets/sla": {"get"},
        "/tickets": {"get"},
        "/sla/quote": {"get"},
    }


@pytest.mark.parametrize(
    ("op", "statuses"),
    [
        (WEBHOOK, {200, 400, 401, 405, 413, 415, 422, 503}),
        (READ, {200, 404, 405, 503}),
        (READ_BY_QUERY, {200, 404, 405, 422, 503}),
        (QUOTE, {200, 405, 422}),
        (LIST, {200, 400, 405, 422, 503}),
    ],
)
def test_every_answer_is_documented_and_every_error_is_a_problem_document(
    op: tuple[str, str], statuses: set[int]
) -> None:
    responses = operation(*op)["responses"]

    assert {int(status) for status in responses} == statuses
    for status, response in responses.items():
        if int(status) >= 400:
            assert response["content"] == {
                PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
            }
        else:
            assert list(response["content"]) == ["application/json"]
    assert "Allow" in responses["405"]["headers"]
    if "503" in responses:
        assert "Retry-After" in responses["503"]["headers"]


def test_the_webhook_body_and_its_signature_headers_are_described() -> None:
    webhook = operation(*WEBHOOK)
    schemas = document()["components"]["schemas"]

    assert webhook["requestBody"]["required"] is True
    body = webhook["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/WebhookEvent"}
    assert set(schemas["WebhookEvent"]["required"]) == {"type", "occurred_at", "ticket"}
    assert set(schemas["WebhookTicket"]["required"]) == {"id", "created_at", "plan"}
    assert schemas["WebhookTicket"]["properties"]["id"]["maxLength"] == 256
    headers = {p["name"]: p for p in webhook["parameters"] if p["in"] == "header"}
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert all(header["required"] for header in headers.values())


def test_the_read_routes_need_sigv4_and_the_webhook_and_quote_are_public() -> None:
    scheme = document()["components"]["securitySchemes"]["sigv4"]

    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert operation(*READ)["security"] == [{"sigv4": []}]
    assert operation(*READ_BY_QUERY)["security"] == [{"sigv4": []}]
    assert operation(*LIST)["security"] == [{"sigv4": []}]
    assert "security" not in operation(*WEBHOOK) and "security" not in operation(*QUOTE)
    assert "security" not in document()


def test_the_quote_parameters_are_those_the_handler_passes_on() -> None:
    from functions.webhook.app import QUOTE_PARAMETERS

    parameters = operation(*QUOTE)["parameters"]

    assert tuple(p["name"] for p in parameters) == QUOTE_PARAMETERS
    assert {p["name"] for p in parameters if p["required"]} == {"plan"}
    assert all(p["in"] == "query" for p in parameters)


def test_the_list_parameters_are_those_the_handler_passes_on() -> None:
    from functions.webhook.app import LIST_PARAMETERS

    parameters = operation(*LIST)["parameters"]

    assert tuple(p["name"] for p in parameters) == LIST_PARAMETERS
    assert {p["name"] for p in parameters if p["required"]} == {"status"}
    assert all(p["in"] == "query" for p in parameters)


def test_the_read_routes_take_the_id_in_the_path_or_in_the_query() -> None:
    (in_path,) = operation(*READ)["parameters"]
    (in_query,) = operation(*READ_BY_QUERY)["parameters"]

    assert (in_path["name"], in_path["in"], in_path["required"]) == ("ticket_id", "path", True)
    assert (in_query["name"], in_query["in"], in_query["required"]) == ("id", "query", True)


def readme_api_examples() -> list[tuple[str, str, dict[str, Any]]]:
    """Each JSON block of README's API section, with the `METHOD /path` heading it sits under."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## The API\n", 1)[1].split("\n## ", 1)[0]
    found = []
    for part in re.split(r"\n### ", section)[1:]:
        heading = re.match(r"`(GET|POST) (/\S*)`", part)
        assert heading, part.splitlines()[0]
        for block in re.findall(r"```json\n(.*?)```", part, flags=re.DOTALL):
            found.append((heading[1].lower(), heading[2], json.loads(block)))
    return found


def test_the_readme_shows_the_webhook_body_the_sla_view_the_quote_and_a_list_page() -> None:
    shown = {(method, path) for method, path, _ in readme_api_examples()}
    assert {WEBHOOK, READ, QUOTE, LIST} <= shown


@pytest.mark.parametrize(
    ("method", "path", "example"),
    readme_api_examples(),
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_readme_api_example_matches_the_documented_schema(
    method: str, path: str, example: dict[str, Any]
) -> None:
    if method == "post":
        check = validator(
            "paths", path, method, "requestBody", "content", "application/json", "schema"
        )
    else:
        check = response_validator(method, path, 200)
    assert [error.message for error in check.iter_errors(example)] == []


def test_the_documented_schemas_refuse_what_they_do_not_describe() -> None:
    """The checks against the document can fail: a view with a number for deadline, a quote with an
    unknown status, a list page of an unknown list and a webhook body with a 257-character id do
    not match it."""
    examples = {(method, path): example for method, path, example in readme_api_examples()}
    view, quote, body = examples[READ], examples[QUOTE], examples[WEBHOOK]
    page = examples[LIST]
    body_check = validator(
        "paths", WEBHOOK[1], "post", "requestBody", "content", "application/json", "schema"
    )

    assert list(response_validator(*READ, 200).iter_errors({**view, "deadline": 5}))
    assert list(response_validator(*QUOTE, 200).iter_errors({**quote, "status": "late"}))
    assert list(response_validator(*LIST, 200).iter_errors({**page, "status": "met"}))
    assert list(body_check.iter_errors({**body, "ticket": {**body["ticket"], "id": "x" * 257}}))


def test_what_the_handler_answers_is_what_the_document_says(api: Api) -> None:
    assert_documented(api.post(payload(), msg_id="msg-1"), *WEBHOOK)
    assert_documented(api.post(payload("ticket.merged")), *WEBHOOK)
    assert_documented(api.post(payload(plan="gold")), *WEBHOOK)
    assert_documented(api.post(b"{}", secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ=="), *WEBHOOK)
    assert_documented(api.sla("T-1001"), *READ)
    assert_documented(api.sla("T-404"), *READ)
    assert_documented(api.sla_by_query("T-1001"), *READ_BY_QUERY)
    assert_documented(api.invoke(http_api_event("GET", "/tickets/sla")), *READ_BY_QUERY)
    assert_documented(api.quote(plan="professional", priority="1"), *QUOTE)
    assert_documented(api.quote(plan="gold"), *QUOTE)
    assert_documented(api.invoke(http_api_event("POST", "/sla/quote")), *QUOTE)
    first = api.invoke(http_api_event("GET", "/tickets", query={"status": "running", "limit": "1"}))
    assert_documented(first, *LIST)
    assert first.body["tickets"] and first.body["next_cursor"] is None
    assert_documented(api.invoke(http_api_event("GET", "/tickets")), *LIST)
    bad_cursor = {"status": "running", "cursor": "x"}
    assert_documented(api.invoke(http_api_event("GET", "/tickets", query=bad_cursor)), *LIST)
    assert_documented(api.invoke(http_api_event("POST", "/tickets")), *LIST)


def test_a_quote_with_every_metric_is_what_the_document_says(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the policy that ships all three metrics, the quote carries each metric's deadline,
    and the document describes that answer too."""
    from sla.runtime.wiring import webhook_service

    monkeypatch.setenv("SLA_POLICY_FILE", str(ALL_METRICS_POLICY))
    webhook_service.cache_clear()
    answer = api.quote(plan="professional", priority="2")

    assert_documented(answer, *QUOTE)
    assert set(answer.body["metrics"]) == {"first_response", "next_reply", "resolution"}
    assert list(response_validator(*QUOTE, 200).iter_errors({**answer.body, "metrics": []}))


def test_the_handler_imports_no_openapi_models_until_a_document_is_asked_for() -> None:
    """About fifty pydantic models: on AWS, where no document is served, they would only add to
    every cold start."""
    probe = (
        "import sys, functions.webhook.app as app; "
        "print('aws_lambda_powertools.event_handler.openapi.models' in sys.modules); "
        "app.openapi_document(); "
        "print('aws_lambda_powertools.event_handler.openapi.models' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "SLA_LOCAL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "sla"), str(ROOT)])
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.stdout.split() == ["False", "True"], run.stderr
