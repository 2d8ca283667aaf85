"""The webhook handler under moto: a table built from template.yaml, a settable clock, and a small
client that sends API Gateway events through the real lambda_handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.payloads import ticket_body
from local.signing import TEST_SECRET, http_api_event, signed_webhook_event
from local.template import table_kwargs
from sla.sources.registry import HELPDESKS

TABLE = "sla-tickets-test"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@dataclass
class LambdaContext:
    function_name: str = "WebhookFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:WebhookFunction"
    aws_request_id: str = "req-1"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    raw: str


@dataclass
class Api:
    app: ModuleType
    now: datetime = NOW
    calls: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: dict[str, Any]) -> Answer:
        self.calls.append(event)
        result = self.app.lambda_handler(event, LambdaContext())
        raw = result.get("body") or ""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        return Answer(result["statusCode"], result.get("headers") or {}, body, raw)

    def post(
        self,
        payload: dict[str, Any] | bytes,
        *,
        msg_id: str | None = None,
        timestamp: int | None = None,
        secret: str = TEST_SECRET,
    ) -> Answer:
        ts = int(self.now.timestamp()) if timestamp is None else timestamp
        return self.invoke(signed_webhook_event(payload, ts, secret=secret, msg_id=msg_id))

    def sla(self, ticket_id: str) -> Answer:
        """GET /tickets/{ticket_id}/sla as API Gateway hands it over: path and parameter decoded."""
        return self.invoke(
            http_api_event(
                "GET",
                f"/tickets/{ticket_id}/sla",
                path_parameters={"ticket_id": ticket_id},
                route_key="ANY /tickets/{ticket_id}/sla",
            )
        )

    def sla_by_query(self, ticket_id: str) -> Answer:
        """GET /tickets/sla?id=... as API Gateway hands it over: the parameter decoded."""
        return self.invoke(
            http_api_event(
                "GET", "/tickets/sla", query={"id": ticket_id}, route_key="ANY /tickets/sla"
            )
        )

    def quote(self, **query: str) -> Answer:
        return self.invoke(http_api_event("GET", "/sla/quote", query=query))


class FlakyClient:
    """Wraps the real client; the named operation fails with ``code`` the next ``times`` calls."""

    def __init__(self, real: Any, operation: str, code: str, times: int = 1) -> None:
        self.real, self.operation, self.code, self.times = real, operation, code, times
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.real, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            if name == self.operation and self.times > 0:
                self.times -= 1
                raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, name)
            return target(**kwargs)

        return call


payload = ticket_body  # the one builder of webhook bodies


def topic_with_subscriber(sns: Any, sqs: Any) -> tuple[str, str]:
    """A topic as the template makes it and an SQS queue subscribed to it, under moto: their
    ARN and URL (what the queue receives is what a subscriber would)."""
    topic_arn: str = sns.create_topic(Name="sla-notifications")["TopicArn"]
    queue_url: str = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    return topic_arn, queue_url


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb")
    client.create_table(**table_kwargs("TicketsTable", TABLE))
    return client


@pytest.fixture
def api(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("SLA_TABLE_NAME", TABLE)
    monkeypatch.setenv("SLA_WEBHOOK_SECRET", TEST_SECRET)
    from functions.webhook import app
    from sla.runtime.wiring import webhook_service

    webhook_service.cache_clear()
    client = Api(app)
    from sla.runtime import clock

    monkeypatch.setattr(clock, "_source", lambda: client.now)
    yield client
    webhook_service.cache_clear()


HELPDESK_SECRETS = {name: f"{name}-secret-for-tests" for name in HELPDESKS}
HELPDESK_MAPPING = """
[zendesk]
default_plan = "professional"
[jira]
default_plan = "professional"
[freshdesk]
timezone = "Asia/Kolkata"
default_plan = "professional"
[zammad]
default_plan = "professional"
"""


@pytest.fixture
def helpdesks(api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Api]:
    """The API with every helpdesk source enabled by its secret, and a mapping file."""
    from sla.runtime.wiring import webhook_service

    mapping = tmp_path / "mapping.toml"
    mapping.write_text(HELPDESK_MAPPING)
    monkeypatch.setenv("SLA_MAPPING_FILE", str(mapping))
    for name, secret in HELPDESK_SECRETS.items():
        monkeypatch.setenv(f"SLA_{name.upper()}_SECRET", secret)
    webhook_service.cache_clear()
    yield api
    webhook_service.cache_clear()
