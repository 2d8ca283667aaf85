"""Every helpdesk source through the real webhook handler under moto, with the same laws
(STYLE.md habit 13): each of its recorded payloads is accepted, a retried delivery changes
nothing, a disabled source is a 404, a forged one a 401, and nothing any sender sends is a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.payloads import latest_instant
from local.signing import helpdesk_headers, http_api_event
from sla.sources.registry import HELPDESKS
from tests.integration.conftest import HELPDESK_SECRETS, Api

FIXTURES = Path(__file__).parents[1] / "fixtures" / "helpdesks"
SECRETS = HELPDESK_SECRETS


# recorded payloads that are not the source's own shape: another receiver's template
FOREIGN = {("freshdesk", "zulip_ticket_created")}


def fixtures(source: str) -> list[Path]:
    """The source's recorded payloads (a body template to paste into the helpdesk is none)."""
    return sorted(p for p in (FIXTURES / source).glob("*.json") if "template" not in p.stem)


def post(
    api: Api,
    source: str,
    body: bytes,
    *,
    delivery: str | None = None,
    secret: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    signed = helpdesk_headers(source, secret or SECRETS[source], body, api.now, delivery)
    event = http_api_event(
        "POST",
        f"/webhooks/{source}",
        headers=headers if headers is not None else signed,
        body=body,
        path_parameters={"source": source},
        route_key="ANY /webhooks/{source}",
    )
    return api.invoke(event)


def recorded_now(api: Api, body: bytes) -> Api:
    """Move the API's clock just past the payload's latest instant (recorded payloads are from
    other years; the handler refuses instants more than 5 minutes ahead of its clock)."""
    latest = latest_instant(body)
    if latest is not None:
        api.now = max(api.now, latest + timedelta(minutes=1))
    return api


CASES = [(source, path) for source in HELPDESKS for path in fixtures(source)]


@pytest.mark.parametrize(("source", "path"), CASES, ids=[f"{s}-{p.stem}" for s, p in CASES])
def test_every_recorded_payload_is_accepted_and_its_retry_changes_nothing(
    helpdesks: Api, source: str, path: Path
) -> None:
    body = path.read_bytes()
    recorded_now(helpdesks, body)
    first = post(helpdesks, source, body, delivery="delivery-1")
    if (source, path.stem) in FOREIGN:  # authenticated, but not ours to read: a clear 422
        assert first.status == 422, first.raw
        return
    assert first.status == 200, (path.name, first.raw)
    again = post(helpdesks, source, body, delivery="delivery-1")
    assert (again.status, again.body) == (200, first.body)
    if first.body.get("ticket_id"):
        assert first.body["ticket_id"].startswith(f"{source}:")


@pytest.mark.parametrize("source", list(HELPDESKS))
def test_a_source_without_a_secret_is_404_and_a_forgery_is_one_uniform_401(
    api: Api, helpdesks: Api, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = fixtures(source)[0].read_bytes()
    recorded_now(helpdesks, body)
    forged = post(helpdesks, source, body, secret="not-the-secret-at-all")
    assert forged.status == 401
    assert forged.body["title"] == "Unauthorized"
    other = next(name for name in HELPDESKS if name != source)
    assert post(helpdesks, source, body, secret=SECRETS[other]).status == 401

    from sla.runtime.wiring import webhook_service

    monkeypatch.delenv(f"SLA_{source.upper()}_SECRET")
    webhook_service.cache_clear()
    disabled = post(helpdesks, source, body)
    assert (disabled.status, disabled.headers["Content-Type"]) == (
        404,
        "application/problem+json",
    )


def test_an_unknown_source_is_404(helpdesks: Api) -> None:
    event = http_api_event(
        "POST",
        "/webhooks/servicenow",
        headers={"content-type": "application/json"},
        body=b"{}",
        path_parameters={"source": "servicenow"},
    )
    assert helpdesks.invoke(event).status == 404


HEADER_NAMES = st.sampled_from(
    [
        "content-type",
        "authorization",
        "x-hub-signature",
        "x-zendesk-webhook-signature",
        "x-zendesk-webhook-signature-timestamp",
        "x-zendesk-webhook-invocation-id",
        "x-atlassian-webhook-identifier",
        "x-zammad-delivery",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    source=st.sampled_from(list(HELPDESKS)),
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    headers=st.dictionaries(HEADER_NAMES, st.text(max_size=80), max_size=6),
)
def test_no_body_and_no_headers_from_any_source_is_a_500(
    helpdesks: Api, source: str, body: bytes, headers: dict[str, str]
) -> None:
    event = http_api_event(
        "POST",
        f"/webhooks/{source}",
        headers=headers,
        body=body,
        path_parameters={"source": source},
    )
    assert helpdesks.invoke(event).status < 500


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=st.sampled_from(CASES),
    replacement=st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(st.integers())
    ),
    pick=st.integers(min_value=0),
)
def test_a_signed_recorded_payload_with_any_value_replaced_is_never_a_500(
    helpdesks: Api, case: tuple[str, Path], replacement: Any, pick: int
) -> None:
    source, path = case
    payload = json.loads(path.read_bytes())
    leaves = list(_paths(payload))
    if leaves:
        *parents, last = leaves[pick % len(leaves)]
        target = payload
        for key in parents:
            target = target[key]
        target[last] = replacement
    body = json.dumps(payload).encode()
    assert post(helpdesks, source, body).status < 500


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


CREATIONS = {
    "zendesk": "event-ticket-created.json",
    "jira": "issue_created.json",
    "freshdesk": "ticket_created.json",
    "zammad": "docs-sample.json",
}


@pytest.mark.parametrize("source", list(HELPDESKS))
def test_the_view_says_where_the_plan_and_the_priority_came_from(
    helpdesks: Api, source: str
) -> None:
    """Contract 2b: the view records where plan and priority came from (here: the mapping's
    default plan, and the helpdesk's own priority value)."""
    body = (FIXTURES / source / CREATIONS[source]).read_bytes()
    recorded_now(helpdesks, body)
    answer = post(helpdesks, source, body, delivery="creation")
    assert answer.status == 200, answer.raw
    origin = answer.body["origin"]
    assert origin["plan"] in ("default plan", "field sla_plan") or origin["plan"].startswith(
        "tag plan_"
    ), origin
    assert origin["priority"].startswith(f"{source} priority "), origin
    read = helpdesks.invoke(
        http_api_event(
            "GET",
            "/tickets/sla",
            query={"id": answer.body["ticket_id"]},
            route_key="ANY /tickets/sla",
        )
    )
    assert read.body["origin"] == origin


def test_on_aws_a_helpdesk_secret_comes_from_secrets_manager_with_a_rotation(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SLA_<SOURCE>_SECRET_ARN``: the helpdesk's secret as text in Secrets Manager; during a
    rotation ("<new> <old>") either verifies."""
    import boto3

    from sla.runtime.wiring import webhook_service

    arn = boto3.client("secretsmanager").create_secret(
        Name="zammad", SecretString="zammad-new-secret zammad-old-secret"
    )["ARN"]
    monkeypatch.setenv("SLA_ZAMMAD_SECRET_ARN", arn)
    webhook_service.cache_clear()
    body = (FIXTURES / "zammad" / "docs-sample.json").read_bytes()
    recorded_now(api, body)
    for secret in ("zammad-new-secret", "zammad-old-secret"):
        assert post(api, "zammad", body, secret=secret).status == 200
    assert post(api, "zammad", body, secret="zammad-other-secret").status == 401
    webhook_service.cache_clear()
